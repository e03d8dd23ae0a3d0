// Repeated setup and teardown: 100 cycles of load + embed + dispose of the tiny model, and 100 of
// index create/add/save/load/search/dispose. Whatever a cycle fails to release accumulates, so RSS
// growth between cycle 10 (allocators and caches warm) and cycle 100 must stay under a bound.
// Bounds: measured growth (docs/building.md, "Reliability tests") with a wide margin for allocator
// noise on a shared machine; a leaked ONNX Runtime session of this bundle is ~10 MB, a leaked
// index of this size 0.7 MB, so a per-cycle leak of either would exceed them many times over.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createIndex, load, loadIndex } from '../lib/index';
import { tinyBundle } from './helpers/index';

const CYCLES = 100;
const MODEL_BOUND_MB = 30;
const INDEX_BOUND_MB = 10;
const mb = (b: number): number => b / 2 ** 20;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crossmodal-cycles-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function report(kind: string, rss: number[], bound: number): number {
  const growth = mb(rss[CYCLES - 1]! - rss[9]!);
  const at = (i: number): string => mb(rss[i]!).toFixed(1);
  console.log(
    `load-dispose-cycles (${kind}): RSS after cycle 1 ${at(0)} MB, 10 ${at(9)} MB, 50 ${at(49)} MB, ` +
      `100 ${at(CYCLES - 1)} MB; growth after cycle 10: ${growth.toFixed(1)} MB (bound ${bound} MB)`,
  );
  return growth;
}

describe('load/dispose cycles', () => {
  it(`${CYCLES} × load + embed + dispose of the tiny model`, async () => {
    const rss: number[] = [];
    const image = path.join(__dirname, 'fixtures', 'images', 'png_1x1.png');
    for (let i = 0; i < CYCLES; i++) {
      const model = await load(tinyBundle, { device: 'cpu', intraOpThreads: 1, warmup: false });
      const t = await model.embedTexts([`a photo of cat number ${i}`, 'a dog']);
      const v = await model.embedImages([image]);
      expect(t.count + v.count).toBe(3);
      model.dispose();
      rss.push(process.memoryUsage.rss());
    }
    expect(report('model', rss, MODEL_BOUND_MB)).toBeLessThan(MODEL_BOUND_MB);
  }, 300_000);

  it(`${CYCLES} × index create + add + save + load + search + dispose`, async () => {
    const dim = 32;
    const n = 5000;
    const data = new Float32Array(n * dim).map((_, i) => Math.sin(i * 0.61803) + Math.cos(i * 1.3));
    const file = path.join(dir, 'cycle.idx');
    const rss: number[] = [];
    for (let i = 0; i < CYCLES; i++) {
      const index = createIndex({ dim, type: i % 2 === 0 ? 'flat' : 'hnsw', M: 8 });
      await index.add(data);
      await index.save(file, { fingerprint: `cycle-${i}` });
      const loaded = await loadIndex(file);
      const hits = await loaded.search(data.subarray(0, dim * 4), 3);
      expect(hits.ids[0]).toBe(0n);
      loaded.dispose();
      index.dispose();
      rss.push(process.memoryUsage.rss());
    }
    expect(report('index', rss, INDEX_BOUND_MB)).toBeLessThan(INDEX_BOUND_MB);
  }, 300_000);
});
