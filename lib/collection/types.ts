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
