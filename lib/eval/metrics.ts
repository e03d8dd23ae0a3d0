/**
 * Retrieval and caption-quality metrics over a score matrix: the one implementation that the CLI,
 * the tests, the benchmarks and the demo use.
 *
 * Conventions (the ones a NumPy reference with `np.argsort(-scores, kind='stable')` follows):
 * - A query's ranking orders candidates by descending score; equal scores keep candidate order
 *   (lower index first). Ranks are 1-based.
 * - A query's rank is the rank of its best-placed relevant candidate; a query with no relevant
 *   candidate is an error, not a miss (the caller's ground truth is wrong).
 * - Recall@K is the share of queries whose rank is ≤ K (the Flickr30k/COCO protocol: one correct
 *   image per caption for text→image, any of the image's captions for image→text).
 *
 * Everything here is O(queries × candidates) over plain typed arrays and allocates no matrix; the
 * matrix itself is computed natively (see `evaluateRetrieval`).
 */
import { checkArray, checkNumberList, guarded } from '../checks';
import { CrossmodalError } from '../errors';

/** A row-major `rows × cols` matrix of scores (e.g. cosine similarities). */
export interface ScoreMatrix {
  data: Float32Array;
  rows: number;
  cols: number;
}

/** Which candidates (column indices) are relevant to each query (row). */
export type Relevance = (query: number) => ArrayLike<number>;

export interface RankingMetrics {
  /** Number of queries evaluated. */
  queries: number;
  /** Share of queries with a relevant candidate within the top K, for each requested K. */
  recall: Record<number, number>;
  /** Median and mean of the queries' 1-based ranks. */
  medianRank: number;
  meanRank: number;
  /** Mean average precision over all relevant candidates of each query. */
  mAP: number;
  /** Each query's 1-based rank (its best relevant candidate). */
  ranks: Int32Array;
}

export const DEFAULT_KS: readonly number[] = [1, 5, 10];

function invalid(message: string): CrossmodalError {
  return new CrossmodalError('ERR_INVALID_ARGUMENT', message);
}

export function checkScoreMatrix(scores: ScoreMatrix): void {
  if (scores === null || typeof scores !== 'object') throw invalid('scores must be { data, rows, cols }');
  const { data, rows, cols } = scores;
  if (!(data instanceof Float32Array)) throw invalid('scores.data must be a Float32Array');
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) {
    throw invalid(`scores must have whole, non-negative rows and cols (got ${rows} × ${cols})`);
  }
  if (data.length !== rows * cols) throw invalid(`scores.data has ${data.length} values for ${rows} × ${cols}`);
}

/**
 * 1-based position of candidate `c` in row `row`'s ranking: candidates scoring higher, plus equal
 * scores at a lower index, plus one.
 */
export function rankOfCandidate(scores: ScoreMatrix, row: number, c: number): number {
  const { data, cols } = scores;
  const base = row * cols;
  const s = data[base + c] as number;
  let rank = 1;
  for (let j = 0; j < cols; j++) {
    const v = data[base + j] as number;
    if (v > s || (v === s && j < c)) rank++;
  }
  return rank;
}

/** Ranks of every candidate of one row (1-based), by the ordering above. */
function rowRanks(scores: ScoreMatrix, row: number, order: Int32Array, ranks: Int32Array): void {
  const { data, cols } = scores;
  const base = row * cols;
  for (let j = 0; j < cols; j++) order[j] = j;
  // Sorting a subarray of indices keeps this allocation-free per row.
  order.sort((a, b) => {
    const d = (data[base + b] as number) - (data[base + a] as number);
    return d !== 0 ? d : a - b;
  });
  for (let p = 0; p < cols; p++) ranks[order[p] as number] = p + 1;
}

function relevantOf(relevant: Relevance, query: number, cols: number): number[] {
  const list = Array.from(checkNumberList(relevant(query), `relevant(${query})`, cols));
  if (list.length === 0) throw invalid(`query ${query} has no relevant candidate`);
  for (const c of list) {
    if (!Number.isInteger(c) || c < 0 || c >= cols)
      throw invalid(`query ${query}: relevant index ${c} is outside 0..${cols - 1}`);
  }
  return [...new Set(list)];
}

