// VectorIndex operations on every index type: ids, add/upsert/remove/has/reconstruct, filters,
// range search, training, argument checks.
import { describe, expect, it } from 'vitest';
import { native } from '../lib/binding';
import { createIndex, recommendIndex, type IndexOptions, type IndexType } from '../lib/index';
import { exactTopK, gaussianVectors, row } from './helpers/vectors';

const dim = 32;
const n = 1200;
const data = gaussianVectors(n, dim, 11);
const queries = gaussianVectors(8, dim, 12);

// Small parameters so these structural tests are quick; recall at defaults is in index-recall.test.ts.
const configs: Record<IndexType, IndexOptions> = {
  flat: { dim },
  hnsw: { dim, type: 'hnsw', M: 16, efConstruction: 64, efSearch: 256 },
  'ivf-flat': { dim, type: 'ivf-flat', nlist: 8, nprobe: 8 },
  'ivf-pq': { dim, type: 'ivf-pq', nlist: 8, nprobe: 8, pqM: 8, refineFactor: 32 },
  factory: { dim, type: 'factory', factory: 'IVF8,Flat', nprobe: 8 },
};
const bigBase = 2n ** 62n;
const ids = BigInt64Array.from({ length: n }, (_, i) => bigBase + BigInt(i) * 1_000_003n);

describe.each(Object.keys(configs) as IndexType[])('%s index', (type) => {
  const options = configs[type];
  const exactish = type !== 'factory' || true;

  it('round-trips 64-bit ids and finds each vector as its own nearest neighbour', async () => {
    const index = createIndex(options);
    expect(await index.add(data, ids)).toBe(n);
    expect(index.size).toBe(n);
    const results = await index.search(data.subarray(0, 20 * dim), 1);
    for (let q = 0; q < 20; q++) {
      expect(results.get(q)[0]?.id).toBe(ids[q]);
      expect(results.get(q)[0]?.score).toBeCloseTo(1, 4);
    }
    index.dispose();
  });

  it('returns the exact top-k where it is exhaustive', async () => {
    if (!exactish) return;
    const index = createIndex(options);
    await index.add(data, ids);
    const results = await index.search(queries, 10);
    let hits = 0;
    for (let q = 0; q < 8; q++) {
      const expected = exactTopK(data, row(queries, q, dim), dim, 10).map((i) => ids[i]);
      const got = results.get(q).map((h) => h.id);
      if (type === 'flat') expect(got).toEqual(expected);
      hits += got.filter((id) => expected.includes(id)).length;
    }
    // nprobe = nlist makes IVF exhaustive; HNSW at efSearch 256 over 1200 points is near-exact.
    expect(hits / 80).toBeGreaterThanOrEqual(type === 'flat' ? 1 : 0.95);
    index.dispose();
  });

  it('refuses duplicate ids atomically and replaces them with upsert', async () => {
    const index = createIndex(options);
    await index.add(data, ids);
    await expect(index.add(row(data, 0, dim), [ids[5] as bigint])).rejects.toMatchObject({ code: 'ERR_INDEX' });
    await expect(index.add(data.subarray(0, 2 * dim), [1n, 1n])).rejects.toMatchObject({ code: 'ERR_INDEX' });
    expect(index.size).toBe(n);
    // Replace id 5's vector with query 0: it must now be the best hit for query 0.
    expect(await index.upsert(row(queries, 0, dim), [ids[5] as bigint])).toBe(n);
    const results = await index.search(row(queries, 0, dim), 1);
    expect(results.get(0)[0]?.id).toBe(ids[5]);
    expect(results.get(0)[0]?.score).toBeCloseTo(1, 4);
    index.dispose();
  });

  it('removes ids so searches never return them', async () => {
    const index = createIndex(options);
    await index.add(data, ids);
    const victims = Array.from({ length: 100 }, (_, i) => ids[i * 7] as bigint);
    expect(await index.remove([...victims, 12345n])).toBe(100);
    expect(index.size).toBe(n - 100);
    expect(await index.has(victims[0] as bigint)).toBe(false);
    expect(await index.has([ids[1] as bigint, victims[3] as bigint])).toEqual([true, false]);
    const results = await index.search(data.subarray(0, 70 * dim), 5);
    const gone = new Set(victims);
    for (let q = 0; q < 70; q++) for (const h of results.get(q)) expect(gone.has(h.id)).toBe(false);
    // Removing again is a no-op; re-adding a removed id works.
    expect(await index.remove(victims.slice(0, 3))).toBe(0);
    await index.add(row(data, 0, dim), [victims[0] as bigint]);
    expect((await index.search(row(data, 0, dim), 1)).get(0)[0]?.id).toBe(victims[0]);
    index.dispose();
  });

  it('filters with allow-lists and deny-lists inside the search', async () => {
    const index = createIndex(options);
    await index.add(data, ids);
    const allowRows = Array.from({ length: 40 }, (_, i) => i * 29);
    const allow = allowRows.map((i) => ids[i] as bigint);
    const results = await index.search(queries, 5, { filter: { allow } });
    for (let q = 0; q < 8; q++) {
      const expected = exactTopK(data, row(queries, q, dim), dim, 5, 'ip', (i) => allowRows.includes(i)).map(
        (i) => ids[i],
      );
      const got = results.get(q).map((h) => h.id);
      expect(got.every((id) => allow.includes(id))).toBe(true);
      expect(got).toHaveLength(5);
      if (type !== 'ivf-pq' && type !== 'factory') expect(got).toEqual(expected);
    }
    // Deny the true nearest neighbour of each query: it must disappear, the rest stay.
    const nearest = Array.from(
      { length: 8 },
      (_, q) => ids[exactTopK(data, row(queries, q, dim), dim, 1)[0] as number] as bigint,
    );
    const denied = await index.search(queries, 3, { filter: { deny: nearest } });
    for (let q = 0; q < 8; q++) for (const h of denied.get(q)) expect(nearest.includes(h.id)).toBe(false);
    // An allow-list of absent ids yields only padding.
    const none = await index.search(row(queries, 0, dim), 3, { filter: { allow: [1n, 2n] } });
    expect(none.get(0)).toEqual([]);
    expect(Array.from(none.ids)).toEqual([-1n, -1n, -1n]);
    index.dispose();
  });

  it('range-searches by score threshold', async () => {
    const index = createIndex(options);
    await index.add(data, ids);
    const threshold = 0.45;
    const r = await index.rangeSearch(queries, threshold);
    for (let q = 0; q < 8; q++) {
      const hits = r.get(q);
      const expected = exactTopK(data, row(queries, q, dim), dim, n).filter((i) => {
        let s = 0;
        for (let d = 0; d < dim; d++) s += (data[i * dim + d] as number) * (queries[q * dim + d] as number);
        return s >= threshold + 1e-4;
      });
      for (const h of hits) expect(h.score).toBeGreaterThanOrEqual(threshold);
      for (let j = 1; j < hits.length; j++) expect(hits[j]!.score).toBeLessThanOrEqual(hits[j - 1]!.score);
      const got = new Set(hits.map((h) => h.id));
      for (const i of expected) expect(got.has(ids[i] as bigint)).toBe(true);
    }
    index.dispose();
  });

  it('reconstructs stored vectors where the type keeps them', async () => {
    const index = createIndex(options);
    await index.add(data.subarray(0, 300 * dim), ids.subarray(0, 300));
    const info = await index.info();
    if (!info.canReconstruct) {
      await expect(index.reconstruct(ids[3] as bigint)).rejects.toMatchObject({ code: 'ERR_INDEX' });
      return;
    }
    const v = await index.reconstruct(ids[3] as bigint);
    expect(v).not.toBeNull();
    for (let d = 0; d < dim; d++) expect(v![d]).toBeCloseTo(data[3 * dim + d] as number, 5);
    expect(await index.reconstruct(7n)).toBeNull();
    index.dispose();
  });
});

