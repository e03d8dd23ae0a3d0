/**
 * Vector search: FAISS indexes (exact, HNSW, IVF-Flat, IVF-PQ, factory strings) with 64-bit ids,
 * filters, removal, atomic persistence and concurrent searches, all off the event loop.
 * @packageDocumentation
 */
import * as path from 'node:path';
import { native, type NativeIndexInfo, type NativeSearchArguments, type NativeVectorIndex } from './binding';
import {
  checkArray,
  checkBoolean,
  checkInteger,
  checkOptions,
  checkPath,
  guardClass,
  guarded,
  toJson,
  type IntegerRange,
} from './checks';
import { callNative, CrossmodalError, fromNative, invalidArgument } from './errors';
import type { IndexDevice, IndexInfo, IndexType, LoadIndexOptions, Metric } from './types';

/**
 * How to build an index. Every parameter has a default; the defaults reach recall@10 ≥ 0.95 on
 * 20k random normalised 512-d vectors (the hard case — real CLIP embeddings are clustered and do
 * better), trading some speed for that recall. Lower `efSearch` / `nprobe` per query for speed.
 */
export interface IndexOptions {
  /** Vector size, 1..65536. */
  dim: number;
  /** `cosine` (default: vectors are normalised on the way in; scores are cosines), `ip` (inner product) or `l2` (scores are squared distances, lower is better). */
  metric?: Metric;
  /** `flat` (default, exact), `hnsw`, `ivf-flat`, `ivf-pq` or `factory` (with `factory`). See {@link recommendIndex}. */
  type?: IndexType;
  /** HNSW: links per node (default 32). */
  M?: number;
  /** HNSW: candidate list size while building (default 200). */
  efConstruction?: number;
  /**
   * HNSW: candidate list size while searching (default 512; raised to k when smaller). On random
   * 512-d data 128 gives recall@10 0.70, 256 0.90, 512 0.986; clustered real embeddings need far less.
   */
  efSearch?: number;
  /** IVF: number of lists. Default: chosen when training, about 4·√n (a power of two, ≥ 39 training points per list). */
  nlist?: number;
  /** IVF: lists visited per query. Default 7/8 of nlist: what recall@10 ≥ 0.95 costs on unclustered (random) data. Real, clustered embeddings reach that with nlist / 16 or less: set it for speed. */
  nprobe?: number;
  /** IVF training sample: at most this many vectors per list (default 256). */
  trainPerList?: number;
  /** IVF-PQ: sub-quantizers (default dim / 4; must divide dim). */
  pqM?: number;
  /** IVF-PQ: bits per sub-quantizer code (default 8). */
  pqBits?: number;
  /**
   * IVF-PQ: keep the exact vectors too and re-rank `k × refineFactor` PQ candidates exactly
   * (default 32). 0 stores codes only (pqM bytes per vector) at much lower recall.
   */
  refineFactor?: number;
  /** `type: 'factory'`: a FAISS index_factory string, e.g. `"IVF1024,SQ8"`. Filters need a top-level IVF, HNSW or flat. */
  factory?: string;
  /**
   * Where searches run (default `cpu`); see {@link IndexDevice}. `gpu` with `hnsw`, `factory` or an
   * `ivf-pq` shape FAISS's GPU kernels lack (`pqBits` ≠ 8, `pqM` outside 1–4, 8, 12, …, 48, 56, 64,
   * 96) is refused with `ERR_INVALID_ARGUMENT`.
   */
  device?: IndexDevice;
  /** CUDA device ordinal for `device: 'gpu' | 'auto'` (default 0). */
  deviceId?: number;
}

/** Ids: a BigInt64Array, or an array of bigints / safe integers. All ids are non-negative. */
export type Ids = BigInt64Array | ArrayLike<number | bigint>;

/** A filter on ids, executed inside FAISS (an ID selector), not by over-fetching. */
export type IdFilter = { allow: Ids } | { deny: Ids };

export interface SearchOptions {
  /** Only these ids (`allow`) or all but these (`deny`). */
  filter?: IdFilter;
  /** HNSW: candidate list size for this search. */
  efSearch?: number;
  /** IVF: lists to visit for this search. */
  nprobe?: number;
}

