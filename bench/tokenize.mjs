#!/usr/bin/env node
// Tokenizer throughput: crossmodal's native CLIP BPE vs clip-bpe-js (pure JS port of OpenAI's
// tokenizer), on the 5,000 Flickr8k captions, measured in the same run.
//
//   npm run bench:tokenize [-- --reps 5 --max-threads 4]
//
// Both produce 77 ids per caption (start, tokens, end, padding). clip-bpe-js runs synchronously on
// the main thread; crossmodal tokenizes the whole batch in one async call on `threads` native
// threads (1 for the headline ratio). Figures are the median of `reps` timed passes after a first
// (cold-cache) pass, which is reported separately (both sides cache BPE results per word).
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { loadTokenizer, demoModelDir } = require(path.join(root, 'dist', 'cjs', 'index.js'));
const ClipBpeJs = require('clip-bpe-js').default;

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const reps = opt('reps', 5);
const maxThreads = opt('max-threads', Math.max(4, os.availableParallelism()));

const captionsPath = path.resolve(root, '..', 'shared', 'data', 'flickr8k-1k', 'captions.csv');
if (!fs.existsSync(captionsPath)) {
  console.log(`bench/tokenize: skipped, ${captionsPath} is absent`);
  process.exit(0);
}
const captions = fs
  .readFileSync(captionsPath, 'utf8')
  .split('\n')
  .slice(1)
  .filter((l) => l.length > 0)
  .map((l) => l.slice(l.indexOf(',') + 1).replace(/\r$/, ''));

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const now = () => Number(process.hrtime.bigint()) / 1e9;
const fmt = (x) => Math.round(x).toLocaleString('en-US');

/** Wall time and process CPU time (all threads) of one call. */
async function timeCpu(fn) {
  const c0 = process.cpuUsage();
  const t0 = now();
  await fn();
  const wall = now() - t0;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1e6 };
}

// Passes alternate between the two sides so that load from other processes hits both alike. Each
// pass records wall time and this process's CPU time (all threads): on a busy machine the CPU-time
// rate is the steadier measure of the work each side does.
const js = new ClipBpeJs();
const tok = await loadTokenizer(demoModelDir, { threads: 1 });
const jsCold = await timeCpu(() => {
  for (const c of captions) js.encodeForCLIP(c);
});
const nativeCold = await timeCpu(() => tok.tokenize(captions));
const jsRuns = [],
  nativeRuns = [];
for (let r = 0; r < reps; r++) {
  jsRuns.push(
    await timeCpu(() => {
      for (const c of captions) js.encodeForCLIP(c);
    }),
  );
  nativeRuns.push(await timeCpu(() => tok.tokenize(captions)));
}
const rate = (runs, key) => captions.length / median(runs.map((x) => x[key]));
const jsRate = rate(jsRuns, 'wall'),
  nativeRate = rate(nativeRuns, 'wall');
const jsCpuRate = rate(jsRuns, 'cpu'),
  nativeCpuRate = rate(nativeRuns, 'cpu');

// Same ids? (sanity: the benchmark compares equal work)
const check = await tok.tokenize(captions);
let same = 0;
for (let i = 0; i < captions.length; i++) {
  const a = js.encodeForCLIP(captions[i]);
  const b = check.ids.subarray(i * 77, (i + 1) * 77);
  const lenB = check.lengths[i];
  if (a.slice(0, lenB).every((id, k) => id === b[k])) same++;
}

console.log(
  `bench/tokenize: ${captions.length} Flickr8k captions, median of ${reps} passes (node ${process.version}, ${os.cpus().length} CPUs: ${os.cpus()[0]?.model ?? '?'})`,
);
console.log(
  `  clip-bpe-js 0.0.6      ${fmt(jsRate).padStart(10)} texts/s   ${fmt(jsCpuRate).padStart(10)} texts per CPU-second   (cold first pass ${fmt(captions.length / jsCold.wall)} texts/s)`,
);
console.log(
  `  crossmodal, 1 thread   ${fmt(nativeRate).padStart(10)} texts/s   ${fmt(nativeCpuRate).padStart(10)} texts per CPU-second   (cold first pass ${fmt(captions.length / nativeCold.wall)} texts/s)`,
);
console.log(
  `  ratio crossmodal / clip-bpe-js, single thread: ${(nativeRate / jsRate).toFixed(1)}x wall-clock, ` +
    `${(nativeCpuRate / jsCpuRate).toFixed(1)}x per CPU-second, ${(jsCold.wall / nativeCold.wall).toFixed(1)}x cold; identical ids on ${same}/${captions.length}`,
);

// --- thread scaling on a larger batch ---
const big = Array.from({ length: 10 }, () => captions).flat();
const load = os.loadavg()[0];
console.log(
  `  thread scaling, one call of ${fmt(big.length)} texts (${os.availableParallelism()} hardware threads, load average ${load.toFixed(1)}):`,
);
// A call has a sequential part on the JS thread (reading the strings out of V8, ~1 us each) and
// the tokenization proper on native threads; the latter is reported separately.
let base = 0,
  baseNative = 0;
for (let threads = 1; threads <= maxThreads; threads *= 2) {
  await tok.tokenize(big, { threads });
  const runs = [];
  for (let r = 0; r < reps; r++) {
    const c0 = process.cpuUsage();
    const t0 = now();
    const pending = tok.tokenize(big, { threads });
    const t1 = now();
    await pending;
    const t2 = now();
    const c = process.cpuUsage(c0);
    runs.push({ wall: t2 - t0, native: t2 - t1, cpu: (c.user + c.system) / 1e6 });
  }
  runs.sort((a, b) => a.wall - b.wall);
  const mid = runs[Math.floor(runs.length / 2)];
  const rate = big.length / mid.wall;
  const nativeRate = big.length / mid.native;
  if (threads === 1) {
    base = rate;
    baseNative = nativeRate;
  }
  console.log(
    `    threads=${threads}  ${fmt(rate).padStart(10)} texts/s (x${(rate / base).toFixed(2)})   ` +
      `native phase ${fmt(nativeRate).padStart(10)} texts/s (x${(nativeRate / baseNative).toFixed(2)})   ` +
      `CPU busy ${(mid.cpu / mid.wall).toFixed(2)} cores   ${fmt(big.length / mid.cpu)} texts per CPU-second`,
  );
}
if (load > os.availableParallelism() * 0.5) {
  console.log(
    `  note: the machine was busy (load ${load.toFixed(1)} on ${os.availableParallelism()} hardware threads); ` +
      'wall-clock scaling is bounded by the free cores; texts per CPU-second shows the per-thread cost.',
  );
}
tok.dispose();
