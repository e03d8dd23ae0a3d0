// PostgreSQL + pgvector collections against a real server: one throwaway cluster for the file
// (test/helpers/postgres.ts). Shared behaviours with the local store, exact ranking on the tiny
// CLIP model, a selective filter through HNSW iterative scans, two ingesting processes, and a
// server restart during searches.
import { spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrossmodalError, load, openCollection, PostgresCollection } from '../lib/index';
import { dot, readTinyReference, referenceImagePaths, repoRoot, tinyBundle } from './helpers';
import { postgresUnavailable, startCluster, type TestCluster } from './helpers/postgres';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { fakeModel, vectorFor } = require('./helpers/fake-model.cjs') as {
  fakeModel: (
    dim?: number,
    fingerprint?: string,
  ) => {
    fingerprint: string;
    dim: number;
    calls: number;
    embedTexts(t: string[]): Promise<{ data: Float32Array; dim: number }>;
    embedImages(i: unknown[]): Promise<{ data: Float32Array; dim: number }>;
  };
  vectorFor: (key: string, dim: number) => Float32Array;
};

const unavailable = postgresUnavailable();
if (unavailable) console.warn(`collection-postgres: skipped (${unavailable})`);

let cluster: TestCluster;
let counter = 0;
/** A collection name no other test uses. */
const fresh = (): string => `c${process.pid}_${++counter}`;

async function rejection(promise: Promise<unknown>): Promise<CrossmodalError> {
  try {
    await promise;
  } catch (error) {
    return error as CrossmodalError;
  }
  throw new Error('expected a rejection');
}

/** Seeded pseudo-random floats in [-1, 1). */
function randomVectors(n: number, dim: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n * dim);
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

function cosine(a: Float32Array, b: Float32Array): number {
  return dot(a, b) / Math.sqrt(dot(a, a) * dot(b, b));
}

