// The Collection class: ingest, search, removal and snapshots over a store and a FAISS index.
// Opening (open.ts) creates it; the module comment of index.ts describes the crash-safety design.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { NativeDirectoryLock } from '../binding';
import { checkBoolean, checkOptions, guardClass } from '../checks';
import { CrossmodalError, invalidArgument } from '../errors';
import { createIndex, toIdArray, type VectorIndex } from '../search';
import { checkImageInput, metadataJson } from './arguments';
import { fillFromStore, readIndexSpec } from './index-sync';
import { checkAdd, imageSource, ingest, textSource, vectorSource, type IngestSource, type Metadata } from './ingest';
import type { CollectionStore } from './store';
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
    return this.#add(imageSource(images, this.#model), metadata, options);
  }

  /**
   * Embeds and adds texts. A text already in the collection is not added again.
   * @param texts - the texts
   * @param metadata - one object for all, or one per text
   * @param options - `batchSize`, `onProgress`
   * @throws {CrossmodalError} model errors (the failing batch is not committed), `ERR_DISPOSED`
   */
  async addTexts(texts: string[], metadata?: Metadata, options?: AddOptions): Promise<AddResult> {
    return this.#add(textSource(texts, this.#model), metadata, options);
  }

  /**
   * Adds precomputed vectors (e.g. from another process), with a caller-supplied key each.
   * @param vectors - `n × dim` floats
   * @param keys - one unique key per vector (stored as `source`; de-duplicated)
   * @param metadata - one object for all, or one per vector
   */
  async addVectors(vectors: Float32Array, keys: string[], metadata?: Metadata): Promise<AddResult> {
    const source = vectorSource(vectors, keys, this.dim);
    // One batch: one transaction for the whole call.
    return this.#add(source, metadata, { batchSize: Math.max(1, keys.length) });
  }

  /**
   * The shared ingest loop (./ingest.ts) over this store: each batch's new items are inserted
   * with their journal entries in one store transaction, then added to the index; every
   * `checkpointEvery` batches the index is snapshotted.
   */
  async #add<T>(source: IngestSource<T>, metadata: Metadata, addOptions: AddOptions | undefined): Promise<AddResult> {
    const { batchSize, options, metadata: metadataJsons } = checkAdd(source.total, metadata, addOptions, 32);
    this.#live();
    return this.#serial(() =>
      ingest(
        source,
        {
          dim: this.dim,
          lookup: async (hashes) => {
            const stored = await this.#live().idsByHash(hashes);
            const found = new Map<string, bigint>();
            stored.forEach((id, i) => {
              if (id !== null) found.set(hashes[i] as string, id);
            });
            return found;
          },
          insert: async (items, vectors) => {
            const newIds = await this.#live().insertItems(items, vectors);
            if (newIds.length > 0) await this.#index.add(vectors.subarray(0, newIds.length * this.dim), newIds);
            // One writer (the directory lock): every item handed over is inserted.
            return { added: new Map(items.map((item, j) => [item.hash, newIds[j] as bigint])), existing: new Map() };
          },
          afterBatch: async () => {
            if (++this.#batchesSinceCheckpoint >= this.#checkpointEvery) await this.#checkpoint();
          },
        },
        metadataJsons,
        options,
        batchSize,
      ),
    );
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
