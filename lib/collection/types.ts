// The public types of collections.
import type { IndexOptions } from '../search';
import type { Metric } from '../types';
import type { Where } from './where';

/** What a collection needs from a model: `load()`'s Model satisfies it. */
export interface CollectionModel {
  /** Identifies the weights; stored with the collection and checked on every open. */
  readonly fingerprint?: string;
  readonly dim: number;
  embedTexts(texts: string[]): Promise<{ data: Float32Array; dim: number }>;
  embedImages(images: (string | Uint8Array)[]): Promise<{ data: Float32Array; dim: number }>;
}

export interface OpenCollectionOptions {
  model: CollectionModel;
  /** `'sqlite'` (the default for a directory) forces a local collection even for a `postgres://`-like path. */
  store?: 'sqlite';
  /** Model fingerprint when `model.fingerprint` is absent. */
  fingerprint?: string;
  /** Index to build for a new collection (dim and metric come from the model; metric defaults to cosine). */
  index?: Omit<IndexOptions, 'dim'>;
  /** The collection was built with another model: re-embed every item with this one (needs the sources). */
  reembed?: boolean;
  /** Write an index snapshot every this many batches (default 16). Between snapshots the journal covers the gap. */
  checkpointEvery?: number;
}

export interface AddOptions {
  /** Items per encoder batch / transaction (default 32). */
  batchSize?: number;
  /** Called after each committed batch. */
  onProgress?: (progress: { done: number; total: number; added: number; duplicates: number }) => void;
}

export interface AddResult {
  /** Id of each input, in order (an existing id for a duplicate). */
  ids: bigint[];
  added: number;
  duplicates: number;
}

export interface CollectionItem {
  id: bigint;
  kind: 'image' | 'text' | 'vector';
  /** File path, text, or caller-supplied key. */
  source: string | null;
  hash: string;
  width: number | null;
  height: number | null;
  metadata: Record<string, unknown>;
  addedAt: Date;
}

export interface CollectionHit extends CollectionItem {
  score: number;
}

export interface CollectionSearchOptions {
  /** Hits to return (default 10). */
  k?: number;
  /** Metadata filter, executed inside FAISS as an id allow-list. */
  where?: Where;
  efSearch?: number;
  nprobe?: number;
}

export interface CollectionStats {
  count: number;
  images: number;
  texts: number;
  vectors: number;
  dim: number;
  metric: Metric;
  fingerprint: string;
  index: { type: string; description: string; size: number; tombstones: number };
  /** Journal entries not yet in the index snapshot. */
  pendingChanges: number;
  bytesOnDisk: number;
}

/** Options of a collection in PostgreSQL with pgvector (`openCollection('postgres://…', …)`). */
export interface PostgresCollectionOptions {
  model: CollectionModel;
  /** Model fingerprint when `model.fingerprint` is absent. */
  fingerprint?: string;
  /** Selects the PostgreSQL store when the first argument of `openCollection` is not a `postgres://` URL. */
  store?: 'postgres';
  /** libpq connection string or URL; defaults to `openCollection`'s first argument. */
  connectionString?: string;
  /** The collection's table name (a lower-case identifier; default `crossmodal`). */
  collection?: string;
  /** Schema of the collection's tables (default `public`). */
  schema?: string;
  /** For a new collection: the metric (default cosine), as for local collections. */
  index?: { metric?: Metric };
  /** For a new collection: store embeddings as `halfvec` (half the storage, 16-bit floats). */
  halfvec?: boolean;
  /** For a new collection: HNSW graph degree (default 16). */
  m?: number;
  /** For a new collection: HNSW build-time candidate list (default 64). */
  efConstruction?: number;
  /** Default `hnsw.ef_search` of searches (default 40; raised to `k` when smaller). */
  efSearch?: number;
  /**
   * How many index tuples a filtered search may visit while it looks for `k` rows that pass the
   * filter (`hnsw.max_scan_tuples`, default 20000). Raise it for very selective filters on large
   * collections, at the cost of slower searches that find few matches.
   */
  maxScanTuples?: number;
  /** Connections in the pool (default 10). */
  poolSize?: number;
}

type Metadata = Record<string, unknown> | Record<string, unknown>[] | undefined;

/**
 * The public API both collection stores provide: `Collection` (a local directory: SQLite + FAISS)
 * and `PostgresCollection` (PostgreSQL + pgvector).
 */
export interface CollectionApi {
  readonly dim: number;
  readonly fingerprint: string;
  addImages(images: (string | Uint8Array)[], metadata?: Metadata, options?: AddOptions): Promise<AddResult>;
  addTexts(texts: string[], metadata?: Metadata, options?: AddOptions): Promise<AddResult>;
  addVectors(vectors: Float32Array, keys: string[], metadata?: Metadata): Promise<AddResult>;
  searchText(query: string, options?: CollectionSearchOptions): Promise<CollectionHit[]>;
  searchImage(image: string | Uint8Array, options?: CollectionSearchOptions): Promise<CollectionHit[]>;
  searchVector(vector: Float32Array, options?: CollectionSearchOptions): Promise<CollectionHit[]>;
  get(id: number | bigint): Promise<CollectionItem | null>;
  find(where?: Where): Promise<bigint[]>;
  remove(ids: (number | bigint)[] | BigInt64Array): Promise<number>;
  updateMetadata(
    id: number | bigint,
    metadata: Record<string, unknown>,
    options?: { merge?: boolean },
  ): Promise<boolean>;
  stats(): Promise<CollectionStats>;
  compact(): Promise<number>;
  checkpoint(): Promise<void>;
  close(): Promise<void>;
}
