/**
 * Collections: an on-disk set of embedded images and texts bound to one model, with a FAISS index
 * and a metadata store (./store.ts; SQLite in ./sqlite/, on a worker thread) kept in step.
 *
 * Crash safety. The store (SQLite: WAL mode, synchronous=FULL) is the source of truth: each ingested batch is
 * one transaction that inserts the items — with their vectors — and appends one journal row per
 * change (`changes`: seq, op, id), so a batch is either fully committed or absent. The FAISS index
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
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { native, type NativeDirectoryLock } from '../binding';
import { CrossmodalError, fromNative, invalidArgument } from '../errors';
import { createIndex, loadIndex, toIdArray, type IndexOptions, type VectorIndex } from '../search';
import { imageSize } from './image-header';
import { fillFromStore, replayJournal } from './index-sync';
import { reembedAll } from './reembed';
import { SqliteStore } from './sqlite/store';
import type { CollectionStore, ItemKind, NewItem } from './store';
import type {
  AddOptions,
  AddResult,
  CollectionHit,
  CollectionItem,
  CollectionModel,
  CollectionSearchOptions,
  CollectionStats,
  OpenCollectionOptions,
} from './types';
import { parseWhere, type Where } from './where';

export type {
  AddOptions,
  AddResult,
  CollectionHit,
  CollectionItem,
  CollectionModel,
  CollectionSearchOptions,
  CollectionStats,
  OpenCollectionOptions,
} from './types';
export type { Where } from './where';
export { imageSize } from './image-header';

/** The on-disk format this version reads and writes (meta `format`). */
const FORMAT = '1';
const INDEX_FILE = 'index.faiss';

function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * The model fingerprint a collection records: `model.fingerprint`, else the explicit option.
 * Kept in one place so the lookup can change when models expose it everywhere.
 * @internal
 */
export function modelFingerprint(model: CollectionModel, explicit?: string): string {
  const fp = model.fingerprint ?? explicit;
  if (typeof fp !== 'string' || fp === '') {
    throw invalidArgument('the model has no fingerprint: pass { fingerprint } to openCollection');
  }
  return fp;
}

/** One input of an add call, described before it is embedded. */
interface Described {
  source: string | null;
  hash: string;
  width: number | null;
  height: number | null;
}

type Metadata = Record<string, unknown> | Record<string, unknown>[] | undefined;

/** An open collection. Create or open one with {@link openCollection}. */
export class Collection {
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
  constructor(dir: string, store: CollectionStore, index: VectorIndex, model: CollectionModel, fingerprint: string, checkpointEvery: number, lock: NativeDirectoryLock) {
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
  async addImages(images: (string | Uint8Array)[], metadata?: Metadata, options: AddOptions = {}): Promise<AddResult> {
    if (!Array.isArray(images)) throw invalidArgument('images must be an array of paths or buffers');
    let bytes: Uint8Array[] = [];
    return this.#add('image', images.length, metadata, options,
      async (start, end) => {
        bytes = await Promise.all(images.slice(start, end).map(async (img) => (typeof img === 'string' ? new Uint8Array(await fs.promises.readFile(img).catch((e: Error) => {
          throw new CrossmodalError('ERR_IO', `cannot read ${img}: ${e.message}`, { cause: e });
        })) : img)));
        return bytes.map((b, i) => {
          const img = images[start + i];
          const size = imageSize(b);
          return { source: typeof img === 'string' ? path.resolve(img) : null, hash: sha256(b), width: size?.width ?? null, height: size?.height ?? null };
        });
      },
      (positions) => this.#model.embedImages(positions.map((i) => bytes[i] as Uint8Array)));
  }

  /**
   * Embeds and adds texts. A text already in the collection is not added again.
   * @param texts - the texts
   * @param metadata - one object for all, or one per text
   * @param options - `batchSize`, `onProgress`
   * @throws {CrossmodalError} model errors (the failing batch is not committed), `ERR_DISPOSED`
   */
  async addTexts(texts: string[], metadata?: Metadata, options: AddOptions = {}): Promise<AddResult> {
    if (!Array.isArray(texts) || texts.some((t) => typeof t !== 'string')) throw invalidArgument('texts must be an array of strings');
    let batch: string[] = [];
    return this.#add('text', texts.length, metadata, options,
      async (start, end) => {
        batch = texts.slice(start, end);
        return batch.map((t) => ({ source: t, hash: sha256(`text\0${t}`), width: null, height: null }));
      },
      (positions) => this.#model.embedTexts(positions.map((i) => batch[i] as string)));
  }

  /**
   * Adds precomputed vectors (e.g. from another process), with a caller-supplied key each.
   * @param vectors - `n × dim` floats
   * @param keys - one unique key per vector (stored as `source`; de-duplicated)
   * @param metadata - one object for all, or one per vector
   */
  async addVectors(vectors: Float32Array, keys: string[], metadata?: Metadata): Promise<AddResult> {
    if (!Array.isArray(keys) || keys.some((k) => typeof k !== 'string')) throw invalidArgument('keys must be an array of strings');
    if (!(vectors instanceof Float32Array) || vectors.length !== keys.length * this.dim) throw invalidArgument('vectors must hold keys.length × dim floats');
    const dim = this.dim;
    // One batch: one transaction for the whole call.
    return this.#add('vector', keys.length, metadata, { batchSize: Math.max(1, keys.length) },
      async (start, end) => keys.slice(start, end).map((k) => ({ source: k, hash: sha256(`key\0${k}`), width: null, height: null })),
      async (positions) => {
        const data = new Float32Array(positions.length * dim);
        positions.forEach((i, j) => data.set(vectors.subarray(i * dim, (i + 1) * dim), j * dim));
        return { data, dim };
      });
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
    options: AddOptions,
    describe: (start: number, end: number) => Promise<Described[]>,
    embed: (positions: number[]) => Promise<{ data: Float32Array; dim: number }>,
  ): Promise<AddResult> {
    if (Array.isArray(metadata) && metadata.length !== total) throw invalidArgument('metadata must be one object, or one per input');
    const batchSize = options.batchSize ?? 32;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw invalidArgument('batchSize must be a positive integer');
    return this.#serial(async () => {
      const ids: bigint[] = [];
      let added = 0, duplicates = 0;
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
          const embedded = await embed(fresh);
          if (embedded.dim !== this.dim) throw new CrossmodalError('ERR_DIMENSION_MISMATCH', `the model produced ${embedded.dim}-d vectors, the collection holds ${this.dim}-d`);
          vectors = embedded.data;
        }
        const addedAt = Date.now();
        const items: NewItem[] = fresh.map((i) => {
          const d = described[i] as Described;
          const meta = Array.isArray(metadata) ? metadata[start + i] : metadata;
          return { kind, source: d.source, hash: d.hash, width: d.width, height: d.height, metadata: JSON.stringify(meta ?? {}), addedAt };
        });
        const newIds = fresh.length > 0 ? await this.#live().insertItems(items, vectors.subarray(0, fresh.length * this.dim)) : new BigInt64Array(0);
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

