/**
 * crossmodal: image-text matching and cross-modal retrieval for Node.js.
 *
 * CLIP-family dual encoders run in a native addon (ONNX Runtime, with TensorRT/CUDA/CPU execution
 * providers); embeddings are searched with FAISS. Every heavy operation runs off the event loop
 * and results are handed over as typed arrays over native memory, without copying.
 *
 * @example
 * ```ts
 * import { load, createIndex } from 'crossmodal';
 * const model = await load('./models/clip-vit-b-32');
 * const images = await model.embedImages(['cat.jpg', 'dog.png']);
 * const index = createIndex({ dim: model.dim });
 * await index.add(images);
 * const hits = await index.search(await model.embedTexts(['a photo of a cat']), 1);
 * console.log(hits.get(0)); // [{ id: 0n, score: 0.31 }]
 * ```
 * @packageDocumentation
 */
import * as path from 'node:path';
import {
  native,
  nativePath,
  packageRoot,
  resolveOrtLibrary,
  type NativeEmbeddings,
  type NativeEncoderSession,
  type NativeImageInput,
  type NativeModelInfo,
  type NativeRuntimeInfo,
} from './binding';
import { callNative, CrossmodalError, fromNative, invalidArgument } from './errors';

export { CrossmodalError } from './errors';
export type { ErrorCode } from './errors';
export * from './search';
export * from './collection';

/** Decoded pixels, interleaved row by row. `channels`: 1 (gray), 3 (RGB) or 4 (RGBA; alpha is dropped). */
export interface RawImage {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  channels: 1 | 3 | 4;
}

/** An image to embed: a file path, encoded bytes (JPEG, PNG, WebP, GIF), or decoded pixels. */
export type ImageInput = string | Uint8Array | RawImage;

/** Which ONNX Runtime execution provider to run on. `auto` tries TensorRT, then CUDA, then CPU. */
export type Device = 'auto' | 'cpu' | 'cuda' | 'tensorrt';

export interface LoadOptions {
  /** Execution provider; default `auto`. An explicit GPU device that is unavailable fails to load. */
  device?: Device;
  /** GPU ordinal for CUDA/TensorRT. Default 0. */
  deviceId?: number;
  /** Threads per ONNX Runtime inference; default: ONNX Runtime's choice (one per physical core). */
  intraOpThreads?: number;
  /** Largest image (width × height) accepted before decoding; default 100,000,000. */
  maxPixels?: number;
  /**
   * ONNX Runtime shared library to use. Default: `CROSSMODAL_ORT_LIBRARY`, else the library shipped
   * by the `onnxruntime-node` package. One library per process: the first load wins.
   */
  ortLibrary?: string;
}

export interface ProviderReport {
  /** The execution provider the tower really runs on, e.g. `CPUExecutionProvider`. */
  provider: string;
  /** Why each better provider was skipped (only with `device: 'auto'`). */
  skipped: string[];
}

export interface ModelInfo {
  /** Absolute path of the bundle. */
  root: string;
  /** `model_type` from config.json, e.g. `clip`. */
  modelType: string;
  /** Embedding size shared by both towers. */
  dim: number;
  /** Tokens per text including start and end tokens (77 for CLIP). */
  contextLength: number;
  imageHeight: number;
  imageWidth: number;
  /** exp(logit_scale) of the model: multiplies cosine similarities into logits. */
  logitScale: number;
  visionProvider: ProviderReport;
  textProvider: ProviderReport;
}

export interface EmbedOptions {
  /** Scale each embedding to unit L2 norm (default true), so dot products are cosines. */
  normalize?: boolean;
}

/**
 * A row-major matrix of embeddings whose `data` is a view over native memory (no copy was made).
 * The memory is freed when the Embeddings object is garbage-collected.
 */
export class Embeddings {
  /** `count × dim` values; row `i` starts at `i * dim`. */
  readonly data: Float32Array;
  readonly count: number;
  readonly dim: number;

  constructor(data: Float32Array, count: number, dim: number) {
    if (data.length !== count * dim) throw invalidArgument(`embeddings: ${data.length} values for ${count} × ${dim}`);
    this.data = data;
    this.count = count;
    this.dim = dim;
  }

