// Safety of the image pipeline: size limits checked before decoding or reading, typed errors
// naming the failing input, per-item results, and corrupt data (truncations, bit flips) that
// never crashes the process.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrossmodalError, load, preprocessImages, type Model } from '../lib/index';
import { rejection, repoRoot, tinyBundle } from './helpers';

const fixtureDir = path.join(repoRoot, 'test', 'fixtures', 'images');
const clipConfig = path.join(fixtureDir, 'configs', 'clip.json');
const small = path.join(fixtureDir, 'jpeg_444_333x201.jpg');
const large = path.join(fixtureDir, 'jpeg_4000x3000.jpg');
const IMAGE_CODES = ['ERR_IMAGE_DECODE', 'ERR_IMAGE_FORMAT', 'ERR_IMAGE_TOO_LARGE'];

describe('limits', () => {
  it('maxFileBytes rejects a file by its size before reading it, and a buffer by its length', async () => {
    const size = fs.statSync(small).size;
    const byPath = await rejection(preprocessImages([small], clipConfig, { maxFileBytes: size - 1 }));
    expect(byPath.code).toBe('ERR_IMAGE_TOO_LARGE');
    expect(byPath.message).toContain(`image 0 (${small})`);
    expect(byPath.message).toContain('maxFileBytes');
    const byBuffer = await rejection(preprocessImages([fs.readFileSync(small)], clipConfig, { maxFileBytes: 1000 }));
    expect(byBuffer.code).toBe('ERR_IMAGE_TOO_LARGE');
    await expect(preprocessImages([small], clipConfig, { maxFileBytes: size })).resolves.toMatchObject({ count: 1 });
  });

  it('maxFileBytes is checked before the file is read (a 1 GiB sparse file)', async () => {
    const fifo = path.join(os.tmpdir(), `crossmodal-sparse-${process.pid}`);
    fs.writeFileSync(fifo, '');
    fs.truncateSync(fifo, 1 << 30);
    try {
      const error = await rejection(preprocessImages([fifo], clipConfig, { maxFileBytes: 1 << 20 }));
      expect(error.code).toBe('ERR_IMAGE_TOO_LARGE');
    } finally {
      fs.unlinkSync(fifo);
    }
  });

  it('maxPixels rejects from the header, for files and raw pixels', async () => {
    const error = await rejection(preprocessImages([large], clipConfig, { maxPixels: 1_000_000 }));
    expect(error.code).toBe('ERR_IMAGE_TOO_LARGE');
    expect(error.message).toMatch(/4000x3000/);
    const raw = { data: new Uint8Array(2000 * 1000), width: 2000, height: 1000, channels: 1 as const };
    expect((await rejection(preprocessImages([raw], clipConfig, { maxPixels: 1_000_000 }))).code).toBe(
      'ERR_IMAGE_TOO_LARGE',
    );
  });

  it('the model applies its load-time limits', async () => {
    const model = await load(tinyBundle, { device: 'cpu', warmup: false, maxFileBytes: 1000 });
    try {
      const error = await rejection(model.embedImages([small]));
      expect(error.code).toBe('ERR_IMAGE_TOO_LARGE');
      expect(error.message).toContain('image 0');
      // A per-call limit overrides the model's.
      await expect(model.embedImages([small], { maxFileBytes: 1 << 20 })).resolves.toMatchObject({ count: 1 });
      await expect(model.embedImages([small], { maxFileBytes: 0 })).rejects.toMatchObject({
        code: 'ERR_INVALID_ARGUMENT',
      });
    } finally {
      model.dispose();
    }
  });

  it('validates the options', async () => {
    for (const options of [
      { maxFileBytes: 0 },
      { maxPixels: -1 },
      { exifOrientation: 'no' },
      { dctScaling: 1 },
      { onError: 'ignore' },
      { threads: 0 },
    ]) {
      expect((await rejection(preprocessImages([small], clipConfig, options as never))).code).toBe(
        'ERR_INVALID_ARGUMENT',
      );
    }
    await expect(load(tinyBundle, { maxFileBytes: 0.5 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });
});

describe('formats by magic bytes', () => {
  it('decodes by content, not by extension', async () => {
    const renamed = path.join(os.tmpdir(), `crossmodal-${process.pid}.jpg`);
    fs.copyFileSync(path.join(fixtureDir, 'png_rgb_333x217.png'), renamed);
    try {
      const [a, b] = await Promise.all([
        preprocessImages([renamed], clipConfig),
        preprocessImages([path.join(fixtureDir, 'png_rgb_333x217.png')], clipConfig),
      ]);
      expect(Buffer.compare(Buffer.from(a.data.buffer), Buffer.from(b.data.buffer))).toBe(0);
    } finally {
      fs.unlinkSync(renamed);
    }
  });

  it('rejects unknown formats with ERR_IMAGE_FORMAT, naming recognisable ones', async () => {
    const bmp = Buffer.concat([Buffer.from('BM'), Buffer.alloc(60)]);
    const error = await rejection(preprocessImages([fs.readFileSync(small), bmp], clipConfig));
    expect(error.code).toBe('ERR_IMAGE_FORMAT');
    expect(error.message).toMatch(/^image 1: .*BMP/);
    expect((await rejection(preprocessImages([Buffer.from('hello world, not an image')], clipConfig))).code).toBe(
      'ERR_IMAGE_FORMAT',
    );
  });
});

describe('batch failure semantics', () => {
  it("onError: 'skip' resolves with per-item failures; the other rows are unaffected", async () => {
    const good = [small, path.join(fixtureDir, 'png_rgb_333x217.png')];
    const truncated = fs.readFileSync(small).subarray(0, 2000);
    const result = await preprocessImages(
      [good[0] as string, truncated, 'missing.jpg', good[1] as string],
      clipConfig,
      { onError: 'skip' },
    );
    expect(result.count).toBe(4);
    expect(result.failures.map((f) => [f.index, f.code])).toEqual([
      [1, 'ERR_IMAGE_DECODE'],
      [2, 'ERR_IO'],
    ]);
    expect(result.failures[1]?.message).toContain('missing.jpg');
    const clean = await preprocessImages(good, clipConfig);
    const n = 3 * 224 * 224;
    expect(Array.from(result.data.subarray(0, n))).toEqual(Array.from(clean.data.subarray(0, n)));
    expect(Array.from(result.data.subarray(3 * n, 4 * n))).toEqual(Array.from(clean.data.subarray(n, 2 * n)));
    expect(result.data.subarray(n, 3 * n).every((v) => v === 0)).toBe(true);
  });

  it("by default (onError: 'throw') the call rejects with the first failing input's error", async () => {
    const error = await rejection(preprocessImages([small, 'missing-1.jpg', 'missing-2.jpg'], clipConfig));
    expect(error.code).toBe('ERR_IO');
    expect(error.message).toMatch(/^image 1 \(.*missing-1\.jpg\)/);
  });
});

// Deterministic xorshift, so a failure reproduces.
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

describe('corrupt data never crashes the process', () => {
  let model: Model;
  beforeAll(async () => {
    model = await load(tinyBundle, { device: 'cpu', warmup: false });
  });
  afterAll(() => model.dispose());

  const files = fs
    .readdirSync(fixtureDir)
    .filter((f) => /\.(jpg|png|webp|gif)$/.test(f) && fs.statSync(path.join(fixtureDir, f)).size < 200_000);

  it.each(files)('%s: truncations and bit flips reject with typed codes or decode', async (file) => {
    const bytes = fs.readFileSync(path.join(fixtureDir, file));
    const random = rng(bytes.length * 2654435761);
    const variants: Uint8Array[] = [];
    for (const fraction of [0, 0.001, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99]) {
      variants.push(bytes.subarray(0, Math.max(1, Math.floor(bytes.length * fraction))));
    }
    variants.push(bytes.subarray(0, bytes.length - 1));
    for (let i = 0; i < 24; i++) {
      const copy = Uint8Array.from(bytes);
      const flips = 1 + Math.floor(random() * 8);
      // Half the mutations hit the headers (first 256 bytes), where parsing decisions are made.
      for (let f = 0; f < flips; f++) {
        const limit = i % 2 === 0 ? Math.min(256, copy.length) : copy.length;
        const at = Math.floor(random() * limit);
        copy[at] = (copy[at] as number) ^ (1 << Math.floor(random() * 8));
      }
      variants.push(copy);
    }
    const result = await preprocessImages(variants, clipConfig, { onError: 'skip', maxPixels: 50_000_000 });
    expect(result.count).toBe(variants.length);
    for (const failure of result.failures) {
      expect(IMAGE_CODES, `${file} variant ${failure.index}: ${failure.code} ${failure.message}`).toContain(
        failure.code,
      );
    }
    // Truncated to nothing or a few bytes can never decode.
    expect(result.failures.map((f) => f.index)).toContain(0);
    // Through the model too: each corrupt input either embeds or rejects with a typed code.
    const outcomes = await Promise.allSettled(variants.slice(0, 12).map((v) => model.embedImages([v])));
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') expect(IMAGE_CODES).toContain((outcome.reason as CrossmodalError).code);
    }
  });
});
