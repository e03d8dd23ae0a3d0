// The Collection class: ingest, search, removal and snapshots over a store and a FAISS index.
// Opening (open.ts) creates it; the module comment of index.ts describes the crash-safety design.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { NativeDirectoryLock } from '../binding';
import { checkBoolean, checkOptions, guardClass } from '../checks';
import { CrossmodalError, invalidArgument } from '../errors';
import { createIndex, toIdArray, type VectorIndex } from '../search';
import {
  checkAddOptions,
  checkEmbedded,
  checkImageInput,
  checkImageInputs,
  checkStrings,
  checkVectors,
  metadataJson,
  metadataTexts,
} from './arguments';
import { imageSize } from './image-header';
import { fillFromStore, readIndexSpec } from './index-sync';
import type { CollectionStore, ItemKind, NewItem } from './store';
import type {
  AddOptions,
  AddResult,
  CollectionHit,
  CollectionItem,
  CollectionModel,
  CollectionApi,
  CollectionSearchOptions,
  CollectionStats,
} from './types';
import { parseWhere, type Filter, type Where } from './where';

/** The index snapshot inside the collection directory. */
export const INDEX_FILE = 'index.faiss';

function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** One input of an add call, described before it is embedded. */
interface Described {
  source: string | null;
  hash: string;
  width: number | null;
  height: number | null;
}

type Metadata = Record<string, unknown> | Record<string, unknown>[] | undefined;

/** One item id as a bigint. Any integer is accepted: ids that cannot exist simply match nothing. */
function itemId(id: number | bigint): bigint {
  if (typeof id === 'bigint' && BigInt.asIntN(64, id) === id) return id;
  if (Number.isSafeInteger(id)) return BigInt(id);
  throw invalidArgument('id must be a 64-bit bigint or a safe integer');
}

/** An open collection. Create or open one with {@link openCollection}. */
export class Collection implements CollectionApi {
  readonly dir: string;
  readonly dim: number;
  readonly fingerprint: string;
  #store: CollectionStore | undefined;
  #index: VectorIndex;
  #model: CollectionModel;
  #checkpointEvery: number;
  #batchesSinceCheckpoint = 0;
  #queue: Promise<unknown> = Promise.resolve();
  #closing: Promise<void> | undefined;
  // Referenced for the collection's whole life: collecting the handle would release the lock.
  #lock: NativeDirectoryLock;

  /** @internal */
  constructor(
    dir: string,
    store: CollectionStore,
    index: VectorIndex,
    model: CollectionModel,
    fingerprint: string,
    checkpointEvery: number,
    lock: NativeDirectoryLock,
  ) {
    this.dir = dir;
    this.#lock = lock;
    this.#store = store;
    this.#index = index;
    this.#model = model;
    this.dim = index.dim;
    this.fingerprint = fingerprint;
    this.#checkpointEvery = checkpointEvery;
  }

  #live(): CollectionStore {
    if (!this.#store || this.#closing) throw new CrossmodalError('ERR_DISPOSED', 'the collection has been closed');
    return this.#store;
  }