  /** @internal */
  static fromNative(result: NativeEmbeddings): Embeddings {
    return new Embeddings(new Float32Array(result.buffer), result.count, result.dim);
  }

  /**
   * A view (not a copy) of one embedding.
   * @param index - row number, `0 <= index < count`
   * @throws {CrossmodalError} `ERR_INVALID_ARGUMENT` when the index is out of range
   */
  row(index: number): Float32Array {
    if (!Number.isInteger(index) || index < 0 || index >= this.count) {
      throw invalidArgument(`row index ${index} is out of range 0..${this.count - 1}`);
    }
    return this.data.subarray(index * this.dim, (index + 1) * this.dim);
  }
}

/** Token ids as the text tower receives them. */
export interface TokenizedTexts {
  /** `count × contextLength` ids, each row `[start, ...tokens, end, pad...]`. */
  ids: Int32Array;
  /** Number of real tokens per text (start and end tokens included). */
  lengths: Int32Array;
  contextLength: number;
  count: number;
}

export interface ScoreOptions {
  /** Multiply cosines by the model's logit scale (default false: plain cosine similarity). */
  scale?: boolean;
  /** Softmax each image's row over the texts (implies `scale`), as in CLIP zero-shot classification. */
  softmax?: boolean;
}

/** Similarities between `rows` images and `cols` texts, row-major. */
export interface SimilarityMatrix {
  data: Float32Array;
  rows: number;
  cols: number;
  /** Score of image `row` against text `col`. */
  get(row: number, col: number): number;
}

function checkImages(images: unknown): asserts images is ImageInput[] {
  if (!Array.isArray(images)) throw invalidArgument('images must be an array');
  images.forEach((image, i) => {
    if (typeof image === 'string' || image instanceof Uint8Array) return;
    const raw = image as Partial<RawImage> | null;
    if (raw && typeof raw === 'object' && (raw.data instanceof Uint8Array || raw.data instanceof Uint8ClampedArray)) {
      const { width, height, channels } = raw;
      if (!Number.isInteger(width) || !Number.isInteger(height) || (width as number) <= 0 || (height as number) <= 0) {
        throw invalidArgument(`images[${i}]: width and height must be positive integers`);
      }
      if (channels !== 1 && channels !== 3 && channels !== 4) {
        throw invalidArgument(`images[${i}]: channels must be 1, 3 or 4`);
      }
      if (raw.data.length !== (width as number) * (height as number) * channels) {
        throw invalidArgument(`images[${i}]: data has ${raw.data.length} bytes, expected width × height × channels`);
      }
      return;
    }
    throw invalidArgument(`images[${i}] must be a file path, a Buffer/Uint8Array, or { data, width, height, channels }`);
  });
}

function checkTexts(texts: unknown): asserts texts is string[] {
  if (!Array.isArray(texts)) throw invalidArgument('texts must be an array of strings');
  texts.forEach((text, i) => {
    if (typeof text !== 'string') throw invalidArgument(`texts[${i}] must be a string`);
  });
}

function toNativeImage(image: ImageInput): NativeImageInput {
  if (typeof image === 'string') return path.resolve(image);
  if (image instanceof Uint8Array) return image;
  const data = image.data instanceof Uint8Array ? image.data : new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  return { data, width: image.width, height: image.height, channels: image.channels };
}

/** A loaded model bundle. Create it with {@link load}; release it with {@link Model.dispose}. */
export class Model {
  #session: NativeEncoderSession | undefined;
  /** Static facts about the bundle and where its towers run. */
  readonly info: ModelInfo;

  /** @internal */
  constructor(session: NativeEncoderSession) {
    this.#session = session;
    this.info = session.info();
  }

  /** Embedding size. */
  get dim(): number {
    return this.info.dim;
  }

  #live(): NativeEncoderSession {
    if (!this.#session) throw new CrossmodalError('ERR_DISPOSED', 'the model has been disposed');
    return this.#session;
  }

