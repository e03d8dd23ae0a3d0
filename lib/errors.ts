/**
 * Every stable error code, listed once. The addon raises the same strings (native/common/error.h,
 * kept in agreement by test/errors.test.ts). Raised in TypeScript only: `ERR_NATIVE_BINDING`, for
 * an addon that cannot be loaded, the three Hugging Face hub codes (lib/hub) and the two
 * PostgreSQL store codes (lib/collection/postgres).
 * @internal
 */
export const ERROR_CODES = [
  'ERR_INVALID_ARGUMENT',
  'ERR_IO',
  'ERR_IMAGE_FORMAT',
  'ERR_IMAGE_DECODE',
  'ERR_IMAGE_TOO_LARGE',
  'ERR_TOKENIZER',
  'ERR_MODEL_LOAD',
  'ERR_RUNTIME',
  'ERR_RUNTIME_UNAVAILABLE',
  'ERR_GPU_UNAVAILABLE',
  'ERR_INDEX',
  'ERR_INDEX_CORRUPT',
  'ERR_INDEX_MISMATCH',
  'ERR_MODEL_MISMATCH',
  'ERR_DIMENSION_MISMATCH',
  'ERR_DISPOSED',
  'ERR_QUEUE_FULL',
  'ERR_ABORTED',
  'ERR_DEADLINE_EXCEEDED',
  'ERR_LOCKED',
  // Out of memory (a native allocation failed) or another exhausted resource; the message says
  // what was being allocated when the addon knows it. Retrying with a smaller request may succeed.
  'ERR_RESOURCE',
  // The Hugging Face hub (lib/hub): a token is missing or lacks access (401/403, gated repository);
  // the repository, revision or file does not exist (or is not cached in offline mode); the hub
  // answered something unusable (unexpected status, bad headers, a file failing its size or hash
  // check, a file name that would leave the cache).
  'ERR_UNAUTHORIZED',
  'ERR_NOT_FOUND',
  'ERR_HUB',
  'ERR_NATIVE_BINDING',
  // A PostgreSQL collection (lib/collection/postgres): the server cannot be reached or dropped the
  // connection (refused, terminated, shutting down; retrying later may succeed), or it refused
  // a request (permission denied, the collection's tables missing or not in this version's
  // layout). The database's own message is part of the error's.
  'ERR_STORE_UNAVAILABLE',
  'ERR_STORE',
  'ERR_INTERNAL',
] as const;

/** Stable error codes: see {@link CrossmodalError.code}. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Every error crossmodal throws or rejects with. Branch on `code`, not on the message. */
export class CrossmodalError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CrossmodalError';
    this.code = code;
  }
}

const KNOWN_CODES: ReadonlySet<string> = new Set(ERROR_CODES);

/** Turns an error thrown by the addon (a plain Error with `code`) into a CrossmodalError. */
export function fromNative(error: unknown): CrossmodalError {
  if (error instanceof CrossmodalError) return error;
  const err = error as { code?: unknown; message?: unknown };
  const code = typeof err?.code === 'string' && KNOWN_CODES.has(err.code) ? (err.code as ErrorCode) : 'ERR_INTERNAL';
  const message = typeof err?.message === 'string' ? err.message : String(error);
  return new CrossmodalError(code, message, { cause: error });
}

/** Awaits a native call, converting both synchronous throws and rejections. */
export async function callNative<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw fromNative(error);
  }
}

export function invalidArgument(message: string): CrossmodalError {
  return new CrossmodalError('ERR_INVALID_ARGUMENT', message);
}
