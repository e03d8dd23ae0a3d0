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
// The public API, named one by one: anything not listed here is private to the package.
export { CrossmodalError, type ErrorCode } from './errors';
export type {
  Device,
  ImageOptions,
  IndexDevice,
  IndexGpuInfo,
  IndexInfo,
  IndexType,
  LoadIndexOptions,
  LoadOptions,
  LoadTokenizerOptions,
  Metric,
  ModelInfo,
  ModelStats,
  ProviderReport,
  StatsHistogram,
  TokenizeOptions,
  TokenizerInfo,
  TowerStats,
} from './types';
export {
  Embeddings,
  load,
  Model,
  similarity,
  demoModelDir,
  type ClassifyOptions,
  type EmbedOptions,
  type ImageEmbedOptions,
  type LabelScore,
  type ScoreOptions,
  type SimilarityMatrix,
} from './model';
export { loadRuntime, nativeInfo, type RuntimeInfo } from './runtime';
export { loadTokenizer, rowIds, Tokenizer, type DecodeOptions, type TokenIds, type TokenizedTexts } from './tokenizer';
export {
  preprocessImages,
  type ImageFailure,
  type ImageInput,
  type PreprocessedImages,
  type PreprocessOptions,
  type RawImage,
  type StandalonePreprocessOptions,
  type TensorImage,
} from './preprocess';
export {
  createIndex,
  loadIndex,
  recommendIndex,
  RangeResults,
  SearchResults,
  VectorIndex,
  type IdFilter,
  type Ids,
  type IndexOptions,
  type IndexRecommendation,
  type SearchHit,
  type SearchOptions,
  type VectorsInput,
} from './search';
export {
  Collection,
  PostgresCollection,
  openCollection,
  exportClipRetrieval,
  exportToPostgres,
  type ClipRetrievalExportOptions,
  type ClipRetrievalExportResult,
  type PostgresExportOptions,
  type PostgresExportResult,
  type AddOptions,
  type CollectionApi,
  type PostgresCollectionOptions,
  type PostgresUrl,
  type AddResult,
  type CollectionHit,
  type CollectionItem,
  type CollectionModel,
  type CollectionSearchOptions,
  type CollectionStats,
  type OpenCollectionOptions,
  type Where,
} from './collection/index';
export {
  pull,
  resolveModel,
  type PullOptions,
  type PullPrecision,
  type PullProgress,
  type ResolveOptions,
} from './hub';
export { loadCaptionDataset, type CaptionDataset, type CaptionFormat, type LoadDatasetOptions } from './eval/datasets';
export { evaluateRetrieval, type EvaluateOptions, type RetrievalReport } from './eval/retrieval';
export {
  calibrateThreshold,
  clipScore,
  CLIP_SCORE_WEIGHT,
  precisionAtK,
  rankingMetrics,
  recallAgainstExact,
  refClipScore,
  topK,
  type RankingMetrics,
  type ScoreMatrix,
  type ThresholdReport,
} from './eval/metrics';
