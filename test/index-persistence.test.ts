// VectorIndex.save / loadIndex: round trips for every type, header checks, corruption,
// truncation and mismatches refused with typed errors.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createIndex, loadIndex, type IndexOptions, type IndexType } from '../lib/index';
import { gaussianVectors } from './helpers/vectors';

const dim = 16;
const n = 800;
const data = gaussianVectors(n, dim, 21);
const queries = gaussianVectors(5, dim, 22);
const ids = BigInt64Array.from({ length: n }, (_, i) => 2n ** 60n + BigInt(i) * 3n);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crossmodal-persist-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const configs: Record<IndexType, IndexOptions> = {
  flat: { dim, metric: 'l2' },
  hnsw: { dim, type: 'hnsw', M: 8, efConstruction: 40 },
  'ivf-flat': { dim, type: 'ivf-flat', nlist: 8 },
  'ivf-pq': { dim, type: 'ivf-pq', nlist: 8, pqM: 4 },
  factory: { dim, type: 'factory', factory: 'IVF8,SQ8' },
};

describe.each(Object.keys(configs) as IndexType[])('%s index file', (type) => {
  it('round-trips ids, vectors, removals and parameters', async () => {
    const index = createIndex(configs[type]);
    await index.add(data, ids);
    await index.remove(ids.subarray(0, 50));
    const before = await index.search(queries, 7);
    const file = path.join(dir, `${type}.idx`);
    await index.save(file, { fingerprint: 'abc123' });
    const loaded = await loadIndex(file, { fingerprint: 'abc123', dim, type });
    expect(loaded.size).toBe(n - 50);
    expect(loaded.type).toBe(type);
    expect(loaded.metric).toBe(configs[type].metric ?? 'cosine');
    const after = await loaded.search(queries, 7);
    expect(Array.from(after.ids)).toEqual(Array.from(before.ids));
    expect(Array.from(after.scores)).toEqual(Array.from(before.scores));
    expect(await loaded.has([ids[0] as bigint, ids[60] as bigint])).toEqual([false, true]);
    const info = await loaded.info();
    expect(info.fingerprint).toBe('abc123');
    // Still writable, and automatic ids continue after the largest one.
    await loaded.add(queries.subarray(0, dim));
    expect(await loaded.has(ids[n - 1]! + 1n)).toBe(true);
    // No temp files left behind.
    expect(fs.readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});

describe('index files', () => {
  const file = path.join(dir, 'base.idx');
  const makeFile = async (): Promise<Buffer> => {
    const index = createIndex({ dim, type: 'ivf-flat', nlist: 8 });
    await index.add(data, ids);
    await index.save(file, { fingerprint: 'model-a' });
    return fs.readFileSync(file);
  };

  it('refuses a mismatched fingerprint, dim, metric or type with ERR_INDEX_MISMATCH', async () => {
    await makeFile();
    await expect(loadIndex(file, { fingerprint: 'model-b' })).rejects.toMatchObject({ code: 'ERR_INDEX_MISMATCH' });
    await expect(loadIndex(file, { dim: 32 })).rejects.toMatchObject({ code: 'ERR_INDEX_MISMATCH' });
    await expect(loadIndex(file, { metric: 'l2' })).rejects.toMatchObject({ code: 'ERR_INDEX_MISMATCH' });
    await expect(loadIndex(file, { type: 'hnsw' })).rejects.toMatchObject({ code: 'ERR_INDEX_MISMATCH' });
    expect((await loadIndex(file, { fingerprint: 'model-a', metric: 'cosine' })).size).toBe(n);
  });

  it('refuses every single-byte corruption it is given, and truncations, with ERR_INDEX_CORRUPT', async () => {
    const good = await makeFile();
    const bad = path.join(dir, 'bad.idx');
    // Flip one byte at spread-out offsets: FAISS header, vectors, id table, trailer.
    const offsets = [0, 5, 100, Math.floor(good.length / 2), good.length - 400, good.length - 200, good.length - 1];
    for (const offset of offsets) {
      const copy = Buffer.from(good);
      copy[offset] = (copy[offset] as number) ^ 0x5a;
      fs.writeFileSync(bad, copy);
      await expect(loadIndex(bad), `flip at ${offset}`).rejects.toMatchObject({ code: 'ERR_INDEX_CORRUPT' });
    }
    for (const length of [0, 10, 255, good.length - 1, Math.floor(good.length / 3)]) {
      fs.writeFileSync(bad, good.subarray(0, length));
      await expect(loadIndex(bad), `truncated to ${length}`).rejects.toMatchObject({ code: 'ERR_INDEX_CORRUPT' });
    }
    fs.writeFileSync(bad, Buffer.concat([good, Buffer.from('extra')]));
    await expect(loadIndex(bad)).rejects.toMatchObject({ code: 'ERR_INDEX_CORRUPT' });
    await expect(loadIndex(path.join(dir, 'missing.idx'))).rejects.toMatchObject({ code: 'ERR_IO' });
  });

  it('refuses an unknown format version', async () => {
    const good = await makeFile();
    // The version follows the 8-byte magic of the 256-byte trailer; patching it also breaks the
    // trailer checksum, so rewrite that too (crc32 of the first 252 trailer bytes).
    const copy = Buffer.from(good);
    const t = copy.length - 256;
    copy.writeUInt32LE(99, t + 8);
    const { crc32 } = (await import('node:zlib')) as unknown as { crc32?: (b: Buffer) => number };
    if (!crc32) return; // node:zlib.crc32 is Node ≥ 20.15
    copy.writeUInt32LE(crc32(copy.subarray(t, t + 252)) >>> 0, t + 252);
    const bad = path.join(dir, 'version.idx');
    fs.writeFileSync(bad, copy);
    await expect(loadIndex(bad)).rejects.toThrow(/format version 99/);
  });

  it('memory-maps IVF lists read-only', async () => {
    await makeFile();
    const mapped = await loadIndex(file, { mmap: true });
    expect((await mapped.info()).mmapped).toBe(true);
    const inMemory = await loadIndex(file);
    const a = await mapped.search(queries, 5);
    const b = await inMemory.search(queries, 5);
    expect(Array.from(a.ids)).toEqual(Array.from(b.ids));
    await expect(mapped.add(queries.subarray(0, dim))).rejects.toMatchObject({ code: 'ERR_INDEX' });
  });

  it('replaces an existing file atomically', async () => {
    await makeFile();
    const small = createIndex({ dim });
    await small.add(data.subarray(0, 3 * dim));
    await small.save(file);
    expect((await loadIndex(file)).size).toBe(3);
  });
});
