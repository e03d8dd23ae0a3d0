#!/usr/bin/env node
// The int8 row (issue #15): the ViT-B/32-architecture towers dynamically quantized
// (tools/dev/quantize_dynamic.py: MatMulInteger, per-tensor scales, as Transformers.js's
// `*_quantized.onnx` exports are made), run by crossmodal (`precision: 'int8'`) and by the
// onnxruntime-node + sharp peer (bench/encode/peer.mjs) beside their fp32 runs.
//
//   npm run bench:int8 [-- --images 64 --texts 256 --rounds 2 --threads N]
//
// Per side: images/s (calls of 16) and texts/s (calls of 64) in fp32 and int8, alternating the
// four configurations round by round (medians, min–max), and the drift of int8 embeddings from
// the same side's fp32 ones (cosine, mean and worst item). The weights are random, so the drift
// says how much int8 moves an embedding, not how retrieval quality changes.
import { execFileSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { peerSide } from './encode/peer.mjs';
import { defaultFlickrDir, flickrCaptions, flickrPhotos, hasFlickr } from './flickr.mjs';
import { ensureBundle, vitB32Dir } from './models.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const log = (...a) => console.error('[bench:int8]', ...a);
const { values } = parseArgs({
  options: {
    images: { type: 'string', default: '64' },
    texts: { type: 'string', default: '256' },
    rounds: { type: 'string', default: '2' },
    threads: { type: 'string', default: String(os.availableParallelism()) },
    model: { type: 'string', default: vitB32Dir },
    data: { type: 'string', default: defaultFlickrDir },
  },
});
if (!hasFlickr(values.data)) {
  log(`no Flickr8k sample at ${values.data}: skipped`);
  process.exit(0);
}
ensureBundle(values.model, log);
execFileSync('/usr/bin/python3', [path.join(root, 'tools/dev/quantize_dynamic.py'), values.model], {
  stdio: ['ignore', 'inherit', 'inherit'],
});

const threads = Number(values.threads);
const images = flickrPhotos(values.data, Number(values.images));
const texts = flickrCaptions(values.data, Number(values.texts));

const { load } = await import('crossmodal');
async function crossmodal(precision) {
  const model = await load(values.model, { device: 'cpu', precision, intraOpThreads: threads });
  return {
    embedImages: async (batch) => (await model.embedImages(batch)).data,
    embedTexts: async (batch) => (await model.embedTexts(batch)).data,
    dispose: async () => model.dispose(),
  };
}
const configs = [
  { side: 'crossmodal', precision: 'fp32', impl: await crossmodal('fp32') },
  { side: 'crossmodal', precision: 'int8', impl: await crossmodal('int8') },
  { side: 'peer', precision: 'fp32', impl: await peerSide({ modelDir: values.model, threads }) },
  { side: 'peer', precision: 'int8', impl: await peerSide({ modelDir: values.model, threads, variant: '_quantized' }) },
];

async function pass(impl, kind) {
  const items = kind === 'images' ? images : texts;
  const batch = kind === 'images' ? 16 : 64;
  const embed = kind === 'images' ? impl.embedImages : impl.embedTexts;
  const out = [];
  const t0 = performance.now();
  for (let i = 0; i < items.length; i += batch) out.push(await embed(items.slice(i, i + batch)));
  const seconds = (performance.now() - t0) / 1000;
  const dim = out[0].length / Math.min(batch, items.length);
  const all = new Float32Array(items.length * dim);
  let offset = 0;
  for (const part of out) {
    all.set(part, offset);
    offset += part.length;
  }
  return { rate: items.length / seconds, embeddings: all, dim };
}

const rates = new Map(); // `${side} ${precision} ${kind}` → items/s per round
const last = new Map(); // same key → embeddings of the last round
for (const c of configs) {
  await pass(c.impl, 'images'); // warm-up: first-run allocations, thread start
  await pass(c.impl, 'texts');
}
for (let round = 0; round < Number(values.rounds); round++) {
  for (const kind of ['images', 'texts']) {
    for (const c of round % 2 ? [...configs].reverse() : configs) {
      const r = await pass(c.impl, kind);
      const key = `${c.side} ${c.precision} ${kind}`;
      rates.set(key, [...(rates.get(key) ?? []), r.rate]);
      last.set(key, r);
    }
  }
}
for (const c of configs) await c.impl.dispose();

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const cell = (key) => {
  const xs = rates.get(key);
  return `${median(xs).toFixed(1)} (${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)})`;
};
function drift(side, kind) {
  const a = last.get(`${side} fp32 ${kind}`);
  const b = last.get(`${side} int8 ${kind}`);
  let sum = 0,
    worst = 1;
  const n = a.embeddings.length / a.dim;
  for (let r = 0; r < n; r++) {
    let dot = 0,
      na = 0,
      nb = 0;
    for (let i = r * a.dim; i < (r + 1) * a.dim; i++) {
      dot += a.embeddings[i] * b.embeddings[i];
      na += a.embeddings[i] ** 2;
      nb += b.embeddings[i] ** 2;
    }
    const cos = dot / Math.sqrt(na * nb);
    sum += cos;
    worst = Math.min(worst, cos);
  }
  return `${(sum / n).toFixed(4)} / ${worst.toFixed(4)}`;
}
const speedup = (side, kind) => median(rates.get(`${side} int8 ${kind}`)) / median(rates.get(`${side} fp32 ${kind}`));
console.log(
  [
    `int8 (dynamic MatMulInteger, per-tensor scales) vs fp32, ${images.length} images in calls of 16, ${texts.length} captions in calls of 64, ${threads} threads, median of ${values.rounds} alternating rounds (min–max)`,
    '',
    '| side | fp32 images/s | int8 images/s | int8 ÷ fp32 | fp32 texts/s | int8 texts/s | int8 ÷ fp32 | cosine to fp32, images (mean / worst) | texts |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...['crossmodal', 'peer'].map(
      (side) =>
        `| ${side} | ${cell(`${side} fp32 images`)} | ${cell(`${side} int8 images`)} | ${speedup(side, 'images').toFixed(2)}× | ` +
        `${cell(`${side} fp32 texts`)} | ${cell(`${side} int8 texts`)} | ${speedup(side, 'texts').toFixed(2)}× | ${drift(side, 'images')} | ${drift(side, 'texts')} |`,
    ),
    '',
    `int8, crossmodal ÷ peer: images/s ${(median(rates.get('crossmodal int8 images')) / median(rates.get('peer int8 images'))).toFixed(2)}×, ` +
      `texts/s ${(median(rates.get('crossmodal int8 texts')) / median(rates.get('peer int8 texts'))).toFixed(2)}×`,
  ].join('\n'),
);
