// better-sqlite3 and driver-loading errors as CrossmodalError codes (on the worker side, before
// they cross the thread boundary as a WireError).
import type { ErrorCode } from '../../errors';
import type { WireError } from './protocol';

/** SQLite result codes (the primary code, before the first '_' after SQLITE_) → crossmodal codes. */
const SQLITE_CODES: Record<string, ErrorCode> = {
  SQLITE_CORRUPT: 'ERR_INDEX_CORRUPT',
  SQLITE_NOTADB: 'ERR_INDEX_CORRUPT',
  SQLITE_IOERR: 'ERR_IO',
  SQLITE_CANTOPEN: 'ERR_IO',
  SQLITE_FULL: 'ERR_IO',
  SQLITE_READONLY: 'ERR_IO',
  SQLITE_PERM: 'ERR_IO',
  SQLITE_BUSY: 'ERR_LOCKED',
  SQLITE_LOCKED: 'ERR_LOCKED',
};

export function toWireError(error: unknown): WireError {
  const err = error as { code?: unknown; message?: unknown } | null;
  const message = typeof err?.message === 'string' ? err.message : String(error);
  const code = typeof err?.code === 'string' ? err.code : '';
  if (code.startsWith('ERR_')) return { code: code as ErrorCode, message };
  if (code.startsWith('SQLITE_')) {
    const primary = code.split('_').slice(0, 2).join('_');
    // json_extract / json_patch over a damaged metadata row (a filter or a merge reads every one).
    if (primary === 'SQLITE_ERROR' && /malformed JSON/i.test(message))
      return { code: 'ERR_INDEX_CORRUPT', message: `collection database: an item's metadata is not JSON (${message})` };
    return { code: SQLITE_CODES[primary] ?? 'ERR_INTERNAL', message: `collection database: ${message} (${code})` };
  }
  return { code: 'ERR_INTERNAL', message };
}