/**
 * Recall@K, ranks and mAP of every row of `scores` as a query against its columns.
 * @param scores - `queries × candidates` scores, higher is better
 * @param relevant - the relevant candidates of each query (at least one each)
 * @param ks - the K values for Recall@K (default 1, 5, 10)
 */
export function rankingMetrics(
  scores: ScoreMatrix,
  relevant: Relevance,
  ks: readonly number[] = DEFAULT_KS,
): RankingMetrics {
  return guarded(() => ranking(scores, relevant, ks));
}

/** The list of K values of Recall@K: positive integers. */
export function checkKs(ks: unknown, name = 'ks'): readonly number[] {
  checkArray(ks, name, 1024);
  for (let i = 0; i < ks.length; i++) {
    const k = ks[i];
    if (!Number.isInteger(k) || (k as number) < 1) throw invalid(`K must be a positive integer (got ${String(k)})`);
  }
  return ks as number[];
}

function ranking(scores: ScoreMatrix, relevant: Relevance, ks: readonly number[]): RankingMetrics {
  checkScoreMatrix(scores);
  if (typeof relevant !== 'function') throw invalid('relevant must be a function of the query');
  checkKs(ks);
  for (const k of ks) if (!Number.isInteger(k) || k < 1) throw invalid(`K must be a positive integer (got ${k})`);
  const { rows, cols } = scores;
  if (rows === 0) throw invalid('no queries to evaluate');
  const ranks = new Int32Array(rows);
  const order = new Int32Array(cols);
  const candidateRanks = new Int32Array(cols);
  let apSum = 0;
  for (let q = 0; q < rows; q++) {
    const rel = relevantOf(relevant, q, cols);
    let best: number;
    if (rel.length === 1) {
      // One relevant candidate (text→image): a linear count, no sort.
      best = rankOfCandidate(scores, q, rel[0] as number);
      apSum += 1 / best;
    } else {
      rowRanks(scores, q, order, candidateRanks);
      const positions = rel.map((c) => candidateRanks[c] as number).sort((a, b) => a - b);
      best = positions[0] as number;
      let ap = 0;
      positions.forEach((position, i) => {
        ap += (i + 1) / position;
      });
      apSum += ap / positions.length;
    }
    ranks[q] = best;
  }
  const recall: Record<number, number> = {};
  for (const k of ks) {
    let hits = 0;
    for (let q = 0; q < rows; q++) if ((ranks[q] as number) <= k) hits++;
    recall[k] = hits / rows;
  }
  let sum = 0;
  for (let q = 0; q < rows; q++) sum += ranks[q] as number;
  return { queries: rows, recall, medianRank: median(ranks), meanRank: sum / rows, mAP: apSum / rows, ranks };
}

