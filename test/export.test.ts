// Exports of a local collection: into PostgreSQL (and again, incrementally), and to
// clip-retrieval's layout, read back by NumPy (.npy) and by hyparquet (Parquet; Debian has no
// pyarrow). The command line's `export` is run as a user runs it, including its usage errors.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportClipRetrieval, exportToPostgres, openCollection, type CollectionModel } from '../lib/index';
import { readTinyReference, referenceImagePaths, repoRoot, scratchDirs } from './helpers';
import { postgresUnavailable, startCluster, type TestCluster } from './helpers/postgres';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { fakeModel, vectorFor } = require('./helpers/fake-model.cjs') as {
  fakeModel: (dim?: number, fingerprint?: string) => CollectionModel;
  vectorFor: (key: string, dim: number) => Float32Array;
};

const bin = path.join(repoRoot, 'dist', 'cjs', 'cli', 'main.js');
const newDir = scratchDirs('crossmodal-export-');
const python = '/usr/bin/python3';
const numpy = spawnSync(python, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;
const pgUnavailable = postgresUnavailable();

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 300_000, env: process.env });
}

/** hyparquet, an ES module, loaded by file URL from wherever require finds it. */
async function readParquet(file: string): Promise<Record<string, unknown>[]> {
  const url = pathToFileURL(require.resolve('hyparquet')).href;
  const { parquetReadObjects, asyncBufferFromFile } = (await import(url)) as {
    parquetReadObjects(options: { file: unknown }): Promise<Record<string, unknown>[]>;
    asyncBufferFromFile(file: string): Promise<unknown>;
  };
  return parquetReadObjects({ file: await asyncBufferFromFile(file) });
}

/** A local collection of 6 images, 30 texts (some with awkward characters) and 4 vectors. */
async function makeCollection(): Promise<{ dir: string; texts: string[]; images: string[] }> {
  const dir = newDir();
  const c = await openCollection(dir, { model: fakeModel() });
  const images = referenceImagePaths(readTinyReference()).slice(0, 6);
  await c.addImages(
    images,
    images.map((_, i) => ({ n: i })),
  );
  const texts = Array.from({ length: 30 }, (_, i) => (i === 3 ? 'tab\tand\nnewline \\ "quote"' : `caption ${i}`));
  await c.addTexts(
    texts,
    texts.map((_, i) => ({ group: i % 3, tags: ['a', i] })),
  );
  await c.addVectors(
    new Float32Array([...vectorFor('k0', 16), ...vectorFor('k1', 16), ...vectorFor('k2', 16), ...vectorFor('k3', 16)]),
    ['k0', 'k1', 'k2', 'k3'],
  );
  await c.close();
  return { dir, texts, images };
}

