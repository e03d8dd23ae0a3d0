// End-to-end embeddings of the tiny fixture bundle against the Python generator's reference.
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { load, type Model } from '../lib/index';
import { dot, maxAbsDiff, readTinyReference, referenceImagePaths, tinyBundle, type TinyReference } from './helpers';

let model: Model;
let reference: TinyReference;

beforeAll(async () => {
  reference = readTinyReference();
  model = await load(tinyBundle, { device: 'cpu' });
});
afterAll(() => model?.dispose());

describe('text embeddings', () => {
  it('tokenizes the captions exactly like the reference tokenizer', async () => {
    const tokens = await model.tokenize(reference.captions);
    expect(tokens.count).toBe(reference.captions.length);
    expect(tokens.contextLength).toBe(77);
    reference.captions.forEach((_, i) => {
      const length = reference.lengths[i] as number;
      expect(tokens.lengths[i]).toBe(length);
      // Up to the end token the ids must agree; padding after it is the bundle's pad id.
      expect(Array.from(tokens.ids.subarray(i * 77, i * 77 + length))).toEqual(
        (reference.input_ids[i] as number[]).slice(0, length),
      );
    });
  });

  it('matches the raw reference embeddings within 1e-4', async () => {
    const embeddings = await model.embedTexts(reference.captions, { normalize: false });
    expect(embeddings.count).toBe(reference.captions.length);
    expect(embeddings.dim).toBe(model.dim);
    reference.captions.forEach((_, i) => {
      expect(maxAbsDiff(embeddings.row(i), reference.text_embeds[i] as number[])).toBeLessThanOrEqual(1e-4);
    });
  });

  it('returns unit-norm embeddings matching the normalised reference by default', async () => {
    const embeddings = await model.embedTexts(reference.captions);
    reference.captions.forEach((_, i) => {
      const row = embeddings.row(i);
      expect(Math.abs(dot(row, row) - 1)).toBeLessThan(1e-5);
      expect(maxAbsDiff(row, reference.text_embeds_normalized[i] as number[])).toBeLessThanOrEqual(1e-4);
    });
  });

  it('gives each text the same embedding alone as in a batch (padding trimmed per batch)', async () => {
    const batch = await model.embedTexts(reference.captions);
    const longest = reference.lengths.indexOf(Math.max(...reference.lengths));
    const shortest = reference.lengths.indexOf(Math.min(...reference.lengths));
    for (const i of [longest, shortest]) {
      const alone = await model.embedTexts([reference.captions[i] as string]);
      expect(maxAbsDiff(alone.row(0), batch.row(i))).toBeLessThanOrEqual(1e-5);
    }
  });

  it('handles an empty list and empty strings', async () => {
    const none = await model.embedTexts([]);
    expect(none.count).toBe(0);
    expect(none.data.length).toBe(0);
    const empty = await model.embedTexts(['', '   ']);
    expect(empty.count).toBe(2);
    expect(maxAbsDiff(empty.row(0), empty.row(1))).toBeLessThanOrEqual(1e-6);
  });
});

describe('image embeddings', () => {
  it('matches the reference embeddings from file paths within 1e-4', async () => {
    const raw = await model.embedImages(referenceImagePaths(reference), { normalize: false });
    expect(raw.count).toBe(reference.images.length);
    reference.images.forEach((image, i) => {
      const diff = maxAbsDiff(raw.row(i), reference.image_embeds[i] as number[]);
      expect(diff, `${image.file}: max abs diff ${diff}`).toBeLessThanOrEqual(1e-4);
    });
    const normalized = await model.embedImages(referenceImagePaths(reference));
    reference.images.forEach((_, i) => {
      expect(maxAbsDiff(normalized.row(i), reference.image_embeds_normalized[i] as number[])).toBeLessThanOrEqual(1e-4);
    });
  });

  it('gives the same result for Buffers as for paths', async () => {
    const paths = referenceImagePaths(reference);
    const fromPaths = await model.embedImages(paths);
    const fromBuffers = await model.embedImages(paths.map((p) => fs.readFileSync(p)));
    expect(maxAbsDiff(fromBuffers.data, fromPaths.data)).toBe(0);
  });

  it('accepts decoded RGB pixels', async () => {
    // A flat colour is the same image whatever the codec, so pixels and a lossless PNG of the
    // same colour must embed identically.
    const width = 64,
      height = 48;
    const rgb = new Uint8Array(width * height * 3);
    for (let i = 0; i < width * height; i++) rgb.set([200, 40, 90], i * 3);
    const gray = new Uint8Array(width * height).fill(128);
    const rgba = new Uint8Array(width * height * 4);
    for (let i = 0; i < width * height; i++) rgba.set([128, 128, 128, 7], i * 4);
    const e = await model.embedImages([
      { data: rgb, width, height, channels: 3 },
      { data: gray, width, height, channels: 1 },
      { data: rgba, width, height, channels: 4 },
    ]);
    expect(e.count).toBe(3);
    // Gray replicated to RGB equals RGBA with the alpha dropped (Pillow's convert('RGB')).
    expect(maxAbsDiff(e.row(1), e.row(2))).toBe(0);
    expect(maxAbsDiff(e.row(0), e.row(1))).toBeGreaterThan(1e-3);
  });

  it('keeps the order of a batch larger than one inference batch', async () => {
    const paths = referenceImagePaths(reference);
    const many = Array.from({ length: 40 }, (_, i) => paths[i % paths.length] as string);
    const e = await model.embedImages(many);
    const single = await model.embedImages(paths);
    many.forEach((_, i) => {
      expect(maxAbsDiff(e.row(i), single.row(i % paths.length))).toBeLessThanOrEqual(1e-6);
    });
  });
});

describe('score', () => {
  it('is the cosine matrix of the embeddings, scaled and softmaxed on request', async () => {
    const paths = referenceImagePaths(reference).slice(0, 3);
    const texts = reference.captions.slice(0, 4);
    const cos = await model.score(paths, texts);
    expect(cos.rows).toBe(3);
    expect(cos.cols).toBe(4);
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 4; j++) {
        const expected = dot(
          reference.image_embeds_normalized[i] as number[],
          reference.text_embeds_normalized[j] as number[],
        );
        expect(Math.abs(cos.get(i, j) - expected)).toBeLessThan(1e-4);
      }
    }
    const probs = await model.score(paths, texts, { softmax: true });
    for (let i = 0; i < 3; i++) {
      const logits = Array.from({ length: 4 }, (_, j) => cos.get(i, j) * reference.logit_scale);
      const max = Math.max(...logits);
      const exps = logits.map((l) => Math.exp(l - max));
      const sum = exps.reduce((a, b) => a + b, 0);
      let total = 0;
      for (let j = 0; j < 4; j++) {
        expect(Math.abs(probs.get(i, j) - (exps[j] as number) / sum)).toBeLessThan(1e-3);
        total += probs.get(i, j);
      }
      expect(Math.abs(total - 1)).toBeLessThan(1e-5);
    }
  });
});
