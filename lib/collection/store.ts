// What a collection needs from the database that holds its items: the store interface. The
// Collection (index.ts) keeps the FAISS index in step with a store and knows nothing of SQL;
// sqlite/ implements the interface, and another database (PostgreSQL) plugs in beside it.
//
// Contract every store keeps (the collection's crash safety rests on it):
// - The store is the source of truth. Every change to the item set is journalled in the same
//   transaction as the change itself: `insertItems` appends one 'add' entry per new item,
//   `removeItems` one 'remove' entry per removed item, with increasing sequence numbers. A crash
//   leaves a call either wholly committed or absent.
// - `commitCheckpoint(seq)` records that the index snapshot holds every change up to `seq`
//   (meta `index_seq`) and drops those journal entries, in one transaction.
// - Methods are asynchronous and must not block the event loop for longer than a message hop:
//   the SQLite store runs its synchronous driver on a worker thread.
// - Errors are CrossmodalErrors (`ERR_IO`, `ERR_INDEX_CORRUPT` for a damaged database or row,
//   `ERR_STORE` for a database that is not a collection's or not in this version's layout,
//   `ERR_DISPOSED` after close, `ERR_INTERNAL`).
import type { CollectionItem } from './types';
import type { Filter } from './where';

export type ItemKind = CollectionItem['kind'];

/** A new item as `insertItems` stores it (its vector travels separately, in one matrix). */
export interface NewItem {
  kind: ItemKind;
  source: string | null;
  hash: string;
  width: number | null;
  height: number | null;
  /** The metadata as JSON text. */
  metadata: string;
  /** Milliseconds since the epoch. */
  addedAt: number;
}

/** Ids with their vectors: row `i` of `vectors` (length ids.length × dim) belongs to `ids[i]`. */
export interface StoredVectors {
  ids: BigInt64Array;
  vectors: Float32Array;
}

/** Journal entries in order: `ops[i]` is JOURNAL_ADD or JOURNAL_REMOVE for `ids[i]`. */
export interface JournalEntries {
  ops: Uint8Array;
  ids: BigInt64Array;
}
export const JOURNAL_ADD = 1;
export const JOURNAL_REMOVE = 2;

export interface ItemCounts {
  count: number;
  images: number;
  texts: number;
  vectors: number;
  /** Journal entries not yet covered by an index snapshot. */
  pendingChanges: number;
}

/** An item's id, kind and source: what re-embedding needs. */
export interface ItemSource {
  id: bigint;
  kind: ItemKind;
  source: string | null;
}

export interface CollectionStore {
  /** The collection's settings (`format`, `fingerprint`, `dim`, `index`, `index_seq`); empty for a new store. */
  readMeta(): Promise<Record<string, string>>;
  /** Sets several settings in one transaction. */
  writeMeta(entries: Record<string, string>): Promise<void>;
  /** The id stored under each content hash, or null. */
  idsByHash(hashes: string[]): Promise<(bigint | null)[]>;
  /** Inserts items with their vectors (`items.length × dim` floats) and journals them, in one transaction; returns their new ids. */
  insertItems(items: NewItem[], vectors: Float32Array): Promise<BigInt64Array>;
  /** Deletes the items that exist and journals them, in one transaction; returns how many were deleted. */
  removeItems(ids: BigInt64Array): Promise<number>;
  /** Replaces (or JSON-merge-patches) one item's metadata; false when the id does not exist. */
  updateMetadata(id: bigint, metadata: string, merge: boolean): Promise<boolean>;
  /** The items that exist among `ids` (in no particular order). */
  items(ids: BigInt64Array): Promise<CollectionItem[]>;
  /** Ids of the items matching every condition (all items for an empty filter). */
  filterIds(filter: Filter): Promise<BigInt64Array>;
  counts(): Promise<ItemCounts>;
  /** Up to `limit` items with id > `afterId`, in id order, with their vectors. */
  scanVectors(afterId: bigint, limit: number): Promise<StoredVectors>;
  /** The vectors of those of `ids` that exist, in the order of `ids`. */
  vectorsOf(ids: BigInt64Array): Promise<StoredVectors>;
  /** Journal entries with sequence number > `seq`, in order. */
  changesSince(seq: number): Promise<JournalEntries>;
  /** The last journal sequence number (0 when the journal is empty). */
  lastChangeSeq(): Promise<number>;
  /** Records that the index snapshot covers the journal up to `seq` and drops those entries (one transaction). */
  commitCheckpoint(seq: number): Promise<void>;
  /** Every item's id, kind and source, in id order. */
  sources(): Promise<ItemSource[]>;
  /** Replaces the vectors of `ids`, empties the journal and sets `meta`, in one transaction. */
  replaceVectors(ids: BigInt64Array, vectors: Float32Array, meta: Record<string, string>): Promise<void>;
  /** Closes the database. Idempotent; other calls then reject with `ERR_DISPOSED`. */
  close(): Promise<void>;
}