describe('export to clip-retrieval layout', () => {
  it('writes .npy shards NumPy reads and Parquet metadata aligned with them row by row', async () => {
    const { dir } = await makeCollection();
    const out = newDir();
    const r = await exportClipRetrieval(dir, out, { shardSize: 16 });
    expect(r).toMatchObject({ count: 40, dim: 16 });
    expect(r.files).toEqual([
      path.join('embeddings', 'img_emb', 'img_emb_0.npy'),
      path.join('metadata', 'metadata_0.parquet'),
      path.join('embeddings', 'img_emb', 'img_emb_1.npy'),
      path.join('metadata', 'metadata_1.parquet'),
      path.join('embeddings', 'img_emb', 'img_emb_2.npy'),
      path.join('metadata', 'metadata_2.parquet'),
    ]);
    expect(fs.readdirSync(path.join(out, 'metadata')).some((f) => f.endsWith('.tmp'))).toBe(false);

    // The same rows, in the same order, as the collection holds them.
    const c = await openCollection(dir, { model: fakeModel() });
    const ids = (await c.find()).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const items = await Promise.all(ids.map(async (id) => (await c.get(id))!));
    await c.close();
    const rows = (
      await Promise.all([0, 1, 2].map((i) => readParquet(path.join(out, 'metadata', `metadata_${i}.parquet`))))
    ).flat();
    expect(rows.map((row) => row.id)).toEqual(ids);
    rows.forEach((row, i) => {
      const item = items[i]!;
      expect(row.kind).toBe(item.kind);
      expect(row.source).toBe(item.source);
      expect(row.hash).toBe(item.hash);
      expect(row.image_path).toBe(item.kind === 'image' ? item.source : null);
      expect(row.caption).toBe(item.kind === 'text' ? item.source : null);
      expect(row.width).toBe(item.width);
      // A JSON column: hyparquet parses it (pyarrow would return the JSON text).
      expect(row.metadata).toEqual(item.metadata);
      expect((row.added_at as Date).getTime()).toBe(item.addedAt.getTime());
    });
    expect(rows.find((row) => row.kind === 'text' && (row.caption as string).includes('\t'))?.caption).toBe(
      'tab\tand\nnewline \\ "quote"',
    );

    // Each vector as the fake model made it: texts embed as vectorFor('text:…'), vectors as given.
    const expected = rows.flatMap((row) =>
      row.kind === 'image'
        ? []
        : [{ row, v: vectorFor(row.kind === 'text' ? `text:${row.source}` : (row.source as string), 16) }],
    );
    if (!numpy) {
      console.warn('export: NumPy not installed, .npy read back by the header parser only');
      return;
    }
    const script = `
import json, sys, numpy as np
out = sys.argv[1]
arrays = [np.load(f"{out}/embeddings/img_emb/img_emb_{i}.npy") for i in range(3)]
print(json.dumps({"shapes": [list(a.shape) for a in arrays], "dtype": str(arrays[0].dtype),
                  "c": bool(arrays[0].flags["C_CONTIGUOUS"]), "rows": np.concatenate(arrays).tolist()}))`;
    const py = spawnSync(python, ['-c', script, out], { encoding: 'utf8' });
    expect(py.status, py.stderr).toBe(0);
    const loaded = JSON.parse(py.stdout) as { shapes: number[][]; dtype: string; c: boolean; rows: number[][] };
    expect(loaded.shapes).toEqual([
      [16, 16],
      [16, 16],
      [8, 16],
    ]);
    expect(loaded.dtype).toBe('float32');
    expect(loaded.c).toBe(true);
    for (const { row, v } of expected) {
      const stored = loaded.rows[rows.indexOf(row)]!;
      expect(stored).toEqual(Array.from(v));
    }
  });

  it('refuses a non-empty output directory unless overwriting, and replaces stale shards', async () => {
    const { dir } = await makeCollection();
    const out = newDir();
    await exportClipRetrieval(dir, out, { shardSize: 10 });
    expect(fs.readdirSync(path.join(out, 'metadata'))).toHaveLength(4);
    await expect(exportClipRetrieval(dir, out)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    const r = await exportClipRetrieval(dir, out, { overwrite: true });
    expect(r.files).toHaveLength(2);
    expect(fs.readdirSync(path.join(out, 'metadata'))).toEqual(['metadata_0.parquet']);
    expect(fs.readdirSync(path.join(out, 'embeddings', 'img_emb'))).toEqual(['img_emb_0.npy']);
    // 10 header bytes + a header padded to 64-byte alignment, then 40 × 16 float32.
    const npy = fs.readFileSync(path.join(out, 'embeddings', 'img_emb', 'img_emb_0.npy'));
    const headerLength = npy.readUInt16LE(8);
    expect((10 + headerLength) % 64).toBe(0);
    expect(npy.subarray(10, 10 + headerLength).toString('latin1')).toMatch(
      /^\{'descr': '<f4', 'fortran_order': False, 'shape': \(40, 16\), \} *\n$/,
    );
    expect(npy.length).toBe(10 + headerLength + 40 * 16 * 4);
  });

  it('refuses a directory that is not a collection, and a collection open elsewhere', async () => {
    const empty = newDir();
    fs.mkdirSync(empty, { recursive: true });
    await expect(exportClipRetrieval(empty, newDir())).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    expect(fs.existsSync(path.join(empty, 'collection.db'))).toBe(false);
    const { dir } = await makeCollection();
    const open = await openCollection(dir, { model: fakeModel() });
    await expect(exportClipRetrieval(dir, newDir())).rejects.toMatchObject({ code: 'ERR_LOCKED' });
    await open.close();
  });
});

describe('crossmodal export (command line)', () => {
  it('rejects wrong command lines with exit 2 and one error line', () => {
    for (const args of [
      ['export', 'somewhere'],
      ['export', 'somewhere', '--to', 'mysql://x', '--format', 'clip-retrieval'],
      ['export', 'somewhere', '--to', 'http://x'],
      ['export', 'somewhere', '--format', 'clip-retrieval'],
      ['export', 'somewhere', '--format', 'parquet', '--out', 'x'],
      ['export', 'somewhere', '--format', 'clip-retrieval', '--out', 'x', '--halfvec'],
      ['export', 'somewhere', '--to', 'postgres://x/y', '--out', 'x'],
      ['export', 'somewhere', '--format', 'clip-retrieval', '--out', 'x', '--shard-size', '0'],
      ['export', newDir(), '--format', 'clip-retrieval', '--out', 'x'],
    ]) {
      const r = cli(args);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr.split('\n').filter((l) => l.startsWith('crossmodal: '))).toHaveLength(1);
      expect(r.stdout).toBe('');
    }
  });

  it('writes the clip-retrieval layout and prints a JSON summary', async () => {
    const { dir } = await makeCollection();
    const out = newDir();
    const r = cli(['export', dir, '--format', 'clip-retrieval', '--out', out, '--shard-size', '25', '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ count: 40, dim: 16, out: path.resolve(out) });
    expect((await readParquet(path.join(out, 'metadata', 'metadata_1.parquet'))).length).toBe(15);
  });
});

describe.skipIf(pgUnavailable !== null)('export to PostgreSQL', () => {
  let cluster: TestCluster;
  beforeAll(() => {
    cluster = startCluster();
  });
  afterAll(() => cluster?.destroy());

  it('copies every item with its vector and metadata, then only what is new', async () => {
    const { dir, texts } = await makeCollection();
    const url = cluster.url;
    const first = await exportToPostgres(dir, url, { collection: 'exported', batchSize: 7 });
    expect(first).toMatchObject({ total: 40, added: 40, present: 0 });
    const pg = await openCollection(url as `postgresql://${string}`, { model: fakeModel(), collection: 'exported' });
    const stats = await pg.stats();
    expect([stats.count, stats.images, stats.texts, stats.vectors]).toEqual([40, 6, 30, 4]);
    const hit = (await pg.searchVector(vectorFor(`text:${texts[3]}`, 16), { k: 1 }))[0];
    expect(hit).toMatchObject({ kind: 'text', source: texts[3], metadata: { group: 0, tags: ['a', 3] } });
    expect(hit?.score).toBeCloseTo(1, 6);
    const local = await openCollection(dir, { model: fakeModel() });
    const localImage = (await local.get((await local.find({ kind: 'image' }))[2] as bigint))!;
    const pgImage = (await pg.get((await pg.find({ n: 2 }))[0] as bigint))!;
    expect(pgImage).toMatchObject({
      kind: 'image',
      source: localImage.source,
      hash: localImage.hash,
      width: localImage.width,
      height: localImage.height,
      metadata: { n: 2 },
    });
    expect(pgImage.addedAt.getTime()).toBe(localImage.addedAt.getTime());
    // Later: two new texts, one removal; the second export copies the two and nothing else.
    await local.addTexts(['later one', 'later two']);
    await local.remove([(await local.find({ kind: 'vector' }))[0] as bigint]);
    await local.close();
    const second = await exportToPostgres(dir, url, { collection: 'exported' });
    expect(second).toMatchObject({ total: 41, added: 2, present: 39 });
    expect((await pg.stats()).count).toBe(42);
    // The command line does the same, with nothing left to copy.
    const r = cli(['export', dir, '--to', url, '--collection', 'exported', '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ total: 41, added: 0, present: 41 });
    await pg.close();
  });

  it('refuses a target built by another model, and a bad collection name (exit 2)', async () => {
    const { dir } = await makeCollection();
    const other = await openCollection(cluster.url as `postgresql://${string}`, {
      model: fakeModel(16, 'another-model'),
      collection: 'taken',
    });
    await other.close();
    await expect(exportToPostgres(dir, cluster.url, { collection: 'taken' })).rejects.toMatchObject({
      code: 'ERR_MODEL_MISMATCH',
    });
    const r = cli(['export', dir, '--to', cluster.url, '--collection', 'Bad Name']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('ERR_INVALID_ARGUMENT');
  });
});
