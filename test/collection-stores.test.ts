// The behaviours both collection stores share, run against each: the local store (SQLite + FAISS
// in a directory) and the PostgreSQL store (pgvector, on a throwaway cluster). Store-specific
// behaviour lives in collection.test.ts and collection-postgres.test.ts.
import { afterAll, describe, expect, it } from 'vitest';
import { openCollection, type CollectionApi, type CollectionModel } from '../lib/index';
import { scratchDirs } from './helpers';
import { postgresUnavailable, startCluster, type TestCluster } from './helpers/postgres';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { fakeModel, vectorFor } = require('./helpers/fake-model.cjs') as {
  fakeModel: (dim?: number, fingerprint?: string) => CollectionModel;
  vectorFor: (key: string, dim: number) => Float32Array;
};

let haveSqlite = true;
try {
  require.resolve('better-sqlite3');
} catch {
  haveSqlite = false;
}
const pgUnavailable = postgresUnavailable();

interface StoreUnderTest {
  name: string;
  skip: string | null;
  /** Opens the collection called `location` (created on first open) with `model`. */
  open(location: string, model: CollectionModel): Promise<CollectionApi>;
}

const freshDir = scratchDirs('crossmodal-stores-');
const dirs = new Map<string, string>();
let cluster: TestCluster | undefined;

const stores: StoreUnderTest[] = [
  {
    name: 'sqlite',
    skip: haveSqlite ? null : 'better-sqlite3 is not installed',
    open: async (location, model) => {
      if (!dirs.has(location)) dirs.set(location, freshDir());
      return openCollection(dirs.get(location) as string, { model });
    },
  },
  {
    name: 'postgres',
    skip: pgUnavailable,
    open: async (location, model) => {
      cluster ??= startCluster();
      return openCollection(cluster.url as `postgresql://${string}`, { model, collection: `shared_${location}` });
    },
  },
];

afterAll(() => {
  cluster?.destroy();
});

async function rejection(promise: Promise<unknown>): Promise<{ code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code?: string };
  }
  throw new Error('expected a rejection');
}

let counter = 0;
const fresh = (): string => `s${process.pid}_${++counter}`;

for (const store of stores) {
  if (store.skip) console.warn(`collection-stores (${store.name}): skipped (${store.skip})`);
  describe.skipIf(store.skip !== null)(`collection store: ${store.name}`, () => {
    it('adds with de-duplication and the same ids for repeats', async () => {
      const c = await store.open(fresh(), fakeModel());
      const texts = Array.from({ length: 30 }, (_, i) => `caption ${i}`);
      const r = await c.addTexts(texts, { lang: 'en' }, { batchSize: 7 });
      expect(r.added).toBe(30);
      const again = await c.addTexts(['caption 3', 'new', 'new']);
      expect(again).toEqual({ ids: [r.ids[3], again.ids[1], again.ids[1]], added: 1, duplicates: 2 });
      const v = await c.addVectors(new Float32Array([...vectorFor('p', 16), ...vectorFor('q', 16)]), ['p', 'q']);
      expect(v.added).toBe(2);
      expect((await c.addVectors(vectorFor('p', 16), ['p'])).ids).toEqual([v.ids[0]]);
      const stats = await c.stats();
      expect([stats.count, stats.texts, stats.vectors, stats.images, stats.dim, stats.metric]).toEqual([
        33,
        31,
        2,
        0,
        16,
        'cosine',
      ]);
      await c.close();
    });

    it('searches with where filters and ranks by cosine', async () => {
      const c = await store.open(fresh(), fakeModel());
      const texts = Array.from({ length: 40 }, (_, i) => `item ${i}`);
      const r = await c.addTexts(
        texts,
        texts.map((_, i) => ({ group: i % 4, score: i, name: `n${i}` })),
      );
      const target = vectorFor('text:item 17', 16);
      const hits = await c.searchVector(target, { k: 5 });
      expect(hits[0]?.source).toBe('item 17');
      expect(hits[0]?.score).toBeCloseTo(1, 5);
      for (let i = 1; i < hits.length; i++) expect(hits[i]!.score).toBeLessThanOrEqual(hits[i - 1]!.score);
      expect((await c.searchText('item 17', { k: 1 }))[0]?.source).toBe('item 17');
      const grouped = await c.searchVector(target, { k: 5, where: { group: 2 } });
      expect(grouped).toHaveLength(5);
      for (const h of grouped) expect(h.metadata.group).toBe(2);
      expect((await c.find({ score: { $gt: 35 } })).sort()).toEqual(r.ids.slice(36).sort());
      expect((await c.find({ score: { $in: [1, 2, 77] } })).sort()).toEqual([r.ids[1], r.ids[2]].sort());
      expect((await c.find({ group: { $ne: 0 }, score: { $lt: 8 } })).length).toBe(6);
      expect(await c.find({ name: 'n5' })).toEqual([r.ids[5]]);
      expect((await c.find({ kind: 'text' })).length).toBe(40);
      expect((await rejection(c.find({ 'a b': 1 }))).code).toBe('ERR_INVALID_ARGUMENT');
      await c.close();
    });

    it('removes, gets and updates metadata', async () => {
      const c = await store.open(fresh(), fakeModel());
      const r = await c.addTexts(['one', 'two'], [{ a: 1, b: { c: 2, d: 3 } }, {}]);
      const [one, two] = r.ids as [bigint, bigint];
      expect(await c.updateMetadata(one, { b: { c: null }, e: 5 }, { merge: true })).toBe(true);
      expect((await c.get(one))?.metadata).toEqual({ a: 1, b: { d: 3 }, e: 5 });
      expect(await c.updateMetadata(one, { x: 1 })).toBe(true);
      expect((await c.get(one))?.metadata).toEqual({ x: 1 });
      expect(await c.updateMetadata(424242n, {})).toBe(false);
      expect(await c.remove([two, 424242n])).toBe(1);
      expect(await c.get(two)).toBeNull();
      expect((await c.searchVector(vectorFor('text:two', 16), { k: 2 })).map((h) => h.source)).toEqual(['one']);
      await c.close();
    });

    it('keeps items across reopen, binds the model, and rejects calls after close', async () => {
      const location = fresh();
      const c = await store.open(location, fakeModel());
      await c.addTexts(['kept']);
      await c.close();
      await c.close();
      expect((await rejection(c.searchText('kept'))).code).toBe('ERR_DISPOSED');
      expect((await rejection(c.addTexts(['x']))).code).toBe('ERR_DISPOSED');
      expect((await rejection(store.open(location, fakeModel(16, 'another-model')))).code).toBe('ERR_MODEL_MISMATCH');
      const again = await store.open(location, fakeModel());
      expect((await again.searchText('kept', { k: 1 }))[0]?.source).toBe('kept');
      await again.close();
    });
  });
}
