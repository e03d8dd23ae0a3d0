/**
 * Bidirectional retrieval evaluation of a model on a caption data set, the Flickr30k/COCO
 * protocol: text→image Recall@K over all captions (one correct image each), image→text Recall@K
 * (a hit when any of the image's captions is in the top K), median/mean rank and mAP, exact search
 * by default; with CLIPScore statistics, match/non-match calibration, the recall of an approximate
 * index against exact search, and the drift of a precision variant against fp32.
 */
import { createIndex } from '../search';
import type { IndexType } from '../types';
import {
  checkArray,
  checkBoolean,
  checkFunction,
  checkInteger,
  checkOneOf,
  checkOptions,
  checkPath,
  guarded,
} from '../checks';
import { CrossmodalError, invalidArgument } from '../errors';
import { load, Model, similarity, type Embeddings } from '../model';
import type { CaptionDataset } from './datasets';
import {
  calibrateThreshold,
  checkKs,
  clipScore,
  DEFAULT_KS,
  mean,
  rankingMetrics,
  recallAgainstExact,
  refClipScore,
  topK,
  type RankingMetrics,
  type ScoreMatrix,
  type ThresholdReport,
} from './metrics';

export interface EvaluateOptions {
  /** K values for Recall@K (default 1, 5, 10). */
  ks?: readonly number[];
  /** Also pick a match threshold on positive vs negative pairs (default true). */
  calibrate?: boolean;
  /** Target precision for the calibrated threshold (default 0.95). */
  targetPrecision?: number;
  /** Also measure an approximate index's recall@10 against exact search on the same embeddings. */
  approximateIndex?: Exclude<IndexType, 'flat' | 'factory'>;
  /** Also measure a precision variant of the same bundle against the loaded model. */
  comparePrecision?: 'fp16' | 'int8';
  /** How many of the worst text→image misses to keep for the report (default 8). */
  worstMisses?: number;
  /** Called as embedding progresses (items done of total). */
  onProgress?: (done: number, total: number) => void;
}

export interface RetrievalReport {
  images: number;
  captions: number;
  textToImage: RankingMetrics;
  imageToText: RankingMetrics;
  /** Over every (image, own caption) pair: CLIP-S and RefCLIP-S (references: the image's other captions). */
  clipScore: { weight: number; mean: number; refMean: number | null; perPair: Float32Array };
  /** Cosines of matching pairs (image, own caption) and of non-matching ones (image, a caption of another image). */
  pairScores: { matching: Float32Array; nonMatching: Float32Array };
  calibration: ThresholdReport | null;
  approximate: { type: string; k: number; recallVsExact: number; textToImageRecall: Record<number, number> } | null;
  /** Captions whose own image ranked worst, with the image retrieved first instead (indices into the data set). */
  worstTextToImage: { caption: number; image: number; rank: number; retrieved: number }[];
  precisionDrift: {
    precision: string;
    imageCosine: { mean: number; min: number };
    textCosine: { mean: number; min: number };
    textToImageRecall: Record<number, number>;
    imageToTextRecall: Record<number, number>;
  } | null;
  seconds: { embed: number; total: number };
}

