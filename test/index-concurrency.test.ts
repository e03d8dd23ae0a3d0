// Searches running while adds and removes happen: no crash, no torn result, event loop free.
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createIndex, type IndexOptions } from '../lib/index';
import { gaussianVectors, row } from './helpers/vectors';

const dim = 24;

// Every vector of batch b has all coordinates near b, so a search result can be checked for
// consistency: ids of batch b must carry batch b's vector, and a search never sees part of a batch.
function batchVectors(batch: number, count: number): Float32Array {
  const noise = gaussianVectors(count, dim, 1000 + batch, false);
  const out = new Float32Array(count * dim);
  for (let i = 0; i < out.length; i++) out[i] = (i % dim === batch % dim ? 5 : 0) + 0.01 * (noise[i] as number);
  return out;
}

describe.each<[string, IndexOptions]>([
  ['flat', { dim, metric: 'l2' }],
  // The 24 tight clusters, far apart, are a pathological case for HNSW: with M 8 / efConstruction
  // 32 / efSearch 64, 4% of plain searches (no concurrency at all) miss part of their cluster,
  // which the consistency check would mistake for a torn read. These settings miss none (0/480).
  ['hnsw', { dim, metric: 'l2', type: 'hnsw', M: 16, efConstruction: 100, efSearch: 200 }],
  ['ivf-flat', { dim, metric: 'l2', type: 'ivf-flat', nlist: 4, nprobe: 4 }],
])('%s under concurrent load', (_name, options) => {
  it('keeps every search consistent while adds and removes run', async () => {
    const index = createIndex(options);
    const perBatch = 200;
    await index.add(
      batchVectors(0, perBatch),
      BigInt64Array.from({ length: perBatch }, (_, i) => BigInt(i)),
    );
    const batches = 24;
    const writers = (async () => {
      for (let b = 1; b < batches; b++) {
        const ids = BigInt64Array.from({ length: perBatch }, (_, i) => BigInt(b * perBatch + i));
        await index.add(batchVectors(b, perBatch), ids);
        if (b % 4 === 0)
          await index.remove(BigInt64Array.from({ length: 50 }, (_, i) => BigInt((b - 1) * perBatch + i)));
      }
    })();
    const readers: Promise<void>[] = [];
    let searches = 0;
    let eventLoopTicks = 0;
    const ticker = setInterval(() => eventLoopTicks++, 1);
    for (let r = 0; r < 6; r++) {
      readers.push(
        (async () => {
          for (let i = 0; i < 60; i++) {
            const b = (r * 7 + i) % batches;
            const q = row(batchVectors(b, 1), 0, dim);
            const res = await index.search(q, 20);
            searches++;
            const hits = res.get(0);
            // Either batch b is not yet (fully) visible — then no hit belongs to it — or all 20
            // hits come from batch b (it holds ≥ 150 live vectors, all far closer than others).
            const fromBatch = hits.filter((h) => Number(h.id) >= b * perBatch && Number(h.id) < (b + 1) * perBatch);
            expect(fromBatch.length === 0 || fromBatch.length === hits.length).toBe(true);
            for (let j = 1; j < hits.length; j++) expect(hits[j]!.score).toBeGreaterThanOrEqual(hits[j - 1]!.score);
            const sizeNow = index.size;
            expect(sizeNow).toBeGreaterThanOrEqual(perBatch);
          }
        })(),
      );
    }
    await Promise.all([writers, ...readers]);
    clearInterval(ticker);
    expect(searches).toBe(360);
    expect(eventLoopTicks).toBeGreaterThan(0);
    expect(index.size).toBe(batches * perBatch - 5 * 50);
    // After everything settled, every batch is found completely.
    for (let b = 0; b < batches; b++) {
      const hits = (await index.search(row(batchVectors(b, 1), 0, dim), 20)).get(0);
      expect(hits.every((h) => Number(h.id) >= b * perBatch && Number(h.id) < (b + 1) * perBatch)).toBe(true);
    }
  });
});

describe('event loop', () => {
  it('stays responsive during a long add and a long search', async () => {
    const big = gaussianVectors(15_000, 64, 5);
    const index = createIndex({ dim: 64, type: 'hnsw', M: 16, efConstruction: 80 });
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 5);
    const started = Date.now();
    await index.add(big);
    const elapsed = Date.now() - started;
    clearInterval(ticker);
    // The timer keeps firing while FAISS builds the graph on a worker thread.
    expect(ticks).toBeGreaterThan(Math.min(20, elapsed / 50));
    expect(index.size).toBe(15_000);
  });

  it("does not occupy libuv's pool: file reads proceed while many long searches are queued", async () => {
    // Searches run on crossmodal's own pool. Were they on libuv's (FIFO, UV_THREADPOOL_SIZE threads
    // shared with fs, dns, zlib and crypto), a read queued behind these searches could not even
    // start before all but poolSize - 1 of them had settled. Counting settled searches instead of
    // comparing durations keeps the test independent of the machine's speed and load.
    const index = createIndex({ dim: 128, metric: 'ip' });
    await index.add(gaussianVectors(50_000, 128, 21));
    const queries = gaussianVectors(300, 128, 22);
    const deny = { filter: { deny: [1n] } }; // the selector path: one scan per query, no BLAS
    const libuvPoolSize = Number(process.env.UV_THREADPOOL_SIZE || 4);
    const searchCount = libuvPoolSize + 4;
    let settled = 0;
    const searches = Array.from({ length: searchCount }, () =>
      index.search(queries, 10, deny).then((r) => {
        settled++;
        return r;
      }),
    );
    await fs.promises.readFile(__filename);
    const settledBeforeRead = settled;
    await Promise.all(searches);
    expect(settled).toBe(searchCount);
    // On libuv's pool at least searchCount - libuvPoolSize + 1 = 5 would have settled.
    expect(settledBeforeRead).toBeLessThanOrEqual(2);
    index.dispose();
  });

  it('disposing while searches are in flight lets them finish', async () => {
    const index = createIndex({ dim });
    await index.add(gaussianVectors(5000, dim, 3));
    const pending = Array.from({ length: 8 }, () => index.search(gaussianVectors(4, dim, 9), 5));
    index.dispose();
    const results = await Promise.all(pending);
    for (const r of results) expect(r.get(0)).toHaveLength(5);
    await expect(index.search(gaussianVectors(1, dim, 9), 5)).rejects.toMatchObject({ code: 'ERR_DISPOSED' });
  });
});
