// The FAISS index is a cache of the store's vectors: rebuilt from them, or brought up to date by
// replaying the journal entries its snapshot does not hold. Store-agnostic.
import { CrossmodalError } from '../errors';
import type { IndexOptions, VectorIndex } from '../search';
import { JOURNAL_REMOVE, type CollectionStore, type StoredVectors } from './store';

function corrupt(message: string): CrossmodalError {
  return new CrossmodalError('ERR_INDEX_CORRUPT', `collection database: ${message}`);
}

/**
 * The index options recorded in the store's meta (`index`), parsed and checked: a damaged row is
 * reported as the corruption it is, not as JSON.parse's SyntaxError.
 */
export function readIndexSpec(meta: Record<string, string>): IndexOptions {
  let spec: unknown;
  try {
    spec = JSON.parse(meta.index ?? '');
  } catch (error) {
    throw new CrossmodalError(
      'ERR_INDEX_CORRUPT',
      'collection database: the index settings (meta "index") are not JSON',
      {
        cause: error,
      },
    );
  }
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec))
    throw corrupt('the index settings (meta "index") are not an object');
  return spec as IndexOptions;
}

/**
 * Stored vectors about to enter the index: each exactly `dim` floats. A row of another length
 * (written by another version, or damaged) is refused rather than padded or cut to fit.
 */
function checkStored(stored: StoredVectors, dim: number): StoredVectors {
  if (stored.vectors.length !== stored.ids.length * dim)
    throw corrupt(
      `${stored.ids.length} stored vectors hold ${stored.vectors.length} values; the collection is ${dim}-d`,
    );
  return stored;
}

/** Vectors read per store call while rebuilding. */
const SCAN_CHUNK = 8192;

/** Adds every stored vector to `index` (an upsert: ids already there are replaced). */
export async function fillFromStore(store: CollectionStore, index: VectorIndex): Promise<void> {
  let last = -1n;
  for (;;) {
    const { ids, vectors } = checkStored(await store.scanVectors(last, SCAN_CHUNK), index.dim);
    if (ids.length === 0) break;
    await index.upsert(vectors, ids);
    last = ids[ids.length - 1] as bigint;
  }
}

/**
 * Applies the journal entries after `seq` to `index`, in order. Both operations are idempotent
 * (re-adding is an upsert, re-removing a no-op), so replaying entries the snapshot already holds
 * is harmless. An added item that a later entry removed has no vector any more and is skipped.
 */
export async function replayJournal(store: CollectionStore, index: VectorIndex, seq: number): Promise<void> {
  const { ops, ids } = await store.changesSince(seq);
  // Consecutive entries of the same kind go to the index in one call; an id occurs at most once
  // per kind (ids are never reused), so a run has no repeats.
  for (let start = 0; start < ops.length;) {
    let end = start + 1;
    while (end < ops.length && ops[end] === ops[start]) end++;
    const run = ids.slice(start, end);
    if (ops[start] === JOURNAL_REMOVE) {
      await index.remove(run);
    } else {
      const present = checkStored(await store.vectorsOf(run), index.dim);
      if (present.ids.length > 0) await index.upsert(present.vectors, present.ids);
    }
    start = end;
  }
}