describe('VectorIndex specifics', () => {
  it('answers a search with one native block (ids, then scores) that both typed arrays view', async () => {
    const index = createIndex({ dim: 2, metric: 'ip' });
    await index.add([7n, 9n, 11n], new Float32Array([1, 0, 0, 1, 0.6, 0.8]));
    // k = 4 on 3 vectors: clamped to 3 before the block is allocated (results.k says so).
    const results = await index.search(new Float32Array([0, 1, 1, 0]), 4);
    expect(results.k).toBe(3);
    expect(results.ids.buffer).toBe(results.scores.buffer);
    expect(results.ids.byteOffset).toBe(0);
    expect(results.scores.byteOffset).toBe(2 * 3 * 8);
    expect(results.ids.buffer.byteLength).toBe(2 * 3 * 12);
    expect(Array.from(results.ids)).toEqual([9n, 11n, 7n, 7n, 11n, 9n]);
    expect(Array.from(results.scores.subarray(0, 3))).toEqual([1, expect.closeTo(0.8, 6), 0]);
    // Padding remains for hits a filter leaves out.
    const filtered = await index.search(new Float32Array([0, 1]), 3, { filter: { deny: [7n] } });
    expect(Array.from(filtered.ids)).toEqual([9n, 11n, -1n]);
    expect(filtered.scores[2]).toBeNaN();
    const none = await index.search(new Float32Array(0), 3);
    expect([none.queries, none.ids.length, none.scores.length]).toEqual([0, 0, 0]);
  });

  it('validates search arguments in the addon too, not only in TypeScript', async () => {
    const raw = new (native().VectorIndex)(JSON.stringify({ dim: 2, metric: 'ip', type: 'flat' }));
    await raw.add(new Float32Array([1, 0]), BigInt64Array.of(5n), false);
    const query = new Float32Array([1, 0]);
    const bad: unknown[][] = [
      [0, undefined, undefined, undefined], // efSearch must be positive
      [1.5, undefined, undefined, undefined],
      ['8', undefined, undefined, undefined],
      [undefined, -1, undefined, undefined], // nprobe
      [undefined, undefined, BigInt64Array.of(5n), BigInt64Array.of(6n)], // allow and deny
      [undefined, undefined, [5], undefined], // not a BigInt64Array
    ];
    for (const args of bad) {
      let error: unknown;
      try {
        await (raw.search as (...a: unknown[]) => Promise<ArrayBuffer>)(query, 1, ...args);
      } catch (e) {
        error = e;
      }
      expect(
        error,
        JSON.stringify(args, (_, v) => (typeof v === 'bigint' ? String(v) : v)),
      ).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    }
    const buffer = await raw.search(query, 1, undefined, undefined, BigInt64Array.of(5n), undefined);
    expect(new BigInt64Array(buffer, 0, 1)[0]).toBe(5n);
    raw.dispose();
  });

  it('accepts (ids, vectors) as well as (vectors, ids)', async () => {
    const index = createIndex({ dim: 2, metric: 'ip' });
    await index.add([7n, 9n], new Float32Array([1, 0, 0, 1]));
    expect((await index.search(new Float32Array([0, 1]), 1)).get(0)[0]?.id).toBe(9n);
  });

  it('refuses unsafe integer ids, negative ids and NaN vectors', async () => {
    const index = createIndex({ dim: 2 });
    await expect(index.add(new Float32Array([1, 0]), [2 ** 53 + 2])).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
    await expect(index.add(new Float32Array([1, 0]), [-1])).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(index.add(new Float32Array([NaN, 0]))).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(
      index.search(new Float32Array([1, 0]), 1, { filter: { allow: [1], deny: [2] } as never }),
    ).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
    expect(index.size).toBe(0);
  });

  it('trains IVF on the first large enough add, or refuses a too-small one', async () => {
    const index = createIndex({ dim, type: 'ivf-flat', nlist: 64 });
    await expect(index.add(data.subarray(0, 10 * dim))).rejects.toMatchObject({ code: 'ERR_INDEX' });
    expect(index.size).toBe(0);
    await index.train(data);
    expect((await index.info()).trained).toBe(true);
    await index.add(data.subarray(0, 10 * dim));
    expect(index.size).toBe(10);
    const auto = createIndex({ dim, type: 'ivf-flat' });
    await auto.add(data);
    const info = await auto.info();
    expect(info.params.nlist).toBe(16); // 4·√1200 ≈ 139 capped by 1200 / 39 ≈ 30 → 16
  });

  it('drops HNSW tombstones on rebuild and keeps results', async () => {
    const index = createIndex(configs.hnsw);
    await index.add(data, ids);
    await index.remove(ids.subarray(0, 200));
    expect((await index.info()).tombstones).toBe(200);
    expect(await index.rebuild()).toBe(n - 200);
    const info = await index.info();
    expect(info.tombstones).toBe(0);
    expect(info.slots).toBe(n - 200);
    expect((await index.search(row(data, 500, dim), 1)).get(0)[0]?.id).toBe(ids[500]);
  });

  it('rejects ERR_DISPOSED after dispose, and dispose is idempotent', async () => {
    const index = createIndex({ dim: 2 });
    index.dispose();
    index.dispose();
    expect(() => index.size).toThrow(expect.objectContaining({ code: 'ERR_DISPOSED' }));
    await expect(index.search(new Float32Array(2), 1)).rejects.toMatchObject({ code: 'ERR_DISPOSED' });
    await expect(index.save('/tmp/x.idx')).rejects.toMatchObject({ code: 'ERR_DISPOSED' });
  });

  it('recommends exact search below 100k vectors and approximate above', () => {
    expect(recommendIndex(50_000, 512).type).toBe('flat');
    expect(recommendIndex(1_000_000, 512).type).toBe('hnsw');
    expect(recommendIndex(50_000_000, 512).type).toBe('ivf-pq');
    expect(recommendIndex(1_000_000, 512).reason).toMatch(/HNSW/);
  });

  it('validates options in TypeScript and again natively', () => {
    expect(() => createIndex({ dim: 0 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => createIndex({ dim: 8, type: 'bogus' as IndexType })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    expect(() => createIndex({ dim: 30, type: 'ivf-pq', pqM: 7 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    // A factory string FAISS cannot parse is the caller's argument (test/index-safety.test.ts).
    expect(() => createIndex({ dim: 8, type: 'factory', factory: 'NotAnIndex' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });
});