  async #search(vector: { data: Float32Array; dim: number } | Float32Array, filter: ReturnType<typeof parseWhere> | undefined, options: CollectionSearchOptions): Promise<CollectionHit[]> {
    const store = this.#live();
    const allow = filter ? await store.filterIds(filter) : undefined;
    if (allow && allow.length === 0) return [];
    const results = await this.#index.search(vector, options.k ?? 10, { filter: allow ? { allow } : undefined, efSearch: options.efSearch, nprobe: options.nprobe });
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
  #checkSearch(options: CollectionSearchOptions): ReturnType<typeof parseWhere> | undefined {
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
  async searchText(query: string, options: CollectionSearchOptions = {}): Promise<CollectionHit[]> {
    if (typeof query !== 'string') throw invalidArgument('query must be a string');
    const filter = this.#checkSearch(options);
    return this.#search(await this.#model.embedTexts([query]), filter, options);
  }

  /** Items nearest to an image (path or bytes). @param image - the image @param options - as {@link Collection.searchText} */
  async searchImage(image: string | Uint8Array, options: CollectionSearchOptions = {}): Promise<CollectionHit[]> {
    const filter = this.#checkSearch(options);
    return this.#search(await this.#model.embedImages([image]), filter, options);
  }

  /** Items nearest to a vector. @param vector - `dim` floats @param options - as {@link Collection.searchText} */
  async searchVector(vector: Float32Array, options: CollectionSearchOptions = {}): Promise<CollectionHit[]> {
    if (!(vector instanceof Float32Array) || vector.length !== this.dim) throw new CrossmodalError('ERR_DIMENSION_MISMATCH', `vector must be a Float32Array of ${this.dim} values`);
    return this.#search(vector, this.#checkSearch(options), options);
  }

  /** One item, or null. @param id - its id */
  async get(id: number | bigint): Promise<CollectionItem | null> {
    const [item] = await this.#live().items(toIdArray([id], 'id'));
    return item ?? null;
  }

