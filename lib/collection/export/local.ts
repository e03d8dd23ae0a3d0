// Reading a local collection for an export: its settings and its items with their vectors, in id
// order, a batch at a time. The directory lock is held throughout, so no process changes the
// collection while it is copied (an export of an open collection fails with ERR_LOCKED), and no
// model is needed: the vectors are read as stored.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { NativeDirectoryLock } from '../../binding';
import { CrossmodalError, invalidArgument } from '../../errors';
import type { Metric } from '../../types';
import { lockCollection } from '../open';
import { DATABASE_FILE } from '../sqlite/schema';
import { SqliteStore } from '../sqlite/store';
import type { CollectionItem } from '../types';

export interface LocalBatch {
  /** In id order. */
  items: CollectionItem[];
  /** `items.length × dim` floats, row i for items[i]. */
  vectors: Float32Array;
}

export interface LocalSource {
  dir: string;
  fingerprint: string;
  dim: number;
  metric: Metric;
  count: number;
  /** The items with their vectors, `size` at a time, in id order. */
  batches(size: number): AsyncGenerator<LocalBatch>;
  close(): Promise<void>;
}

/**
 * Opens the collection in `dir` for reading.
 * @throws {CrossmodalError} `ERR_INVALID_ARGUMENT` (not a collection), `ERR_LOCKED` (open in another process)
 */
export async function openLocalSource(dir: string): Promise<LocalSource> {
  const root = path.resolve(dir);
  // Checked first: opening the store would create an empty collection in any directory.
  if (!fs.existsSync(path.join(root, DATABASE_FILE)))
    throw invalidArgument(`${dir} is not a collection (no ${DATABASE_FILE})`);
  const lock: NativeDirectoryLock = lockCollection(root);
  let store: SqliteStore;
  try {
    store = await SqliteStore.open(root);
  } catch (error) {
    lock.release();
    throw error;
  }
  try {
    const meta = await store.readMeta();
    if (meta.format === undefined || meta.fingerprint === undefined)
      throw invalidArgument(`${dir} is not a collection (its database holds no collection settings)`);
    const spec = JSON.parse(meta.index ?? '{}') as { metric?: Metric };
    const dim = Number(meta.dim);
    const count = (await store.counts()).count;
    let closed: Promise<void> | undefined;
    return {
      dir: root,
      fingerprint: meta.fingerprint,
      dim,
      metric: spec.metric ?? 'cosine',
      count,
      async *batches(size) {
        for (let after = -1n; ;) {
          const { ids, vectors } = await store.scanVectors(after, size);
          if (ids.length === 0) return;
          if (vectors.length !== ids.length * dim)
            throw new CrossmodalError('ERR_INDEX_CORRUPT', `collection ${root}: stored vectors are not ${dim}-d`);
          const byId = new Map((await store.items(ids)).map((item) => [item.id, item]));
          const items = Array.from(ids, (id) => {
            const item = byId.get(id);
            if (!item)
              throw new CrossmodalError('ERR_INTERNAL', `collection ${root}: item ${id} vanished during export`);
            return item;
          });
          yield { items, vectors };
          after = ids[ids.length - 1] as bigint;
        }
      },
      close() {
        closed ??= store.close().finally(() => lock.release());
        return closed;
      },
    };
  } catch (error) {
    try {
      await store.close();
    } finally {
      lock.release();
    }
    throw error;
  }
}
