// The ingest loop both collection stores run: read and hash the inputs, skip what is stored
// already or repeated in the call, embed the rest, and hand each batch to the store to commit in
// one transaction. Kept in one place so the two stores cannot drift apart in what counts as a
// duplicate, which id a repeat gets, or how progress is reported; each store supplies only how it
// looks hashes up and how it commits a batch (SQLite + FAISS index, or PostgreSQL).
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CrossmodalError } from '../errors';
import {
  checkAddOptions,
  checkEmbedded,
  checkImageInputs,
  checkStrings,
  checkVectors,
  metadataTexts,
} from './arguments';
import { imageSize } from './image-header';
import type { ItemKind, NewItem } from './store';
import type { AddOptions, AddResult, CollectionModel } from './types';

export type Metadata = Record<string, unknown> | Record<string, unknown>[] | undefined;

export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** One input of an add call, described (read and hashed) before it is embedded. */
export interface Described<T> {
  source: string | null;
  hash: string;
  width: number | null;
  height: number | null;
  /** What `embed` needs for this input (its bytes, its text, its vector). */
  input: T;
}

/** Where the inputs of one add call come from and how the new ones become vectors. */
export interface IngestSource<T> {
  kind: ItemKind;
  total: number;
  /** Reads and hashes inputs [start, end). */
  describe(start: number, end: number): Promise<Described<T>[]>;
  /** Embeds the inputs (only new ones are passed) into `inputs.length × dim` floats. */
  embed(inputs: T[]): Promise<{ data: Float32Array; dim: number }>;
}

/** What a store does for the ingest loop. */
export interface IngestSink {
  readonly dim: number;
  /** The ids stored under those of `hashes` that are stored. */
  lookup(hashes: string[]): Promise<Map<string, bigint>>;
  /**
   * Commits `items` with their vectors (`items.length × dim`) in one transaction. Returns the ids
   * of the items it inserted, by hash, and of those another writer had inserted first.
   */
  insert(
    items: NewItem[],
    vectors: Float32Array,
  ): Promise<{ added: Map<string, bigint>; existing: Map<string, bigint> }>;
  /** Called after each committed batch (the local store checkpoints its index from here). */
  afterBatch?(): Promise<void>;
}

/** Image files or encoded bytes: the hash is of the bytes, so a file and its bytes are one item. */
export function imageSource(images: (string | Uint8Array)[], model: CollectionModel): IngestSource<Uint8Array> {
  checkImageInputs(images);
  return {
    kind: 'image',
    total: images.length,
    async describe(start, end) {
      const batch = images.slice(start, end);
      const bytes = await Promise.all(
        batch.map(async (img) =>
          typeof img === 'string'
            ? new Uint8Array(
                await fs.promises.readFile(img).catch((e: Error) => {
                  throw new CrossmodalError('ERR_IO', `cannot read ${img}: ${e.message}`, { cause: e });
                }),
              )
            : img,
        ),
      );
      return bytes.map((b, i) => {
        const img = batch[i];
        const size = imageSize(b);
        return {
          source: typeof img === 'string' ? path.resolve(img) : null,
          hash: sha256(b),
          width: size?.width ?? null,
          height: size?.height ?? null,
          input: b,
        };
      });
    },
    embed: (inputs) => model.embedImages(inputs),
  };
}

export function textSource(texts: string[], model: CollectionModel): IngestSource<string> {
  checkStrings(texts, 'texts');
  return {
    kind: 'text',
    total: texts.length,
    describe: async (start, end) =>
      texts
        .slice(start, end)
        .map((t) => ({ source: t, hash: sha256(`text\0${t}`), width: null, height: null, input: t })),
    embed: async (inputs) => model.embedTexts(inputs),
  };
}

