// model.stats(): the native per-stage counters a service exports as metrics. Each test reads the
// counters before and after its own calls, so the warm-up and the other tests' calls cancel out.
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrossmodalError, load, type Model, type ModelStats, type StatsHistogram } from '../lib/index';
import { repoRoot, tinyBundle } from './helpers';

const photo = path.join(repoRoot, 'test/fixtures/images/jpeg_baseline_640x427.jpg');
let model: Model;

beforeAll(async () => {
  // A long coalescing window that applies to an idle tower too, and small batches: how calls are
  // batched is then predictable.
  model = await load(tinyBundle, {
    device: 'cpu',
    maxTextBatchSize: 8,
    maxImageBatchSize: 4,
    maxQueueDelayMs: 50,
    batchWhenIdle: true,
  });
  await model.ready;
});
afterAll(() => model?.dispose());

function delta(after: StatsHistogram, before: StatsHistogram): { count: number; sum: number; counts: number[] } {
  return {
    count: after.count - before.count,
    sum: after.sum - before.sum,
    counts: after.counts.map((c, i) => c - (before.counts[i] ?? 0)),
  };
}

function expectWellFormed(h: StatsHistogram): void {
  expect(h.counts).toHaveLength(h.bounds.length + 1);
  expect(h.counts.reduce((a, b) => a + b, 0)).toBe(h.count);
  for (let i = 1; i < h.bounds.length; i++) expect(h.bounds[i]).toBeGreaterThan(h.bounds[i - 1] as number);
}

describe('model.stats()', () => {
  it('has every stage of both towers, as well-formed histograms', () => {
    const stats: ModelStats = model.stats();
    for (const h of [
      stats.image.batchRows,
      stats.image.queueWaitSeconds,
      stats.image.fillSeconds,
      stats.image.inferenceSeconds,
      stats.image.decodeSeconds,
      stats.image.preprocessSeconds,
      stats.text.batchRows,
      stats.text.queueWaitSeconds,
      stats.text.fillSeconds,
      stats.text.inferenceSeconds,
      stats.text.tokenizeSeconds,
    ]) {
      expectWellFormed(h);
    }
    // The warm-up ran one text and one image through each tower.
    expect(stats.text.requests).toBeGreaterThanOrEqual(1);
    expect(stats.image.requests).toBeGreaterThanOrEqual(1);
    expect(stats.text.queuedRows).toBe(0);
  });

  it('counts texts, batches and tokenize calls: 20 concurrent single texts in batches of at most 8', async () => {
    const before = model.stats().text;
    const texts = Array.from({ length: 20 }, (_, i) => `a photo of ${i} dogs`);
    await Promise.all(texts.map((t) => model.embedTexts([t])));
    const after = model.stats().text;
    expect(after.requests - before.requests).toBe(20);
    expect(after.failedRequests - before.failedRequests).toBe(0);
    const rows = delta(after.batchRows, before.batchRows);
    expect(rows.sum).toBe(20); // every row ran exactly once
    // Submitted together inside one 50 ms window, the 20 calls form full batches: 8 + 8 + 4.
    expect(rows.count).toBe(3);
    expect(rows.counts[after.batchRows.bounds.indexOf(8)]).toBe(2);
    expect(rows.counts[after.batchRows.bounds.indexOf(4)]).toBe(1);
    // One tokenize per call, one fill and one inference per batch, one queue wait per call.
    expect(delta(after.tokenizeSeconds, before.tokenizeSeconds).count).toBe(20);
    expect(delta(after.inferenceSeconds, before.inferenceSeconds).count).toBe(3);
    expect(delta(after.fillSeconds, before.fillSeconds).count).toBe(3);
    const wait = delta(after.queueWaitSeconds, before.queueWaitSeconds);
    expect(wait.count).toBe(20);
    const inference = delta(after.inferenceSeconds, before.inferenceSeconds);
    expect(inference.sum).toBeGreaterThan(0);
    expect(inference.sum).toBeLessThan(60);
  });

  it('times decode and preprocessing once per image and counts failed calls', async () => {
    const before = model.stats().image;
    await model.embedImages([photo, photo, photo, photo, photo]);
    await expect(model.embedImages([path.join(repoRoot, 'no-such-image.jpg')])).rejects.toBeInstanceOf(CrossmodalError);
    const after = model.stats().image;
    expect(after.requests - before.requests).toBe(2);
    expect(after.failedRequests - before.failedRequests).toBe(1);
    expect(delta(after.decodeSeconds, before.decodeSeconds).count).toBe(5); // the missing file never decoded
    expect(delta(after.preprocessSeconds, before.preprocessSeconds).count).toBe(5);
    // A 640x427 JPEG takes real time to decode: more than a microsecond, less than 10 s.
    const decode = delta(after.decodeSeconds, before.decodeSeconds);
    expect(decode.sum / decode.count).toBeGreaterThan(1e-6);
    expect(decode.sum / decode.count).toBeLessThan(10);
    expect(delta(after.batchRows, before.batchRows).sum).toBe(6); // 4 + 1, then the failing call's row
  });

  it('reports queued rows while a tower is busy', async () => {
    // Rows reach the queue once the prepare thread has tokenised them and leave it in batches of
    // at most 32, so a single snapshot can land between the two; the deepest of the snapshots
    // taken while 400 calls are pending must show a queue.
    const calls = Array.from({ length: 400 }, () => model.embedTexts(['queue depth probe']));
    let settled = false;
    const all = Promise.all(calls).finally(() => {
      settled = true;
    });
    let deepest = 0;
    while (!settled) {
      deepest = Math.max(deepest, model.stats().text.queuedRows);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await all;
    expect(deepest).toBeGreaterThan(0);
    expect(deepest).toBeLessThanOrEqual(400);
    expect(model.stats().text.queuedRows).toBe(0);
  });

  it('rejects after dispose', async () => {
    const other = await load(tinyBundle, { device: 'cpu', warmup: false });
    other.dispose();
    expect(() => other.stats()).toThrow(expect.objectContaining({ code: 'ERR_DISPOSED' }));
  });
});
