// Collections: ingest with de-duplication and progress, searches with metadata filters, removal,
// metadata updates, compaction, persistence across reopen, model binding.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCollection } from '../lib/index';
import { imageSize } from '../lib/collection/index';
import { readTinyReference, referenceImagePaths, scratchDirs } from './helpers';

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

let haveSqlite = true;
try {
  require.resolve('better-sqlite3');
} catch {
  haveSqlite = false;
  console.warn('collection: skipped (better-sqlite3 is not installed)');
}

const freshDir = scratchDirs('crossmodal-collection-');

describe.skipIf(!haveSqlite)('Collection', () => {
  it('adds texts in batches with progress and de-duplicates by content', async () => {
    const c = await openCollection(freshDir(), { model: fakeModel() });
    const progress: number[] = [];
    const texts = Array.from({ length: 50 }, (_, i) => `caption ${i}`);
    const r = await c.addTexts(texts, { lang: 'en' }, { batchSize: 16, onProgress: (p) => progress.push(p.done) });
    expect(r.added).toBe(50);
    expect(progress).toEqual([16, 32, 48, 50]);
    const again = await c.addTexts(['caption 3', 'new one', 'new one']);
    expect(again.added).toBe(1);
    expect(again.duplicates).toBe(2);
    expect(again.ids[0]).toBe(r.ids[3]);
    expect(again.ids[1]).toBe(again.ids[2]);
    expect((await c.stats()).count).toBe(51);
    await c.close();
  });

  it('searches by text, vector and image, with metadata filters', async () => {
    const model = fakeModel();
    const c = await openCollection(freshDir(), { model });
    const texts = Array.from({ length: 40 }, (_, i) => `item ${i}`);
    await c.addTexts(
      texts,
      texts.map((_, i) => ({ group: i % 4, score: i })),
    );
    const target = vectorFor('text:item 17', 16);
    const hits = await c.searchVector(target, { k: 3 });
    expect(hits[0]?.source).toBe('item 17');
    expect(hits[0]?.score).toBeCloseTo(1, 5);
    expect(hits[0]?.metadata).toEqual({ group: 1, score: 17 });
    expect((await c.searchText('item 17', { k: 1 }))[0]?.source).toBe('item 17');
    // where: the best match must come from the allowed group even though item 17 is closer.
    const filtered = await c.searchVector(target, { k: 5, where: { group: 2 } });
    expect(filtered).toHaveLength(5);
    for (const h of filtered) expect(h.metadata.group).toBe(2);
    const ranged = await c.searchVector(target, { k: 40, where: { score: { $gte: 30, $lt: 35 } } });
    expect(ranged.map((h) => h.metadata.score).sort()).toEqual([30, 31, 32, 33, 34]);
    expect(await c.searchVector(target, { where: { group: 99 } })).toEqual([]);
    expect((await c.find({ group: { $in: [0, 1] } })).length).toBe(20);
    await c.close();
  });

  it('stores images with their size and finds them by image', async () => {
    const images = referenceImagePaths(readTinyReference());
    const c = await openCollection(freshDir(), { model: fakeModel() });
    const r = await c.addImages(images, { source: 'fixtures' });
    expect(r.added).toBe(images.length);
    const first = await c.get(r.ids[0] as bigint);
    const expected = readTinyReference().images[0]!;
    expect([first?.width, first?.height]).toEqual([expected.width, expected.height]);
    expect(first?.kind).toBe('image');
    const bytes = fs.readFileSync(images[1] as string);
    expect((await c.addImages([bytes])).duplicates).toBe(1);
    expect((await c.searchImage(images[2] as string, { k: 1 }))[0]?.id).toBe(r.ids[2]);
    await c.close();
  });

  it('removes, updates metadata, compacts, and survives reopening', async () => {
    const dir = freshDir();
    let c = await openCollection(dir, { model: fakeModel(), index: { type: 'hnsw', M: 8 } });
    const r = await c.addTexts(Array.from({ length: 30 }, (_, i) => `doc ${i}`));
    expect(await c.remove([r.ids[0] as bigint, r.ids[1] as bigint, 999999n])).toBe(2);
    expect(await c.updateMetadata(r.ids[2] as bigint, { tag: 'x' })).toBe(true);
    expect(await c.updateMetadata(r.ids[2] as bigint, { more: 1 }, { merge: true })).toBe(true);
    expect((await c.get(r.ids[2] as bigint))?.metadata).toEqual({ tag: 'x', more: 1 });
    expect((await c.stats()).index.tombstones).toBe(2);
    expect(await c.compact()).toBe(28);
    expect((await c.stats()).index.tombstones).toBe(0);
    const hitsBefore = await c.searchVector(vectorFor('text:doc 5', 16), { k: 1 });
    await c.close();
    c = await openCollection(dir, { model: fakeModel() });
    const stats = await c.stats();
    expect(stats.count).toBe(28);
    expect(stats.index.type).toBe('hnsw');
    expect(stats.pendingChanges).toBe(0);
    expect((await c.searchVector(vectorFor('text:doc 5', 16), { k: 1 }))[0]?.id).toBe(hitsBefore[0]?.id);
    expect(await c.get(r.ids[0] as bigint)).toBeNull();
    await c.close();
  });

  it('rebuilds the index from the table when the snapshot is missing or corrupt', async () => {
    const dir = freshDir();
    let c = await openCollection(dir, { model: fakeModel() });
    await c.addTexts(['a', 'b', 'c']);
    await c.close();
    fs.writeFileSync(path.join(dir, 'index.faiss'), 'garbage');
    c = await openCollection(dir, { model: fakeModel() });
    expect((await c.stats()).index.size).toBe(3);
    await c.close();
    fs.rmSync(path.join(dir, 'index.faiss'));
    c = await openCollection(dir, { model: fakeModel() });
    expect((await c.searchText('b', { k: 1 }))[0]?.source).toBe('b');
    await c.close();
  });

  it('refuses another model unless re-embedding is requested', async () => {
    const dir = freshDir();
    let c = await openCollection(dir, { model: fakeModel(16, 'model-a') });
    await c.addTexts(['one', 'two']);
    await c.close();
    await expect(openCollection(dir, { model: fakeModel(16, 'model-b') })).rejects.toMatchObject({
      code: 'ERR_MODEL_MISMATCH',
    });
    await expect(openCollection(dir, { model: fakeModel(8, 'model-a') })).rejects.toMatchObject({
      code: 'ERR_MODEL_MISMATCH',
    });
    const other = fakeModel(8, 'model-c');
    c = await openCollection(dir, { model: other, reembed: true });
    expect(c.fingerprint).toBe('model-c');
    expect(c.dim).toBe(8);
    expect((await c.searchText('two', { k: 1 }))[0]?.source).toBe('two');
    await c.close();
    await expect(openCollection(dir, { model: fakeModel(16, 'model-a') })).rejects.toMatchObject({
      code: 'ERR_MODEL_MISMATCH',
    });
  });

  it('adds vectors with kind vector, de-duplicated by key, and keeps them across reopening', async () => {
    const dir = freshDir();
    let c = await openCollection(dir, { model: fakeModel(), checkpointEvery: 1000 });
    const keys = ['k0', 'k1', 'k0', 'k2'];
    const vectors = new Float32Array(keys.length * 16);
    keys.forEach((k, i) => vectors.set(vectorFor(`vector:${k}`, 16), i * 16));
    const r = await c.addVectors(
      vectors,
      keys,
      keys.map((k) => ({ key: k })),
    );
    expect(r.added).toBe(3);
    expect(r.duplicates).toBe(1);
    expect(r.ids[2]).toBe(r.ids[0]);
    expect((await c.get(r.ids[1] as bigint))?.kind).toBe('vector');
    expect((await c.stats()).vectors).toBe(3);
    expect((await c.stats()).texts).toBe(0);
    expect((await c.find({ kind: 'vector' })).sort()).toEqual([r.ids[0], r.ids[1], r.ids[3]].sort());
    const again = await c.addVectors(vectors.subarray(16, 32), ['k1']);
    expect(again).toEqual({ ids: [r.ids[1]], added: 0, duplicates: 1 });
    await expect(c.addVectors(new Float32Array(15), ['x'])).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await c.close();
    c = await openCollection(dir, { model: fakeModel() });
    const hits = await c.searchVector(vectorFor('vector:k2', 16), { k: 1, where: { key: 'k2' } });
    expect(hits.map((h) => [h.id, h.kind, h.source])).toEqual([[r.ids[3], 'vector', 'k2']]);
    await c.close();
  });

  it('checks a where filter before embedding the query', async () => {
    const model = fakeModel();
    const c = await openCollection(freshDir(), { model });
    await c.addTexts(['a', 'b']);
    const calls = model.calls;
    await expect(c.searchText('a', { where: { group: { $like: 1 } } })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: 'where.group: unknown operator $like',
    });
    await expect(c.searchText('a', { where: { 'bad key': 1 } })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
    await expect(c.find({ group: { $in: [] } })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    expect(model.calls).toBe(calls);
    expect(await c.find({ source: { $in: ['b', 'c'] }, kind: 'text' })).toHaveLength(1);
    await c.close();
  });

  it('reports a damaged database as ERR_INDEX_CORRUPT and releases the lock', async () => {
    const dir = freshDir();
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'collection.db'), Buffer.alloc(4096, 7));
    await expect(openCollection(dir, { model: fakeModel() })).rejects.toMatchObject({ code: 'ERR_INDEX_CORRUPT' });
    fs.rmSync(path.join(dir, 'collection.db'));
    const c = await openCollection(dir, { model: fakeModel() });
    expect((await c.stats()).count).toBe(0);
    await c.close();
  });

  it('does not keep the process alive while open and idle (the database worker is unreferenced)', async () => {
    const dist = path.resolve(__dirname, '..', 'dist', 'cjs', 'index.js');
    if (!fs.existsSync(dist)) return console.warn('collection: process-exit check skipped (needs `npm run build:ts`)');
    const script = `const { openCollection } = require(${JSON.stringify(dist)});
      const { fakeModel } = require(${JSON.stringify(path.join(__dirname, 'helpers', 'fake-model.cjs'))});
      openCollection(${JSON.stringify(freshDir())}, { model: fakeModel() }).then(async (c) => { await c.addTexts(['x']); await c.find({}); console.log('open'); });`;
    const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(result.stderr).toBe('');
    expect(result.signal).toBeNull();
    expect(result.stdout.trim()).toBe('open');
  });

  it('rejects ERR_DISPOSED after close', async () => {
    const c = await openCollection(freshDir(), { model: fakeModel() });
    await c.close();
    await c.close();
    await expect(c.addTexts(['x'])).rejects.toMatchObject({ code: 'ERR_DISPOSED' });
  });
});

describe('imageSize', () => {
  it('reads PNG and JPEG headers', () => {
    const ref = readTinyReference();
    referenceImagePaths(ref).forEach((p, i) => {
      const size = imageSize(fs.readFileSync(p));
      if (size) expect(size).toEqual({ width: ref.images[i]!.width, height: ref.images[i]!.height });
    });
    expect(imageSize(new Uint8Array([1, 2, 3]))).toBeNull();
  });
});