/** Precomputed vectors with one caller-supplied key each (stored as `source`, hashed for de-duplication). */
export function vectorSource(vectors: Float32Array, keys: string[], dim: number): IngestSource<Float32Array> {
  checkStrings(keys, 'keys');
  // Each key's vector must have the collection's dim, all finite: the store keeps what it is
  // given, and a short row would be zero-padded (a long one cut) when the index is rebuilt.
  checkVectors(vectors, keys.length, dim, 'vectors');
  return {
    kind: 'vector',
    total: keys.length,
    describe: async (start, end) =>
      keys.slice(start, end).map((k, j) => ({
        source: k,
        hash: sha256(`key\0${k}`),
        width: null,
        height: null,
        input: vectors.subarray((start + j) * dim, (start + j + 1) * dim),
      })),
    embed: async (inputs) => {
      const data = new Float32Array(inputs.length * dim);
      inputs.forEach((v, j) => data.set(v, j * dim));
      return { data, dim };
    },
  };
}

/**
 * Checks an add call's metadata and options before anything is read (arguments.ts); the metadata
 * is serialised up front, one JSON text per input, so a BigInt in input 900 refuses the call
 * before batch 1 is committed.
 */
export function checkAdd(
  total: number,
  metadata: Metadata,
  options: AddOptions | undefined,
  defaultBatch: number,
): { batchSize: number; options: AddOptions; metadata: string[] } {
  const checked = checkAddOptions(options);
  return { batchSize: checked.batchSize ?? defaultBatch, options: checked, metadata: metadataTexts(metadata, total) };
}

/**
 * Runs one add call. Per batch of inputs [start, end): describe them; those whose hash is neither
 * stored nor earlier in the call are embedded and committed together; every input gets the id
 * of its content (new, stored before, or inserted meanwhile by another writer).
 */
export async function ingest<T>(
  source: IngestSource<T>,
  sink: IngestSink,
  metadata: string[],
  options: AddOptions,
  batchSize: number,
): Promise<AddResult> {
  const { total, kind } = source;
  const ids: bigint[] = [];
  let added = 0,
    duplicates = 0;
  // Hash → id of every input of this call so far (stored or new), for in-call repeats.
  const seen = new Map<string, bigint>();
  for (let start = 0; start < total; start += batchSize) {
    const end = Math.min(start + batchSize, total);
    const described = await source.describe(start, end);
    const stored = await sink.lookup(described.map((d) => d.hash));
    // Positions (within the batch) of the inputs to insert: neither stored nor repeated.
    const fresh: number[] = [];
    const firstOf = new Set<string>();
    described.forEach((d, i) => {
      if (stored.has(d.hash) || seen.has(d.hash) || firstOf.has(d.hash)) return;
      firstOf.add(d.hash);
      fresh.push(i);
    });
    let newIds = new Map<string, bigint>();
    if (fresh.length > 0) {
      const embedded = checkEmbedded(
        await source.embed(fresh.map((i) => (described[i] as Described<T>).input)),
        fresh.length,
        sink.dim,
      );
      const addedAt = Date.now();
      const items: NewItem[] = fresh.map((i) => {
        const d = described[i] as Described<T>;
        return {
          kind,
          source: d.source,
          hash: d.hash,
          width: d.width,
          height: d.height,
          metadata: metadata[start + i] as string,
          addedAt,
        };
      });
      const inserted = await sink.insert(items, embedded.data.subarray(0, fresh.length * sink.dim));
      newIds = inserted.added;
      for (const [hash, id] of inserted.existing) stored.set(hash, id);
    }
    for (const [hash, id] of newIds) seen.set(hash, id);
    for (const d of described) {
      const id = stored.get(d.hash) ?? seen.get(d.hash);
      if (stored.has(d.hash)) seen.set(d.hash, id as bigint);
      ids.push(id as bigint);
    }
    added += newIds.size;
    duplicates += described.length - newIds.size;
    options.onProgress?.({ done: end, total, added, duplicates });
    await sink.afterBatch?.();
  }
  return { ids, added, duplicates };
}
