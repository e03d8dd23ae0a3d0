// The messages between a SqliteStore (event loop) and its worker thread (worker.ts). Requests name
// a store operation and carry its arguments (structured-cloned: they are copies, so the caller's
// arrays are never detached); responses carry the result, whose typed arrays are transferred, not
// copied. One response per request, matched by `seq`.
import type { ErrorCode } from '../../errors';
import type { SyncStore } from './database';

export type Operation = keyof SyncStore;

export interface Request<K extends Operation = Operation> {
  seq: number;
  op: K;
  args: Parameters<SyncStore[K]>;
}

/** An error as it crosses the thread boundary: a CrossmodalError's code and message. */
export interface WireError {
  code: ErrorCode;
  message: string;
}

export type Response<K extends Operation = Operation> =
  { seq: number; ok: true; result: ReturnType<SyncStore[K]> } | { seq: number; ok: false; error: WireError };

/** The worker's first message: the database is open (or could not be opened). */
export type Startup = { ready: true } | { ready: false; error: WireError };

/** What the worker is started with. */
export interface WorkerData {
  file: string;
}

/** The buffers of the typed arrays in a result (the result itself, or its direct properties), to transfer. */
export function transferables(result: unknown): ArrayBuffer[] {
  const values = ArrayBuffer.isView(result)
    ? [result]
    : result !== null && typeof result === 'object' && !Array.isArray(result)
      ? Object.values(result)
      : [];
  const buffers = new Set<ArrayBuffer>();
  for (const v of values)
    if (ArrayBuffer.isView(v) && v.buffer instanceof ArrayBuffer && v.byteLength === v.buffer.byteLength)
      buffers.add(v.buffer);
  return [...buffers];
}
