// Recall at default parameters on 20k random normalised 512-d vectors (no cluster structure: the
// hard case for approximate search). Flat must be exact; every approximate type must reach
// recall@10 ≥ 0.95 against it. Building HNSW on 20k × 512 takes minutes on a loaded 2-core
// machine, hence the long timeouts.
import { beforeAll, describe, expect, it } from 'vitest';
import { createIndex, recallAgainstExact, type IndexType, type SearchResults } from '../lib/index';
import { exactTopK, gaussianVectors, row } from './helpers/vectors';

const n = 20_000;
const dim = 512;
const nq = 100;
const k = 10;
const data = gaussianVectors(n, dim, 2024);
const queries = gaussianVectors(nq, dim, 4048);
let truth: SearchResults;

function recall(results: SearchResults): number {
  return recallAgainstExact(results.ids, truth.ids, nq, k);
}

describe('recall at default parameters (20k × 512, random)', () => {
  beforeAll(async () => {
    const flat = createIndex({ dim });
    await flat.add(data);
    truth = await flat.search(queries, k);
  }, 300_000);

  it('flat returns the exact top-k', () => {
    for (let q = 0; q < 5; q++) {
      expect(truth.get(q).map((h) => Number(h.id))).toEqual(exactTopK(data, row(queries, q, dim), dim, k));
    }
  });

  it.each<IndexType>(['hnsw', 'ivf-flat', 'ivf-pq'])(
    '%s reaches recall@10 ≥ 0.95',
    async (type) => {
      const index = createIndex({ dim, type });
      await index.add(data);
      const r = recall(await index.search(queries, k));
      console.log(`recall@10 ${type} (defaults: ${(await index.info()).description}): ${r.toFixed(3)}`);
      expect(r).toBeGreaterThanOrEqual(0.95);
      index.dispose();
    },
    1_200_000,
  );
});
