#!/usr/bin/env node
// What a user gets (issue #15): crossmodal with `load(dir)` and no options beside the tuned setup
// the other benchmarks pass (`intraOpThreads` = the CPUs), and the ways a user calls it: one big
// call, calls of a batch size, every item as its own concurrent call, and collection ingest
// (`addImages`, which hashes, stores and embeds) against raw `embedImages` of the same photos.
//
//   npm run bench:defaults -- [--images 200] [--texts 1000] [--rounds 3] [--threads N] [--json FILE]
//
// Rounds alternate the two configurations (defaults, tuned), each round running every way of
// calling in the same order; the table gives medians (min–max) of items/s over the rounds. Ratios:
// defaults ÷ tuned per row, and within each configuration each way ÷ its one big call. Targets:
// defaults ≈ tuned; calls of a batch and one big call within a few %; N concurrent single-item
// calls ≥ 0.9 of one big call (the dynamic batcher forms full batches from them); addImages ≥ 0.9
// of embedImages.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { defaultFlickrDir, flickrCaptions, flickrPhotos, hasFlickr } from './flickr.mjs';
import { ensureBundle, vitB32Dir } from './models.mjs';

const log = (...a) => console.error('[bench:defaults]', ...a);
const { values } = parseArgs({
  options: {
    images: { type: 'string', default: '200' },
    texts: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '3' },
    threads: { type: 'string', default: String(os.availableParallelism()) },
    model: { type: 'string', default: vitB32Dir },
    data: { type: 'string', default: defaultFlickrDir },
    json: { type: 'string' },
  },
});
if (!hasFlickr(values.data)) {
  log(`no Flickr8k sample at ${values.data}: skipped`);
  process.exit(0);
}
ensureBundle(values.model, log);

const threads = Number(values.threads);
const rounds = Number(values.rounds);
const photos = flickrPhotos(values.data, Number(values.images));
const captions = flickrCaptions(values.data, Number(values.texts));
const IMAGE_BATCH = 32; // addImages' default batch size too
const TEXT_BATCH = 64;

const { load, openCollection } = await import('crossmodal');
const configs = [
  { name: 'defaults', options: {} },
  { name: 'tuned', options: { intraOpThreads: threads } },
];
for (const config of configs) {
  config.model = await load(values.model, config.options);
  // Warm-up outside the timed rounds: first-call allocations and ONNX Runtime's kernel choices.
  await config.model.embedImages(photos.slice(0, 16));
  await config.model.embedTexts(captions.slice(0, TEXT_BATCH));
}

async function inBatches(items, size, call) {
  for (let i = 0; i < items.length; i += size) await call(items.slice(i, i + size));
}

/** The ways of calling, in the order each round runs them: [name, kind, items, run(model)]. */
const ways = [
  ['images: one call', 'images', photos.length, (m) => m.embedImages(photos)],
  [
    `images: calls of ${IMAGE_BATCH}`,
    'images',
    photos.length,
    (m) => inBatches(photos, IMAGE_BATCH, (b) => m.embedImages(b)),
  ],
  [
    'images: concurrent single calls',
    'images',
    photos.length,
    (m) => Promise.all(photos.map((p) => m.embedImages([p]))),
  ],
  [
    'images: collection addImages',
    'images',
    photos.length,
    async (m) => {
      // A fresh collection each time: re-adding the same photos would be skipped by content hash.
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crossmodal-bench-defaults-'));
      try {
        const collection = await openCollection(dir, { model: m });
        const { added, duplicates } = await collection.addImages(photos);
        if (added + duplicates !== photos.length)
          throw new Error(`addImages took ${added + duplicates} of ${photos.length}`);
        await collection.close();
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  ],
  ['texts: one call', 'texts', captions.length, (m) => m.embedTexts(captions)],
  [
    `texts: calls of ${TEXT_BATCH}`,
    'texts',
    captions.length,
    (m) => inBatches(captions, TEXT_BATCH, (b) => m.embedTexts(b)),
  ],
  [
    'texts: concurrent single calls',
    'texts',
    captions.length,
    (m) => Promise.all(captions.map((t) => m.embedTexts([t]))),
  ],
];

const rates = {}; // rates[config][way] = items/s per round
for (let round = 0; round < rounds; round++) {
  // Alternate which configuration goes first, so neither always runs on a warmer machine.
  const order = round % 2 === 0 ? configs : [...configs].reverse();
  for (const config of order) {
    for (const [way, , items, run] of ways) {
      const t0 = performance.now();
      await run(config.model);
      const rate = items / ((performance.now() - t0) / 1000);
      ((rates[config.name] ??= {})[way] ??= []).push(rate);
      log(`round ${round + 1} ${config.name.padEnd(8)} ${way.padEnd(34)} ${rate.toFixed(1)}/s`);
    }
  }
}
for (const config of configs) config.model.dispose();

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const cell = (xs) => `${median(xs).toFixed(1)} (${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)})`;
const baseline = (kind) => (kind === 'images' ? 'images: one call' : 'texts: one call');
const summary = {};
console.log(
  `What a user gets: ViT-B/32 architecture (random weights), ${photos.length} Flickr photos, ${captions.length} captions, ` +
    `${rounds} rounds alternating the configurations; defaults = load(dir), tuned = { intraOpThreads: ${threads} }; ` +
    `${os.availableParallelism()} CPUs, load average ${os.loadavg()[0].toFixed(1)}`,
);
console.log('');
console.log(
  '| way of calling | defaults, items/s | tuned, items/s | defaults ÷ tuned | ÷ one big call (defaults) | ÷ one big call (tuned) |',
);
console.log('|---|---:|---:|---:|---:|---:|');
for (const [way, kind] of ways) {
  const d = rates.defaults[way];
  const t = rates.tuned[way];
  const dBase = median(rates.defaults[baseline(kind)]);
  const tBase = median(rates.tuned[baseline(kind)]);
  summary[way] = {
    kind,
    defaults: median(d),
    tuned: median(t),
    defaultsOverTuned: median(d) / median(t),
    overOneCallDefaults: median(d) / dBase,
    overOneCallTuned: median(t) / tBase,
  };
  const s = summary[way];
  console.log(
    `| ${way} | ${cell(d)} | ${cell(t)} | ${s.defaultsOverTuned.toFixed(2)} | ${s.overOneCallDefaults.toFixed(2)} | ${s.overOneCallTuned.toFixed(2)} |`,
  );
}
const check = (label, value, target) =>
  console.log(
    `- ${label}: ${value.toFixed(2)} (target ≥ ${target.toFixed(2)})${value >= target ? '' : ' — BELOW TARGET'}`,
  );
console.log('');
check(
  'texts, 1,000 concurrent single calls ÷ one call (defaults)',
  summary['texts: concurrent single calls'].overOneCallDefaults,
  0.9,
);
check(
  'images, concurrent single calls ÷ one call (defaults)',
  summary['images: concurrent single calls'].overOneCallDefaults,
  0.9,
);
check(
  'addImages ÷ embedImages in one call (defaults)',
  summary['images: collection addImages'].overOneCallDefaults,
  0.9,
);
check(
  `images, one call ÷ calls of ${IMAGE_BATCH} (defaults)`,
  1 / summary[`images: calls of ${IMAGE_BATCH}`].overOneCallDefaults,
  0.95,
);
check('images, defaults ÷ tuned (one call)', summary['images: one call'].defaultsOverTuned, 0.95);
check('texts, defaults ÷ tuned (one call)', summary['texts: one call'].defaultsOverTuned, 0.95);
if (values.json) fs.writeFileSync(values.json, JSON.stringify({ threads, rounds, rates, summary }, null, 2));
