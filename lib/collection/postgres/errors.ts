// node-postgres errors as CrossmodalErrors, keeping the database's message.
import { CrossmodalError, type ErrorCode } from '../../errors';

// Socket-level failures: the server is down, restarting or unreachable.
const CONNECTION_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOENT',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/** SQLSTATE → code. Classes 08 (connection exception) and 57P (operator intervention) are transient. */
function sqlStateCode(state: string): ErrorCode | undefined {
  if (state.startsWith('08') || state === '57P01' || state === '57P02' || state === '57P03' || state === '53300')
    return 'ERR_STORE_UNAVAILABLE';
  // Invalid text representation, out of range, invalid parameter: a bad filter operand.
  if (state === '22P02' || state === '22003' || state === '22023' || state === '22007' || state === '22008')
    return 'ERR_INVALID_ARGUMENT';
  // 42501 insufficient privilege, 42P01 undefined table, 42703 undefined column, 28xxx authentication, 3D000 no database.
  return undefined;
}

/** Converts an error of `pg` (or of the socket under it) into a CrossmodalError. */
export function storeError(error: unknown, during: string): CrossmodalError {
  if (error instanceof CrossmodalError) return error;
  const err = error as { code?: unknown; message?: unknown } | null;
  const message = typeof err?.message === 'string' ? err.message : String(error);
  const code = typeof err?.code === 'string' ? err.code : '';
  let mapped: ErrorCode;
  if (
    CONNECTION_ERRNOS.has(code) ||
    /Connection terminated|connection timeout|Client has encountered a connection error|not queryable/i.test(message)
  )
    mapped = 'ERR_STORE_UNAVAILABLE';
  else mapped = sqlStateCode(code) ?? 'ERR_STORE';
  const detail = code ? ` (${code})` : '';
  return new CrossmodalError(mapped, `PostgreSQL collection: ${during}: ${message}${detail}`, { cause: error });
}