describe.skipIf(unavailable !== null)('PostgreSQL collection', () => {
  beforeAll(() => {
    cluster = startCluster();
  });
  afterAll(() => {
    cluster?.destroy();
  });

  it('adds texts, images and vectors; duplicates are no-ops returning the existing id', async () => {
    const c = await openCollection(cluster.url as `postgresql://${string}`, {
      model: fakeModel(),
      collection: fresh(),
    });
    expect(c).toBeInstanceOf(PostgresCollection);
    const progress: number[] = [];
    const texts = Array.from({ length: 50 }, (_, i) => `caption ${i}`);
    const r = await c.addTexts(texts, { lang: 'en' }, { batchSize: 16, onProgress: (p) => progress.push(p.done) });
    expect(r.added).toBe(50);
    expect(new Set(r.ids.map(String)).size).toBe(50);
    expect(progress).toEqual([16, 32, 48, 50]);
    const again = await c.addTexts(['caption 3', 'new one', 'new one']);
    expect(again).toEqual({ ids: [r.ids[3], again.ids[1], again.ids[1]], added: 1, duplicates: 2 });
    const images = referenceImagePaths(readTinyReference()).slice(0, 3);
    const added = await c.addImages(images, [{ n: 0 }, { n: 1 }, { n: 2 }]);
    expect(added.added).toBe(3);
    const item = await c.get(added.ids[1] as bigint);
    expect(item).toMatchObject({ kind: 'image', source: path.resolve(images[1] as string), metadata: { n: 1 } });
    expect(item?.width).toBeGreaterThan(0);
    expect(item?.addedAt).toBeInstanceOf(Date);
    expect((await c.addImages([images[1] as string])).ids).toEqual([added.ids[1]]);
    const vectors = await c.addVectors(
      new Float32Array([...vectorFor('a', 16), ...vectorFor('b', 16)]),
      ['key a', 'key b'],
      { from: 'outside' },
    );
    expect(vectors.added).toBe(2);
    expect((await c.addVectors(vectorFor('a', 16), ['key a'])).ids).toEqual([vectors.ids[0]]);
    const stats = await c.stats();
    expect(stats).toMatchObject({
      count: 56,
      texts: 51,
      images: 3,
      vectors: 2,
      dim: 16,
      metric: 'cosine',
      fingerprint: 'fake-model-v1',
      pendingChanges: 0,
    });
    expect(stats.index.type).toBe('hnsw');
    expect(stats.bytesOnDisk).toBeGreaterThan(0);
    await c.close();
  });

  it('COPY ingest keeps tabs, newlines, backslashes and \\N in texts and metadata, batch by batch on one connection', async () => {
    // One connection: every batch reuses the session's staging table, which must start empty.
    const c = await openCollection(cluster.url as `postgresql://${string}`, {
      model: fakeModel(),
      collection: fresh(),
      poolSize: 1,
    });
    const texts = ['tab\there', 'line\nbreak', 'back\\slash', '\\N', 'cr\rlf\r\n', 'plain', 'ünïcödé ✓', ''];
    const metadata = texts.map((t, i) => ({ text: t, i, nested: { q: '"\\t"' } }));
    const r = await c.addTexts(texts, metadata, { batchSize: 3 });
    expect(r.added).toBe(texts.length);
    for (let i = 0; i < texts.length; i++) {
      const item = await c.get(r.ids[i] as bigint);
      expect(item?.source).toBe(texts[i]);
      expect(item?.metadata).toEqual(metadata[i]);
      expect(item?.width).toBeNull();
    }
    // The stored vector is the model's, to float32 precision.
    const hit = (await c.searchVector(vectorFor('text:line\nbreak', 16), { k: 1 }))[0];
    expect(hit?.source).toBe('line\nbreak');
    expect(hit?.score).toBeCloseTo(1, 6);
    expect((await c.stats()).count).toBe(texts.length);
    await c.close();
  });

  it('ranks by exact cosine on the tiny CLIP model (searchText and searchImage)', async () => {
    const model = await load(tinyBundle, { device: 'cpu', warmup: false });
    try {
      const c = await openCollection(cluster.url as `postgresql://${string}`, { model, collection: fresh() });
      const images = referenceImagePaths(readTinyReference());
      const texts = [
        'a red circle',
        'a blue square',
        'a green triangle',
        'a photo of a cat',
        'stripes',
        'a yellow star',
      ];
      const ri = await c.addImages(images);
      const rt = await c.addTexts(texts);
      const sources = [...images.map((p) => path.resolve(p)), ...texts];
      const ids = [...ri.ids, ...rt.ids];
      const all = new Float32Array([
        ...(await model.embedImages(images)).data,
        ...(await model.embedTexts(texts)).data,
      ]);
      const dim = model.dim;
      const exact = (q: Float32Array): { id: bigint; score: number }[] =>
        ids
          .map((id, i) => ({ id, score: cosine(q, all.subarray(i * dim, (i + 1) * dim)) }))
          .sort((a, b) => b.score - a.score);
      const k = Math.min(8, ids.length);
      for (const query of ['a red circle', 'something blue']) {
        const hits = await c.searchText(query, { k });
        const expected = exact((await model.embedTexts([query])).data).slice(0, k);
        expect(hits.map((h) => h.id)).toEqual(expected.map((e) => e.id));
        hits.forEach((h, i) => expect(h.score).toBeCloseTo(expected[i]!.score, 4));
      }
      const byImage = await c.searchImage(images[2] as string, { k });
      expect(byImage[0]?.source).toBe(sources[2]);
      expect(byImage[0]?.score).toBeCloseTo(1, 4);
      expect(byImage.map((h) => h.id)).toEqual(
        exact((await model.embedImages([images[2] as string])).data)
          .slice(0, k)
          .map((e) => e.id),
      );
      await c.close();
    } finally {
      model.dispose();
    }
  });

  it('filters with where (equality, $in, $gt, $ne, columns) using parameters only', async () => {
    const c = await openCollection(cluster.url as `postgresql://${string}`, {
      model: fakeModel(),
      collection: fresh(),
    });
    const texts = Array.from({ length: 40 }, (_, i) => `item ${i}`);
    const r = await c.addTexts(
      texts,
      texts.map((_, i) => ({ group: i % 4, score: i, tag: i % 2 ? 'odd' : 'it\'s "even"', nested: { deep: i % 5 } })),
    );
    const target = vectorFor('text:item 17', 16);
    const hits = await c.searchVector(target, { k: 3 });
    expect(hits[0]?.source).toBe('item 17');
    expect(hits[0]?.score).toBeCloseTo(1, 5);
    const filtered = await c.searchVector(target, { k: 5, where: { group: 2 } });
    expect(filtered).toHaveLength(5);
    for (const h of filtered) expect(h.metadata.group).toBe(2);
    const ranged = await c.searchVector(target, { k: 40, where: { score: { $gte: 30, $lt: 35 } } });
    expect(ranged.map((h) => h.metadata.score).sort()).toEqual([30, 31, 32, 33, 34]);
    expect((await c.find({ score: { $gt: 37 } })).length).toBe(2);
    expect(await c.find({ score: { $in: [3, 5, 99] } })).toEqual([r.ids[3], r.ids[5]]);
    // A value with quotes is data, not SQL.
    expect((await c.find({ tag: 'it\'s "even"' })).length).toBe(20);
    expect((await c.find({ tag: { $ne: 'odd' } })).length).toBe(20);
    expect((await c.find({ 'nested.deep': 4 })).length).toBe(8);
    // Range operators compare like with like: a string field is never "greater than" a number.
    expect(await c.find({ tag: { $gt: 0 } })).toEqual([]);
    expect((await c.find({ missing: null })).length).toBe(40);
    expect(await c.find({ kind: { $in: ['image', 'vector'] } })).toEqual([]);
    expect(await c.find({ id: r.ids[7] })).toEqual([r.ids[7]]);
    expect((await c.find({ addedAt: { $lte: new Date() } })).length).toBe(40);
    expect((await rejection(c.find({ 'bad field;': 1 }))).code).toBe('ERR_INVALID_ARGUMENT');
    expect((await rejection(c.find({ width: 'wide' }))).code).toBe('ERR_INVALID_ARGUMENT');
    await c.close();
  });

  it('removes, gets and updates metadata (replace and merge)', async () => {
    const c = await openCollection(cluster.url as `postgresql://${string}`, {
      model: fakeModel(),
      collection: fresh(),
    });
    const r = await c.addTexts(['one', 'two', 'three'], [{ a: 1, b: { c: 2, d: 3 } }, {}, {}]);
    const [one, two] = r.ids as [bigint, bigint];
    expect(await c.updateMetadata(one, { b: { c: null, e: 4 }, f: 'x' }, { merge: true })).toBe(true);
    expect((await c.get(one))?.metadata).toEqual({ a: 1, b: { d: 3, e: 4 }, f: 'x' });
    expect(await c.updateMetadata(one, { only: true })).toBe(true);
    expect((await c.get(one))?.metadata).toEqual({ only: true });
    expect(await c.updateMetadata(999999n, { x: 1 })).toBe(false);
    expect(await c.remove([two, 999999n])).toBe(1);
    expect(await c.get(two)).toBeNull();
    expect((await c.searchVector(vectorFor('text:two', 16), { k: 3 })).map((h) => h.source)).not.toContain('two');
    expect((await c.stats()).count).toBe(2);
    // Re-adding a removed item inserts it again with a new id.
    const back = await c.addTexts(['two']);
    expect(back.added).toBe(1);
    expect(back.ids[0]).not.toBe(two);
    await c.close();
  });

  it('binds the collection to its model, validates names, and closes idempotently', async () => {
    const name = fresh();
    const c = await openCollection(cluster.url as `postgresql://${string}`, { model: fakeModel(), collection: name });
    await c.addTexts(['kept']);
    await c.close();
    const other = await rejection(
      openCollection(cluster.url as `postgresql://${string}`, {
        model: fakeModel(16, 'other-model'),
        collection: name,
      }),
    );
    expect(other.code).toBe('ERR_MODEL_MISMATCH');
    expect(other.message).toContain('fake-model-v1');
    expect(
      (
        await rejection(
          openCollection(cluster.url as `postgresql://${string}`, { model: fakeModel(32), collection: name }),
        )
      ).code,
    ).toBe('ERR_MODEL_MISMATCH');
    // The explicit store option, with the connection string as an option; the data persisted.
    const again = await openCollection('items', {
      store: 'postgres',
      connectionString: cluster.url,
      model: fakeModel(),
      collection: name,
    });
    expect((await again.stats()).count).toBe(1);
    await again.close();
    await again.close();
    expect((await rejection(again.searchText('kept'))).code).toBe('ERR_DISPOSED');
    expect((await rejection(again.addTexts(['x']))).code).toBe('ERR_DISPOSED');
    expect((await rejection(again.stats())).code).toBe('ERR_DISPOSED');
    for (const bad of ['Robert"; DROP TABLE x; --', 'UPPER', '1abc', '']) {
      expect(
        (
          await rejection(
            openCollection(cluster.url as `postgresql://${string}`, { model: fakeModel(), collection: bad }),
          )
        ).code,
      ).toBe('ERR_INVALID_ARGUMENT');
    }
  });

  it('supports halfvec storage, the ip and l2 metrics and a separate schema', async () => {
    for (const [options, first] of [
      [{ halfvec: true }, 1],
      [{ index: { metric: 'ip' as const } }, 1],
      [{ index: { metric: 'l2' as const }, schema: 'vectors_l2' }, 0],
    ] as const) {
      const c = await openCollection(cluster.url as `postgresql://${string}`, {
        model: fakeModel(),
        collection: fresh(),
        m: 8,
        efConstruction: 32,
        ...options,
      });
      await c.addTexts(['x', 'y', 'z']);
      const hits = await c.searchVector(vectorFor('text:y', 16), { k: 3 });
      expect(hits[0]?.source).toBe('y');
      // cosine/ip of a unit vector with itself is 1; the squared l2 distance is 0 (halfvec: 16-bit floats).
      expect(hits[0]?.score).toBeCloseTo(first, 2);
      const stats = await c.stats();
      expect(stats.index.description).toContain('m=8, ef_construction=32');
      if ('halfvec' in options) expect(stats.index.description).toContain('halfvec(16)');
      await c.close();
    }
  });

  it('a selective filter (1% of 5000 rows) returns the full k with recall >= 0.9 against exact search', async () => {
    const dim = 32,
      n = 5000;
    const model = { ...fakeModel(dim, 'vectors-32'), dim };
    const name = fresh();
    const c = await openCollection(cluster.url as `postgresql://${string}`, { model, collection: name });
    const data = randomVectors(n, dim, 7);
    const keys = Array.from({ length: n }, (_, i) => `v${i}`);
    const started = performance.now();
    const r = await c.addVectors(
      data,
      keys,
      keys.map((_, i) => ({ bucket: i % 100 })),
    );
    const seconds = (performance.now() - started) / 1000;
    expect(r.added).toBe(n);
    const queries = randomVectors(20, dim, 99);
    const recallOf = async (coll: typeof c): Promise<number> => {
      let found = 0;
      for (let q = 0; q < 20; q++) {
        const query = queries.subarray(q * dim, (q + 1) * dim);
        const hits = await coll.searchVector(query, { k: 10, where: { bucket: 7 } });
        expect(hits).toHaveLength(10);
        for (const h of hits) expect(h.metadata.bucket).toBe(7);
        const exact = Array.from({ length: n / 100 }, (_, j) => 7 + j * 100)
          .map((i) => ({ id: r.ids[i] as bigint, score: cosine(query, data.subarray(i * dim, (i + 1) * dim)) }))
          .sort((a, b) => b.score - a.score)
          .slice(0, 10);
        const expected = new Set(exact.map((e) => e.id));
        found += hits.filter((h) => expected.has(h.id)).length;
      }
      return found / 200;
    };
    // At this size the planner may answer a 1% filter exactly (scan + sort). A second handle whose
    // sessions disable sequential scans forces the HNSW index, where only the iterative scan
    // fills k: the index alone yields the ~1% of its ef_search candidates that pass.
    const forcedUrl = `${cluster.url}&options=${encodeURIComponent('-c enable_seqscan=off')}`;
    const forced = await openCollection(forcedUrl as `postgresql://${string}`, { model, collection: name });
    const planned = await recallOf(c);
    const viaHnsw = await recallOf(forced);
    console.log(
      `collection-postgres: ingest ${n} × ${dim}-d rows (HNSW index maintained) in ${seconds.toFixed(2)} s = ${Math.round(n / seconds)} rows/s`,
    );
    console.log(
      `collection-postgres: 1% filter over ${n} rows, recall@10 ${planned.toFixed(3)} (planner's choice), ${viaHnsw.toFixed(3)} (HNSW forced)`,
    );
    expect(planned).toBeGreaterThanOrEqual(0.9);
    expect(viaHnsw).toBeGreaterThanOrEqual(0.9);
    await forced.close();
    // The scan budget bounds the iterative scan: with room for a few dozen tuples, a 1% filter
    // through the index finds fewer than k.
    const starved = await openCollection(forcedUrl as `postgresql://${string}`, {
      model,
      collection: name,
      maxScanTuples: 50,
    });
    expect((await starved.searchVector(queries.subarray(0, dim), { k: 10, where: { bucket: 7 } })).length).toBeLessThan(
      10,
    );
    await starved.close();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Client } = require('pg') as typeof import('pg');
    const direct = new Client({ connectionString: forcedUrl });
    await direct.connect();
    try {
      const sql = `SELECT id FROM public.${name} WHERE COALESCE(metadata #> $2::text[], 'null'::jsonb) = $3::jsonb ORDER BY embedding <=> $1::vector LIMIT 10`;
      const params = [JSON.stringify(Array.from(queries.subarray(0, dim))), ['bucket'], '7'];
      const plan = await direct.query(`EXPLAIN ${sql}`, params);
      expect(plan.rows.map((row) => row['QUERY PLAN']).join('\n')).toContain(`${name}_embedding_hnsw`);
      // Without the iterative scan (the server default), the same index scan comes up short.
      expect((await direct.query(sql, params)).rows.length).toBeLessThan(10);
    } finally {
      await direct.end();
    }
    // $in over two buckets (2%) also fills k.
    expect(await c.searchVector(queries.subarray(0, dim), { k: 20, where: { bucket: { $in: [3, 4] } } })).toHaveLength(
      20,
    );
    await c.close();
  });

  it('two processes ingesting into one collection store every item exactly once', async () => {
    const name = fresh();
    // Created first, so the children race on rows, not on the migration (that is tested by the lock).
    await (
      await openCollection(cluster.url as `postgresql://${string}`, { model: fakeModel(), collection: name })
    ).close();
    const child = path.join(repoRoot, 'test', 'helpers', 'pg-ingest-child.cjs');
    const runChild = (worker: number, batch: number): Promise<{ texts: string[]; ids: string[]; added: number }> =>
      new Promise((resolve, reject) => {
        const p = spawn(process.execPath, [child, cluster.url, name, String(worker), String(batch)], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '',
          err = '';
        p.stdout.on('data', (d: Buffer) => (out += d.toString()));
        p.stderr.on('data', (d: Buffer) => (err += d.toString()));
        p.on('exit', (code) =>
          code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`child ${worker} exited ${code}: ${err}`)),
        );
      });
    // A third party searches while they ingest: every search succeeds and sees each item once.
    const searcher = await openCollection(cluster.url as `postgresql://${string}`, {
      model: fakeModel(),
      collection: name,
    });
    let ingesting = true;
    let searches = 0;
    const searching = (async () => {
      while (ingesting) {
        const hits = await searcher.searchText('shared 7', { k: 20 });
        expect(new Set(hits.map((h) => h.id)).size).toBe(hits.length);
        searches++;
      }
    })();
    const [a, b] = await Promise.all([runChild(0, 16), runChild(1, 24)]).finally(() => {
      ingesting = false;
    });
    await searching;
    await searcher.close();
    expect(searches).toBeGreaterThan(0);
    expect(a.added + b.added).toBe(500);
    const c = await openCollection(cluster.url as `postgresql://${string}`, { model: fakeModel(), collection: name });
    expect((await c.stats()).count).toBe(500);
    const ids = await c.find();
    expect(ids).toHaveLength(500);
    const sources = await Promise.all(ids.map(async (id) => (await c.get(id))?.source));
    expect(new Set(sources).size).toBe(500);
    // Both processes got the same id for each shared text.
    const idOf = (r: { texts: string[]; ids: string[] }): Map<string, string> =>
      new Map(r.texts.map((t, i) => [t, r.ids[i] as string]));
    const ia = idOf(a),
      ib = idOf(b);
    for (let i = 0; i < 300; i++) expect(ia.get(`shared ${i}`)).toBe(ib.get(`shared ${i}`));
    await c.close();
  });

  it('processes opening a new collection at once create it once', async () => {
    const name = fresh();
    const opened = await Promise.all(
      Array.from({ length: 4 }, () =>
        openCollection(cluster.url as `postgresql://${string}`, { model: fakeModel(), collection: name }),
      ),
    );
    await Promise.all(opened.map((c, i) => c.addTexts([`from ${i}`, 'common'])));
    expect((await opened[0]!.stats()).count).toBe(5);
    await Promise.all(opened.map((c) => c.close()));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Client } = require('pg') as typeof import('pg');
    const direct = new Client({ connectionString: cluster.url });
    await direct.connect();
    const rows = await direct.query('SELECT version FROM public.crossmodal_migrations WHERE collection = $1', [
      `"public"."${name}"`,
    ]);
    await direct.end();
    expect(rows.rows).toEqual([{ version: 1 }]);
  });

  it('kill -9 of an ingesting process leaves every batch whole or absent', async () => {
    const name = fresh();
    await (
      await openCollection(cluster.url as `postgresql://${string}`, { model: fakeModel(), collection: name })
    ).close();
    const child = spawn(
      process.execPath,
      [path.join(repoRoot, 'test', 'helpers', 'pg-ingest-child.cjs'), cluster.url, name, 'loop', '50'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let committed = -1;
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        for (const m of d.toString().matchAll(/batch (\d+)/g)) committed = Number(m[1]);
        // Killed while it is (most likely) inside its next batch's transaction.
        if (committed >= 4 && child.exitCode === null && !child.killed) {
          setTimeout(() => child.kill('SIGKILL'), 3);
          resolve();
        }
      });
    });
    await new Promise((resolve) => child.once('exit', resolve));
    const c = await openCollection(cluster.url as `postgresql://${string}`, { model: fakeModel(), collection: name });
    const ids = await c.find();
    const batches = new Map<number, number>();
    for (const id of ids) {
      const b = (await c.get(id))?.metadata.batch as number;
      batches.set(b, (batches.get(b) ?? 0) + 1);
    }
    for (const [, n] of batches) expect(n).toBe(50);
    expect(batches.size).toBeGreaterThanOrEqual(committed + 1);
    // The killed session's locks are gone: its next batch can be added (and was not half there).
    const next = Array.from({ length: 50 }, (_, j) => `loop ${batches.size} ${j}`);
    const r = await c.addTexts(next, { batch: batches.size });
    expect(r.added).toBe(50);
    await c.close();
  });

  it('refuses an unknown store and bad PostgreSQL options before connecting', async () => {
    const model = fakeModel();
    const store = 'mysql' as unknown as 'postgres';
    expect((await rejection(openCollection('x', { model, store }))).code).toBe('ERR_INVALID_ARGUMENT');
    for (const bad of [
      { m: 0 },
      { efConstruction: 1.5 },
      { efSearch: 5000 },
      { poolSize: -1 },
      { halfvec: 'yes' as unknown as boolean },
      { index: { metric: 'dot' as unknown as 'ip' } },
    ]) {
      expect(
        (
          await rejection(
            openCollection(cluster.url as `postgresql://${string}`, { model, collection: fresh(), ...bad }),
          )
        ).code,
      ).toBe('ERR_INVALID_ARGUMENT');
    }
    const c = await openCollection(cluster.url as `postgresql://${string}`, { model, collection: fresh() });
    expect((await rejection(c.searchVector(new Float32Array(3)))).code).toBe('ERR_DIMENSION_MISMATCH');
    expect((await rejection(c.searchText('x', { k: 0 }))).code).toBe('ERR_INVALID_ARGUMENT');
    expect((await rejection(c.searchText('x', { efSearch: 0 }))).code).toBe('ERR_INVALID_ARGUMENT');
    await c.close();
  });

  it('fails with ERR_RUNTIME_UNAVAILABLE when the pg package is missing', () => {
    const script = `
      const Module = require('node:module');
      const resolve = Module._resolveFilename;
      Module._resolveFilename = function (request, ...rest) {
        if (request === 'pg') throw Object.assign(new Error("Cannot find module 'pg'"), { code: 'MODULE_NOT_FOUND' });
        return resolve.call(this, request, ...rest);
      };
      const { openCollection } = require(${JSON.stringify(path.join(repoRoot, 'dist', 'cjs', 'index.js'))});
      const model = { fingerprint: 'f', dim: 4, embedTexts: async () => ({}), embedImages: async () => ({}) };
      openCollection('postgres://localhost/x', { model }).then(() => console.log('opened'), (e) => console.log(e.code, e.message));`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(r.stdout).toMatch(/^ERR_RUNTIME_UNAVAILABLE .*npm install pg/);
  });

  it('a server restart during a search loop gives typed errors, then recovers', async () => {
    const c = await openCollection(cluster.url as `postgresql://${string}`, {
      model: fakeModel(),
      collection: fresh(),
      poolSize: 2,
    });
    await c.addTexts(Array.from({ length: 20 }, (_, i) => `restart ${i}`));
    const query = vectorFor('text:restart 3', 16);
    const codes: string[] = [];
    let successesAfter = 0;
    for (let i = 0; i < 40; i++) {
      if (i === 10) cluster.stop('fast');
      if (i === 20) cluster.start();
      try {
        const hits = await c.searchVector(query, { k: 1 });
        expect(hits[0]?.source).toBe('restart 3');
        if (i >= 20) successesAfter++;
      } catch (error) {
        expect(error).toBeInstanceOf(CrossmodalError);
        codes.push((error as CrossmodalError).code);
      }
    }
    // Down for iterations 10..19: every one of them failed, with the transient code.
    expect(codes.length).toBeGreaterThanOrEqual(10);
    expect(new Set(codes)).toEqual(new Set(['ERR_STORE_UNAVAILABLE']));
    // After the restart at most the pooled connections that died fail once each.
    expect(successesAfter).toBeGreaterThanOrEqual(18);
    expect((await c.addTexts(['after restart'])).added).toBe(1);
    await c.close();
  });

  it('maps refused connections, schema mismatches and permission errors to typed errors with the database message', async () => {
    const refused = await rejection(
      openCollection('postgresql://postgres@localhost/postgres?host=/nonexistent-crossmodal-socket', {
        model: fakeModel(),
      }),
    );
    expect(refused.code).toBe('ERR_STORE_UNAVAILABLE');
    const name = fresh();
    const owner = await openCollection(cluster.url as `postgresql://${string}`, {
      model: fakeModel(),
      collection: name,
    });
    await owner.close();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Client } = require('pg') as typeof import('pg');
    const admin = new Client({ connectionString: cluster.url });
    await admin.connect();
    await admin.query('CREATE ROLE outsider LOGIN');
    await admin.end();
    // Schema mismatches: a table renamed behind the collection's back, a newer layout version,
    // a table of the same name that crossmodal did not create.
    const moved = await openCollection(cluster.url as `postgresql://${string}`, {
      model: fakeModel(),
      collection: name,
    });
    const admin2 = new Client({ connectionString: cluster.url });
    await admin2.connect();
    try {
      await admin2.query(`ALTER TABLE public.${name} RENAME TO ${name}_moved`);
      const missing = await rejection(moved.searchText('x'));
      expect(missing.code).toBe('ERR_STORE');
      expect(missing.message).toContain('does not exist');
      await admin2.query(`ALTER TABLE public.${name}_moved RENAME TO ${name}`);
      expect(await moved.searchText('x')).toEqual([]);
      await admin2.query('INSERT INTO public.crossmodal_migrations (collection, version) VALUES ($1, 2)', [
        `"public"."${name}"`,
      ]);
      const newer = await rejection(
        openCollection(cluster.url as `postgresql://${string}`, { model: fakeModel(), collection: name }),
      );
      expect(newer.code).toBe('ERR_STORE');
      expect(newer.message).toContain('schema version 2');
      await admin2.query('CREATE TABLE public.not_ours (id int)');
      const foreign = await rejection(
        openCollection(cluster.url as `postgresql://${string}`, { model: fakeModel(), collection: 'not_ours' }),
      );
      expect(foreign.code).toBe('ERR_STORE');
      expect(foreign.message).toContain('not a crossmodal collection');
    } finally {
      await admin2.end();
      await moved.close();
    }
    const denied = await rejection(
      openCollection(cluster.url.replace('postgres@', 'outsider@') as `postgresql://${string}`, {
        model: fakeModel(),
        collection: name,
      }),
    );
    expect(denied.code).toBe('ERR_STORE');
    expect(denied.message).toMatch(/permission denied/);
  });
});
