// Plain data types shared by the public API and the private addon typing.

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
  batching: { maxImageBatchSize: number; maxTextBatchSize: number; maxQueueDelayMs: number; maxQueueSize: number; trimTextPadding: boolean };
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