/** Deterministic pseudo-random integers (mulberry32) for drawing negative pairs reproducibly. */
function seeded(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

/** Captions of each image, as indices into the caption list. */
export function captionsByImage(dataset: CaptionDataset): number[][] {
  const owned: number[][] = dataset.images.map(() => []);
  dataset.captionImage.forEach((image, c) => owned[image]!.push(c));
  return owned;
}

async function embedAll(
  model: Model,
  dataset: CaptionDataset,
  onProgress?: (done: number, total: number) => void,
): Promise<{ images: Embeddings; texts: Embeddings }> {
  const total = dataset.images.length + dataset.captions.length;
  const images = await model.embedImages(dataset.images);
  onProgress?.(dataset.images.length, total);
  const texts = await model.embedTexts(dataset.captions);
  onProgress?.(total, total);
  return { images, texts };
}

function dot(a: Float32Array, i: number, b: Float32Array, j: number, dim: number): number {
  let s = 0;
  for (let d = 0; d < dim; d++) s += (a[i * dim + d] as number) * (b[j * dim + d] as number);
  return s;
}

async function rankBoth(
  images: Embeddings,
  texts: Embeddings,
  dataset: CaptionDataset,
  owned: number[][],
  ks: readonly number[],
) {
  const textScores = await similarity(texts, images);
  const textToImage = rankingMetrics(textScores, (c) => [dataset.captionImage[c] as number], ks);
  const imageToText = rankingMetrics(await similarity(images, texts), (i) => owned[i] as number[], ks);
  return { textToImage, imageToText, textScores };
}

/** The captions ranked worst for their own image, with the image that came first instead. */
function worstMisses(
  scores: ScoreMatrix,
  metrics: RankingMetrics,
  dataset: CaptionDataset,
  count: number,
): RetrievalReport['worstTextToImage'] {
  const order = Array.from(metrics.ranks.keys()).sort(
    (a, b) => (metrics.ranks[b] as number) - (metrics.ranks[a] as number) || a - b,
  );
  return order
    .slice(0, count)
    .filter((c) => (metrics.ranks[c] as number) > 1)
    .map((c) => ({
      caption: c,
      image: dataset.captionImage[c] as number,
      rank: metrics.ranks[c] as number,
      retrieved: topK(scores, c, 1)[0] as number,
    }));
}

/**
 * Evaluates `model` on `dataset`.
 * @throws {CrossmodalError} `ERR_INVALID_ARGUMENT` for a data set with fewer than two images, and the model's errors
 */
export async function evaluateRetrieval(
  model: Model,
  dataset: CaptionDataset,
  options?: EvaluateOptions,
): Promise<RetrievalReport> {
  return guarded(() => evaluate(model, dataset, options));
}

/** A data set as loadCaptionDataset returns it: paths, captions, and each caption's image in range. */
function checkDataset(dataset: CaptionDataset): void {
  if (dataset === null || typeof dataset !== 'object')
    throw invalidArgument('dataset must be { images, captions, captionImage } (see loadCaptionDataset)');
  const { images, captions, captionImage } = dataset;
  checkArray(images, 'dataset.images');
  for (let i = 0; i < images.length; i++) checkPath(images[i], `dataset.images[${i}]`);
  checkArray(captions, 'dataset.captions');
  for (let i = 0; i < captions.length; i++)
    if (typeof captions[i] !== 'string') throw invalidArgument(`dataset.captions[${i}] must be a string`);
  if (!(captionImage instanceof Int32Array) || captionImage.length !== captions.length)
    throw invalidArgument('dataset.captionImage must be an Int32Array with one image index per caption');
  for (let c = 0; c < captionImage.length; c++) {
    const image = captionImage[c] as number;
    if (image < 0 || image >= images.length)
      throw invalidArgument(`dataset.captionImage[${c}] = ${image} is outside 0..${images.length - 1}`);
  }
}

const APPROXIMATE: readonly NonNullable<EvaluateOptions['approximateIndex']>[] = ['hnsw', 'ivf-flat', 'ivf-pq'];
const COMPARE: readonly NonNullable<EvaluateOptions['comparePrecision']>[] = ['fp16', 'int8'];

async function evaluate(
  model: Model,
  dataset: CaptionDataset,
  given: EvaluateOptions | undefined,
): Promise<RetrievalReport> {
  if (!(model instanceof Model)) throw invalidArgument('model must be a Model from load()');
  checkDataset(dataset);
  const options = checkOptions(given);
  if (options.ks !== undefined) checkKs(options.ks, 'options.ks');
  checkBoolean(options.calibrate, 'options.calibrate');
  if (
    options.targetPrecision !== undefined &&
    (typeof options.targetPrecision !== 'number' || !(options.targetPrecision > 0 && options.targetPrecision <= 1))
  )
    throw invalidArgument('options.targetPrecision must be a number in (0, 1]');
  checkOneOf(options.approximateIndex, 'options.approximateIndex', APPROXIMATE);
  checkOneOf(options.comparePrecision, 'options.comparePrecision', COMPARE);
  checkInteger(options.worstMisses, 'options.worstMisses', [0, 1e6]);
  checkFunction(options.onProgress, 'options.onProgress');
  const started = Date.now();
  const ks = options.ks ?? DEFAULT_KS;
  if (dataset.images.length < 2)
    throw new CrossmodalError('ERR_INVALID_ARGUMENT', 'evaluation needs at least two images');
  const owned = captionsByImage(dataset);
  const { images, texts } = await embedAll(model, dataset, options.onProgress);
  const embedSeconds = (Date.now() - started) / 1000;
  const dim = images.dim;
  const { textToImage, imageToText, textScores } = await rankBoth(images, texts, dataset, owned, ks);

  // Embeddings are L2-normalised, so dot products are cosines.
  const matching = new Float32Array(dataset.captions.length);
  const nonMatching = new Float32Array(dataset.captions.length);
  const perPair = new Float32Array(dataset.captions.length);
  const refScores: number[] = [];
  const draw = seeded(20211104);
  dataset.captionImage.forEach((image, c) => {
    const cos = dot(images.data, image, texts.data, c, dim);
    matching[c] = cos;
    perPair[c] = clipScore(cos);
    const others = (owned[image] as number[]).filter((o) => o !== c);
    if (others.length > 0)
      refScores.push(
        refClipScore(
          cos,
          others.map((o) => dot(texts.data, c, texts.data, o, dim)),
        ),
      );
    // A caption of another image, drawn reproducibly.
    let other = draw(dataset.captions.length);
    while (dataset.captionImage[other] === image) other = (other + 1) % dataset.captions.length;
    nonMatching[c] = dot(images.data, image, texts.data, other, dim);
  });

  const calibration =
    options.calibrate === false ? null : calibrateThreshold(matching, nonMatching, options.targetPrecision ?? 0.95);

  let approximate: RetrievalReport['approximate'] = null;
  if (options.approximateIndex) {
    const k = Math.min(10, dataset.images.length);
    const exact = createIndex({ dim });
    const approx = createIndex({ dim, type: options.approximateIndex });
    try {
      await exact.add(images);
      if (options.approximateIndex !== 'hnsw') await approx.train(images);
      await approx.add(images);
      const [e, a] = await Promise.all([exact.search(texts, k), approx.search(texts, k)]);
      const hits: number[] = [];
      for (let q = 0; q < texts.count; q++) {
        const got = a.get(q);
        const target = BigInt(dataset.captionImage[q] as number);
        const position = got.findIndex((h) => h.id === target);
        hits.push(position < 0 ? Number.POSITIVE_INFINITY : position + 1);
      }
      const recall: Record<number, number> = {};
      for (const kk of ks) if (kk <= k) recall[kk] = hits.filter((r) => r <= kk).length / hits.length;
      approximate = {
        type: options.approximateIndex,
        k,
        // Both indexes hold the gallery, so both clamp k to its size alike (SearchResults.k).
        recallVsExact: recallAgainstExact(a.ids, e.ids, texts.count, Math.min(a.k, e.k)),
        textToImageRecall: recall,
      };
    } finally {
      exact.dispose();
      approx.dispose();
    }
  }

  let precisionDrift: RetrievalReport['precisionDrift'] = null;
  if (options.comparePrecision) {
    const variant = await load(model.info.root, { precision: options.comparePrecision, warmup: false });
    try {
      const other = await embedAll(variant, dataset);
      const cosStats = (a: Embeddings, b: Embeddings) => {
        const values = Array.from({ length: a.count }, (_, i) => dot(a.data, i, b.data, i, dim));
        return { mean: mean(values), min: Math.min(...values) };
      };
      const ranked = await rankBoth(other.images, other.texts, dataset, owned, ks);
      precisionDrift = {
        precision: options.comparePrecision,
        imageCosine: cosStats(images, other.images),
        textCosine: cosStats(texts, other.texts),
        textToImageRecall: ranked.textToImage.recall,
        imageToTextRecall: ranked.imageToText.recall,
      };
    } finally {
      variant.dispose();
    }
  }

  return {
    images: dataset.images.length,
    captions: dataset.captions.length,
    textToImage,
    imageToText,
    clipScore: { weight: 2.5, mean: mean(perPair), refMean: refScores.length ? mean(refScores) : null, perPair },
    pairScores: { matching, nonMatching },
    calibration,
    approximate,
    precisionDrift,
    worstTextToImage: worstMisses(textScores, textToImage, dataset, options.worstMisses ?? 8),
    seconds: { embed: embedSeconds, total: (Date.now() - started) / 1000 },
  };
}
