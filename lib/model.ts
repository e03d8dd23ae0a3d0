// Models: loading a bundle, embedding images and texts, similarity, zero-shot classification.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { looksLikeRepoId } from './hub/cache';
import { resolveModel } from './hub/pull';
import {
  native,
  packageRoot,
  resolveOrtLibrary,
  type NativeCallHandle,
  type NativeEmbeddings,
  type NativeEncoderSession,
} from './binding';
import {
  checkBoolean,
  checkInteger,
  checkNumber,
  checkOneOf,
  checkOptionalPath,
  checkOptions,
  checkPath,
  guardClass,
  guarded,
  type IntegerRange,
} from './checks';
import { callNative, CrossmodalError, invalidArgument } from './errors';
import {
  checkImageOptions,
  checkImages,
  checkOnError,
  fromNativePreprocess,
  nativeImageOptions,
  toNativeImage,
  type ImageInput,
  type PreprocessedImages,
  type PreprocessOptions,
} from './preprocess';
import {
  checkTexts,
  decodeIds,
  tokensFromNative,
  type DecodeOptions,
  type TokenIds,
  type TokenizedTexts,
} from './tokenizer';
import type { Device, ImageOptions, LoadOptions, ModelInfo, ModelStats, TokenizerInfo } from './types';

export interface EmbedOptions {
  /** Scale each embedding to unit L2 norm (default true), so dot products are cosines. */
  normalize?: boolean;
  /** Abort the call: it rejects with `ERR_ABORTED` and its rows are dropped if not yet batched. */
  signal?: AbortSignal;
  /** Reject with `ERR_DEADLINE_EXCEEDED` if the call has not completed within this many ms. */
  timeoutMs?: number;
}

/** Options of {@link Model.embedImages}: the call options plus per-call {@link ImageOptions} (default: the load options). */
export interface ImageEmbedOptions extends EmbedOptions, ImageOptions {}

export interface ClassifyOptions {
  /**
   * Prompt templates with `{}` standing for the label (default `['a photo of a {}.']`). With several,
   * each label's text embedding is the normalised mean of its templates' embeddings (CLIP's
   * prompt ensembling).
   */
  templates?: string[];
  /** Labels returned per image, best first (default: all). */
  topK?: number;
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** One zero-shot prediction. */
export interface LabelScore {
  label: string;
  /** Softmax probability over the labels. */
  probability: number;
  /** Cosine similarity between the image and the label's (ensembled) text embedding. */
  similarity: number;
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
    if (!(data instanceof Float32Array)) throw invalidArgument('embeddings: data must be a Float32Array');
    if (!Number.isSafeInteger(count) || count < 0 || !Number.isSafeInteger(dim) || dim < 1)
      throw invalidArgument('embeddings: count must be a non-negative integer and dim a positive one');
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

/** A loaded model bundle. Create it with {@link load}; release it with {@link Model.dispose}. */
export class Model {
  #session: NativeEncoderSession | undefined;
  /** Static facts about the bundle and where its towers run. */
  readonly info: ModelInfo;
  /**
   * Resolves once the warm-up run (one image, one text) has finished, so the first real request
   * does not pay for ONNX Runtime's lazy initialisation. Calls made earlier simply queue.
   */
  readonly ready: Promise<void>;

  /** @internal */
  constructor(session: NativeEncoderSession, warmup: boolean) {
    this.#session = session;
    this.info = session.info();
    if (warmup) {
      const pixels = new Uint8Array(this.info.imageHeight * this.info.imageWidth * 3);
      this.ready = Promise.all([
        this.embedTexts(['warm-up']),
        this.embedImages([{ data: pixels, width: this.info.imageWidth, height: this.info.imageHeight, channels: 3 }]),
      ]).then(() => undefined);
      // Observed or not, a failed warm-up must not surface as an unhandled rejection; later calls
      // report the same failure.
      this.ready.catch(() => undefined);
    } else {
      this.ready = Promise.resolve();
    }
  }

  /** Embedding size. */
  get dim(): number {
    return this.info.dim;
  }

