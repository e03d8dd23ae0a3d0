// Index inputs that used to crash, hang or report the wrong code: factory strings that bypass the
// named types' parameter checks, files whose checksums are right but whose HNSW graph is not,
// inverted lists whose labels lie outside the slots, save targets that are not regular files, and
// temp files left by a save that was killed.
import { spawnSync, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createIndex, CrossmodalError, loadIndex } from '../lib/index';
import { crc32 } from './helpers/crafted';
import { rejection, scratchDirs } from './helpers';

const scratch = scratchDirs('crossmodal-index-safety-');

function thrownCode(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CrossmodalError);
    return (error as CrossmodalError).code;
  }
  throw new Error('expected a throw');
}

function randomVectors(n: number, dim: number, seed = 1): Float32Array {
  let s = seed;
  const out = new Float32Array(n * dim);
  for (let i = 0; i < out.length; i++) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    out[i] = s / 2 ** 31 - 0.5;
  }
  return out;
}

describe('factory strings are held to the named types bounds', () => {
  it('degenerate or huge parameters are ERR_INVALID_ARGUMENT before FAISS runs (no crash, no endless loop)', () => {
    for (const factory of [
      'HNSW0',
      'HNSW1', // used to loop forever (level probabilities use 1/log(M))
      'HNSW2,Flat',
      'HNSW100000',
      'IVF0,Flat',
      'IVF99999999999,Flat', // used to be ERR_INTERNAL (std::stoi out of range)
      'IVF64,PQ8x40',
      'PCA999999,Flat',
      'IVF1024_HNSW1,Flat',
      'NSG1',
      'IMI2x40,Flat',
      'Flat;rm',
      'HNSW32\0,Flat',
      'x'.repeat(300),
    ]) {
      expect(
        thrownCode(() => createIndex({ dim: 8, type: 'factory', factory })),
        factory,
      ).toBe('ERR_INVALID_ARGUMENT');
    }
  });

  it('what FAISS refuses is the caller argument too (ERR_INVALID_ARGUMENT, not ERR_INDEX)', () => {
    for (const factory of ['NoSuchIndex', 'IVF16,PQ3', 'HNSW32,Bogus']) {
      const error = (() => {
        try {
          createIndex({ dim: 8, type: 'factory', factory });
        } catch (e) {
          return e as CrossmodalError;
        }
        throw new Error('expected a throw');
      })();
      expect(error.code, factory).toBe('ERR_INVALID_ARGUMENT');
      expect(error.message).toContain(factory);
    }
  });

  it('valid strings still build and search', async () => {
    for (const factory of ['HNSW16,Flat', 'Flat', 'IVF4,Flat', 'PCA4,Flat', 'OPQ4_8,IVF4,PQ4x4', 'IVF4,SQ8']) {
      const index = createIndex({ dim: 8, type: 'factory', factory, metric: 'l2' });
      const vectors = randomVectors(300, 8);
      await index.train(vectors);
      await index.add(vectors);
      const results = await index.search(vectors.subarray(0, 8), 5);
      expect(results.get(0).length, factory).toBeGreaterThan(0);
    }
  });
});

/** Offsets of the HNSW graph arrays in a saved HNSW index (FAISS 1.7.3 write_index layout). */
function hnswLayout(bytes: Buffer) {
  let pos = 4 + 4 + 8 + 8 + 8 + 1; // fourcc, d, ntotal, two dummies, is_trained
  const metric = bytes.readInt32LE(pos);
  pos += 4 + (metric > 1 ? 4 : 0);
  const vector = (elem: number) => {
    const n = Number(bytes.readBigUInt64LE(pos));
    const start = pos + 8;
    pos = start + n * elem;
    return { n, start };
  };
  vector(8); // assign_probas
  vector(4); // cum_nneighbor_per_level
  const levels = vector(4);
  vector(8); // offsets
  const neighbors = vector(4);
  return { levels, neighbors, entryPoint: pos, maxLevel: pos + 4 };
}

/** Rewrites the data and trailer checksums, so only the structure is wrong (index_file.cc trailer). */
function rechecksum(bytes: Buffer): void {
  const trailer = bytes.length - 256;
  bytes.writeUInt32LE(crc32(bytes.subarray(0, trailer)), trailer + 56);
  bytes.writeUInt32LE(crc32(bytes.subarray(trailer, trailer + 252)), trailer + 252);
}

