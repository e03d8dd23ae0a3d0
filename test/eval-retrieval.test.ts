// Caption data sets, `crossmodal eval` end to end, its agreement with NumPy on saved embeddings,
// and its HTML report in headless Chromium.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { loadCaptionDataset } from '../lib/eval/datasets';
import { load } from '../lib/index';
import { launchChromium, chromiumPath, renderPage } from './helpers/browser';
import { repoRoot, scratchDirs, tinyBundle, tinyReferenceDir } from './helpers';

const bin = path.join(repoRoot, 'dist', 'cjs', 'cli', 'main.js');
const newDir = scratchDirs('crossmodal-eval-');
const python = '/usr/bin/python3';
const numpyAvailable =
  fs.existsSync(python) && spawnSync(python, ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;

const images = fs
  .readdirSync(tinyReferenceDir)
  .filter((f) => /\.(png|jpe?g|webp|gif)$/i.test(f))
  .sort();
const CAPTIONS = [
  'a photo of a cat',
  'a red square on grey',
  'two dogs, running',
  'a sunny beach',
  'a "quoted" word',
  'lots of green',
];

/** A CSV data set over the fixture images: two captions each, one with an unquoted comma. */
function writeCsv(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const lines = ['image,caption'];
  images.forEach((image, i) => {
    lines.push(`${image},${CAPTIONS[i % CAPTIONS.length]}`);
    lines.push(`${image},"caption ${i}, quoted, with commas"`);
  });
  const file = path.join(dir, 'captions.csv');
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

describe('caption data sets', () => {
  it('reads CSV with quoted and unquoted commas, resolving images beside the file or under images/', () => {
    const dir = newDir();
    const csv = writeCsv(dir);
    const ds = loadCaptionDataset(csv, { images: tinyReferenceDir });
    expect(ds.images).toEqual(images.map((f) => path.join(tinyReferenceDir, f)));
    expect(ds.captions[0]).toBe(CAPTIONS[0]);
    expect(ds.captions[1]).toBe('caption 0, quoted, with commas');
    expect(ds.captions[2 * 2]).toBe('two dogs, running');
    expect(Array.from(ds.captionImage.subarray(0, 4))).toEqual([0, 0, 1, 1]);
    // Without --images: the images/ folder beside the file.
    fs.mkdirSync(path.join(dir, 'images'));
    for (const f of images) fs.copyFileSync(path.join(tinyReferenceDir, f), path.join(dir, 'images', f));
    expect(loadCaptionDataset(csv).images[0]).toBe(path.join(dir, 'images', images[0]!));
    expect(loadCaptionDataset(csv, { limit: 2 }).captions).toHaveLength(4);
  });

  it('reads COCO captions and Karpathy splits (with and without filepath)', () => {
    const dir = newDir();
    fs.mkdirSync(path.join(dir, 'val2014'), { recursive: true });
    for (const f of images.slice(0, 3)) fs.copyFileSync(path.join(tinyReferenceDir, f), path.join(dir, 'val2014', f));
    const coco = path.join(dir, 'captions_val.json');
    fs.writeFileSync(
      coco,
      JSON.stringify({
        images: images.slice(0, 3).map((f, i) => ({ id: 10 + i, file_name: f })),
        annotations: [
          { image_id: 11, caption: ' b ' },
          { image_id: 10, caption: 'a' },
          { image_id: 11, caption: 'c' },
        ],
      }),
    );
    const c = loadCaptionDataset(coco, { images: path.join(dir, 'val2014') });
    expect(c.captions).toEqual(['b', 'a', 'c']);
    expect(Array.from(c.captionImage)).toEqual([0, 1, 0]);
    expect(c.images[0]).toBe(path.join(dir, 'val2014', images[1]!));

    const karpathy = path.join(dir, 'dataset_coco.json');
    fs.writeFileSync(
      karpathy,
      JSON.stringify({
        dataset: 'coco',
        images: images.slice(0, 3).map((f, i) => ({
          filepath: 'val2014',
          filename: f,
          split: i === 2 ? 'train' : 'test',
          sentences: [{ raw: `s${i}a` }, { raw: `s${i}b` }],
        })),
      }),
    );
    const k = loadCaptionDataset(karpathy);
    expect(k.captions).toEqual(['s0a', 's0b', 's1a', 's1b']);
    expect(k.images).toEqual([path.join(dir, 'val2014', images[0]!), path.join(dir, 'val2014', images[1]!)]);
    expect(loadCaptionDataset(karpathy, { split: 'train' }).captions).toEqual(['s2a', 's2b']);
  });

  it('refuses bad headers, unknown JSON, missing images and empty splits with typed errors', () => {
    const dir = newDir();
    fs.mkdirSync(dir, { recursive: true });
    const bad = path.join(dir, 'bad.csv');
    fs.writeFileSync(bad, 'file,text\na.jpg,x\n');
    expect(() => loadCaptionDataset(bad)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    const missing = path.join(dir, 'missing.csv');
    fs.writeFileSync(missing, 'image,caption\nnope.jpg,a caption\n');
    expect(() => loadCaptionDataset(missing)).toThrow(
      expect.objectContaining({ code: 'ERR_IO', message: expect.stringContaining('--images') }),
    );
    const other = path.join(dir, 'other.json');
    fs.writeFileSync(other, '{"hello": 1}');
    expect(() => loadCaptionDataset(other)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    const karpathy = path.join(dir, 'k.json');
    fs.writeFileSync(
      karpathy,
      JSON.stringify({ dataset: 'f', images: [{ filename: 'x.jpg', split: 'train', sentences: [{ raw: 'a' }] }] }),
    );
    expect(() => loadCaptionDataset(karpathy)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining("split 'test'") }),
    );
    expect(() => loadCaptionDataset(path.join(dir, 'absent.csv'))).toThrow(expect.objectContaining({ code: 'ERR_IO' }));
  });
});

describe('crossmodal eval', () => {
  let browser: Browser | undefined;
  beforeAll(async () => {
    if (chromiumPath) browser = await launchChromium();
  });
  afterAll(async () => browser?.close());

  it.skipIf(!numpyAvailable)('agrees with NumPy on saved embeddings (Recall@K, ranks, mAP, CLIPScore)', () => {
    const dir = newDir();
    const csv = writeCsv(dir);
    const ds = loadCaptionDataset(csv, { images: tinyReferenceDir });
    const run = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: repoRoot });
    const evalRun = run(['eval', csv, '--images', tinyReferenceDir, '--model', tinyBundle, '--k', '1,2,5', '--json']);
    expect(evalRun.status, evalRun.stderr).toBe(0);
    const report = JSON.parse(evalRun.stdout);
    expect(report).toMatchObject({ images: images.length, captions: 2 * images.length });

    // The same embeddings, saved by `crossmodal embed`, then scored by an independent implementation.
    const imageNpy = path.join(dir, 'images.npy');
    const textNpy = path.join(dir, 'texts.npy');
    expect(run(['embed', ...ds.images, '--out', imageNpy, '--model', tinyBundle]).status).toBe(0);
    expect(run(['embed', '--texts', ...ds.captions, '--out', textNpy, '--model', tinyBundle]).status).toBe(0);
    const script = `
import json, sys, numpy as np
I = np.load(sys.argv[1]).astype(np.float64); T = np.load(sys.argv[2]).astype(np.float64)
owner = np.array(json.loads(sys.argv[3])); ks = [1, 2, 5]
S = T @ I.T
def ranks_of(S, rel):
    order = np.argsort(-S.astype(np.float32), axis=1, kind="stable")
    pos = np.empty_like(order); pos[np.arange(S.shape[0])[:, None], order] = np.arange(1, S.shape[1] + 1)
    out, aps = [], []
    for q, r in enumerate(rel):
        p = np.sort(pos[q, r]); out.append(int(p[0])); aps.append(float(np.mean(np.arange(1, len(p) + 1) / p)))
    return np.array(out), float(np.mean(aps))
t2i, t2i_map = ranks_of(S, [[o] for o in owner])
i2t, i2t_map = ranks_of(S.T, [list(np.where(owner == i)[0]) for i in range(I.shape[0])])
cos = np.sum(T * I[owner], axis=1)
print(json.dumps({"t2i": {str(k): float(np.mean(t2i <= k)) for k in ks}, "i2t": {str(k): float(np.mean(i2t <= k)) for k in ks},
  "t2i_median": float(np.median(t2i)), "i2t_mean": float(np.mean(i2t)), "t2i_map": t2i_map, "i2t_map": i2t_map,
  "clip": float(np.mean(2.5 * np.maximum(cos, 0)))}))`;
    const py = spawnSync(python, ['-c', script, imageNpy, textNpy, JSON.stringify(Array.from(ds.captionImage))], {
      encoding: 'utf8',
    });
    expect(py.status, py.stderr).toBe(0);
    const expected = JSON.parse(py.stdout);
    for (const k of ['1', '2', '5']) {
      expect(report.textToImage.recall[k]).toBeCloseTo(expected.t2i[k], 10);
      expect(report.imageToText.recall[k]).toBeCloseTo(expected.i2t[k], 10);
    }
    expect(report.textToImage.medianRank).toBe(expected.t2i_median);
    expect(report.imageToText.meanRank).toBeCloseTo(expected.i2t_mean, 10);
    expect(report.textToImage.mAP).toBeCloseTo(expected.t2i_map, 6);
    expect(report.imageToText.mAP).toBeCloseTo(expected.i2t_map, 6);
    expect(report.clipScore.mean).toBeCloseTo(expected.clip, 5);
  });

  it('reports calibration, approximate-index recall and precision drift, and rejects bad options', () => {
    const dir = newDir();
    const csv = writeCsv(dir);
    const run = spawnSync(
      process.execPath,
      [
        bin,
        'eval',
        csv,
        '--images',
        tinyReferenceDir,
        '--model',
        tinyBundle,
        '--calibrate',
        '--index',
        'hnsw',
        '--precision',
        'fp16',
        '--json',
      ],
      { encoding: 'utf8', cwd: repoRoot },
    );
    expect(run.status, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.calibration.rocAuc).toBeGreaterThanOrEqual(0);
    expect(report.calibration.rocAuc).toBeLessThanOrEqual(1);
    expect(report.approximate).toMatchObject({ type: 'hnsw', k: images.length });
    // On a handful of vectors HNSW is exact.
    expect(report.approximate.recallVsExact).toBe(1);
    expect(report.precisionDrift.precision).toBe('fp16');
    expect(report.precisionDrift.imageCosine.min).toBeGreaterThan(0.99);
    for (const args of [
      ['--format', 'xml'],
      ['--index', 'lsh'],
      ['--precision', 'q8'],
      ['--k', '0'],
      ['--target-precision', '2'],
    ]) {
      const bad = spawnSync(
        process.execPath,
        [bin, 'eval', csv, '--images', tinyReferenceDir, '--model', tinyBundle, ...args],
        { encoding: 'utf8', cwd: repoRoot },
      );
      expect(bad.status, args.join(' ')).toBe(2);
      expect(bad.stderr).toMatch(/^crossmodal: /m);
    }
  });

  it.skipIf(!chromiumPath)('writes an HTML report whose charts and images render in Chromium', async () => {
    const dir = newDir();
    const csv = writeCsv(dir);
    const html = path.join(dir, 'report.html');
    const run = spawnSync(
      process.execPath,
      [bin, 'eval', csv, '--images', tinyReferenceDir, '--model', tinyBundle, '--calibrate', '--html', html],
      { encoding: 'utf8', cwd: repoRoot },
    );
    expect(run.status, run.stderr).toBe(0);
    fs.mkdirSync(path.join(repoRoot, 'build'), { recursive: true });
    const shown = await renderPage(browser as Browser, html, path.join(repoRoot, 'build', 'eval-report.png'));
    expect(shown.externalRequests).toEqual([]);
    expect(shown.charts).toEqual({ count: 2, drawn: 2 });
    expect(shown.images.broken).toBe(0);
    // Random weights miss plenty: the worst-misses section shows two images per miss.
    expect(shown.images.total).toBeGreaterThanOrEqual(2);
    expect(shown.images.minWidth).toBeGreaterThan(50);
    expect(shown.width).toBeLessThanOrEqual(1280);
  });
});

describe('model.match', () => {
  it('decides each image-caption pair against a threshold, with the cosine score() gives', async () => {
    const model = await load(tinyBundle, { warmup: false });
    try {
      const files = images.slice(0, 3).map((f) => path.join(tinyReferenceDir, f));
      const texts = ['a photo of a cat', 'a red square', 'a sunny beach'];
      const all = await model.score(files, texts);
      const { matches, scores } = await model.match(files, texts, { threshold: 0 });
      scores.forEach((s, i) => expect(s).toBeCloseTo(all.get(i, i), 5));
      expect(matches).toEqual(Array.from(scores, (s) => s >= 0));
      expect((await model.match(files, texts, { threshold: -1 })).matches).toEqual([true, true, true]);
      const middle = [...scores].sort((a, b) => a - b)[1]!;
      expect((await model.match(files, texts, { threshold: middle })).matches.filter(Boolean)).toHaveLength(2);
      await expect(model.match(files, texts.slice(0, 2), { threshold: 0 })).rejects.toMatchObject({
        code: 'ERR_INVALID_ARGUMENT',
      });
      await expect(model.match(files, texts, { threshold: 2 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
      await expect(model.match(files, texts, null as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    } finally {
      model.dispose();
    }
  });
});
