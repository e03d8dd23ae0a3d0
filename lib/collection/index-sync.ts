// The FAISS index is a cache of the store's vectors: rebuilt from them, or brought up to date by
// replaying the journal entries its snapshot does not hold. Store-agnostic.
import type { VectorIndex } from '../search';
import { JOURNAL_REMOVE, type CollectionStore } from './store';

/** Vectors read per store call while rebuilding. */
const SCAN_CHUNK = 8192;

/** Adds every stored vector to `index` (an upsert: ids already there are replaced). */
export async function fillFromStore(store: CollectionStore, index: VectorIndex): Promise<void> {
  let last = -1n;
  for (;;) {
    const { ids, vectors } = await store.scanVectors(last, SCAN_CHUNK);
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
      const present = await store.vectorsOf(run);
      if (present.ids.length > 0) await index.upsert(present.vectors, present.ids);
    }
    start = end;
  }
}
