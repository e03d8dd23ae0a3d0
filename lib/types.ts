// Plain data and option types shared by the public API and the private addon typing (binding.ts).
// They live here, below both, so that binding.ts imports no feature module: the addon's option types
// are derived from these public ones rather than mirrored by hand. Feature modules and the public
// barrel re-export them. This module imports nothing.

export interface ProviderReport {
  /** The execution provider the tower really runs on, e.g. `CPUExecutionProvider`. */
  provider: string;
  /** Why each better provider was skipped (only with `device: 'auto'`). */
  skipped: string[];
}

export interface ModelInfo {
  /** Absolute path of the bundle. */
  root: string;
  /** `huggingface` (onnx/…) or `open_clip` (visual/, textual/). */
  layout: 'huggingface' | 'open_clip';
  /** True when one combined `model.onnx` serves both towers. */
  combined: boolean;
  /** `model_type` from config.json, e.g. `clip` (`open_clip` for that layout). */
  modelType: string;
  /**
   * Identity of the model: a hash of the ONNX files' bytes, the preprocessing and the tokenizer.
   * Indexes and collections use it to refuse vectors from a different model.
   */
  fingerprint: string;
  /** The variant that was loaded, and all variants present in the bundle. */
  precision: string;
  availablePrecisions: string[];
  visionModel: string;
  textModel: string;
  batching: {
    maxImageBatchSize: number;
    maxTextBatchSize: number;
    maxQueueDelayMs: number;
    maxQueueSize: number;
    trimTextPadding: boolean;
  };
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

/**
 * A histogram as the addon keeps it (fixed buckets, updated by worker threads with atomics):
 * `counts[i]` values were ≤ `bounds[i]` and > `bounds[i - 1]`; the last count is of values above
 * every bound. `counts` is not cumulative (Prometheus' `_bucket` series are its running sums).
 */
export interface StatsHistogram {
  bounds: number[];
  counts: number[];
  count: number;
  sum: number;
}

/** What one tower's dynamic batcher has done since `load` (see {@link ModelStats}). */
export interface TowerStats {
  /** Calls submitted, and those that failed, were aborted or missed their deadline. */
  requests: number;
  failedRequests: number;
  /** Rows (images or texts) waiting in the queue now. */
  queuedRows: number;
  /**
   * ONNX Runtime runs: one per batch, more when a text batch of very different lengths runs as
   * sub-batches of similar length (less padding).
   */
  runs: number;
  /** Rows per batch run. */
  batchRows: StatsHistogram;
  /** Per call: from submission until its first rows joined a batch. */
  queueWaitSeconds: StatsHistogram;
  /** Per batch: filling the input tensor (images: read, decode and preprocess on the pool). */
  fillSeconds: StatsHistogram;
  /** Per batch: the ONNX Runtime run. */
  inferenceSeconds: StatsHistogram;
}

/** Counters of a loaded model, for monitoring: `model.stats()`. Reading them costs microseconds. */
export interface ModelStats {
  image: TowerStats & {
    /** Per image: reading and decoding (or converting raw pixels). */
    decodeSeconds: StatsHistogram;
    /** Per image: resize, crop, normalise. */
    preprocessSeconds: StatsHistogram;
  };
  text: TowerStats & {
    /** Per call: tokenising all of its texts. */
    tokenizeSeconds: StatsHistogram;
  };
}

// --- Models (lib/model.ts) ---

/** Which ONNX Runtime execution provider to run on. `auto` tries TensorRT, then CUDA, then CPU. */
export type Device = 'auto' | 'cpu' | 'cuda' | 'tensorrt';

/** Options of `load()`; the {@link ImageOptions} (limits, `exifOrientation`, `dctScaling`) apply to every image call. */
export interface LoadOptions extends ImageOptions {
  /** Execution provider; default `auto`. An explicit GPU device that is unavailable fails to load. */
  device?: Device;
  /** GPU ordinal for CUDA/TensorRT. Default 0. */
  deviceId?: number;
  /**
   * Threads per ONNX Runtime inference, 0..256. Default (0): one per CPU this process may use
   * (its affinity mask and cgroup CPU quota, so a container limited to 2 CPUs gets 2), the same
   * count as `preprocessThreads`; threads do not spin (`allowSpinning`), so the pools only
   * compete while each has work.
   */
  intraOpThreads?: number;
  /**
   * ONNX Runtime shared library to use. Default: `CROSSMODAL_ORT_LIBRARY`, else the library shipped
   * by the `onnxruntime-node` package. One library per process: the first load wins.
   */
  ortLibrary?: string;
  /**
   * Which variant of the ONNX files to load: `fp32` (`vision_model.onnx`), `fp16` (`*_fp16.onnx`),
   * `int8` (`*_quantized.onnx` / `*_int8.onnx` / `*_uint8.onnx`), `q4` (`*_q4.onnx`). `auto` (default)
   * takes fp32 when present (fp16 first with `device: 'cuda' | 'tensorrt'`). A missing variant fails
   * with `ERR_MODEL_LOAD` listing those present.
   */
  precision?: 'auto' | 'fp32' | 'fp16' | 'int8' | 'q4';
  /** Largest batch the dynamic batcher forms, for both towers (default 32 images, 128 texts). */
  maxBatchSize?: number;
  maxImageBatchSize?: number;
  maxTextBatchSize?: number;
  /**
   * How long the batcher may hold the oldest waiting call to gather a fuller batch while a batch
   * is being prepared or run (default 2 ms). A call that finds its tower idle runs at once (see
   * `batchWhenIdle`); under load, batches fill while the previous one runs.
   */
  maxQueueDelayMs?: number;
  /**
   * Hold calls that find the tower idle for the `maxQueueDelayMs` window too (default false).
   * On: a burst arriving within the window runs as one batch, but every lone call waits the window
   * (2 ms by default; measured on 2 vCPUs, a single text took 14.4 ms p50 this way against 11.3 ms).
   */
  batchWhenIdle?: boolean;
  /** Rows (images or texts) that may wait per tower before calls reject with `ERR_QUEUE_FULL` (default 8192). */
  maxQueueSize?: number;
  /** Threads decoding and preprocessing images, 0..256 (default, 0: one per usable CPU, as `intraOpThreads`). */
  preprocessThreads?: number;
  /** Let ONNX Runtime's threads spin between batches (lower latency, burns CPU; default false). */
  allowSpinning?: boolean;
  /**
   * Nice value, 0..19, of the model's compute threads: ONNX Runtime's intra-op threads, the
   * batchers and the preprocessing pool (Linux; ignored elsewhere). Default 10: when they saturate
   * the CPUs, the process's event loop (nice 0) still gets a core at once, and they get every cycle
   * it leaves. 0 runs them at the caller's priority, as before — then other processes at nice 0 do
   * not preempt them either. See docs/models.md.
   */
  workerNice?: number;
  /** ONNX Runtime's CPU memory arena (default true). */
  cpuMemoryArena?: boolean;
  /** ONNX Runtime graph optimisation level (default `all`). */
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Where ONNX Runtime writes the optimised graph (for inspection or faster later loads). */
  optimizedModelPath?: string;
  /** TensorRT engine and timing cache directory (default: none; engines are rebuilt at each load). */
  trtCacheDir?: string;
  /** Allow TensorRT to use fp16 kernels (default true). */
  trtFp16?: boolean;
  /**
   * Run each text batch at its longest text's length instead of the full context length
   * (default true). Exact for CLIP's causal text tower pooled at the end token, so it is only
   * applied to such models; texts in large calls are also sorted by length before batching.
   */
  trimTextPadding?: boolean;
  /** Run one image and one text through the model after loading; see `Model.ready`. Default true. */
  warmup?: boolean;
}

// --- Images (lib/preprocess.ts) ---

/** Options of the image pipeline; also accepted by `load()` for the model's own pipeline. */
export interface ImageOptions {
  /** Largest image (width × height) accepted, checked from the header before decoding; default 100,000,000. */
  maxPixels?: number;
  /** Largest encoded input in bytes (a file is checked by its size before it is read); default 256 MiB. */
  maxFileBytes?: number;
  /**
   * Apply the EXIF Orientation tag (all 8 values, from JPEG APP1, PNG eXIf or WebP EXIF) before
   * resizing, exactly like Pillow's `ImageOps.exif_transpose`. Default true.
   */
  exifOrientation?: boolean;
  /**
   * Decode large JPEGs at 1/2, 1/4 or 1/8 scale in the DCT domain (libjpeg-turbo) when that is
   * still at least the resize target, then resize exactly from there. Faster on large photos, but
   * no longer bit-identical to Pillow (see the README for the measured differences). Default false.
   */
  dctScaling?: boolean;
}

// --- Tokenizers (lib/tokenizer.ts) ---

/** What a tokenizer is and how it frames texts. */
export interface TokenizerInfo {
  /** `clip-bpe`, `sentencepiece` or `unigram`. */
  kind: string;
  /** The file the vocabulary was read from. */
  source: string;
  /** Ids per text, special tokens included (77 for CLIP, 64 for SigLIP). */
  contextLength: number;
  vocabSize: number;
  /** Id placed before every text, or -1. */
  bosId: number;
  /** Id placed after every text (kept last when truncating), or -1. */
  eosId: number;
  padId: number;
  /**
   * `trimmable`: ids after `lengths[i]` do not affect the tower (causal CLIP, masked XLM-R);
   * `fixed`: the tower expects exactly `contextLength` ids (SigLIP).
   */
  padding: 'trimmable' | 'fixed';
  /** Native threads a `tokenize` call uses by default. */
  threads: number;
}

export interface LoadTokenizerOptions {
  /** Native threads per `tokenize` call (default 1). Large batches scale about linearly. */
  threads?: number;
  /** Override the bundle's context length. */
  contextLength?: number;
}

export interface TokenizeOptions {
  /** Return ids as a BigInt64Array (what int64 ONNX inputs take) instead of an Int32Array. */
  int64?: boolean;
  /** Override the context length for this call (e.g. a large value to see untruncated ids). */
  contextLength?: number;
  /** Override the tokenizer's thread count for this call. */
  threads?: number;
}

// --- Vector search (lib/search.ts) ---

export type Metric = 'cosine' | 'ip' | 'l2';
export type IndexType = 'flat' | 'hnsw' | 'ivf-flat' | 'ivf-pq' | 'factory';
/**
 * Where an index searches. `cpu` (default) never touches a GPU. `gpu` keeps a GPU copy of a
 * `flat`, `ivf-flat` or `ivf-pq` index for unfiltered searches (builds with
 * `CROSSMODAL_WITH_FAISS_GPU` only; fails with `ERR_GPU_UNAVAILABLE` otherwise). `auto` uses a GPU
 * when it can and reports why not in `info().gpu.reason`. See "GPU search" in the README.
 */
export type IndexDevice = 'cpu' | 'gpu' | 'auto';

export interface LoadIndexOptions {
  /** Map IVF inverted lists from the file instead of reading them (the index is then read-only). Other types load into memory. */
  mmap?: boolean;
  /** Refuse the file (ERR_INDEX_MISMATCH) unless it was saved with this model fingerprint. */
  fingerprint?: string;
  /** Refuse the file unless it holds vectors of this size. */
  dim?: number;
  /** Refuse the file unless it uses this metric. */
  metric?: Metric;
  /** Refuse the file unless it is of this type. */
  type?: IndexType;
  /** Where the loaded index searches (default `cpu`; not stored in the file). See `IndexOptions.device`. */
  device?: IndexDevice;
  /** CUDA device ordinal for `device: 'gpu' | 'auto'` (default 0). */
  deviceId?: number;
}

/** Where an index's searches run, and why ({@link IndexInfo.gpu}). */
export interface IndexGpuInfo {
  /** The `device` option the index was created or loaded with. */
  requested: IndexDevice;
  /** CUDA device holding the GPU copy, or -1 when searches stay on the CPU. */
  device: number;
  /** True when unfiltered searches run on the GPU. */
  active: boolean;
  /** Why searches stay on the CPU ('' when `active`), e.g. no GPU support in this build. */
  reason: string;
  /** Searches answered on the GPU. */
  gpuSearches: number;
  /** Searches of a GPU-placed index answered on the CPU instead (filters, range search, k or nprobe above the GPU limit, a failed copy)… */
  cpuFallbacks: number;
  /** …and the reason for the latest one. */
  lastFallback: string;
}

export interface IndexInfo {
  type: IndexType;
  metric: Metric;
  dim: number;
  /** Live vectors. */
  size: number;
  /** Rows in the FAISS structure, including removed ones not yet compacted. */
  slots: number;
  /** Removed vectors still occupying the structure (HNSW, refined IVF-PQ, factory); `rebuild()` drops them. */
  tombstones: number;
  trained: boolean;
  mmapped: boolean;
  canReconstruct: boolean;
  /** Model fingerprint recorded in the file this index was loaded from ('' otherwise). */
  fingerprint: string;
  /** The FAISS structure, e.g. `HNSW32,Flat` or `IVF512,Flat`. */
  description: string;
  /** Effective parameters (nlist once trained, etc.). */
  params: Record<string, unknown>;
  /** Where searches run (see {@link IndexDevice}). */
  gpu: IndexGpuInfo;
}