/** Median of the values (the mean of the two middle ones for an even count). */
export function median(values: ArrayLike<number>): number {
  const sorted = Float64Array.from(values as ArrayLike<number>).sort();
  const n = sorted.length;
  if (n === 0) return NaN;
  const mid = n >> 1;
  return n % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The top `k` candidates of one row (indices, best first; ties by index). */
export function topK(scores: ScoreMatrix, row: number, k: number): number[] {
  return guarded(() => topOf(scores, row, k));
}

function topOf(scores: ScoreMatrix, row: number, k: number): number[] {
  checkScoreMatrix(scores);
  if (!Number.isInteger(row) || row < 0 || row >= scores.rows)
    throw invalid(`row ${row} is outside 0..${scores.rows - 1}`);
  if (!Number.isInteger(k) || k < 1) throw invalid(`k must be a positive integer (got ${k})`);
  const { data, cols } = scores;
  const base = row * cols;
  const order = Array.from({ length: cols }, (_, j) => j);
  order.sort((a, b) => {
    const d = (data[base + b] as number) - (data[base + a] as number);
    return d !== 0 ? d : a - b;
  });
  return order.slice(0, Math.min(k, cols));
}

/** Share of the top `k` candidates of each row that are relevant, averaged over rows. */
export function precisionAtK(
  scores: ScoreMatrix,
  isRelevant: (query: number, candidate: number) => boolean,
  k: number,
): number {
  return guarded(() => {
    checkScoreMatrix(scores);
    if (typeof isRelevant !== 'function') throw invalid('isRelevant must be a function of (query, candidate)');
    return precisionOf(scores, isRelevant, k);
  });
}

function precisionOf(
  scores: ScoreMatrix,
  isRelevant: (query: number, candidate: number) => boolean,
  k: number,
): number {
  if (scores.rows === 0) throw invalid('no queries to evaluate');
  let sum = 0;
  for (let q = 0; q < scores.rows; q++) {
    const top = topK(scores, q, k);
    sum += top.filter((c) => isRelevant(q, c)).length / top.length;
  }
  return sum / scores.rows;
}

/**
 * CLIPScore's weight (Hessel et al. 2021): CLIP-S = w · max(cos, 0) with w = 2.5, so scores of
 * typical matching pairs spread over roughly 0–1. torchmetrics' `CLIPScore` reports 100 · cos
 * instead (no clamp at 0, other scale): the two are not comparable.
 */
export const CLIP_SCORE_WEIGHT = 2.5;

/** CLIP-S of one image-caption cosine. */
export function clipScore(cosine: number, weight = CLIP_SCORE_WEIGHT): number {
  if (typeof cosine !== 'number' || Number.isNaN(cosine)) throw invalid('cosine must be a number');
  if (typeof weight !== 'number' || !Number.isFinite(weight)) throw invalid('weight must be a finite number');
  return weight * Math.max(cosine, 0);
}

/**
 * RefCLIP-S: the harmonic mean of CLIP-S and the clamped best cosine between the candidate caption
 * and its reference captions (Hessel et al. 2021, eq. 2). 0 when either term is 0.
 */
export function refClipScore(
  imageCosine: number,
  referenceCosines: ArrayLike<number>,
  weight = CLIP_SCORE_WEIGHT,
): number {
  return guarded(() => refClip(imageCosine, checkNumberList(referenceCosines, 'referenceCosines'), weight));
}

function refClip(imageCosine: number, referenceCosines: ArrayLike<number>, weight: number): number {
  if (referenceCosines.length === 0) throw invalid('RefCLIPScore needs at least one reference caption');
  const clip = clipScore(imageCosine, weight);
  let best = -Infinity;
  for (let i = 0; i < referenceCosines.length; i++) best = Math.max(best, referenceCosines[i] as number);
  const ref = Math.max(best, 0);
  return clip + ref === 0 ? 0 : (2 * clip * ref) / (clip + ref);
}

/** Mean of a list (NaN for none). */
export function mean(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i] as number;
  return values.length === 0 ? NaN : sum / values.length;
}

export interface ThresholdReport {
  /** Pairs evaluated. */
  positives: number;
  negatives: number;
  /** Area under the ROC curve (probability that a matching pair outscores a non-matching one; ties count half). */
  rocAuc: number;
  /** The threshold that maximises accuracy (a pair matches when its score is ≥ the threshold). */
  threshold: number;
  accuracy: number;
  precision: number;
  recall: number;
  /** The lowest threshold whose precision reaches `targetPrecision`, when one exists. */
  atTargetPrecision: { target: number; threshold: number; precision: number; recall: number } | null;
}

/**
 * Picks a match / non-match threshold on labelled pairs' scores and reports how well it separates
 * them. Candidate thresholds are the observed scores (a pair matches when score ≥ threshold).
 */
export function calibrateThreshold(
  positiveScores: ArrayLike<number>,
  negativeScores: ArrayLike<number>,
  targetPrecision = 0.95,
): ThresholdReport {
  return guarded(() =>
    calibrate(
      checkNumberList(positiveScores, 'positiveScores'),
      checkNumberList(negativeScores, 'negativeScores'),
      targetPrecision,
    ),
  );
}