describe('a file with valid checksums but a malformed HNSW graph is ERR_INDEX_CORRUPT, not a crash', () => {
  it('neighbour ids, the entry point and levels are validated on load', async () => {
    const file = scratch();
    const index = createIndex({ dim: 8, type: 'hnsw', M: 8 });
    const vectors = randomVectors(200, 8);
    await index.add(vectors);
    await index.save(file);
    const good = fs.readFileSync(file);
    expect(good.subarray(0, 4).toString('latin1')).toBe('IHNf');
    const layout = hnswLayout(good);
    expect(layout.levels.n).toBe(200);
    expect(layout.neighbors.n).toBeGreaterThan(200 * 16);

    const corruptions: [string, (b: Buffer) => void][] = [
      ['neighbour id', (b) => b.writeInt32LE(1_000_000, layout.neighbors.start)],
      ['negative neighbour id', (b) => b.writeInt32LE(-7, layout.neighbors.start + 8)],
      ['entry point', (b) => b.writeInt32LE(5000, layout.entryPoint)],
      ['max level', (b) => b.writeInt32LE(40, layout.maxLevel)],
      ['level count', (b) => b.writeInt32LE(9, layout.levels.start + 4 * 3)],
    ];
    for (const [what, corrupt] of corruptions) {
      const bad = Buffer.from(good);
      corrupt(bad);
      rechecksum(bad);
      const badFile = scratch();
      fs.writeFileSync(badFile, bad);
      const error = await rejection(loadIndex(badFile));
      expect(error.code, what).toBe('ERR_INDEX_CORRUPT');
      expect(error.message, what).toContain('malformed HNSW graph');
    }
    // The untouched file, re-checksummed the same way, still loads and searches.
    const same = Buffer.from(good);
    rechecksum(same);
    fs.writeFileSync(file, same);
    const loaded = await loadIndex(file);
    expect((await loaded.search(vectors.subarray(0, 8), 3)).get(0)[0]?.id).toBe(0n);
  });
});

/** Byte offset of the ids of the first non-empty inverted list ("ilar", FAISS's write_InvertedLists). */
function firstListIds(bytes: Buffer): { at: number; size: number } {
  const ilar = bytes.indexOf('ilar', 0, 'latin1');
  expect(ilar).toBeGreaterThan(0);
  const nlist = Number(bytes.readBigUInt64LE(ilar + 4));
  const codeSize = Number(bytes.readBigUInt64LE(ilar + 12));
  expect(bytes.subarray(ilar + 20, ilar + 24).toString('latin1')).toBe('full');
  expect(Number(bytes.readBigUInt64LE(ilar + 24))).toBe(nlist);
  const sizes = Array.from({ length: nlist }, (_, l) => Number(bytes.readBigUInt64LE(ilar + 32 + 8 * l)));
  let at = ilar + 32 + 8 * nlist;
  for (const size of sizes) {
    if (size > 0) return { at: at + size * codeSize, size };
    at += size * (codeSize + 8);
  }
  throw new Error('every inverted list is empty');
}

describe('a file with valid checksums but inverted-list labels outside the slots is ERR_INDEX_CORRUPT', () => {
  // A refined IVF-PQ used such a label as a row of its exact vectors (fuzzing found the overflow).
  const specs = {
    'ivf-flat': { dim: 8, type: 'ivf-flat', nlist: 4 },
    'ivf-pq refined': { dim: 8, type: 'ivf-pq', nlist: 4, pqM: 4, refineFactor: 4 },
  } as const;
  for (const [name, spec] of Object.entries(specs)) {
    it(`${name}: a too-large or negative label is refused on load; the untouched file still loads`, async () => {
      const file = scratch();
      const index = createIndex(spec);
      const vectors = randomVectors(300, 8, 3);
      await index.add(vectors);
      await index.save(file);
      const good = fs.readFileSync(file);
      const ids = firstListIds(good);
      const stored = good.readBigInt64LE(ids.at);
      expect(stored >= 0n && stored < 300n).toBe(true);
      for (const label of [300n, 1n << 40n, -5n]) {
        const bad = Buffer.from(good);
        bad.writeBigInt64LE(label, ids.at + 8 * (ids.size - 1));
        rechecksum(bad);
        const badFile = scratch();
        fs.writeFileSync(badFile, bad);
        // Memory-mapped, the lists point into the file, where ids are not 8-byte aligned.
        for (const mmap of [false, true]) {
          const error = await rejection(loadIndex(badFile, { mmap }));
          expect(error.code, `${name} label ${label} mmap ${mmap}`).toBe('ERR_INDEX_CORRUPT');
          expect(error.message).toContain('outside the');
        }
      }
      const same = Buffer.from(good);
      rechecksum(same);
      fs.writeFileSync(file, same);
      for (const mmap of [false, true]) {
        const loaded = await loadIndex(file, { mmap });
        expect((await loaded.info()).mmapped).toBe(mmap);
        expect((await loaded.search(vectors.subarray(0, 8), 1)).get(0)[0]?.id).toBe(0n);
        loaded.dispose();
      }
    });
  }
});