/** One search hit. */
export interface SearchHit {
  id: bigint;
  score: number;
}

function checkQueryIndex(query: number, queries: number): void {
  if (!Number.isInteger(query) || query < 0 || query >= queries) {
    throw invalidArgument(`query ${query} is out of range 0..${queries - 1}`);
  }
}

/**
 * Results of a search: `queries × k` ids and scores, best first, where `k` is the requested k
 * clamped to the index's size (an index of 10 vectors answers k = 1000 with 10 hits per query; an
 * empty one with none). `ids` and `scores` view one block of native memory (ids first), freed when
 * both are garbage-collected. Where fewer than `k` vectors qualify (filters, tombstones, IVF lists
 * not probed) the id is `-1n` and the score `NaN`. Scores are cosines (`cosine`),
 * inner products (`ip`) or squared L2 distances (`l2`).
 */
export class SearchResults {
  readonly ids: BigInt64Array;
  readonly scores: Float32Array;
  readonly queries: number;
  readonly k: number;

  /** @internal */
  constructor(ids: BigInt64Array, scores: Float32Array, queries: number, k: number) {
    this.ids = ids;
    this.scores = scores;
    this.queries = queries;
    this.k = k;
  }

  /**
   * The hits of one query, without the padding.
   * @param query - query number, `0 <= query < queries`
   * @throws {CrossmodalError} `ERR_INVALID_ARGUMENT` when out of range
   */
  get(query: number): SearchHit[] {
    checkQueryIndex(query, this.queries);
    const hits: SearchHit[] = [];
    for (let j = 0; j < this.k; j++) {
      const id = this.ids[query * this.k + j] as bigint;
      if (id < 0n) break;
      hits.push({ id, score: this.scores[query * this.k + j] as number });
    }
    return hits;
  }
}

/** Results of a range search: a variable number of hits per query, best first. */
export class RangeResults {
  /** `queries + 1` offsets: hits of query `q` are `[offsets[q], offsets[q + 1])` of `ids` / `scores`. */
  readonly offsets: BigUint64Array;
  readonly ids: BigInt64Array;
  readonly scores: Float32Array;
  readonly queries: number;

  /** @internal */
  constructor(offsets: BigUint64Array, ids: BigInt64Array, scores: Float32Array, queries: number) {
    this.offsets = offsets;
    this.ids = ids;
    this.scores = scores;
    this.queries = queries;
  }

  /**
   * The hits of one query.
   * @param query - query number
   * @throws {CrossmodalError} `ERR_INVALID_ARGUMENT` when out of range
   */
  get(query: number): SearchHit[] {
    checkQueryIndex(query, this.queries);
    const hits: SearchHit[] = [];
    for (let j = Number(this.offsets[query]); j < Number(this.offsets[query + 1]); j++) {
      hits.push({ id: this.ids[j] as bigint, score: this.scores[j] as number });
    }
    return hits;
  }
}

/** Anything with row-major float data: a Float32Array or crossmodal's Embeddings. */
export type VectorsInput = Float32Array | { data: Float32Array; dim: number };

function vectorsOf(input: VectorsInput, dim: number, what: string): Float32Array {
  const data = input instanceof Float32Array ? input : input?.data;
  if (!(data instanceof Float32Array)) throw invalidArgument(`${what} must be Embeddings or a Float32Array`);
  if (!(input instanceof Float32Array) && input.dim !== dim) {
    throw new CrossmodalError('ERR_DIMENSION_MISMATCH', `${what} have dim ${input.dim}, the index has ${dim}`);
  }
  if (data.length % dim !== 0) {
    throw new CrossmodalError(
      'ERR_DIMENSION_MISMATCH',
      `${what} length ${data.length} is not a multiple of dim ${dim}`,
    );
  }
  return data;
}

/**
 * Converts ids to a BigInt64Array, refusing unsafe integers (which would silently lose bits) and negatives.
 * @internal
 */
