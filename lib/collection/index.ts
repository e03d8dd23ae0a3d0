/**
 * Collections: an on-disk set of embedded images and texts bound to one model, with a FAISS index
 * and a metadata store (./store.ts; SQLite in ./sqlite/, on a worker thread) kept in step.
 *
 * Crash safety. The store (SQLite: WAL mode, synchronous=FULL) is the source of truth: each
 * ingested batch is one transaction that inserts the items — with their vectors — and appends one
 * journal row per change (`changes`: seq, op, id), so a batch is either fully committed or absent. The FAISS index
 * is a cache of that table: it is updated in memory after each commit and written as a snapshot
 * (atomically: temp file, fsync, rename) by `checkpoint()`, `close()` and every
 * `checkpointEvery` batches, after which `index_seq` records which journal entry the snapshot
 * includes and older journal rows are deleted. Opening loads the snapshot and replays the journal
 * entries after `index_seq` (idempotently: re-adding is an upsert, re-removing is a no-op); a
 * missing or refused snapshot is rebuilt from the stored vectors. A kill at any point therefore
 * reopens to an index that holds exactly the committed items.
 *
 * Exclusivity. An open collection holds an flock on `<dir>/LOCK` (native DirectoryLock) from
 * before any other file is touched until `close()` has written the last snapshot and closed the
 * database. A second opener, in another process or this one, fails with ERR_LOCKED instead of
 * writing beside the first. The kernel drops the lock when the holder dies, so a killed process
 * leaves nothing stale behind.
 * @packageDocumentation
 */
export { Collection } from './collection';
export { openCollection, type PostgresUrl } from './open';
export { PostgresCollection } from './postgres/collection';
export {
  exportClipRetrieval,
  type ClipRetrievalExportOptions,
  type ClipRetrievalExportResult,
} from './export/clip-retrieval';
export { exportToPostgres, type PostgresExportOptions, type PostgresExportResult } from './export/postgres';
export type {
  AddOptions,
  AddResult,
  CollectionHit,
  CollectionApi,
  CollectionItem,
  CollectionModel,
  CollectionSearchOptions,
  CollectionStats,
  OpenCollectionOptions,
  PostgresCollectionOptions,
} from './types';
export type { Where } from './where';
/** @internal Tests read image sizes through it. */
export { imageSize } from './image-header';