describe('save refuses targets that are not regular files', () => {
  it('a FIFO, a directory and symlinks to them or to a device are ERR_IO and stay as they were', async () => {
    const index = createIndex({ dim: 2 });
    await index.add(new Float32Array([1, 0]));
    const dir = scratch();
    fs.mkdirSync(dir);
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const subdir = path.join(dir, 'sub');
    fs.mkdirSync(subdir);
    const toDevice = path.join(dir, 'to-null');
    fs.symlinkSync('/dev/null', toDevice);
    const toDir = path.join(dir, 'to-dir');
    fs.symlinkSync(subdir, toDir);
    for (const target of [fifo, subdir, toDevice, toDir]) {
      const error = await rejection(index.save(target));
      expect(error.code, target).toBe('ERR_IO');
      expect(error.message, target).toContain('not a regular file');
    }
    expect(fs.statSync(fifo).isFIFO()).toBe(true);
    expect(fs.lstatSync(toDevice).isSymbolicLink()).toBe(true);
    expect(fs.readdirSync(dir).sort()).toEqual(['fifo', 'sub', 'to-dir', 'to-null']); // no temp file left
    // A symlink to a regular file, or a dangling one, is replaced as before.
    const regular = path.join(dir, 'regular');
    fs.writeFileSync(regular, 'old');
    const toRegular = path.join(dir, 'to-regular');
    fs.symlinkSync(regular, toRegular);
    await index.save(toRegular);
    expect((await loadIndex(toRegular)).size).toBe(1);
  });
});

describe('temp files of a save killed midway are cleaned up on the next save or load', () => {
  function deadPid(): number {
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    });
    return Number(child.stdout);
  }

  it('removes ours whose process is gone or that are stale, and nothing else', async () => {
    const dir = scratch();
    fs.mkdirSync(dir);
    const target = path.join(dir, 'photos.index');
    const index = createIndex({ dim: 2 });
    await index.add(new Float32Array([1, 0]));
    await index.save(target);

    const dead = `photos.index.tmp-${deadPid()}-1234`;
    const staleLive = `photos.index.tmp-1-99`; // pid 1 is alive, but nothing wrote it for an hour
    const freshLive = `photos.index.tmp-${process.ppid}-42`; // a save in progress elsewhere: kept
    const foreign = ['photos.index.tmp-abc', 'other.index.tmp-1-2', 'photos.index.tmp-1-2x'];
    const linked = `photos.index.tmp-${deadPid()}-7`; // a symlink, never followed or removed
    for (const name of [dead, staleLive, freshLive, ...foreign]) fs.writeFileSync(path.join(dir, name), 'partial');
    fs.symlinkSync(target, path.join(dir, linked));
    const hourAgo = new Date(Date.now() - 3600_000);
    fs.utimesSync(path.join(dir, staleLive), hourAgo, hourAgo);

    await loadIndex(target);
    const left = fs.readdirSync(dir).sort();
    expect(left).not.toContain(dead);
    expect(left).not.toContain(staleLive);
    expect(left).toEqual(['photos.index', freshLive, ...foreign, linked].sort());

    fs.writeFileSync(path.join(dir, dead), 'partial');
    await index.save(target);
    expect(fs.readdirSync(dir)).not.toContain(dead);
  });
});