export function toIdArray(ids: Ids, what = 'ids'): BigInt64Array {
  if (ids instanceof BigInt64Array) {
    for (let i = 0; i < ids.length; i++)
      if ((ids[i] as bigint) < 0n) throw invalidArgument(`${what}[${i}] is negative`);
    return ids;
  }
  // A real array or a typed array: an array-like's `length` (say 2 ** 32) would size the allocation below.
  const typed = ArrayBuffer.isView(ids) && !(ids instanceof DataView);
  if (!typed && !Array.isArray(ids)) throw invalidArgument(`${what} must be a BigInt64Array or an array of ids`);
  if (!typed) checkArray(ids, what);
  const out = new BigInt64Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (typeof id === 'number') {
      if (!Number.isSafeInteger(id)) throw invalidArgument(`${what}[${i}] must be a safe integer or a bigint`);
    } else if (typeof id !== 'bigint') {
      throw invalidArgument(`${what}[${i}] must be a safe integer or a bigint`);
    } else if (id > 0x7fffffffffffffffn) {
      throw invalidArgument(`${what}[${i}] does not fit in 64 bits`);
    }
    const value = BigInt(id);
    if (value < 0n) throw invalidArgument(`${what}[${i}] is negative`);
    out[i] = value;
  }
  return out;
}

function isIds(value: unknown): boolean {
  return value instanceof BigInt64Array || Array.isArray(value);
}

/**
 * Ranges of the index parameters: the addon's (native/search/index_spec.cc, ParseIndexSpec; pqBits
 * is capped at 12 there after parsing). TS asks for pqM ≥ 1 where the addon reads 0 as "default".
 */
const INDEX_RANGES = {
  M: [4, 256],
  efConstruction: [8, 4096],
  efSearch: [1, 65536],
  nlist: [0, 2 ** 20],
  nprobe: [0, 2 ** 20],
  trainPerList: [39, 65536],
  pqM: [1, 65536],
  pqBits: [1, 12],
  refineFactor: [0, 1024],
} as const satisfies Partial<Record<keyof IndexOptions, IntegerRange>>;
/** Per-search efSearch / nprobe: the addon's bound (native/vector_index.cc, OptionalPositiveInt). */
const SEARCH_PARAMETER: IntegerRange = [1, 1e6];
/** k is read as a uint32 (native/vector_index.cc). */
const K: IntegerRange = [1, 2 ** 32 - 1];

const NO_SEARCH_OPTIONS: NativeSearchArguments = [undefined, undefined, undefined, undefined];

function nativeSearchArguments(options: SearchOptions | undefined): NativeSearchArguments {
  if (options === undefined) return NO_SEARCH_OPTIONS;
  if (options === null || typeof options !== 'object') throw invalidArgument('search options must be an object');
  checkInteger(options.efSearch, 'efSearch', SEARCH_PARAMETER);
  checkInteger(options.nprobe, 'nprobe', SEARCH_PARAMETER);
  const filter = options.filter as { allow?: Ids; deny?: Ids } | undefined;
  let allow: BigInt64Array | undefined;
  let deny: BigInt64Array | undefined;
  if (filter !== undefined) {
    if (filter === null || typeof filter !== 'object') throw invalidArgument('filter must be { allow } or { deny }');
    if ((filter.allow === undefined) === (filter.deny === undefined))
      throw invalidArgument('filter takes exactly one of allow or deny');
    if (filter.allow !== undefined) allow = toIdArray(filter.allow, 'filter.allow');
    else deny = toIdArray(filter.deny as Ids, 'filter.deny');
  }
  return [options.efSearch, options.nprobe, allow, deny];
}

/**
 * A FAISS index with 64-bit ids. Create one with {@link createIndex} or {@link loadIndex}.
 *
 * Every method that touches the index runs on a worker thread: any number of searches run in
 * parallel; add/remove/train/rebuild take the index exclusively (a readers-writer lock), so a
 * search sees the index before or after a whole add, never half of one.
 */
export class VectorIndex {
  #index: NativeVectorIndex | undefined;
  readonly dim: number;
  readonly metric: Metric;
  readonly type: IndexType;

  /** @internal */
  constructor(index: NativeVectorIndex, dim: number, metric: Metric, type: IndexType) {
    this.#index = index;
    this.dim = dim;
    this.metric = metric;
    this.type = type;
  }