  /** Writes serialise through one queue, so batches commit to the store and the index in the same order. */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Embeds and adds images (paths or encoded bytes). Inputs whose bytes are already in the
   * collection are not added again; their existing id is returned.
   * @param images - file paths or encoded image bytes
   * @param metadata - one object for all, or one per image
   * @param options - `batchSize`, `onProgress`
   * @throws {CrossmodalError} `ERR_IO`, image and model errors (the failing batch is not committed), `ERR_DISPOSED`
   * @example
   * await photos.addImages(['a.jpg', 'b.png'], { album: 'summer' }, { onProgress: (p) => console.log(p.done) });
   */
  async addImages(images: (string | Uint8Array)[], metadata?: Metadata, options?: AddOptions): Promise<AddResult> {
    checkImageInputs(images);
    let bytes: Uint8Array[] = [];
    return this.#add(
      'image',
      images.length,
      metadata,
      options,
      async (start, end) => {
        bytes = await Promise.all(
          images.slice(start, end).map(async (img) =>
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
          const img = images[start + i];
          const size = imageSize(b);
          return {
            source: typeof img === 'string' ? path.resolve(img) : null,
            hash: sha256(b),
            width: size?.width ?? null,
            height: size?.height ?? null,
          };
        });
      },
      (positions) => this.#model.embedImages(positions.map((i) => bytes[i] as Uint8Array)),
    );
  }

  /**
   * Embeds and adds texts. A text already in the collection is not added again.
   * @param texts - the texts
   * @param metadata - one object for all, or one per text
   * @param options - `batchSize`, `onProgress`
   * @throws {CrossmodalError} model errors (the failing batch is not committed), `ERR_DISPOSED`
   */
  async addTexts(texts: string[], metadata?: Metadata, options?: AddOptions): Promise<AddResult> {
    checkStrings(texts, 'texts');
    let batch: string[] = [];
    return this.#add(
      'text',
      texts.length,
      metadata,
      options,
      async (start, end) => {
        batch = texts.slice(start, end);
        return batch.map((t) => ({ source: t, hash: sha256(`text\0${t}`), width: null, height: null }));
      },
      (positions) => this.#model.embedTexts(positions.map((i) => batch[i] as string)),
    );
  }

  /**
   * Adds precomputed vectors (e.g. from another process), with a caller-supplied key each.
   * @param vectors - `n × dim` floats
   * @param keys - one unique key per vector (stored as `source`; de-duplicated)
   * @param metadata - one object for all, or one per vector
   */
  async addVectors(vectors: Float32Array, keys: string[], metadata?: Metadata): Promise<AddResult> {
    checkStrings(keys, 'keys');
    // Each key's vector must have the collection's dim: the store keeps what it is given, and a
    // short row would be zero-padded (a long one cut) when the index is rebuilt from it.
    checkVectors(vectors, keys.length, this.dim, 'vectors');
    const dim = this.dim;
    // One batch: one transaction for the whole call.
    return this.#add(
      'vector',
      keys.length,
      metadata,
      { batchSize: Math.max(1, keys.length) },
      async (start, end) =>
        keys.slice(start, end).map((k) => ({ source: k, hash: sha256(`key\0${k}`), width: null, height: null })),
      async (positions) => {
        const data = new Float32Array(positions.length * dim);
        positions.forEach((i, j) => data.set(vectors.subarray(i * dim, (i + 1) * dim), j * dim));
        return { data, dim };
      },
    );
  }

  /**
   * The ingest loop shared by the add methods. Per batch of inputs [start, end): `describe` reads
   * and hashes them; those whose hash is neither stored nor earlier in the call are embedded
   * (`embed` gets their positions within the batch), then inserted with their journal entries in
   * one store transaction and added to the index.
   */
  async #add(
    kind: ItemKind,
    total: number,
    metadata: Metadata,
    addOptions: AddOptions | undefined,
    describe: (start: number, end: number) => Promise<Described[]>,
    embed: (positions: number[]) => Promise<{ data: Float32Array; dim: number }>,
  ): Promise<AddResult> {
    const options = checkAddOptions(addOptions);
    const metadataJsons = metadataTexts(metadata, total);
    const batchSize = options.batchSize ?? 32;
    this.#live();
    return this.#serial(async () => {
      const ids: bigint[] = [];
      let added = 0,
        duplicates = 0;
      // Hash → id of every input of this call so far (stored or new), for in-call repeats.
      const seen = new Map<string, bigint>();
      for (let start = 0; start < total; start += batchSize) {
        const end = Math.min(start + batchSize, total);
        const described = await describe(start, end);
        const stored = await this.#live().idsByHash(described.map((d) => d.hash));
        // Positions (within the batch) of the inputs to insert: neither stored nor repeated.
        const fresh: number[] = [];
        const firstOf = new Map<string, number>();
        described.forEach((d, i) => {
          if (stored[i] !== null || seen.has(d.hash) || firstOf.has(d.hash)) return;
          firstOf.set(d.hash, i);
          fresh.push(i);
        });
        let vectors: Float32Array = new Float32Array(0);
        if (fresh.length > 0) {
          vectors = checkEmbedded(await embed(fresh), fresh.length, this.dim).data;
        }
        const addedAt = Date.now();
        const items: NewItem[] = fresh.map((i) => {
          const d = described[i] as Described;
          return {
            kind,
            source: d.source,
            hash: d.hash,
            width: d.width,
            height: d.height,
            metadata: metadataJsons[start + i] as string,
            addedAt,
          };
        });
        const newIds = fresh.length > 0 ? await this.#live().insertItems(items, vectors) : new BigInt64Array(0);
        if (newIds.length > 0) await this.#index.add(vectors.subarray(0, newIds.length * this.dim), newIds);
        fresh.forEach((i, j) => seen.set((described[i] as Described).hash, newIds[j] as bigint));
        described.forEach((d, i) => {
          const id = stored[i] ?? seen.get(d.hash);
          if (stored[i] !== null) seen.set(d.hash, stored[i] as bigint);
          ids.push(id as bigint);
        });
        added += newIds.length;
        duplicates += described.length - newIds.length;
        options.onProgress?.({ done: end, total, added, duplicates });
        if (++this.#batchesSinceCheckpoint >= this.#checkpointEvery) await this.#checkpoint();
      }
      return { ids, added, duplicates };
    });
  }

  async #search(
    vector: { data: Float32Array; dim: number } | Float32Array,
    filter: Filter | undefined,
    options: CollectionSearchOptions,
  ): Promise<CollectionHit[]> {
    const store = this.#live();
    const allow = filter ? await store.filterIds(filter) : undefined;
    if (allow && allow.length === 0) return [];
    const results = await this.#index.search(vector, options.k ?? 10, {
      filter: allow ? { allow } : undefined,
      efSearch: options.efSearch,
      nprobe: options.nprobe,
    });
    const hits = results.get(0);
    if (hits.length === 0) return [];
    const items = await store.items(BigInt64Array.from(hits, (h) => h.id));
    const byId = new Map(items.map((item) => [item.id, item]));
    return hits.flatMap((h) => {
      const item = byId.get(h.id);
      return item ? [{ ...item, score: h.score }] : [];
    });
  }

  /** Checks the search options before anything is embedded; returns the parsed filter. */
  #checkSearch(options: CollectionSearchOptions): Filter | undefined {
    if (options === null || typeof options !== 'object') throw invalidArgument('options must be an object');
    const k = options.k ?? 10;
    if (!Number.isInteger(k) || k < 1) throw invalidArgument('k must be a positive integer');
    this.#live();
    return options.where === undefined ? undefined : parseWhere(options.where);
  }

  /**
   * Items nearest to a text.
   * @param query - the text
   * @param options - `k` (default 10), `where` metadata filter, `efSearch`, `nprobe`
   * @example
   * const hits = await photos.searchText('a dog on a beach', { k: 5, where: { album: 'summer' } });
   */
  async searchText(query: string, options?: CollectionSearchOptions): Promise<CollectionHit[]> {
    options = checkOptions(options);
    if (typeof query !== 'string') throw invalidArgument('query must be a string');
    const filter = this.#checkSearch(options);
    return this.#search(await this.#model.embedTexts([query]), filter, options);
  }

  /** Items nearest to an image (path or bytes). @param image - the image @param options - as {@link Collection.searchText} */
  async searchImage(image: string | Uint8Array, options?: CollectionSearchOptions): Promise<CollectionHit[]> {
    checkImageInput(image, 'image');
    options = checkOptions(options);
    const filter = this.#checkSearch(options);
    return this.#search(await this.#model.embedImages([image]), filter, options);
  }

  /** Items nearest to a vector. @param vector - `dim` floats @param options - as {@link Collection.searchText} */
  async searchVector(vector: Float32Array, options?: CollectionSearchOptions): Promise<CollectionHit[]> {
    if (!(vector instanceof Float32Array) || vector.length !== this.dim)
      throw new CrossmodalError('ERR_DIMENSION_MISMATCH', `vector must be a Float32Array of ${this.dim} values`);
    options = checkOptions(options);
    return this.#search(vector, this.#checkSearch(options), options);
  }

  /** One item, or null. @param id - its id */
  async get(id: number | bigint): Promise<CollectionItem | null> {
    const [item] = await this.#live().items(BigInt64Array.of(itemId(id)));
    return item ?? null;
  }

  /** Ids of the items matching a filter. @param where - metadata filter */
  async find(where?: Where): Promise<bigint[]> {
    if (where === undefined) where = {};
    const filter = parseWhere(where);
    return Array.from(await this.#live().filterIds(filter));
  }

  /**
   * Removes items (from the table and the index, atomically with respect to crashes).
   * @param ids - item ids
   * @returns how many were removed
   */
  async remove(ids: (number | bigint)[] | BigInt64Array): Promise<number> {
    const idArray = toIdArray(ids);
    return this.#serial(async () => {
      const removed = await this.#live().removeItems(idArray);
      await this.#index.remove(idArray);
      return removed;
    });
  }

  /**
   * Replaces (or with `merge`, merges into) an item's metadata.
   * @param id - item id
   * @param metadata - new metadata
   * @returns false when the id does not exist
   */
  async updateMetadata(
    id: number | bigint,
    metadata: Record<string, unknown>,
    options?: { merge?: boolean },
  ): Promise<boolean> {
    const key = itemId(id);
    const json = metadataJson(metadata, 'metadata');
    const { merge } = checkOptions(options);
    checkBoolean(merge, 'options.merge');
    return this.#serial(() => this.#live().updateMetadata(key, json, merge === true));
  }

  /**
   * Rebuilds the index from the stored vectors (drops tombstones, re-trains IVF) and snapshots it.
   * @returns the number of items
   */
  async compact(): Promise<number> {
    return this.#serial(async () => {
      const store = this.#live();
      // The options the collection was created with: IVF picks nlist again for the current size.
      const spec = readIndexSpec(await store.readMeta());
      const fresh = createIndex({ ...spec, dim: this.dim });
      try {
        await fillFromStore(store, fresh);
      } catch (error) {
        fresh.dispose();
        throw error;
      }
      const old = this.#index;
      this.#index = fresh;
      old.dispose();
      await this.#checkpoint();
      return fresh.size;
    });
  }

  /** Writes an index snapshot and trims the journal. Called by `close()` and every `checkpointEvery` batches. */
  async checkpoint(): Promise<void> {
    return this.#serial(() => this.#checkpoint());
  }

  async #checkpoint(): Promise<void> {
    const store = this.#store;
    if (!store) throw new CrossmodalError('ERR_DISPOSED', 'the collection has been closed');
    const seq = await store.lastChangeSeq();
    await this.#index.save(path.join(this.dir, INDEX_FILE), { fingerprint: this.fingerprint });
    // Only after the snapshot is durable: the journal entries it holds can go.
    await store.commitCheckpoint(seq);
    this.#batchesSinceCheckpoint = 0;
  }

  /** Counts, model, index state. */
  async stats(): Promise<CollectionStats> {
    const counts = await this.#live().counts();
    const info = await this.#index.info();
    let bytes = 0;
    for (const f of await fs.promises.readdir(this.dir))
      bytes += (await fs.promises.stat(path.join(this.dir, f)).catch(() => ({ size: 0 }))).size;
    return {
      count: counts.count,
      images: counts.images,
      texts: counts.texts,
      vectors: counts.vectors,
      dim: this.dim,
      metric: info.metric,
      fingerprint: this.fingerprint,
      index: { type: info.type, description: info.description, size: info.size, tombstones: info.tombstones },
      pendingChanges: counts.pendingChanges,
      bytesOnDisk: bytes,
    };
  }

  /** Snapshots the index, closes the store and releases the directory lock. Idempotent. */
  async close(): Promise<void> {
    this.#closing ??= (async () => {
      try {
        // Writes already queued finish first; calls made from now on reject with ERR_DISPOSED.
        await this.#serial(() => this.#checkpoint()).catch(() => undefined);
        await this.#store?.close();
        this.#store = undefined;
        this.#index.dispose();
      } finally {
        // Last, so the next opener finds the snapshot written and the database closed.
        this.#lock.release();
      }
    })();
    return this.#closing;
  }
}

// Every method and getter throws or rejects with CrossmodalErrors only.
guardClass(Collection);