  /** Ids of the items matching a filter. @param where - metadata filter */
  async find(where: Where = {}): Promise<bigint[]> {
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
  async updateMetadata(id: number | bigint, metadata: Record<string, unknown>, options: { merge?: boolean } = {}): Promise<boolean> {
    if (metadata === null || typeof metadata !== 'object') throw invalidArgument('metadata must be an object');
    const [itemId] = toIdArray([id], 'id');
    return this.#serial(() => this.#live().updateMetadata(itemId as bigint, JSON.stringify(metadata), options.merge === true));
  }

  /**
   * Rebuilds the index from the stored vectors (drops tombstones, re-trains IVF) and snapshots it.
   * @returns the number of items
   */
  async compact(): Promise<number> {
    return this.#serial(async () => {
      const store = this.#live();
      // The options the collection was created with: IVF picks nlist again for the current size.
      const spec = JSON.parse((await store.readMeta()).index as string) as IndexOptions;
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
    for (const f of await fs.promises.readdir(this.dir)) bytes += (await fs.promises.stat(path.join(this.dir, f)).catch(() => ({ size: 0 }))).size;
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

/** Takes `root`'s exclusive lock; ERR_LOCKED names the holder's pid when it is readable. */
function lockCollection(root: string): NativeDirectoryLock {
  try {
    return new (native().DirectoryLock)(root, 'collection');
  } catch (error) {
    throw fromNative(error);
  }
}

/**
 * Opens (or creates) a collection in `dir`, bound to `model` by its fingerprint.
 * @param dir - the collection directory (created if missing)
 * @param options - `model` (required), `index` options for a new collection, `reembed`, `checkpointEvery`
 * @throws {CrossmodalError} `ERR_LOCKED` (the collection is open in another process, or already
 *   open in this one), `ERR_MODEL_MISMATCH` (another model built it and `reembed` is not set),
 *   `ERR_DIMENSION_MISMATCH`, `ERR_IO`
 * @example
 * const photos = await openCollection('./photos', { model });
 * await photos.addImages(['cat.jpg']);
 * console.log(await photos.searchText('a cat', { k: 3 }));
 * await photos.close();
 */
export async function openCollection(dir: string, options: OpenCollectionOptions): Promise<Collection> {
  if (typeof dir !== 'string' || dir === '') throw invalidArgument('dir must be a non-empty string');
  if (!options || typeof options !== 'object' || !options.model) throw invalidArgument('openCollection needs { model }');
  const model = options.model;
  const fingerprint = modelFingerprint(model, options.fingerprint);
  const checkpointEvery = options.checkpointEvery ?? 16;
  if (!Number.isInteger(checkpointEvery) || checkpointEvery < 1) throw invalidArgument('checkpointEvery must be a positive integer');
  const root = path.resolve(dir);
  fs.mkdirSync(root, { recursive: true });
  // Before any file in the directory is read or written: another opener may be writing them.
  const lock = lockCollection(root);
  let store: CollectionStore;
  try {
    store = await SqliteStore.open(root);
  } catch (error) {
    lock.release();
    throw error;
  }
  // Declared out here so a failed open can free it (its vectors live in native memory).
  let index: VectorIndex | undefined;
  try {
    const indexFile = path.join(root, INDEX_FILE);
    // A snapshot interrupted before its rename leaves a temp file; the previous snapshot is intact.
    for (const f of fs.readdirSync(root)) if (f.startsWith(`${INDEX_FILE}.tmp-`)) fs.rmSync(path.join(root, f), { force: true });

    let meta = await store.readMeta();
    if (meta.format === undefined) {
      await store.writeMeta({ format: FORMAT, fingerprint, dim: String(model.dim), index: JSON.stringify({ ...(options.index ?? {}), dim: model.dim }), index_seq: '0' });
      meta = await store.readMeta();
    }
    if (meta.format !== FORMAT) throw new CrossmodalError('ERR_INDEX_CORRUPT', `collection ${root} has format ${meta.format}; this version reads ${FORMAT}`);
    const spec = JSON.parse(meta.index as string) as IndexOptions;
    const storedFingerprint = meta.fingerprint as string;
    const storedDim = Number(meta.dim);

    if (storedFingerprint !== fingerprint || storedDim !== model.dim) {
      if (!options.reembed) {
        throw new CrossmodalError('ERR_MODEL_MISMATCH',
          `collection ${root} was built with model ${storedFingerprint} (${storedDim}-d); this model is ${fingerprint} (${model.dim}-d). ` +
          'Open it with { reembed: true } to re-embed every item with the new model.');
      }
      // index_seq -1: no snapshot matches the new vectors; the index is rebuilt below.
      await reembedAll(store, model, { fingerprint, dim: String(model.dim), index: JSON.stringify({ ...spec, dim: model.dim }), index_seq: '-1' });
      fs.rmSync(indexFile, { force: true });
      meta = await store.readMeta();
    }

    const dim = model.dim;
    const indexSeq = Number(meta.index_seq ?? '-1');
    if (indexSeq >= 0 && fs.existsSync(indexFile)) {
      try {
        index = await loadIndex(indexFile, { fingerprint, dim });
      } catch (error) {
        if (!(error instanceof CrossmodalError) || !['ERR_INDEX_CORRUPT', 'ERR_INDEX_MISMATCH'].includes(error.code)) throw error;
        index = undefined; // rebuilt from the store below
      }
    }
    if (index) {
      await replayJournal(store, index, indexSeq);
      // Items the snapshot holds but the store no longer does (a removal journalled and trimmed
      // by a snapshot that was then lost) cannot exist: snapshots are written before trimming.
      // A size disagreement means something else went wrong: rebuild rather than trust it.
      if (index.size !== (await store.counts()).count) {
        index.dispose();
        index = undefined;
      }
    }
    if (!index) {
      index = createIndex({ ...spec, dim });
      await fillFromStore(store, index);
    }
    return new Collection(root, store, index, model, fingerprint, checkpointEvery, lock);
  } catch (error) {
    index?.dispose();
    try {
      await store.close();
    } finally {
      lock.release();
    }
    throw error;
  }
}
