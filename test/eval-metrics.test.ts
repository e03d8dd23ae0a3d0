// lib/eval/metrics.ts against hand-checked cases and an independent NumPy implementation.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  calibrateThreshold,
  clipScore,
  rankingMetrics,
  recallAgainstExact,
  refClipScore,
  precisionAtK,
  topK,
} from '../lib/eval/metrics';

const python = '/usr/bin/python3';
const reference = path.join(__dirname, 'helpers', 'eval_reference.py');
const numpyAvailable =
  fs.existsSync(python) && spawnSync(python, ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;

/** A seeded generator (mulberry32) so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('rankingMetrics', () => {
  it('ranks by descending score with ties broken by candidate order', () => {
    // Row 0: candidate 2 is best; row 1: candidates 0 and 1 tie, 1 is relevant → rank 2.
    const scores = { data: new Float32Array([0.1, 0.5, 0.9, 0.7, 0.7, 0.2]), rows: 2, cols: 3 };
    const m = rankingMetrics(scores, (q) => (q === 0 ? [2] : [1]), [1, 2]);
    expect(Array.from(m.ranks)).toEqual([1, 2]);
    expect(m.recall).toEqual({ 1: 0.5, 2: 1 });
    expect(m.medianRank).toBe(1.5);
    expect(m.meanRank).toBe(1.5);
    expect(m.mAP).toBeCloseTo((1 + 0.5) / 2, 12);
  });

  it('computes average precision over several relevant candidates', () => {
    // Ranking: 3 (0.9), 0 (0.8), 1 (0.5), 2 (0.1); relevant 0 and 2 → positions 2 and 4.
    const scores = { data: new Float32Array([0.8, 0.5, 0.1, 0.9]), rows: 1, cols: 4 };
    const m = rankingMetrics(scores, () => [0, 2]);
    expect(m.ranks[0]).toBe(2);
    expect(m.mAP).toBeCloseTo((1 / 2 + 2 / 4) / 2, 12);
  });

  it('rejects bad ground truth and shapes with ERR_INVALID_ARGUMENT', () => {
    const scores = { data: new Float32Array(6), rows: 2, cols: 3 };
    expect(() => rankingMetrics(scores, () => [])).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => rankingMetrics(scores, () => [3])).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => rankingMetrics(scores, () => [0], [0])).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    expect(() => rankingMetrics({ data: new Float32Array(5), rows: 2, cols: 3 }, () => [0])).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });

  it('topK and precisionAtK follow the same ordering', () => {
    const scores = { data: new Float32Array([0.3, 0.9, 0.9, 0.1]), rows: 1, cols: 4 };
    expect(topK(scores, 0, 3)).toEqual([1, 2, 0]);
    expect(topK(scores, 0, 10)).toEqual([1, 2, 0, 3]);
    expect(precisionAtK(scores, (_q, c) => c === 2 || c === 3, 2)).toBe(0.5);
  });
});

describe('recallAgainstExact', () => {
  it('is the share of the exact top-k ids the approximate search returned, padding never matching', () => {
    // Query 0: 2 of 3 found; query 1: exact has a -1 pad (2 real ids), approximate finds 1 of them
    // and returns a -1 pad too, which must not count.
    const exact = BigInt64Array.from([1n, 2n, 3n, 7n, 8n, -1n]);
    const approx = BigInt64Array.from([3n, 9n, 1n, 8n, -1n, 5n]);
    expect(recallAgainstExact(approx, exact, 2, 3)).toBeCloseTo(3 / 6, 12);
    expect(recallAgainstExact([1, 2], [2, 1], 1, 2)).toBe(1);
    expect(() => recallAgainstExact([1], [1], 1, 2)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });
});

describe('CLIPScore and calibration', () => {
  it('clamps at zero and weights by 2.5', () => {
    expect(clipScore(0.4)).toBeCloseTo(1.0, 12);
    expect(clipScore(-0.2)).toBe(0);
    // Harmonic mean of CLIP-S 1.0 and the best reference cosine 0.5.
    expect(refClipScore(0.4, [0.1, 0.5, -0.3])).toBeCloseTo((2 * 1.0 * 0.5) / 1.5, 12);
    expect(refClipScore(-0.1, [0.9])).toBe(0);
  });

  it('separates perfectly separable pairs at the boundary', () => {
    const r = calibrateThreshold([0.9, 0.8, 0.7], [0.2, 0.3, 0.65], 1);
    expect(r.rocAuc).toBe(1);
    expect(r.accuracy).toBe(1);
    expect(r.threshold).toBe(0.7);
    expect(r.atTargetPrecision).toEqual({ target: 1, threshold: 0.7, precision: 1, recall: 1 });
  });

  it('reports chance-level AUC for identical distributions and refuses empty sets', () => {
    expect(calibrateThreshold([0.5, 0.5], [0.5, 0.5]).rocAuc).toBe(0.5);
    expect(() => calibrateThreshold([], [0.1])).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });
});

describe.skipIf(!numpyAvailable)('against an independent NumPy implementation', () => {
  it('agrees on ranks, Recall@K, mAP, CLIPScore and ROC-AUC for random matrices with ties', () => {
    const next = rng(7);
    const rows = 60;
    const cols = 40;
    // Scores quantised to 1/16 so that ties are common and the tie rule is exercised.
    const data = Float32Array.from({ length: rows * cols }, () => Math.round(next() * 16) / 16);
    const relevant = Array.from({ length: rows }, (_, q) =>
      q % 3 === 0 ? [q % cols] : [q % cols, (q * 7 + 3) % cols, (q * 11 + 5) % cols],
    );
    const ks = [1, 3, 5, 10];
    const imageCos = Array.from({ length: 25 }, () => next() * 1.2 - 0.3);
    const refs = imageCos.map(() => [next() * 1.4 - 0.5, next() * 1.4 - 0.5]);
    const pos = Array.from({ length: 50 }, () => Math.round((next() * 0.6 + 0.3) * 20) / 20);
    const neg = Array.from({ length: 70 }, () => Math.round(next() * 0.6 * 20) / 20);

    const out = spawnSync(python, [reference], {
      input: JSON.stringify({
        scores: Array.from({ length: rows }, (_, r) => Array.from(data.subarray(r * cols, (r + 1) * cols))),
        relevant,
        ks,
        pos,
        neg,
        refs,
        image_cos: imageCos,
      }),
      encoding: 'utf8',
    });
    expect(out.status, out.stderr).toBe(0);
    const expected = JSON.parse(out.stdout);

    const m = rankingMetrics({ data, rows, cols }, (q) => relevant[q]!, ks);
    expect(Array.from(m.ranks)).toEqual(expected.ranks);
    for (const k of ks) expect(m.recall[k]).toBeCloseTo(expected.recall[String(k)], 12);
    expect(m.medianRank).toBe(expected.medianRank);
    expect(m.meanRank).toBeCloseTo(expected.meanRank, 10);
    expect(m.mAP).toBeCloseTo(expected.mAP, 10);
    imageCos.forEach((c, i) => {
      expect(clipScore(c)).toBeCloseTo(expected.clipScore[i], 12);
      expect(refClipScore(c, refs[i]!)).toBeCloseTo(expected.refClipScore[i], 12);
    });
    expect(calibrateThreshold(pos, neg).rocAuc).toBeCloseTo(expected.rocAuc, 12);
  });
});
