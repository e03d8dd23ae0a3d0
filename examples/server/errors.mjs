// The one place where errors become HTTP responses. Library errors carry a stable CrossmodalError
// `code`; the service's own refusals (limits, readiness, routing) use codes of the same style so a
// client branches on `error.code` whatever raised it.
import { CrossmodalError } from 'crossmodal';

/** HTTP status of each CrossmodalError code. Codes not listed are server faults (500). */
const STATUS_OF_LIBRARY_CODE = {
  ERR_INVALID_ARGUMENT: 400,
  ERR_IMAGE_FORMAT: 400,
  ERR_IMAGE_DECODE: 400,
  ERR_TOKENIZER: 400,
  ERR_DIMENSION_MISMATCH: 400,
  ERR_IMAGE_TOO_LARGE: 413,
  ERR_QUEUE_FULL: 429,
  // The client went away; nobody reads this status, but access logs and metrics do (nginx's 499).
  ERR_ABORTED: 499,
  // Queued work of a model being disposed: only happens during shutdown.
  ERR_DISPOSED: 503,
  ERR_DEADLINE_EXCEEDED: 504,
};

/** An error raised by the service itself, with a code in the library's style. */
export class ServiceError extends Error {
  /**
   * @param {number} statusCode
   * @param {string} code
   * @param {string} message
   */
  constructor(statusCode, code, message) {
    super(message);
    this.name = 'ServiceError';
    this.statusCode = statusCode;
    this.code = code;
  }
}

export const badRequest = (message) => new ServiceError(400, 'ERR_INVALID_ARGUMENT', message);
export const batchTooLarge = (message) => new ServiceError(400, 'ERR_BATCH_TOO_LARGE', message);
export const notReady = () => new ServiceError(503, 'ERR_NOT_READY', 'the model is still loading');
export const shuttingDown = () => new ServiceError(503, 'ERR_SHUTTING_DOWN', 'the service is shutting down');

/** Fastify's own error codes (body parsing, validation, multipart limits) in the service's terms. */
const FASTIFY_CODES = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'ERR_BODY_TOO_LARGE'],
  FST_REQ_FILE_TOO_LARGE: [413, 'ERR_BODY_TOO_LARGE'],
  FST_FILES_LIMIT: [400, 'ERR_BATCH_TOO_LARGE'],
  FST_PARTS_LIMIT: [400, 'ERR_BATCH_TOO_LARGE'],
  FST_FIELDS_LIMIT: [400, 'ERR_BATCH_TOO_LARGE'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'ERR_UNSUPPORTED_MEDIA_TYPE'],
  FST_INVALID_MULTIPART_CONTENT_TYPE: [415, 'ERR_UNSUPPORTED_MEDIA_TYPE'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'ERR_INVALID_ARGUMENT'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'ERR_INVALID_ARGUMENT'],
  FST_ERR_CTP_EMPTY_TYPE: [415, 'ERR_UNSUPPORTED_MEDIA_TYPE'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'ERR_INVALID_ARGUMENT'],
};

/**
 * Status, code and client-safe message of any error a handler can raise.
 * @param {unknown} error
 * @returns {{ statusCode: number, code: string, message: string, fromLibrary: boolean }}
 */
export function describeError(error) {
  if (error instanceof CrossmodalError) {
    const statusCode = STATUS_OF_LIBRARY_CODE[error.code] ?? 500;
    return {
      statusCode,
      code: error.code,
      message: statusCode === 500 ? 'internal error' : error.message,
      fromLibrary: true,
    };
  }
  if (error instanceof ServiceError)
    return { statusCode: error.statusCode, code: error.code, message: error.message, fromLibrary: false };
  const err = /** @type {{ code?: string, statusCode?: number, message?: string, validation?: unknown }} */ (
    error ?? {}
  );
  if (err.validation)
    return {
      statusCode: 400,
      code: 'ERR_INVALID_ARGUMENT',
      message: err.message ?? 'invalid request',
      fromLibrary: false,
    };
  const mapped = err.code ? FASTIFY_CODES[err.code] : undefined;
  if (mapped) return { statusCode: mapped[0], code: mapped[1], message: err.message ?? '', fromLibrary: false };
  // Other 4xx from Fastify or its plugins (e.g. a malformed multipart body) are still the client's fault.
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    return {
      statusCode: err.statusCode,
      code: 'ERR_BAD_REQUEST',
      message: err.message ?? 'bad request',
      fromLibrary: false,
    };
  }
  return { statusCode: 500, code: 'ERR_INTERNAL', message: 'internal error', fromLibrary: false };
}
