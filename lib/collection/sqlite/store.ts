// The SQLite collection store as the event loop sees it: every operation is a message to the
// worker thread that owns the database (worker.ts), so no SQL statement runs on the event loop.
// better-sqlite3 is synchronous; on the loop, a filtered search's full scan of the metadata blocked
// every other callback of the process for as long as the scan took (25 ms at 50k items).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { packageRoot } from '../../binding';
import { CrossmodalError } from '../../errors';
import type { CollectionStore, ItemCounts, ItemSource, JournalEntries, NewItem, StoredVectors } from '../store';
import type { CollectionItem } from '../types';
import type { Filter } from '../where';
import type { SyncStore } from './database';
import type { Operation, Request, Response, Startup, WireError, WorkerData } from './protocol';
import { DATABASE_FILE } from './schema';

/**
 * The compiled worker script. Beside this file in dist/; when the package runs from its
 * TypeScript sources (the test suite), the one `npm run build:ts` wrote to dist/.
 */
function workerScript(): string {
  const candidates = [
    path.join(__dirname, 'worker.js'),
    path.join(packageRoot, 'dist', 'cjs', 'collection', 'sqlite', 'worker.js'),
  ];
  const found = candidates.find((file) => fs.existsSync(file));
  if (found === undefined) {
    throw new CrossmodalError(
      'ERR_NATIVE_BINDING',
      `the collection database worker is missing (looked for ${candidates.join(', ')}); run \`npm run build:ts\``,
    );
  }
  return found;
}

function fromWire(error: WireError): CrossmodalError {
  return new CrossmodalError(error.code, error.message);
}

interface Pending {
  resolve(result: unknown): void;
  reject(error: CrossmodalError): void;
}

export class SqliteStore implements CollectionStore {
  #worker: Worker | undefined;
  #pending = new Map<number, Pending>();
  #nextSeq = 0;
  #closing: Promise<void> | undefined;

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.on('message', (response: Response) => this.#settle(response));
    // An exception the worker did not answer with a response, or an exit nobody asked for: every
    // call in flight fails, and so does every later one.
    worker.on('error', (error) =>
      this.#stop(
        new CrossmodalError('ERR_INTERNAL', `the collection database worker failed: ${error.message}`, {
          cause: error,
        }),
      ),
    );
    worker.on('exit', (code) =>
      this.#stop(
        new CrossmodalError(
          this.#closing ? 'ERR_DISPOSED' : 'ERR_INTERNAL',
          `the collection database worker exited (code ${code})`,
        ),
      ),
    );
    // An open collection does not keep the process alive by itself; calls in flight do (#call).
    worker.unref();
  }

  /** Opens (creating if needed) `<dir>/collection.db` on a new worker thread. */
  static async open(dir: string): Promise<SqliteStore> {
    const worker = new Worker(workerScript(), {
      workerData: { file: path.join(dir, DATABASE_FILE) } satisfies WorkerData,
    });
    let startup: Startup;
    // Listeners of the opening phase only: removeAllListeners() would also drop the ones Node's
    // Worker registers to keep its message port referenced.
    let onMessage: ((message: Startup) => void) | undefined;
    let onError: ((error: Error) => void) | undefined;
    let onExit: ((code: number) => void) | undefined;
    try {
      startup = await new Promise<Startup>((resolve, reject) => {
        onMessage = resolve;
        onError = reject;
        onExit = (code) => reject(new Error(`exited with code ${code} while opening`));
        worker.once('message', onMessage).once('error', onError).once('exit', onExit);
      });
    } catch (error) {
      await worker.terminate();
      throw new CrossmodalError('ERR_INTERNAL', `the collection database worker failed: ${(error as Error).message}`, {
        cause: error,
      });
    } finally {
      if (onMessage) worker.off('message', onMessage);
      if (onError) worker.off('error', onError);
      if (onExit) worker.off('exit', onExit);
    }
    if (!startup.ready) {
      await worker.terminate();
      throw fromWire(startup.error);
    }
    return new SqliteStore(worker);
  }

  #call<K extends Operation>(op: K, ...args: Parameters<SyncStore[K]>): Promise<ReturnType<SyncStore[K]>> {
    const worker = this.#worker;
    if (!worker || (this.#closing && op !== 'close'))
      return Promise.reject(new CrossmodalError('ERR_DISPOSED', 'the collection has been closed'));
    const seq = ++this.#nextSeq;
    return new Promise((resolve, reject) => {
      try {
        worker.postMessage({ seq, op, args } satisfies Request<K>);
      } catch (error) {
        reject(
          new CrossmodalError(
            'ERR_INTERNAL',
            `cannot send ${op} to the collection database worker: ${(error as Error).message}`,
            { cause: error },
          ),
        );
        return;
      }
      this.#pending.set(seq, { resolve: resolve as (result: unknown) => void, reject });
      if (this.#pending.size === 1) worker.ref();
    });
  }

  #settle(response: Response): void {
    const pending = this.#pending.get(response.seq);
    if (!pending) return;
    this.#pending.delete(response.seq);
    if (this.#pending.size === 0) this.#worker?.unref();
    if (response.ok) pending.resolve(response.result);
    else pending.reject(fromWire(response.error));
  }

  #stop(error: CrossmodalError): void {
    this.#worker = undefined;
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }

  readMeta(): Promise<Record<string, string>> {
    return this.#call('readMeta');
  }
  writeMeta(entries: Record<string, string>): Promise<void> {
    return this.#call('writeMeta', entries);
  }
  idsByHash(hashes: string[]): Promise<(bigint | null)[]> {
    return this.#call('idsByHash', hashes);
  }
  insertItems(items: NewItem[], vectors: Float32Array): Promise<BigInt64Array> {
    return this.#call('insertItems', items, vectors);
  }
  removeItems(ids: BigInt64Array): Promise<number> {
    return this.#call('removeItems', ids);
  }
  updateMetadata(id: bigint, metadata: string, merge: boolean): Promise<boolean> {
    return this.#call('updateMetadata', id, metadata, merge);
  }
  items(ids: BigInt64Array): Promise<CollectionItem[]> {
    return this.#call('items', ids);
  }
  filterIds(filter: Filter): Promise<BigInt64Array> {
    return this.#call('filterIds', filter);
  }
  counts(): Promise<ItemCounts> {
    return this.#call('counts');
  }
  scanVectors(afterId: bigint, limit: number): Promise<StoredVectors> {
    return this.#call('scanVectors', afterId, limit);
  }
  vectorsOf(ids: BigInt64Array): Promise<StoredVectors> {
    return this.#call('vectorsOf', ids);
  }
  changesSince(seq: number): Promise<JournalEntries> {
    return this.#call('changesSince', seq);
  }
  lastChangeSeq(): Promise<number> {
    return this.#call('lastChangeSeq');
  }
  commitCheckpoint(seq: number): Promise<void> {
    return this.#call('commitCheckpoint', seq);
  }
  sources(): Promise<ItemSource[]> {
    return this.#call('sources');
  }
  replaceVectors(ids: BigInt64Array, vectors: Float32Array, meta: Record<string, string>): Promise<void> {
    return this.#call('replaceVectors', ids, vectors, meta);
  }

  /**
   * Closes the database (after the calls already sent) and joins the worker thread. Idempotent and
   * safe to call concurrently: every caller awaits the same close.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const worker = this.#worker;
      if (!worker) return;
      try {
        await this.#call('close');
      } finally {
        await worker.terminate();
        this.#worker = undefined;
      }
    })();
    return this.#closing;
  }
}
