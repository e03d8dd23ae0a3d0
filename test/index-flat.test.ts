// The flat FAISS index: nearest neighbours, ids, metrics, padding.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIndex, Embeddings, load, type Model } from '../lib/index';
import { readTinyReference, referenceImagePaths, tinyBundle } from './helpers';
import { exactTopK, gaussianVectors } from './helpers/vectors';

describe('search over model embeddings', () => {
  let model: Model;
  beforeAll(async () => {
    model = await load(tinyBundle, { device: 'cpu' });
  });
  afterAll(() => model?.dispose());

  it('finds each indexed image as its own nearest neighbour', async () => {
    const reference = readTinyReference();
    const images = await model.embedImages(referenceImagePaths(reference));
    const index = createIndex({ dim: model.dim });
    expect(await index.add(images)).toBe(images.count);
    const results = await index.search(images, 2);
    for (let q = 0; q < images.count; q++) {
      const hits = results.get(q);
      expect(hits[0]?.id).toBe(BigInt(q));
      expect(hits[0]?.score).toBeCloseTo(1, 5);
      expect(hits[1]?.score).toBeLessThan(hits[0]?.score as number);
    }
    index.dispose();
  });

  it('ranks images for a text query in cosine order', async () => {
    const reference = readTinyReference();
    const images = await model.embedImages(referenceImagePaths(reference));
    const query = await model.embedTexts([reference.captions[0] as string]);
    const index = createIndex({ dim: model.dim });
    await index.add(
      images,
      Array.from({ length: images.count }, (_, i) => 1000 + i),
    );
    const results = await index.search(query, images.count);
    const expected = exactTopK(images.data, query.data, model.dim, images.count, 'ip').map((i) => BigInt(1000 + i));
    expect(results.get(0).map((h) => h.id)).toEqual(expected);
    index.dispose();
  });
});

describe('VectorIndex', () => {
  const dim = 24;
  const data = gaussianVectors(300, dim, 7, false);
  const queries = gaussianVectors(5, dim, 99, false);

  for (const metric of ['ip', 'l2'] as const) {
    it(`returns the exact top-k for metric ${metric}`, async () => {
      const index = createIndex({ dim, metric });
      await index.add(data);
      const results = await index.search(queries, 10);
      for (let q = 0; q < 5; q++) {
        const expected = exactTopK(data, queries.subarray(q * dim, (q + 1) * dim), dim, 10, metric);
        expect(results.get(q).map((h) => Number(h.id))).toEqual(expected);
      }
    });
  }

  it('normalises vectors for the cosine metric', async () => {
    const index = createIndex({ dim: 2 });
    await index.add(new Float32Array([10, 0, 0, 0.5, 1, 1]));
    const results = await index.search(new Float32Array([0, 3]), 3);
    expect(results.get(0).map((h) => h.id)).toEqual([1n, 2n, 0n]);
    expect(results.get(0)[0]?.score).toBeCloseTo(1, 6);
    expect(results.get(0)[1]?.score).toBeCloseTo(Math.SQRT1_2, 6);
  });

  it('keeps 64-bit ids exactly', async () => {
    const index = createIndex({ dim: 2, metric: 'ip' });
    const big = [2n ** 62n + 12345n, 9007199254740993n, 1n];
    await index.add(new Float32Array([1, 0, 0, 1, -1, 0]), new BigInt64Array(big));
    const results = await index.search(new Float32Array([1, 0.1, 0.1, 1]), 3);
    expect(results.get(0)[0]?.id).toBe(big[0]);
    expect(results.get(1)[0]?.id).toBe(big[1]);
  });

  it('continues automatic ids after the largest id', async () => {
    const index = createIndex({ dim: 2, metric: 'ip' });
    await index.add(new Float32Array([1, 0]), [41]);
    await index.add(new Float32Array([0, 1]));
    const results = await index.search(new Float32Array([0, 1]), 1);
    expect(results.get(0)[0]?.id).toBe(42n);
    expect(index.size).toBe(2);
  });

  it('clamps k to the index size before allocating results', async () => {
    const index = createIndex({ dim: 2 });
    await index.add(new Float32Array([1, 0, 0, 1]));
    const results = await index.search(new Float32Array([1, 0]), 5);
    expect(results.k).toBe(2);
    expect(results.ids).toHaveLength(2);
    expect(results.get(0)).toHaveLength(2);
    // The largest k the API accepts costs no more than k = size (it used to allocate 48 GB).
    const huge = await index.search(new Float32Array([1, 0, 0, 1]), 2 ** 32 - 1);
    expect(huge.k).toBe(2);
    expect(huge.ids).toHaveLength(4);
  });

  it('pads with -1 ids and NaN scores when a filter leaves fewer than k', async () => {
    const index = createIndex({ dim: 2 });
    await index.add(new Float32Array([1, 0, 0, 1, 1, 1]));
    const results = await index.search(new Float32Array([1, 0]), 3, { filter: { deny: [0n, 1n] } });
    expect(results.k).toBe(3);
    expect(Array.from(results.ids.slice(1))).toEqual([-1n, -1n]);
    expect(Number.isNaN(results.scores[2])).toBe(true);
    expect(results.get(0)).toHaveLength(1);
  });

  it('searches an empty index without error', async () => {
    const index = createIndex({ dim: 3 });
    const results = await index.search(new Float32Array(3), 2);
    expect(results.get(0)).toEqual([]);
  });

  it('accepts Embeddings and checks their width', async () => {
    const index = createIndex({ dim: 4 });
    await index.add(new Embeddings(new Float32Array([1, 0, 0, 0, 0, 1, 0, 0]), 2, 4));
    expect(index.size).toBe(2);
    await expect(index.add(new Embeddings(new Float32Array(6), 2, 3))).rejects.toMatchObject({
      code: 'ERR_DIMENSION_MISMATCH',
    });
  });
});
