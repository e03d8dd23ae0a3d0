#!/usr/bin/env node
// Memory soak: many embedTexts calls in a loop on the tiny fixture bundle, printing RSS as it goes.
//
//   npm run bench:soak -- [--calls 20000] [--every 1000] [--batch 4] [--warmup 2000] [--gc] [--model DIR]
//
// Each call embeds `batch` captions (Flickr8k captions when ../shared/data/flickr8k-1k is there,
// else built-in sentences) and drops the result. A leak shows as RSS that keeps climbing after the
// warm-up; a healthy run flattens once the allocator and the V8 heap have reached their working
// size. --gc also forces a full GC at each sample (after reading RSS) and prints RSS after it; that
// tells a native leak (climbs regardless) from garbage the GC had not got round to yet, but it
// changes the curve, so it is off by default. The npm script runs node with --expose-gc for it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const o = {
  calls: 20000,
  every: 1000,
  batch: 4,
  warmup: 2000,
  gc: false,
  model: path.join(root, 'test/fixtures/tiny-clip'),
};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const key = argv[i].replace(/^--/, '');
  if (!(key in o)) {
    console.error(`unknown option ${argv[i]}; options: --calls --every --batch --warmup --gc --model`);
    process.exit(2);
  }
  if (key === 'gc') o.gc = true;
  else o[key] = key === 'model' ? path.resolve(argv[++i]) : Number(argv[++i]);
}
if (o.gc && !global.gc) {
  console.error('--gc needs node --expose-gc (npm run bench:soak passes it)');
  process.exit(2);
}
const gc = o.gc ? global.gc : undefined;

const { load } = await import('crossmodal');
const captionsFile = process.env.CROSSMODAL_FLICKR_DIR
  ? path.join(process.env.CROSSMODAL_FLICKR_DIR, 'captions.csv')
  : path.resolve(root, '../shared/data/flickr8k-1k/captions.csv');
const captions = fs.existsSync(captionsFile)
  ? fs
      .readFileSync(captionsFile, 'utf8')
      .split(/\r?\n/)
      .slice(1)
      .filter(Boolean)
      .map((l) => l.slice(l.indexOf(',') + 1).trim())
  : ['a photo of a cat', 'two dogs running on the beach', 'a man riding a red bicycle down a busy street', 'snow'];

const model = await load(o.model, { device: 'cpu', intraOpThreads: 1 });
const mb = (b) => (b / 2 ** 20).toFixed(1);
console.log(
  `soak: ${o.calls} embedTexts calls of ${o.batch} text(s) on ${path.relative(root, o.model)}; captions: ${fs.existsSync(captionsFile) ? captionsFile : 'built-in'}`,
);
console.log(
  'calls    rss MB  heapUsed MB  external MB  arrayBuffers MB' + (gc ? '  rss after gc MB' : '') + '  calls/s',
);
const start = process.memoryUsage();
console.log(
  `${'0'.padStart(5)}  ${mb(start.rss).padStart(8)}  ${mb(start.heapUsed).padStart(11)}  ${mb(start.external).padStart(11)}  ${mb(start.arrayBuffers).padStart(15)}`,
);

const curve = [];
let t = performance.now();
let next = 0;
for (let call = 1; call <= o.calls; call++) {
  const texts = [];
  for (let j = 0; j < o.batch; j++) texts.push(captions[next++ % captions.length]);
  const e = await model.embedTexts(texts);
  if (e.count !== texts.length) throw new Error('wrong count');
  if (call % o.every === 0) {
    const m = process.memoryUsage();
    let afterGc;
    if (gc) {
      gc();
      afterGc = process.memoryUsage.rss();
    }
    const now = performance.now();
    const rate = (o.every / ((now - t) / 1000)).toFixed(0);
    curve.push({ call, rss: m.rss, afterGc });
    console.log(
      `${String(call).padStart(5)}  ${mb(m.rss).padStart(8)}  ${mb(m.heapUsed).padStart(11)}  ${mb(m.external).padStart(11)}  ${mb(m.arrayBuffers).padStart(15)}` +
        (afterGc !== undefined ? `  ${mb(afterGc).padStart(15)}` : '') +
        `  ${rate.padStart(7)}`,
    );
    t = performance.now();
  }
}
model.dispose();

const base = curve.find((c) => c.call >= o.warmup) ?? curve[0];
const last = curve[curve.length - 1];
const calls = last.call - base.call;
const growth = last.rss - base.rss;
const line =
  `growth after warm-up (call ${base.call} → ${last.call}): ${growth >= 0 ? '+' : ''}${mb(growth)} MB RSS` +
  (calls > 0 ? ` (${((growth / calls) * 1).toFixed(0)} bytes per call)` : '') +
  (base.afterGc !== undefined
    ? `; after GC ${last.afterGc - base.afterGc >= 0 ? '+' : ''}${mb(last.afterGc - base.afterGc)} MB`
    : '');
console.log(line);