  /** See {@link ModelInfo.fingerprint}. */
  get fingerprint(): string {
    return this.info.fingerprint;
  }

  /**
   * Counters since `load` (the warm-up calls included): calls, rows per batch, queue depth and
   * per-stage timings (queue wait, decode, preprocess, tokenize, inference) as histograms, kept
   * natively with atomics so reading them is cheap enough for every metrics scrape.
   */
  stats(): ModelStats {
    return this.#live().stats();
  }

  #live(): NativeEncoderSession {
    if (!this.#session) throw new CrossmodalError('ERR_DISPOSED', 'the model has been disposed');
    return this.#session;
  }

  async #embed(
    submit: (
      session: NativeEncoderSession,
      normalize: boolean,
      timeoutMs?: number,
    ) => [Promise<NativeEmbeddings>, NativeCallHandle],
    options: EmbedOptions,
  ): Promise<Embeddings> {
    const { signal, timeoutMs } = options;
    checkBoolean(options.normalize, 'options.normalize');
    if (timeoutMs !== undefined && !(Number.isFinite(timeoutMs) && timeoutMs > 0))
      throw invalidArgument('timeoutMs must be a positive number');
    if (signal !== undefined && !(signal instanceof AbortSignal))
      throw invalidArgument('signal must be an AbortSignal');
    if (signal?.aborted)
      throw new CrossmodalError('ERR_ABORTED', 'the call was aborted before it started', { cause: signal.reason });
    const session = this.#live();
    const [pending, handle] = await callNative(() => submit(session, options.normalize ?? true, timeoutMs));
    if (handle === null || (signal === undefined && timeoutMs === undefined)) {
      return Embeddings.fromNative(await callNative(() => pending));
    }
    // The native call keeps running until its rows are dropped or finished; whichever settles
    // first wins, and the loser's rejection is swallowed.
    pending.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const interrupted = new Promise<never>((_, reject) => {
      if (signal) {
        onAbort = () => {
          session.cancel(handle, 'ERR_ABORTED');
          reject(new CrossmodalError('ERR_ABORTED', 'the call was aborted', { cause: signal.reason }));
        };
        signal.addEventListener('abort', onAbort, { once: true });
      }
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          session.cancel(handle, 'ERR_DEADLINE_EXCEEDED');
          reject(new CrossmodalError('ERR_DEADLINE_EXCEEDED', `the call did not complete within ${timeoutMs} ms`));
        }, timeoutMs);
      }
    });
    try {
      return Embeddings.fromNative(await callNative(() => Promise.race([pending, interrupted])));
    } finally {
      if (timer) clearTimeout(timer);
      if (signal && onAbort) signal.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Embeds texts with the text tower. Concurrent calls are batched together natively.
   * @param texts - any strings; longer texts are truncated to the model's context length
   * @param options - `normalize` (default true), `signal`, `timeoutMs`
   * @returns one embedding per text, in order
   * @throws {CrossmodalError} `ERR_INVALID_ARGUMENT`, `ERR_DISPOSED`, `ERR_QUEUE_FULL`, `ERR_ABORTED`,
   *   `ERR_DEADLINE_EXCEEDED`, `ERR_RUNTIME`
   * @example
   * const e = await model.embedTexts(['a dog', 'a cat']);
   * e.row(1); // Float32Array(dim)
   */
  async embedTexts(texts: string[], options?: EmbedOptions): Promise<Embeddings> {
    checkTexts(texts);
    options = checkOptions(options);
    return this.#embed((session, normalize, timeoutMs) => session.embedTexts(texts, normalize, timeoutMs), options);
  }

  /**
   * Embeds images with the image tower, after decoding and preprocessing them natively the way
   * the bundle's preprocessing config prescribes. Concurrent calls are batched together natively.
   * @param images - file paths, encoded bytes, decoded pixels or preprocessed tensors
   * @param options - `normalize` (default true), `signal`, `timeoutMs`, and per-call `exifOrientation`, `dctScaling`, `maxPixels`, `maxFileBytes`
   * @returns one embedding per image, in order
   * @throws {CrossmodalError} `ERR_INVALID_ARGUMENT`, `ERR_IO`, `ERR_IMAGE_FORMAT`, `ERR_IMAGE_DECODE`,
   *   `ERR_IMAGE_TOO_LARGE` (the message names the failing input; the call fails as a whole, other
   *   calls batched with it are unaffected), `ERR_RUNTIME` (ONNX Runtime failed on this call's rows: a
   *   failed batch is re-run call by call, so batch-mates still get their own rows), `ERR_DISPOSED`,
   *   `ERR_QUEUE_FULL`, `ERR_ABORTED`, `ERR_DEADLINE_EXCEEDED`
   * @example
   * const e = await model.embedImages(['a.jpg', await fs.readFile('b.png')]);
   */
  async embedImages(images: ImageInput[], options?: ImageEmbedOptions): Promise<Embeddings> {
    checkImages(images);
    options = checkOptions(options);
    checkImageOptions(options);
    const inputs = images.map(toNativeImage);
    const image = nativeImageOptions(options);
    const perCall = Object.values(image).some((v) => v !== undefined) ? image : undefined;
    return this.#embed(
      (session, normalize, timeoutMs) => session.embedImages(inputs, normalize, timeoutMs, perCall),
      options,
    );
  }

  /**
   * Decodes and preprocesses images exactly as {@link Model.embedImages} does, without running the
   * model: the tensor the image tower would receive (useful to check or cache preprocessing).
   * @param images - file paths, encoded bytes, decoded pixels or tensors
   * @param options - per-call `exifOrientation`, `dctScaling`, limits (default: the load options), `onError`
   * @returns an NCHW float32 tensor of `count × 3 × imageHeight × imageWidth`
   * @throws {CrossmodalError} `ERR_INVALID_ARGUMENT`, `ERR_IO`, `ERR_IMAGE_FORMAT`, `ERR_IMAGE_DECODE`,
   *   `ERR_IMAGE_TOO_LARGE` (with `onError: 'throw'`), `ERR_DISPOSED`
   * @example
   * const { data, height, width } = await model.preprocess(['cat.jpg']);
   */
  async preprocess(images: ImageInput[], options?: PreprocessOptions): Promise<PreprocessedImages> {
    checkImages(images);
    options = checkOptions(options);
    checkImageOptions(options);
    const onError = checkOnError(options.onError);
    const inputs = images.map(toNativeImage);
    const session = this.#live();
    const result = await callNative(() => session.preprocess(inputs, nativeImageOptions(options)));
    return fromNativePreprocess(result, onError);
  }

  /**
   * Token ids exactly as the text tower receives them.
   * @throws {CrossmodalError} `ERR_INVALID_ARGUMENT`, `ERR_DISPOSED`
   */
  async tokenize(texts: string[]): Promise<TokenizedTexts> {
    checkTexts(texts);
    const result = await callNative(() => this.#live().tokenize(texts));
    return tokensFromNative(result) as TokenizedTexts;
  }

  /**
   * Text of a sequence of token ids, with the model's tokenizer (see {@link Tokenizer.decode}).
   * @throws {CrossmodalError} `ERR_INVALID_ARGUMENT` for an id outside the vocabulary, `ERR_DISPOSED`
   */
  decode(ids: TokenIds, options?: DecodeOptions): string {
    return decodeIds(this.#live(), ids, checkOptions(options));
  }

  /** The model's tokenizer: family, vocabulary file, context length, special ids, padding policy. */
  get tokenizerInfo(): Omit<TokenizerInfo, 'threads'> {
    return this.#live().tokenizerInfo();
  }

  /**
   * Matching as a decision: does caption `i` describe image `i`? Each pair's cosine similarity is
   * compared with `threshold` (pick it with `crossmodal eval --calibrate` / `calibrateThreshold`
   * on labelled pairs of the same model; thresholds do not carry over between models).
   * @param images - images to embed, or their embeddings
   * @param texts - one text per image, or their embeddings
   * @param options - `threshold`: a pair matches when its cosine is ≥ it (-1..1); `signal`, `timeoutMs`
   * @returns per pair, whether it matches and its cosine
   * @throws {CrossmodalError} `ERR_INVALID_ARGUMENT` for a missing threshold or unequal counts, and the embed errors
   * @example
   * const { matches } = await model.match(['a.jpg', 'b.jpg'], ['a dog on grass', 'a red car'], { threshold: 0.27 });
   */
  async match(
    images: ImageInput[] | Embeddings,
    texts: string[] | Embeddings,
    options: { threshold: number; signal?: AbortSignal; timeoutMs?: number },
  ): Promise<{ matches: boolean[]; scores: Float32Array }> {
    if (options === null || typeof options !== 'object')
      throw invalidArgument('options must be an object with a threshold');
    const { threshold } = options;
    if (typeof threshold !== 'number' || !(threshold >= -1 && threshold <= 1)) {
      throw invalidArgument(`options.threshold must be a cosine between -1 and 1 (got ${String(threshold)})`);
    }
    const imageCount = images instanceof Embeddings ? images.count : Array.isArray(images) ? images.length : -1;
    const textCount = texts instanceof Embeddings ? texts.count : Array.isArray(texts) ? texts.length : -1;
    if (imageCount < 0 || textCount < 0) throw invalidArgument('images and texts must be arrays or Embeddings');
    if (imageCount !== textCount)
      throw invalidArgument(`match pairs image i with text i: got ${imageCount} images and ${textCount} texts`);
    const callOptions = { signal: options.signal, timeoutMs: options.timeoutMs };
    const [a, b] = await Promise.all([
      images instanceof Embeddings ? images : this.embedImages(images, callOptions),
      texts instanceof Embeddings ? texts : this.embedTexts(texts, callOptions),
    ]);
    if (a.dim !== b.dim)
      throw new CrossmodalError('ERR_DIMENSION_MISMATCH', `embedding sizes differ: ${a.dim} vs ${b.dim}`);
    // Row-wise cosines: n dot products of dim floats (the model's embeddings are unit length;
    // caller-supplied ones are normalised here).
    const scores = new Float32Array(a.count);
    for (let i = 0; i < a.count; i++) {
      let dot = 0;
      let na = 0;
      let nb = 0;
      for (let d = 0; d < a.dim; d++) {
        const x = a.data[i * a.dim + d] as number;
        const y = b.data[i * b.dim + d] as number;
        dot += x * y;
        na += x * x;
        nb += y * y;
      }
      scores[i] = na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
    }
    return { matches: Array.from(scores, (s) => s >= threshold), scores };
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
  async score(
    images: ImageInput[] | Embeddings,
    texts: string[] | Embeddings,
    options?: ScoreOptions,
  ): Promise<SimilarityMatrix> {
    options = checkOptions(options);
    checkBoolean(options.scale, 'options.scale');
    checkBoolean(options.softmax, 'options.softmax');
    const [a, b] = await Promise.all([
      images instanceof Embeddings ? images : this.embedImages(images),
      texts instanceof Embeddings ? texts : this.embedTexts(texts),
    ]);
    const softmax = options.softmax ?? false;
    const scale = softmax || options.scale ? this.info.logitScale : 1;
    return similarity(a, b, { scale, softmax });
  }

  /**
   * Zero-shot classification: which of `labels` each image shows, with CLIP's prompt ensembling.
   * @param images - images, or their embeddings
   * @param labels - class names, e.g. `['cat', 'dog']`
   * @param options - `templates` (default `['a photo of a {}.']`), `topK`, `signal`, `timeoutMs`
   * @returns per image, labels with probabilities, best first
   * @throws {CrossmodalError} `ERR_INVALID_ARGUMENT` and the errors of the embed calls
   * @example
   * const [top] = await model.classify(['pet.jpg'], ['cat', 'dog'], { templates: ['a photo of a {}.', 'a blurry photo of a {}.'] });
   * top[0].label; // 'cat'
   */
  async classify(
    images: ImageInput[] | Embeddings,
    labels: string[],
    options?: ClassifyOptions,
  ): Promise<LabelScore[][]> {
    options = checkOptions(options);
    checkTexts(labels, 'labels');
    if (labels.length === 0) throw invalidArgument('labels must not be empty');
    const templates = options.templates === undefined ? ['a photo of a {}.'] : options.templates;
    checkTexts(templates, 'options.templates');
    if (templates.length === 0 || templates.some((t) => !t.includes('{}'))) {
      throw invalidArgument("templates must be a non-empty array of strings containing '{}'");
    }
    const topK = options.topK ?? labels.length;
    if (!Number.isInteger(topK) || topK < 1) throw invalidArgument('topK must be a positive integer');
    const callOptions = { signal: options.signal, timeoutMs: options.timeoutMs };
    const prompts = labels.flatMap((label) => templates.map((t) => t.split('{}').join(label)));
    const [imageEmbeddings, promptEmbeddings] = await Promise.all([
      images instanceof Embeddings ? images : this.embedImages(images, callOptions),
      this.embedTexts(prompts, callOptions),
    ]);
    const classifier = new Embeddings(
      new Float32Array(
        await callNative(() => native().groupMeans(promptEmbeddings.data, promptEmbeddings.dim, templates.length)),
      ),
      labels.length,
      promptEmbeddings.dim,
    );
    const [cosines, probabilities] = await Promise.all([
      similarity(imageEmbeddings, classifier),
      similarity(imageEmbeddings, classifier, { scale: this.info.logitScale, softmax: true }),
    ]);
    const results: LabelScore[][] = [];
    for (let i = 0; i < imageEmbeddings.count; i++) {
      const row = labels.map((label, j) => ({
        label,
        probability: probabilities.get(i, j),
        similarity: cosines.get(i, j),
      }));
      row.sort((x, y) => y.probability - x.probability);
      results.push(row.slice(0, topK));
    }
    return results;
  }

  /**
   * Releases the model. Idempotent; calls made afterwards reject with `ERR_DISPOSED`, calls still
   * queued reject with `ERR_DISPOSED`, and batches already running finish and resolve.
   */
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
export async function similarity(
  a: Embeddings,
  b: Embeddings,
  options?: { scale?: number; softmax?: boolean },
): Promise<SimilarityMatrix> {
  return guarded(() => similarityOf(a, b, options));
}

async function similarityOf(
  a: Embeddings,
  b: Embeddings,
  options: { scale?: number; softmax?: boolean } | undefined,
): Promise<SimilarityMatrix> {
  if (!(a instanceof Embeddings) || !(b instanceof Embeddings))
    throw invalidArgument('similarity expects two Embeddings');
  options = checkOptions(options);
  checkNumber(options.scale, 'options.scale', [-Number.MAX_VALUE, Number.MAX_VALUE]);
  checkBoolean(options.softmax, 'options.softmax');
  if (a.dim !== b.dim)
    throw new CrossmodalError('ERR_DIMENSION_MISMATCH', `embedding sizes differ: ${a.dim} vs ${b.dim}`);
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
      if (row < 0 || row >= rows || col < 0 || col >= cols)
        throw invalidArgument(`(${row}, ${col}) is outside ${rows} × ${cols}`);
      return data[row * cols + col] as number;
    },
  };
}

/**
 * Ranges of load()'s numeric options: the addon's (native/binding/convert/encoder_options.cc,
 * ParseEncoderOptions; deviceId is read as a uint32).
 */
const LOAD_RANGES = {
  deviceId: [0, 2 ** 32 - 1],
  // Thread counts: at most native/common/thread_pool.h's kMaxThreads (thousands of threads made
  // load() take minutes or fail to finish).
  intraOpThreads: [0, 256],
  maxBatchSize: [1, 4096],
  maxImageBatchSize: [1, 4096],
  maxTextBatchSize: [1, 4096],
  maxQueueSize: [1, 1e9],
  preprocessThreads: [0, 256],
  // native/common/thread_priority.h's kMaxWorkerNiceness
  workerNice: [0, 19],
} as const satisfies Partial<Record<keyof LoadOptions, IntegerRange>>;
const MAX_QUEUE_DELAY_MS: IntegerRange = [0, 60_000];
const DEVICES: readonly Device[] = ['auto', 'cpu', 'cuda', 'tensorrt'];
const PRECISIONS: readonly NonNullable<LoadOptions['precision']>[] = ['auto', 'fp32', 'fp16', 'int8', 'q4'];
const OPTIMIZATION_LEVELS: readonly NonNullable<LoadOptions['graphOptimizationLevel']>[] = [
  'disabled',
  'basic',
  'extended',
  'all',
];

function checkLoadOptions(options: LoadOptions): void {
  checkOneOf(options.device, 'options.device', DEVICES);
  checkOneOf(options.precision, 'options.precision', PRECISIONS);
  checkOneOf(options.graphOptimizationLevel, 'options.graphOptimizationLevel', OPTIMIZATION_LEVELS);
  for (const [key, range] of Object.entries(LOAD_RANGES))
    checkInteger(options[key as keyof typeof LOAD_RANGES], `options.${key}`, range);
  checkNumber(options.maxQueueDelayMs, 'options.maxQueueDelayMs', MAX_QUEUE_DELAY_MS);
  for (const key of [
    'allowSpinning',
    'batchWhenIdle',
    'cpuMemoryArena',
    'trtFp16',
    'trimTextPadding',
    'warmup',
  ] as const)
    checkBoolean(options[key], `options.${key}`);
  for (const key of ['ortLibrary', 'optimizedModelPath', 'trtCacheDir'] as const)
    checkOptionalPath(options[key], `options.${key}`);
  checkImageOptions(options);
}

/**
 * Loads a model bundle: a Hugging Face / Transformers.js export (`config.json`,
 * `preprocessor_config.json`, `vocab.json` + `merges.txt`, `onnx/vision_model*.onnx` +
 * `onnx/text_model*.onnx`, or a combined `onnx/model*.onnx`) or an open_clip export
 * (`visual/model.onnx`, `textual/model.onnx`, open_clip `config.json`).
 * @param dir - the bundle directory
 * @param options - device, threads and limits
 * @returns the loaded model
 * @throws {CrossmodalError} `ERR_MODEL_LOAD` (missing or invalid files), `ERR_RUNTIME_UNAVAILABLE`
 *   (ONNX Runtime or the requested device unavailable), `ERR_INVALID_ARGUMENT`
 * @example
 * const model = await load('models/clip', { device: 'cpu' });
 * console.log(model.info.visionProvider.provider);
 */
export async function load(dir: string, options?: LoadOptions): Promise<Model> {
  return guarded(() => loadModel(dir, options));
}

async function loadModel(dir: string, options: LoadOptions | undefined): Promise<Model> {
  checkPath(dir, 'dir');
  options = checkOptions(options);
  checkLoadOptions(options);
  const { warmup = true, ortLibrary: explicitLibrary, ...rest } = options;
  const ortLibrary = resolveOrtLibrary(explicitLibrary);
  // `org/name` that is not a local directory: a snapshot pulled into the Hugging Face cache
  // (never a download: resolveModel reads the cache only and says to run `crossmodal pull`).
  const root = !fs.existsSync(dir) && looksLikeRepoId(dir) ? resolveModel(dir) : path.resolve(dir);
  const session = await callNative(() => native().EncoderSession.load(root, { ...rest, ortLibrary }));
  return new Model(session, warmup);
}

/**
 * Directory of the demo model that ships with the package: a small CLIP trained by this
 * repository's code on rendered scenes of coloured shapes (see its MODEL_CARD.md).
 */
export const demoModelDir = path.join(packageRoot, 'models', 'shapes-clip');

// Every method and getter throws or rejects with CrossmodalErrors only.
guardClass(Embeddings);
guardClass(Model);