  /**
   * Embeds texts with the text tower.
   * @param texts - any strings; longer texts are truncated to the model's context length
   * @param options - `normalize` (default true)
   * @returns one embedding per text, in order
   * @throws {CrossmodalError} `ERR_INVALID_ARGUMENT`, `ERR_DISPOSED`, `ERR_RUNTIME`
   * @example
   * const e = await model.embedTexts(['a dog', 'a cat']);
   * e.row(1); // Float32Array(dim)
   */
  async embedTexts(texts: string[], options: EmbedOptions = {}): Promise<Embeddings> {
    checkTexts(texts);
    const result = await callNative(() => this.#live().embedTexts(texts, options.normalize ?? true));
    return Embeddings.fromNative(result);
  }

  /**
   * Embeds images with the image tower, after decoding and preprocessing them natively the way
   * the bundle's `preprocessor_config.json` prescribes.
   * @param images - file paths, encoded bytes, or decoded pixels
   * @param options - `normalize` (default true)
   * @returns one embedding per image, in order
   * @throws {CrossmodalError} `ERR_INVALID_ARGUMENT`, `ERR_IO`, `ERR_IMAGE_FORMAT`, `ERR_IMAGE_DECODE`,
   *   `ERR_IMAGE_TOO_LARGE` (the message names the failing input; the call fails as a whole), `ERR_DISPOSED`
   * @example
   * const e = await model.embedImages(['a.jpg', await fs.readFile('b.png')]);
   */
  async embedImages(images: ImageInput[], options: EmbedOptions = {}): Promise<Embeddings> {
    checkImages(images);
    const inputs = images.map(toNativeImage);
    const result = await callNative(() => this.#live().embedImages(inputs, options.normalize ?? true));
    return Embeddings.fromNative(result);
  }

  /**
   * Token ids exactly as the text tower receives them.
   * @throws {CrossmodalError} `ERR_INVALID_ARGUMENT`, `ERR_DISPOSED`
   */
  async tokenize(texts: string[]): Promise<TokenizedTexts> {
    checkTexts(texts);
    const result = await callNative(() => this.#live().tokenize(texts));
    return {
      ids: new Int32Array(result.ids),
      lengths: new Int32Array(result.lengths),
      contextLength: result.contextLength,
      count: result.count,
    };
  }

  /**
   * Similarity of every image to every text (cosine by default).
   * @param images - images to embed, or embeddings from {@link Model.embedImages}
   * @param texts - texts to embed, or embeddings from {@link Model.embedTexts}
   * @param options - `scale` by the model's logit scale; `softmax` over texts (zero-shot probabilities)
   * @returns an images × texts matrix
   * @throws {CrossmodalError} as {@link Model.embedImages} and {@link Model.embedTexts}
   * @example
   * const m = await model.score(['cat.jpg'], ['a cat', 'a dog'], { softmax: true });
   * m.get(0, 0); // probability of "a cat"
   */
  async score(images: ImageInput[] | Embeddings, texts: string[] | Embeddings, options: ScoreOptions = {}): Promise<SimilarityMatrix> {
    const [a, b] = await Promise.all([
      images instanceof Embeddings ? images : this.embedImages(images),
      texts instanceof Embeddings ? texts : this.embedTexts(texts),
    ]);
    const softmax = options.softmax ?? false;
    const scale = softmax || options.scale ? this.info.logitScale : 1;
    return similarity(a, b, { scale, softmax });
  }

  /** Releases the model. Idempotent; calls made afterwards reject with `ERR_DISPOSED`. Calls already running finish. */
  dispose(): void {
    this.#session?.dispose();
    this.#session = undefined;
  }
}

/**
 * Dot products between every row of `a` and every row of `b`, computed natively off the event loop.
 * With normalised embeddings these are cosine similarities.
 * @throws {CrossmodalError} `ERR_DIMENSION_MISMATCH` when the widths differ
 */
export async function similarity(a: Embeddings, b: Embeddings, options: { scale?: number; softmax?: boolean } = {}): Promise<SimilarityMatrix> {
  if (!(a instanceof Embeddings) || !(b instanceof Embeddings)) throw invalidArgument('similarity expects two Embeddings');
  if (a.dim !== b.dim) throw new CrossmodalError('ERR_DIMENSION_MISMATCH', `embedding sizes differ: ${a.dim} vs ${b.dim}`);
  const buffer = await callNative(() =>
    native().similarity(a.data, b.data, a.dim, { scale: options.scale ?? 1, softmax: options.softmax ?? false }),
  );
  const data = new Float32Array(buffer);
  const rows = a.count;
  const cols = b.count;
  return {
    data,
    rows,
    cols,
    get(row: number, col: number): number {
      if (row < 0 || row >= rows || col < 0 || col >= cols) throw invalidArgument(`(${row}, ${col}) is outside ${rows} × ${cols}`);
      return data[row * cols + col] as number;
    },
  };
}

/** Information about the loaded ONNX Runtime library. */
export type RuntimeInfo = NativeRuntimeInfo;

/**
 * Loads ONNX Runtime (once per process) and reports its version, path and built-in providers.
 * {@link load} does this implicitly.
 * @param options - `ortLibrary`: path of the shared library (see {@link LoadOptions.ortLibrary})
 * @throws {CrossmodalError} `ERR_RUNTIME_UNAVAILABLE`
 */
export async function loadRuntime(options: { ortLibrary?: string } = {}): Promise<RuntimeInfo> {
  const library = resolveOrtLibrary(options.ortLibrary);
  return callNative(() => native().loadRuntime(library));
}

/**
 * Loads a model bundle (Hugging Face / Transformers.js layout: `config.json`,
 * `preprocessor_config.json`, `vocab.json` + `merges.txt`, `onnx/vision_model.onnx`,
 * `onnx/text_model.onnx`).
 * @param dir - the bundle directory
 * @param options - device, threads and limits
 * @returns the loaded model
 * @throws {CrossmodalError} `ERR_MODEL_LOAD` (missing or invalid files), `ERR_RUNTIME_UNAVAILABLE`
 *   (ONNX Runtime or the requested device unavailable), `ERR_INVALID_ARGUMENT`
 * @example
 * const model = await load('models/clip', { device: 'cpu' });
 * console.log(model.info.visionProvider.provider);
 */
export async function load(dir: string, options: LoadOptions = {}): Promise<Model> {
  if (typeof dir !== 'string' || dir.length === 0) throw invalidArgument('dir must be a non-empty string');
  if (options === null || typeof options !== 'object') throw invalidArgument('options must be an object');
  const devices: Device[] = ['auto', 'cpu', 'cuda', 'tensorrt'];
  if (options.device !== undefined && !devices.includes(options.device)) {
    throw invalidArgument(`options.device must be one of ${devices.join(', ')}`);
  }
  for (const key of ['deviceId', 'intraOpThreads'] as const) {
    const value = options[key];
    if (value !== undefined && (!Number.isInteger(value) || value < 0)) throw invalidArgument(`options.${key} must be a non-negative integer`);
  }
  if (options.maxPixels !== undefined && !(Number.isFinite(options.maxPixels) && options.maxPixels >= 1)) {
    throw invalidArgument('options.maxPixels must be a positive number');
  }
  const ortLibrary = resolveOrtLibrary(options.ortLibrary);
  const session = await callNative(() =>
    native().EncoderSession.load(path.resolve(dir), {
      ortLibrary,
      device: options.device,
      deviceId: options.deviceId,
      intraOpThreads: options.intraOpThreads,
      maxPixels: options.maxPixels,
    }),
  );
  return new Model(session);
}

/** Directory of the small demo bundle that ships with the repository (random weights). */
export const demoModelDir = path.join(packageRoot, 'test', 'fixtures', 'tiny-clip');

/**
 * Loads the native addon now rather than on first use.
 * @returns the file that was loaded and the N-API version it was built for
 * @throws {CrossmodalError} `ERR_NATIVE_BINDING` naming the platform and what to install
 */
export function nativeInfo(): { napiVersion: number; path: string } {
  const addon = native();
  return { napiVersion: addon.napiVersion, path: nativePath() };
}
