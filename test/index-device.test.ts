// The `device` option of createIndex / loadIndex: validation, the typed refusal of an explicit GPU
// where there is none, the CPU fallback of `auto` and its reported reason. The last block runs only
// on a build with CROSSMODAL_WITH_FAISS_GPU and a CUDA device (skipped elsewhere): GPU searches
// must agree with the CPU index, and every fallback must be counted with its reason.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CrossmodalError, createIndex, loadIndex, type IndexOptions } from '../lib/index';
import { native } from '../lib/binding';
import { rejection } from './helpers';
import { gaussianVectors } from './helpers/vectors';

const dim = 32;
const n = 1500;
const data = gaussianVectors(n, dim, 41);
const queries = gaussianVectors(6, dim, 42);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crossmodal-device-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function thrown(fn: () => unknown): CrossmodalError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CrossmodalError);
    return error as CrossmodalError;
  }
  throw new Error('expected a throw');
}

// What this build can do: `auto` on a flat index is active exactly when a GPU is usable.
const probe = createIndex({ dim: 4, device: 'auto' });
const probeInfo = await probe.info();
probe.dispose();
const gpuBuild = !/without CROSSMODAL_WITH_FAISS_GPU/.test(probeInfo.gpu.reason);
const gpuActive = probeInfo.gpu.active;

const gpuCapable: Record<string, IndexOptions> = {
  flat: { dim },
  'ivf-flat': { dim, type: 'ivf-flat', nlist: 16, nprobe: 16 },
  'ivf-pq (pure)': { dim, type: 'ivf-pq', nlist: 16, nprobe: 16, pqM: 8, refineFactor: 0 },
  'ivf-pq (refined)': { dim, type: 'ivf-pq', nlist: 16, nprobe: 16, pqM: 8 },
};