  #live(): NativeVectorIndex {
    if (!this.#index) throw new CrossmodalError('ERR_DISPOSED', 'the index has been disposed');
    return this.#index;
  }

  /** Number of vectors in the index (never blocks, even during an add). @throws {CrossmodalError} `ERR_DISPOSED` */
  get size(): number {
    return this.#live().size();
  }

  /**
   * Trains an IVF index on a sample (no-op for flat and HNSW). Optional: the first `add` trains
   * on its own vectors when it brings enough of them.
   * @param sample - representative vectors, ideally ≥ 39 × nlist of them
   * @throws {CrossmodalError} `ERR_INDEX` (too few vectors, or the index already holds vectors)
   */
  async train(sample: VectorsInput): Promise<void> {
    const data = vectorsOf(sample, this.dim, 'sample');
    await callNative(() => this.#live().train(data));
  }

  /**
   * Adds vectors. Without `ids`, ids continue from the largest id so far + 1 (0, 1, 2, … for a new
   * index). Also accepts `(ids, vectors)`.
   * @param vectors - embeddings, or a Float32Array of whole rows
   * @param ids - one non-negative id per vector (bigint or safe integer)
   * @returns the index size afterwards
   * @throws {CrossmodalError} `ERR_DIMENSION_MISMATCH`, `ERR_INVALID_ARGUMENT` (NaN values, bad ids),
   *   `ERR_INDEX` (an id already present — nothing is added; untrained IVF with too few vectors), `ERR_DISPOSED`
   * @example
   * await index.add(await model.embedImages(paths), [101n, 102n]);
   */
  async add(vectors: VectorsInput | Ids, ids?: Ids | VectorsInput): Promise<number> {
    return this.#add(vectors, ids, false);
  }

  /**
   * Adds vectors, replacing those whose id is already present.
   * @param vectors - embeddings, or a Float32Array of whole rows (also accepts `(ids, vectors)`)
   * @param ids - one id per vector
   * @returns the index size afterwards
   * @throws {CrossmodalError} as {@link VectorIndex.add}
   */
  async upsert(vectors: VectorsInput | Ids, ids: Ids | VectorsInput): Promise<number> {
    if (ids === undefined) throw invalidArgument('upsert needs ids');
    return this.#add(vectors, ids, true);
  }

  async #add(first: unknown, second: unknown, upsert: boolean): Promise<number> {
    let vectors = first,
      ids = second;
    if (isIds(first) && second !== undefined && !isIds(second)) [vectors, ids] = [second, first];
    const data = vectorsOf(vectors as VectorsInput, this.dim, 'vectors');
    const idArray = ids === undefined ? undefined : toIdArray(ids as Ids);
    if (idArray && idArray.length * this.dim !== data.length) {
      throw invalidArgument(`ids has ${idArray.length} entries for ${data.length / this.dim} vectors`);
    }
    return callNative(() => this.#live().add(data, idArray, upsert));
  }

  /**
   * Removes vectors by id; absent ids are ignored.
   * @param ids - ids to remove
   * @returns how many were removed
   * @throws {CrossmodalError} `ERR_INVALID_ARGUMENT`, `ERR_INDEX` (mmapped index), `ERR_DISPOSED`
   */
  async remove(ids: Ids): Promise<number> {
    const idArray = toIdArray(ids);
    return callNative(() => this.#live().remove(idArray));
  }

  /**
   * Whether ids are present.
   * @param ids - one id, or several
   * @returns a boolean, or one per id
   * @throws {CrossmodalError} `ERR_INVALID_ARGUMENT`, `ERR_DISPOSED`
   */
  async has(ids: number | bigint): Promise<boolean>;
  async has(ids: Ids): Promise<boolean[]>;
  async has(ids: number | bigint | Ids): Promise<boolean | boolean[]> {
    const single = typeof ids === 'number' || typeof ids === 'bigint';
    const idArray = toIdArray(single ? [ids as number | bigint] : (ids as Ids));
    const found = new Uint8Array(await callNative(() => this.#live().has(idArray)));
    const out = Array.from(found, (b) => b === 1);
    return single ? (out[0] as boolean) : out;
  }

  /**
   * The stored vector of an id (normalised for `cosine`), or null when absent.
   * @param id - the id
   * @throws {CrossmodalError} `ERR_INDEX` for IVF-PQ without refinement (codes only), `ERR_DISPOSED`
   */
  async reconstruct(id: number | bigint): Promise<Float32Array | null> {
    const [value] = toIdArray([id], 'id');
    const buffer = await callNative(() => this.#live().reconstruct(value as bigint));
    return buffer === null ? null : new Float32Array(buffer);
  }

  /**
   * The `k` nearest vectors of each query.
   * @param queries - one or more query vectors
   * @param k - hits per query (≥ 1); clamped to the index's size before anything is allocated, so
   *   `results.k` is `min(k, size)`
   * @param options - `filter` (`{ allow }` / `{ deny }` ids), `efSearch` (HNSW), `nprobe` (IVF)
   * @throws {CrossmodalError} `ERR_DIMENSION_MISMATCH`, `ERR_INVALID_ARGUMENT`, `ERR_DISPOSED`
   * @example
   * const results = await index.search(await model.embedTexts(['a red car']), 5, { filter: { deny: [3n] } });
   * for (const { id, score } of results.get(0)) console.log(id, score);
   */
  async search(queries: VectorsInput, k: number, options?: SearchOptions): Promise<SearchResults> {
    const data = vectorsOf(queries, this.dim, 'queries');
    if (k === undefined) throw invalidArgument('k must be a positive integer');
    checkInteger(k, 'k', K);
    const args = nativeSearchArguments(options);
    // Awaited here rather than through callNative: one promise and one closure less per call.
    let buffer: ArrayBuffer;
    try {
      buffer = await this.#live().search(data, k, ...args);
    } catch (error) {
      throw fromNative(error);
    }
    const queryCount = data.length / this.dim;
    // The addon clamps k to the index's size before allocating (native/search/ann_index.h), so
    // the block holds queries × min(k, size) hits; the columns are read back from its length.
    const columns = queryCount > 0 ? buffer.byteLength / 12 / queryCount : 0;
    if (!Number.isInteger(columns) || columns > k)
      throw new CrossmodalError(
        'ERR_INTERNAL',
        `search returned ${buffer.byteLength} bytes for ${queryCount} × ${k} hits`,
      );
    const hits = queryCount * columns;
    // Views over the one native block (ids, then scores): nothing is copied.
    return new SearchResults(
      new BigInt64Array(buffer, 0, hits),
      new Float32Array(buffer, hits * 8, hits),
      queryCount,
      columns,
    );
  }

  /**
   * All vectors scoring at least `threshold` (cosine / ip) or within squared distance `threshold` (l2).
   * Exact for flat, HNSW (over its stored vectors) and refined IVF-PQ; IVF visits `nprobe` lists.
   * @param queries - one or more query vectors
   * @param threshold - score bound
   * @param options - `filter`, `nprobe`
   * @throws {CrossmodalError} `ERR_DIMENSION_MISMATCH`, `ERR_INVALID_ARGUMENT`, `ERR_DISPOSED`
   */
  async rangeSearch(queries: VectorsInput, threshold: number, options?: SearchOptions): Promise<RangeResults> {
    const data = vectorsOf(queries, this.dim, 'queries');
    if (typeof threshold !== 'number' || !Number.isFinite(threshold))
      throw invalidArgument('threshold must be a finite number');
    const args = nativeSearchArguments(options);
    const r = await callNative(() => this.#live().rangeSearch(data, threshold, ...args));
    return new RangeResults(
      new BigUint64Array(r.offsets),
      new BigInt64Array(r.ids),
      new Float32Array(r.scores),
      r.queries,
    );
  }

  /**
   * Writes the index atomically (temp file, fsync, rename, fsync of the directory). The header
   * records format version, dim, metric, type, count, the model fingerprint and checksums.
   * @param file - destination path
   * @param options - `fingerprint` of the model the vectors came from (≤ 128 characters)
   * @throws {CrossmodalError} `ERR_IO`, `ERR_INDEX` (untrained IVF), `ERR_DISPOSED`
   */
  async save(file: string, options?: { fingerprint?: string }): Promise<void> {
    checkPath(file, 'path');
    options = checkOptions(options);
    const fingerprint = options.fingerprint ?? '';
    if (typeof fingerprint !== 'string' || fingerprint.length > 128)
      throw invalidArgument('fingerprint must be a string of at most 128 characters');
    await callNative(() => this.#live().save(path.resolve(file), fingerprint));
  }

  /**
   * Rebuilds the FAISS structure from the live vectors: drops tombstones and re-trains IVF (nlist
   * is chosen again unless it was given). Needs the exact vectors (not IVF-PQ without refinement).
   * @returns the index size
   * @throws {CrossmodalError} `ERR_INDEX`, `ERR_DISPOSED`
   */
  async rebuild(): Promise<number> {
    return callNative(() => this.#live().rebuild());
  }

  /** Type, parameters, counters and where searches run. @throws {CrossmodalError} `ERR_DISPOSED` */
  async info(): Promise<IndexInfo> {
    const raw: NativeIndexInfo = await callNative(() => this.#live().info());
    const spec = JSON.parse(raw.spec) as Record<string, unknown>;
    const { type, metric, dim, ...params } = spec;
    return {
      type: type as IndexType,
      metric: metric as Metric,
      dim: dim as number,
      size: raw.size,
      slots: raw.slots,
      tombstones: raw.tombstones,
      trained: raw.trained,
      mmapped: raw.mmapped,
      canReconstruct: raw.canReconstruct,
      fingerprint: raw.fingerprint,
      description: raw.description,
      params,
      gpu: { ...raw.gpu },
    };
  }

  /** Frees the index once pending operations finish. Idempotent; later calls throw or reject with `ERR_DISPOSED`. */
  dispose(): void {
    this.#index?.dispose();
    this.#index = undefined;
  }
}

const TYPES: readonly IndexType[] = ['flat', 'hnsw', 'ivf-flat', 'ivf-pq', 'factory'];
const METRICS: readonly Metric[] = ['cosine', 'ip', 'l2'];
const DEVICES: readonly IndexDevice[] = ['cpu', 'gpu', 'auto'];

function checkDevice(options: { device?: unknown; deviceId?: unknown }): void {
  if (options.device !== undefined && !DEVICES.includes(options.device as IndexDevice)) {
    throw invalidArgument(`device must be one of ${DEVICES.join(', ')}`);
  }
  const id = options.deviceId;
  if (id !== undefined && (!Number.isInteger(id) || (id as number) < 0 || (id as number) > 1023)) {
    throw invalidArgument('deviceId must be an integer between 0 and 1023');
  }
}

/**
 * Creates an empty index.
 * @param options - `dim`, `metric`, `type`, the type's parameters and `device` (see {@link IndexOptions})
 * @throws {CrossmodalError} `ERR_INVALID_ARGUMENT`, `ERR_GPU_UNAVAILABLE` (`device: 'gpu'` without
 *   GPU support in this build, or without that CUDA device)
 * @example
 * const exact = createIndex({ dim: 512 });
 * const hnsw = createIndex({ dim: 512, type: 'hnsw', M: 32, efSearch: 128 });
 * const ivf = createIndex({ dim: 512, type: 'ivf-pq', nlist: 4096, pqM: 64, refineFactor: 0 });
 */
export function createIndex(options: IndexOptions): VectorIndex {
  return guarded(() => newIndex(options));
}

function newIndex(options: IndexOptions): VectorIndex {
  if (options === null || typeof options !== 'object' || Array.isArray(options))
    throw invalidArgument('options must be an object');
  const { dim, metric = 'cosine', type = 'flat' } = options;
  if (!Number.isInteger(dim) || dim < 1 || dim > 65536)
    throw invalidArgument('dim must be an integer between 1 and 65536');
  if (!METRICS.includes(metric)) throw invalidArgument("metric must be 'cosine', 'ip' or 'l2'");
  if (!TYPES.includes(type)) throw invalidArgument(`type must be one of ${TYPES.join(', ')}`);
  for (const [key, range] of Object.entries(INDEX_RANGES))
    checkInteger(options[key as keyof typeof INDEX_RANGES], key, range);
  if (type === 'factory' && (typeof options.factory !== 'string' || options.factory === '')) {
    throw invalidArgument("type 'factory' needs a FAISS index_factory string in `factory`");
  }
  if (options.factory !== undefined && typeof options.factory !== 'string')
    throw invalidArgument('factory must be a string');
  checkDevice(options);
  const spec = toJson({ ...options, dim, metric, type }, 'index options');
  let index: NativeVectorIndex;
  try {
    index = new (native().VectorIndex)(spec);
  } catch (error) {
    throw fromNative(error);
  }
  return new VectorIndex(index, dim, metric, type);
}

/**
 * Loads an index saved with {@link VectorIndex.save}, verifying its header and checksum first. A
 * refused file leaves nothing behind.
 * @param file - the index file
 * @param options - `mmap`, `device`, and expectations (`fingerprint`, `dim`, `metric`, `type`) that must match the header
 * @throws {CrossmodalError} `ERR_IO` (missing/unreadable), `ERR_INDEX_CORRUPT` (truncated, damaged,
 *   unknown version), `ERR_INDEX_MISMATCH` (an expectation does not match), `ERR_GPU_UNAVAILABLE`
 * @example
 * const index = await loadIndex('photos.index', { fingerprint: model.fingerprint });
 */
export async function loadIndex(file: string, options?: LoadIndexOptions): Promise<VectorIndex> {
  return guarded(() => openIndex(file, options));
}

async function openIndex(file: string, options: LoadIndexOptions | undefined): Promise<VectorIndex> {
  checkPath(file, 'path');
  options = checkOptions(options);
  checkBoolean(options.mmap, 'options.mmap');
  if (
    options.fingerprint !== undefined &&
    (typeof options.fingerprint !== 'string' || options.fingerprint.length > 128)
  )
    throw invalidArgument('options.fingerprint must be a string of at most 128 characters');
  checkInteger(options.dim, 'dim', [1, 65536]);
  if (options.metric !== undefined && !METRICS.includes(options.metric))
    throw invalidArgument("metric must be 'cosine', 'ip' or 'l2'");
  if (options.type !== undefined && !TYPES.includes(options.type))
    throw invalidArgument(`type must be one of ${TYPES.join(', ')}`);
  checkDevice(options);
  const raw = await callNative(() => native().VectorIndex.load(path.resolve(file), { ...options }));
  const info = await callNative(() => raw.info());
  const spec = JSON.parse(info.spec) as { dim: number; metric: Metric; type: IndexType };
  return new VectorIndex(raw, spec.dim, spec.metric, spec.type);
}

/** What {@link recommendIndex} suggests. */
export interface IndexRecommendation {
  type: IndexType;
  params: Partial<IndexOptions>;
  reason: string;
}

/**
 * The index type to use for `n` vectors of size `dim`, and why: exact below ~100k vectors (fast
 * enough, perfect recall, no tuning), HNSW up to a few million in-memory vectors (sub-millisecond
 * queries at recall ≥ 0.95), IVF-PQ beyond (compressed, trainable, mmappable).
 * @param n - expected number of vectors
 * @param dim - vector size
 * @example
 * const { type, params } = recommendIndex(2_000_000, 512);
 * const index = createIndex({ dim: 512, type, ...params });
 */
export function recommendIndex(n: number, dim: number): IndexRecommendation {
  return guarded(() => recommend(n, dim));
}

function recommend(n: number, dim: number): IndexRecommendation {
  if (!Number.isSafeInteger(n) || n < 0) throw invalidArgument('n must be a non-negative integer');
  if (!Number.isInteger(dim) || dim < 1) throw invalidArgument('dim must be a positive integer');
  const raw = JSON.parse(native().VectorIndex.recommend(n, dim)) as IndexRecommendation;
  return { type: raw.type, params: raw.params, reason: raw.reason };
}

// Every method and getter throws or rejects with CrossmodalErrors only.
guardClass(SearchResults);
guardClass(RangeResults);
guardClass(VectorIndex);
