#!/usr/bin/env node
// Mixed-traffic soak: embedTexts, embedImages, index add/search and similarity on the tiny fixture
// bundle for a fixed wall time, RSS sampled every second. After the warm-up it fits a least-squares
// line to RSS over time and fails when the slope exceeds a bound: a leak shows as a steady climb,
// a healthy process as a flat (noisy) line once the allocators have reached their working size.
//
//   npm run bench:soak:mixed -- [--minutes 30] [--warmup-seconds S] [--max-slope 1] [--concurrency 4]
//                               [--model DIR] [--json]
//
// --warmup-seconds defaults to a quarter of the run (at most 120 s). --max-slope is the bound in
// MB/min (default 1). Exit status 1 when the slope is above it. --json prints a last line
// `{"slope":…}` for scripts (test/soak-mixed.test.ts runs a 60 s version in CI).
//
// Each round: embed 4 captions, embed 2 images (rotating over test/fixtures/images, a mix of
// JPEG/PNG/GIF sizes), add the 6 vectors to a flat index, search it with the captions, and compute
// the 2 × 4 similarity matrix. The index is dropped and recreated every 2,000 vectors, so its own
// growth does not count as a leak (and the create/dispose path is soaked too).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const o = {
  minutes: 30,
  'warmup-seconds': -1,
  'max-slope': 1,
  concurrency: 4,
  model: path.join(root, 'test/fixtures/tiny-clip'),
  json: false,
};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const key = argv[i].replace(/^--/, '');
  if (!(key in o)) {
    console.error(
      `unknown option ${argv[i]}; options: ${Object.keys(o)
        .map((k) => `--${k}`)
        .join(' ')}`,
    );
    process.exit(2);
  }
  if (key === 'json') o.json = true;
  else o[key] = key === 'model' ? path.resolve(argv[++i]) : Number(argv[++i]);
}
const durationS = o.minutes * 60;
const warmupS = o['warmup-seconds'] >= 0 ? o['warmup-seconds'] : Math.min(120, durationS / 4);

const { load, createIndex, similarity } = await import('crossmodal');
const imagesDir = path.join(root, 'test/fixtures/images');
const images = fs
  .readdirSync(imagesDir)
  .filter(
    (f) =>
      /\.(jpe?g|png|gif)$/.test(f) && !/(4000|3000)/.test(f) && fs.statSync(path.join(imagesDir, f)).size < 300_000,
  )
  .map((f) => path.join(imagesDir, f));
const captions = [
  'a photo of a cat',
  'two dogs running on the beach',
  'a man riding a red bicycle down a busy street',
  'snow on the mountains',
  'a bowl of fruit on a wooden table',
  'children playing football in a park',
  'a close-up of a yellow flower',
];

const model = await load(o.model, { device: 'cpu', intraOpThreads: 1 });
const dim = model.info.dim;
let index = createIndex({ dim });
const mb = (b) => b / 2 ** 20;
const samples = []; // [seconds, rss MB]
const t0 = performance.now();
const elapsed = () => (performance.now() - t0) / 1000;
const counts = { rounds: 0, texts: 0, images: 0, searches: 0, similarities: 0, indexResets: 0 };
console.log(
  `soak (mixed): ${o.minutes} min, warm-up ${warmupS} s, bound ${o['max-slope']} MB/min, concurrency ${o.concurrency}; ` +
    `${images.length} images, model ${path.relative(root, o.model)}`,
);
const sampler = setInterval(() => {
  const rss = mb(process.memoryUsage.rss());
  samples.push([elapsed(), rss]);
  if (samples.length % 30 === 0)
    console.log(`${elapsed().toFixed(0).padStart(5)} s  rss ${rss.toFixed(1)} MB  rounds ${counts.rounds}`);
}, 1000);

// Rounds in flight per index, and indexes replaced but maybe still in use.
const users = new Map();
const retired = new Set();
function retire(old) {
  if ((users.get(old) ?? 0) > 0) {
    retired.add(old);
    return;
  }
  retired.delete(old);
  users.delete(old);
  old.dispose();
}

let next = 0;
async function round() {
  const r = next++;
  const texts = Array.from({ length: 4 }, (_, j) => captions[(r + j) % captions.length]);
  const imgs = [images[(2 * r) % images.length], images[(2 * r + 1) % images.length]];
  const [t, v] = await Promise.all([model.embedTexts(texts), model.embedImages(imgs)]);
  if (t.count !== 4 || v.count !== 2) throw new Error('wrong count');
  if (index.size >= 2000) {
    retire(index);
    index = createIndex({ dim });
    counts.indexResets++;
  }
  // Each round works on the index it started with; a replaced one is disposed once no round uses
  // it (another lane may replace `index` while this round awaits).
  const own = index;
  users.set(own, (users.get(own) ?? 0) + 1);
  try {
    await own.add(t.data);
    await own.add(v.data);
    const hits = await own.search(t.data, 5);
    // At least this round's 6 vectors are in `own`, so k is 5.
    if (hits.k !== 5 || hits.ids.length !== 4 * hits.k) throw new Error(`wrong search result size (k ${hits.k})`);
  } finally {
    users.set(own, users.get(own) - 1);
    if (retired.has(own) && users.get(own) === 0) retire(own);
  }
  const m = await similarity(v, t);
  if (!(Math.abs(m.get(0, 0)) <= 1.0001)) throw new Error('similarity out of range');
  counts.rounds++;
  counts.texts += 4;
  counts.images += 2;
  counts.searches += 4;
  counts.similarities += 8;
}
await Promise.all(
  Array.from({ length: o.concurrency }, async () => {
    while (elapsed() < durationS) await round();
  }),
);
clearInterval(sampler);
index.dispose();
model.dispose();

// Least-squares slope of RSS against time over the samples after the warm-up.
const kept = samples.filter(([s]) => s >= warmupS);
let slope = NaN;
if (kept.length >= 2) {
  const n = kept.length;
  const mx = kept.reduce((a, [x]) => a + x, 0) / n;
  const my = kept.reduce((a, [, y]) => a + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of kept) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
  }
  slope = (sxy / sxx) * 60; // MB per minute
}
const rssAt = (i) => (kept[i] ? kept[i][1].toFixed(1) : '?');
const pass = Number.isFinite(slope) && slope <= o['max-slope'];
console.log(
  `rounds ${counts.rounds} (${counts.texts} texts, ${counts.images} images, ${counts.searches} searches, ` +
    `${counts.similarities} similarities, ${counts.indexResets} index resets) in ${elapsed().toFixed(0)} s`,
);
console.log(
  `RSS after warm-up ${rssAt(0)} MB → ${rssAt(kept.length - 1)} MB over ${kept.length} samples; ` +
    `least-squares slope ${slope.toFixed(3)} MB/min (bound ${o['max-slope']}): ${pass ? 'PASS' : 'FAIL'}`,
);
if (o.json)
  console.log(
    JSON.stringify({
      slope,
      bound: o['max-slope'],
      pass,
      samples: kept.length,
      rssFirst: kept[0]?.[1],
      rssLast: kept.at(-1)?.[1],
      rssMax: Math.max(...samples.map(([, y]) => y)),
      ...counts,
    }),
  );
process.exitCode = pass ? 0 : 1;