function calibrate(
  positiveScores: ArrayLike<number>,
  negativeScores: ArrayLike<number>,
  targetPrecision: number,
): ThresholdReport {
  const P = positiveScores.length;
  const N = negativeScores.length;
  if (P === 0 || N === 0) throw invalid('calibration needs at least one matching and one non-matching pair');
  if (typeof targetPrecision !== 'number' || !(targetPrecision > 0 && targetPrecision <= 1))
    throw invalid(`targetPrecision must be in (0, 1] (got ${targetPrecision})`);
  // All pairs, best score first; one pass over the sorted list visits every threshold.
  const all: { s: number; pos: boolean }[] = [];
  for (let i = 0; i < P; i++) all.push({ s: Number(positiveScores[i]), pos: true });
  for (let i = 0; i < N; i++) all.push({ s: Number(negativeScores[i]), pos: false });
  if (all.some((p) => !Number.isFinite(p.s))) throw invalid('scores must be finite numbers');
  all.sort((a, b) => b.s - a.s);

  let tp = 0;
  let fp = 0;
  let aucSum = 0; // Σ over positives of (negatives below it + half of the tied negatives)
  let best = { threshold: all[0]!.s + 1, accuracy: N / (P + N), tp: 0, fp: 0 };
  let atTarget: ThresholdReport['atTargetPrecision'] = null;
  for (let i = 0; i < all.length;) {
    // Take every pair with this score at once: a threshold cannot split ties.
    const s = all[i]!.s;
    let groupPos = 0;
    let groupNeg = 0;
    while (i < all.length && all[i]!.s === s) {
      if (all[i]!.pos) groupPos++;
      else groupNeg++;
      i++;
    }
    const negativesBelow = N - fp - groupNeg;
    aucSum += groupPos * (negativesBelow + groupNeg / 2);
    tp += groupPos;
    fp += groupNeg;
    const accuracy = (tp + (N - fp)) / (P + N);
    if (accuracy > best.accuracy) best = { threshold: s, accuracy, tp, fp };
    const precision = tp / (tp + fp);
    if (precision >= targetPrecision) atTarget = { target: targetPrecision, threshold: s, precision, recall: tp / P };
  }
  return {
    positives: P,
    negatives: N,
    rocAuc: aucSum / (P * N),
    threshold: best.threshold,
    accuracy: best.accuracy,
    precision: best.tp + best.fp === 0 ? 1 : best.tp / (best.tp + best.fp),
    recall: best.tp / P,
    atTargetPrecision: atTarget,
  };
}

/**
 * Recall of an approximate search against exact search on the same vectors: the share of each
 * query's exact top-k ids that the approximate search also returned, over all queries
 * (`queries × k` ids each, row-major; padding ids such as -1 never match a real id).
 */
export function recallAgainstExact(
  approximate: ArrayLike<bigint | number>,
  exact: ArrayLike<bigint | number>,
  queries: number,
  k: number,
): number {
  return guarded(() => recallOf(idList(approximate, 'approximate'), idList(exact, 'exact'), queries, k));
}

/** Ids of one search: a typed array (BigInt64Array included) or a real array, never an array-like. */
function idList(ids: unknown, name: string): ArrayLike<bigint | number> {
  if (ArrayBuffer.isView(ids) && !(ids instanceof DataView)) return ids as unknown as ArrayLike<bigint | number>;
  checkArray(ids, name);
  for (let i = 0; i < ids.length; i++)
    if (typeof ids[i] !== 'number' && typeof ids[i] !== 'bigint') throw invalid(`${name}[${i}] must be an id`);
  return ids as (bigint | number)[];
}

function recallOf(
  approximate: ArrayLike<bigint | number>,
  exact: ArrayLike<bigint | number>,
  queries: number,
  k: number,
): number {
  if (!Number.isInteger(queries) || queries < 1 || !Number.isInteger(k) || k < 1) {
    throw invalid(`queries and k must be positive integers (got ${queries}, ${k})`);
  }
  if (approximate.length < queries * k || exact.length < queries * k) {
    throw invalid(`expected ${queries} × ${k} ids from each search`);
  }
  let hits = 0;
  for (let q = 0; q < queries; q++) {
    const truth = new Set<string>();
    for (let j = 0; j < k; j++) {
      const id = exact[q * k + j] as bigint | number;
      if (Number(id) >= 0) truth.add(String(id));
    }
    for (let j = 0; j < k; j++) if (truth.has(String(approximate[q * k + j]))) hits++;
  }
  return hits / (queries * k);
}
