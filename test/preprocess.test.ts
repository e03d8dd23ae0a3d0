// The preprocess API (model.preprocess, preprocessImages) and the input kinds it shares with
// embedImages: paths, encoded bytes, raw pixels and ready tensors.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { load, preprocessImages, type Model } from '../lib/index';
import { maxAbsDiff, repoRoot, tinyBundle } from './helpers';
import { readPngRgb } from './helpers/png';

const fixtureDir = path.join(repoRoot, 'test', 'fixtures', 'images');
const bundleConfig = path.join(tinyBundle, 'preprocessor_config.json');
const photo = path.join(fixtureDir, 'jpeg_baseline_640x427.jpg');
const pngPhoto = path.join(fixtureDir, 'png_rgb_333x217.png');

function same(a: Float32Array, b: Float32Array): boolean {
  return (
    a.length === b.length &&
    Buffer.compare(
      Buffer.from(a.buffer, a.byteOffset, a.byteLength),
      Buffer.from(b.buffer, b.byteOffset, b.byteLength),
    ) === 0
  );
}

let model: Model;
beforeAll(async () => {
  model = await load(tinyBundle, { device: 'cpu', warmup: false });
});
afterAll(() => model.dispose());

describe('preprocess', () => {
  it("model.preprocess gives the model's input tensor, same as preprocessImages with the bundle's config", async () => {
    const inputs = [photo, fs.readFileSync(pngPhoto)];
    const [fromModel, standalone, fromObject] = await Promise.all([
      model.preprocess(inputs),
      preprocessImages(inputs, bundleConfig),
      preprocessImages(inputs, JSON.parse(fs.readFileSync(bundleConfig, 'utf8')) as Record<string, unknown>),
    ]);
    expect(fromModel).toMatchObject({
      count: 2,
      channels: 3,
      height: model.info.imageHeight,
      width: model.info.imageWidth,
      failures: [],
    });
    expect(fromModel.data.length).toBe(2 * 3 * model.info.imageHeight * model.info.imageWidth);
    expect(same(fromModel.data, standalone.data)).toBe(true);
    expect(same(fromModel.data, fromObject.data)).toBe(true);
  });

  it('raw pixels give the same tensor as the encoded file they were decoded from', async () => {
    const rgb = readPngRgb(pngPhoto);
    const rgba = new Uint8ClampedArray(rgb.width * rgb.height * 4);
    for (let i = 0; i < rgb.width * rgb.height; i++) {
      rgba.set(rgb.data.subarray(3 * i, 3 * i + 3), 4 * i);
      rgba[4 * i + 3] = i % 256; // alpha is dropped, as by Pillow's convert('RGB')
    }
    const result = await preprocessImages(
      [
        pngPhoto,
        { data: rgb.data, width: rgb.width, height: rgb.height, channels: 3 },
        { data: rgba, width: rgb.width, height: rgb.height, channels: 4 },
      ],
      bundleConfig,
    );
    const n = 3 * result.height * result.width;
    expect(same(result.data.subarray(0, n), result.data.subarray(n, 2 * n))).toBe(true);
    expect(same(result.data.subarray(0, n), result.data.subarray(2 * n, 3 * n))).toBe(true);
  });

  it('threads: 1 and the default pool give identical results', async () => {
    const files = fs
      .readdirSync(fixtureDir)
      .filter((f) => /^(jpeg|png)_.*\.(jpg|png)$/.test(f) && !f.includes('4000'))
      .map((f) => path.join(fixtureDir, f));
    const [one, many] = await Promise.all([
      preprocessImages(files, bundleConfig, { threads: 1 }),
      preprocessImages(files, bundleConfig),
    ]);
    expect(same(one.data, many.data)).toBe(true);
  });

  it('preprocessThreads: 1 gives the same tensors and embeddings as the default pool', async () => {
    const files = fs
      .readdirSync(fixtureDir)
      .filter((f) => /\.(jpg|png|webp|gif)$/.test(f) && !f.includes('4000'))
      .map((f) => path.join(fixtureDir, f));
    const single = await load(tinyBundle, { device: 'cpu', warmup: false, preprocessThreads: 1 });
    try {
      const [a, b] = await Promise.all([single.preprocess(files), model.preprocess(files)]);
      expect(same(a.data, b.data)).toBe(true);
      const [ea, eb] = await Promise.all([single.embedImages(files), model.embedImages(files)]);
      expect(maxAbsDiff(ea.data, eb.data)).toBeLessThan(1e-6);
    } finally {
      single.dispose();
    }
  });

  it('rejects configs without a fixed output size and malformed configs', async () => {
    await expect(
      preprocessImages([photo], { size: { shortest_edge: 224 }, do_center_crop: false }),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(preprocessImages([photo], { image_mean: 'x' })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
    await expect(preprocessImages([photo], path.join(fixtureDir, 'no-such-config.json'))).rejects.toMatchObject({
      code: 'ERR_IO',
    });
  });

  it('exifOrientation: false as a load option and per call', async () => {
    const upright = path.join(fixtureDir, 'jpeg_exif_orientation_1.jpg');
    const rotated = path.join(fixtureDir, 'jpeg_exif_orientation_6.jpg');
    const plain = await load(tinyBundle, { device: 'cpu', warmup: false, exifOrientation: false });
    try {
      const [off, on, perCall] = await Promise.all([
        plain.preprocess([upright, rotated]),
        model.preprocess([upright, rotated]),
        model.preprocess([upright, rotated], { exifOrientation: false }),
      ]);
      const n = off.data.length / 2;
      expect(same(off.data.subarray(0, n), off.data.subarray(n))).toBe(true);
      expect(same(on.data.subarray(0, n), on.data.subarray(n))).toBe(false);
      expect(same(perCall.data, off.data)).toBe(true);
      // The model embeds what it preprocesses: the rotated photo embeds differently unless EXIF is ignored.
      const [a, b] = await Promise.all([plain.embedImages([upright, rotated]), model.embedImages([upright, rotated])]);
      expect(maxAbsDiff(a.row(0), a.row(1))).toBe(0);
      expect(maxAbsDiff(b.row(0), b.row(1))).toBeGreaterThan(0);
      // Per embedding call too, without affecting other calls.
      const [c, d] = await Promise.all([
        model.embedImages([upright, rotated], { exifOrientation: false }),
        model.embedImages([upright, rotated]),
      ]);
      expect(maxAbsDiff(c.row(0), c.row(1))).toBe(0);
      expect(maxAbsDiff(d.data, b.data)).toBe(0);
    } finally {
      plain.dispose();
    }
  });
});

describe('tensor inputs', () => {
  it('embed exactly like the image they were preprocessed from', async () => {
    const pre = await model.preprocess([photo]);
    const tensor = pre.data.slice(); // a copy: the caller owns it
    const [fromTensor, fromFile, withSize] = await Promise.all([
      model.embedImages([{ tensor }]),
      model.embedImages([photo]),
      model.embedImages([{ tensor, width: pre.width, height: pre.height }]),
    ]);
    expect(maxAbsDiff(fromTensor.row(0), fromFile.row(0))).toBe(0);
    expect(maxAbsDiff(withSize.row(0), fromFile.row(0))).toBe(0);
    // preprocess passes a tensor through unchanged.
    expect(same((await model.preprocess([{ tensor }])).data, tensor)).toBe(true);
  });

  it("are validated against the model's input size", async () => {
    const { imageHeight: h, imageWidth: w } = model.info;
    await expect(model.embedImages([{ tensor: new Float32Array(3 * h * w - 1) }])).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: expect.stringMatching(/image 0: tensor has/),
    });
    await expect(
      model.embedImages([{ tensor: new Float32Array(3 * 10 * 10), width: 10, height: 10 }]),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(
      model.embedImages([{ tensor: new Float32Array(3 * h * w), width: w, height: h + 1 }]),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    const nan = new Float32Array(3 * h * w);
    nan[5] = Number.NaN;
    await expect(model.embedImages([{ tensor: nan }])).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: expect.stringMatching(/not finite/),
    });
    await expect(model.embedImages([{ tensor: new Uint8Array(3) } as never])).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
  });
});