describe('device option', () => {
  it('defaults to cpu and says so', async () => {
    const index = createIndex({ dim });
    await index.add(data);
    const info = await index.info();
    expect(info.gpu).toEqual({
      requested: 'cpu',
      device: -1,
      active: false,
      reason: "device 'cpu' was requested",
      gpuSearches: 0,
      cpuFallbacks: 0,
      lastFallback: '',
    });
    // Placement is not an index parameter: it stays out of params (and out of saved files).
    expect(info.params).not.toHaveProperty('device');
    expect(info.params).not.toHaveProperty('deviceId');
    index.dispose();
  });

  it('refuses bad values with ERR_INVALID_ARGUMENT', async () => {
    for (const bad of [
      { device: 'cuda' },
      { device: 'GPU' },
      { device: 1 },
      { device: null },
      { deviceId: -1 },
      { deviceId: 1.5 },
      { deviceId: 1024 },
      { deviceId: '0' },
    ]) {
      expect(thrown(() => createIndex({ dim, ...(bad as object) })).code, JSON.stringify(bad)).toBe(
        'ERR_INVALID_ARGUMENT',
      );
    }
    // The native parser checks the same, for callers that bypass the TypeScript layer.
    const Native = native().VectorIndex;
    for (const spec of [
      { dim, device: 'tpu' },
      { dim, device: 3 },
      { dim, deviceId: -2 },
      { dim, deviceId: 4096 },
    ]) {
      let code: unknown;
      try {
        new Native(JSON.stringify(spec));
      } catch (error) {
        code = (error as { code?: unknown }).code;
      }
      expect(code, JSON.stringify(spec)).toBe('ERR_INVALID_ARGUMENT');
    }
    await expect(loadIndex(path.join(dir, 'x.index'), { device: 'tpu' as never })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
    await expect(loadIndex(path.join(dir, 'x.index'), { deviceId: -1 })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
  });

  it("refuses device 'gpu' for index types that cannot run on a GPU, on any build", () => {
    const cases: IndexOptions[] = [
      { dim, type: 'hnsw' },
      { dim, type: 'factory', factory: 'IVF8,Flat' },
      { dim: 512, type: 'ivf-pq' }, // default pqM = dim / 4 = 128: no GPU list scanner for it
      { dim, type: 'ivf-pq', pqM: 8, pqBits: 6 },
    ];
    for (const options of cases) {
      const error = thrown(() => createIndex({ ...options, device: 'gpu' }));
      expect(error.code, JSON.stringify(options)).toBe('ERR_INVALID_ARGUMENT');
      expect(error.message).toMatch(/device 'gpu'/);
    }
  });

  it.skipIf(gpuBuild)("refuses device 'gpu' with ERR_GPU_UNAVAILABLE on a build without GPU support", async () => {
    for (const options of Object.values(gpuCapable)) {
      const error = thrown(() => createIndex({ ...options, device: 'gpu' }));
      expect(error.code).toBe('ERR_GPU_UNAVAILABLE');
      expect(error.message).toMatch(/CROSSMODAL_WITH_FAISS_GPU/);
    }
    const file = path.join(dir, 'flat.index');
    const index = createIndex({ dim });
    await index.add(data);
    await index.save(file);
    index.dispose();
    const error = await rejection(loadIndex(file, { device: 'gpu' }));
    expect(error.code).toBe('ERR_GPU_UNAVAILABLE');
  });

  it.skipIf(gpuBuild)("runs 'auto' on the CPU, reports why, and answers exactly like a CPU index", async () => {
    for (const [name, options] of Object.entries(gpuCapable)) {
      const cpu = createIndex(options);
      const auto = createIndex({ ...options, device: 'auto', deviceId: 0 });
      await cpu.add(data);
      await auto.add(data);
      const a = await cpu.search(queries, 10);
      const b = await auto.search(queries, 10);
      expect(Array.from(b.ids), name).toEqual(Array.from(a.ids));
      expect(Array.from(b.scores), name).toEqual(Array.from(a.scores));
      const info = await auto.info();
      expect(info.gpu.requested).toBe('auto');
      expect(info.gpu.active).toBe(false);
      expect(info.gpu.device).toBe(-1);
      expect(info.gpu.reason).toMatch(/no GPU support.*CROSSMODAL_WITH_FAISS_GPU/);
      expect(info.gpu.gpuSearches).toBe(0);
      expect(info.gpu.cpuFallbacks).toBe(0); // not GPU-placed, so nothing "fell back"
      cpu.dispose();
      auto.dispose();
    }
  });

  // A GPU build on a machine where CUDA has no usable device (tools/dev/check-gpu-build.sh
  // --run-without-device runs this one on the development machine, with a real CUDA runtime).
  it.skipIf(!gpuBuild || gpuActive)(
    "on a GPU build without a CUDA device, refuses 'gpu' and explains 'auto'",
    async () => {
      const error = thrown(() => createIndex({ dim, device: 'gpu' }));
      expect(error.code).toBe('ERR_GPU_UNAVAILABLE');
      expect(error.message).toMatch(
        /^device 'gpu' was requested but (CUDA is unavailable: cuda\w+ \(.+\)|no CUDA device is visible)$/,
      );
      const why = error.message.replace("device 'gpu' was requested but ", '');
      const auto = createIndex({ dim, type: 'ivf-flat', nlist: 16, device: 'auto' });
      await auto.add(data);
      await auto.remove([1, 2]);
      const results = await auto.search(queries, 5, { filter: { deny: [3] } });
      expect(results.get(0)).toHaveLength(5);
      await auto.rangeSearch(queries, 0.5);
      expect((await auto.info()).gpu).toEqual({
        requested: 'auto',
        device: -1,
        active: false,
        reason: why,
        gpuSearches: 0,
        cpuFallbacks: 0,
        lastFallback: '',
      });
      auto.dispose();
    },
  );

  it("gives the type's reason for 'auto' where the type cannot run on a GPU", async () => {
    const hnsw = createIndex({ dim, type: 'hnsw', device: 'auto' });
    expect((await hnsw.info()).gpu).toMatchObject({
      requested: 'auto',
      active: false,
      reason: expect.stringMatching(/hnsw/),
    });
    hnsw.dispose();
    const pq = createIndex({ dim: 512, type: 'ivf-pq', device: 'auto' });
    expect((await pq.info()).gpu.reason).toMatch(/pqM.*got 128, the default dim \/ 4/);
    pq.dispose();
  });

  it('keeps the placement across rebuild() and chooses it anew on load', async () => {
    const index = createIndex({ dim, type: 'ivf-flat', nlist: 16, device: 'auto' });
    await index.add(data);
    await index.remove([0, 1, 2]);
    await index.rebuild();
    expect((await index.info()).gpu.requested).toBe('auto');
    const file = path.join(dir, 'auto.index');
    await index.save(file);
    index.dispose();
    const plain = await loadIndex(file);
    expect((await plain.info()).gpu.requested).toBe('cpu');
    plain.dispose();
    const auto = await loadIndex(file, { device: 'auto' });
    expect((await auto.info()).gpu.requested).toBe('auto');
    expect((await auto.search(queries, 5)).get(0)).toHaveLength(5);
    auto.dispose();
  });
});

// Needs a build with CROSSMODAL_WITH_FAISS_GPU and a CUDA device: skipped on the CPU build.
describe.skipIf(!gpuActive)('GPU replica (CUDA machines only)', () => {
  const sameIds = (a: BigInt64Array, b: BigInt64Array, k: number): number => {
    let hits = 0;
    for (let q = 0; q < a.length / k; q++) {
      const want = new Set(Array.from(a.subarray(q * k, (q + 1) * k)));
      for (const id of b.subarray(q * k, (q + 1) * k)) if (want.has(id)) hits++;
    }
    return hits / a.length;
  };

  it.each(Object.keys(gpuCapable))(
    '%s: GPU searches agree with the CPU index, through appends and removals',
    async (name) => {
      const options = gpuCapable[name] as IndexOptions;
      const cpu = createIndex(options);
      const gpu = createIndex({ ...options, device: 'gpu' });
      for (const index of [cpu, gpu]) await index.add(data.subarray(0, 1000 * dim));
      const check = async (): Promise<void> => {
        const a = await cpu.search(queries, 10);
        const b = await gpu.search(queries, 10);
        expect(sameIds(a.ids, b.ids, 10)).toBeGreaterThanOrEqual(name === 'flat' || name === 'ivf-flat' ? 1 : 0.9);
      };
      await check();
      for (const index of [cpu, gpu]) await index.add(data.subarray(1000 * dim)); // append in place
      await check();
      for (const index of [cpu, gpu]) await index.remove([3, 5, 7, 1200]); // replica rebuilt lazily
      await check();
      const info = await gpu.info();
      expect(info.gpu).toMatchObject({ requested: 'gpu', device: 0, active: true, reason: '' });
      expect(info.gpu.gpuSearches).toBe(3);
      cpu.dispose();
      gpu.dispose();
    },
  );

  it('falls back to the CPU for filters, range search and k above the GPU limit, counting each', async () => {
    const index = createIndex({ dim, device: 'gpu' });
    await index.add(data);
    const filtered = await index.search(queries, 5, { filter: { deny: [0, 1, 2] } });
    expect(filtered.get(0)).toHaveLength(5);
    let info = await index.info();
    expect(info.gpu.cpuFallbacks).toBe(1);
    expect(info.gpu.lastFallback).toMatch(/filter/);
    await index.rangeSearch(queries, 0.5);
    info = await index.info();
    expect(info.gpu.cpuFallbacks).toBe(2);
    expect(info.gpu.lastFallback).toMatch(/rangeSearch/);
    const wide = await index.search(queries.subarray(0, dim), 1400);
    expect(wide.get(0)).toHaveLength(1400);
    await index.search(queries.subarray(0, dim), 1499); // k ≤ 2047 still on the GPU
    const bigger = createIndex({ dim, device: 'gpu' });
    await bigger.add(gaussianVectors(3000, dim, 43));
    await bigger.search(queries.subarray(0, dim), 2100);
    expect((await bigger.info()).gpu.lastFallback).toMatch(/limit/);
    index.dispose();
    bigger.dispose();
  });
});
