#!/usr/bin/env node
// Collections and the event loop: how long the loop stalls while filtered searches run, and how
// fast addVectors ingests, against collection size.
//
//   npm run bench:collection [-- --sizes 5000,20000,50000 --seconds 3 --dim 32]
//   CROSSMODAL_ENTRY=/path/to/other/dist/cjs/index.js node bench/collection/loop-delay.mjs   (another build)
//
// For each size: a fresh collection (flat index) gets `size` random `dim`-d vectors through one
// addVectors call (timed: the ingest rate), each with metadata { group: i % 10 }. Then searchText
// calls with `where: { group: 3 }` run back to back for `seconds` (a tenth of the items pass the
// filter, which is a full scan of the metadata) while perf_hooks.monitorEventLoopDelay samples the
// loop every millisecond. Reported: p50/p99/max loop delay during the searches (what any other
// request on this process would wait), the share of that time the loop was busy running
// JavaScript or native calls (performance.eventLoopUtilization: the searches are awaited one after
// another, so whatever is not busy is the loop waiting for off-loop work), and the searches' mean
// latency. Loop delay on a loaded machine includes the OS's scheduling noise; the busy share is
// less sensitive to it. The histogram's values
// include its 1 ms sampling interval; the first row is the same measurement on an idle loop (the
// floor that scheduling noise on this machine sets).
// Needs `npm run build:ts` (it loads dist/cjs) and better-sqlite3.
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const entry = process.env.CROSSMODAL_ENTRY ?? path.join(root, 'dist', 'cjs', 'index.js');
const { openCollection } = require(entry);

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const sizes = String(opt('sizes', '5000,20000,50000')).split(',').map(Number);
const seconds = Number(opt('seconds', 3));
const dim = Number(opt('dim', 32));

/** Deterministic pseudo-random floats (mulberry32), so every run ingests the same vectors. */
function randomVectors(count, seed) {
  const out = new Float32Array(count * dim);
  for (let i = 0; i < out.length; i++) {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  }
  return out;
}

// A stand-in model: only searchText's query embedding is needed (the items come as vectors).
const query = randomVectors(1, 99);
const model = {
  fingerprint: 'bench-loop-delay',
  dim,
  async embedTexts(texts) {
    const data = new Float32Array(texts.length * dim);
    for (let i = 0; i < texts.length; i++) data.set(query, i * dim);
    return { data, dim };
  },
  async embedImages() {
    throw new Error('not used');
  },
};

const ms = (ns) => (ns / 1e6).toFixed(2);
console.log(
  `collection loop delay: filtered searchText calls for ${seconds} s (where: { group: 3 }, 1/10 of items), ${dim}-d, flat index, node ${process.version}, ${os.cpus().length} CPUs`,
);
console.log(
  '| items | addVectors s | vectors/s | loop delay p50 ms | p99 ms | max ms | loop busy | searches | search mean ms |',
);
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
{
  const idle = monitorEventLoopDelay({ resolution: 1 });
  idle.enable();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  idle.disable();
  console.log(`| idle loop | | | ${ms(idle.percentile(50))} | ${ms(idle.percentile(99))} | ${ms(idle.max)} | | | |`);
}
for (const size of sizes) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crossmodal-bench-loop-'));
  try {
    const collection = await openCollection(dir, { model, checkpointEvery: 1 << 30 });
    const vectors = randomVectors(size, size);
    const keys = Array.from({ length: size }, (_, i) => `item-${i}`);
    const metadata = keys.map((_, i) => ({ group: i % 10 }));
    let t0 = performance.now();
    await collection.addVectors(vectors, keys, metadata);
    const ingest = (performance.now() - t0) / 1000;
    // One search first: statement preparation and page cache warm-up are not what is measured.
    const warm = await collection.searchText('q', { k: 10, where: { group: 3 } });
    if (warm.length !== 10 || warm.some((h) => h.metadata.group !== 3))
      throw new Error('filtered search returned wrong hits');
    const histogram = monitorEventLoopDelay({ resolution: 1 });
    histogram.enable();
    const utilization = performance.eventLoopUtilization();
    t0 = performance.now();
    let searches = 0;
    while (performance.now() - t0 < seconds * 1000) {
      await collection.searchText('q', { k: 10, where: { group: 3 } });
      searches++;
    }
    const elapsed = performance.now() - t0;
    histogram.disable();
    const busy = performance.eventLoopUtilization(utilization).utilization;
    console.log(
      `| ${size.toLocaleString('en-US')} | ${ingest.toFixed(2)} | ${Math.round(size / ingest).toLocaleString('en-US')} | ` +
        `${ms(histogram.percentile(50))} | ${ms(histogram.percentile(99))} | ${ms(histogram.max)} | ${(busy * 100).toFixed(0)}% | ${searches} | ${(elapsed / searches).toFixed(2)} |`,
    );
    await collection.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
