#!/usr/bin/env node
// Vector search benchmark: crossmodal's indexes beside faiss-node (flat), hnswlib-node (HNSW) and
// the same index code called from C++ without Node (bench/search/direct_faiss.cc), all in one
// run on the same vectors, reported as ratios because the machine is shared and absolute timings
// drift.
//
//   node bench/search/run.mjs [--sizes 100000,1000000] [--dim 512] [--queries 1000] [--k 10]
//                             [--types flat,hnsw,ivf-flat] [--hnsw-max 200000] [--stock-hnsw-max 20000]
//                             [--ef 64,128,256] [--hnsw-m 32] [--hnsw-efc 200] [--direct-hnsw-max 200000]
//                             [--skip faiss-node,direct,stock,hnswlib-node] [--data uniform|clustered]
//                             [--overhead-rounds 5]
//
// --data uniform (the default): uniform random, normalised vectors, the hard case for approximate
// search (no structure; at 1M, HNSW recall stays low for every library). --data clustered: vectors
// in clusters, each spread along directions of its own plus isotropic noise, where graph search
// reaches usable recall (0.5–0.995 at 100k over ef 16–256); queries come from the same distribution.
// Per library and size: build time, memory (RSS growth), QPS at batch 1 (sequential awaits), at
// batch 1 with 8 queries in flight (how a server issues single queries; a synchronous binding
// cannot overlap them) and at batch 64, recall@10 against exact search, and event-loop blocking
// per call (the synchronous part of a call: for a blocking binding, the whole search).
//
// HNSW runs at every --ef value for crossmodal, the C++ baselines and hnswlib-node (same M and
// efConstruction), and a second table compares crossmodal with hnswlib-node at equal recall:
// hnswlib-node's QPS interpolated (log-linearly) at crossmodal's recall from its own curve.
//
// Another table isolates the binding's overhead on HNSW: crossmodal's graph is saved once, then
// this process (through the addon) and the C++ program (LOAD_INDEX) search that same file with the
// same queries in --overhead-rounds rounds, alternating the order, so drift cancels. It reports
// the median of the per-round ratios: a sub-millisecond search on a shared VM moves ±15% between
// single runs minutes apart, which would swamp a few percent of overhead. Each round also runs the
// C++ program with HANDOFF=1 (every search on a worker thread while the caller waits): what any
// asynchronous caller pays on this machine, Node or not.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

// libgomp threads spin after each parallel region and starve OpenBLAS's own threads on a small
// machine (5× slower batched flat search here); passive waiting is what a server wants. Set before
// the addon (and with it libgomp) loads; children inherit it.
process.env.OMP_WAIT_POLICY ??= 'passive';
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const require = createRequire(import.meta.url);
const crossmodal = require(path.join(root, 'dist', 'cjs', 'index.js'));

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const sizes = (args.sizes ?? '100000').split(',').map(Number);
const dim = Number(args.dim ?? 512);
const nq = Number(args.queries ?? 1000);
const k = Number(args.k ?? 10);
const types = (args.types ?? 'flat,hnsw,ivf-flat').split(',');
const hnswMax = Number(args['hnsw-max'] ?? 200000);
// Stock FAISS builds HNSW about 6× slower than crossmodal (its add is not parallel over levels).
const stockHnswMax = Number(args['stock-hnsw-max'] ?? 20000);
// HNSW parameters shared by crossmodal, hnswlib-node and the C++ baselines, so recall is comparable.
const hnswM = Number(args['hnsw-m'] ?? 32);
const hnswEfc = Number(args['hnsw-efc'] ?? 200);
// The C++ "same calls" HNSW row needs a third graph build; above this size the flat rows already
// show the binding overhead and the build would add hours on a small machine.
const directHnswMax = Number(args['direct-hnsw-max'] ?? 200000);
const skipped = new Set((args.skip ?? '').split(',').filter(Boolean));
const efValues = (args.ef ?? '64,128,256').split(',').map(Number);
const overheadRounds = Number(args['overhead-rounds'] ?? 5);
const inFlight = 8;

function optional(name) {
  try {
    return { mod: require(name), why: '' };
  } catch (error) {
    return { mod: null, why: error.message.split('\n')[0] };
  }
}
// faiss-node's own install downloads a prebuilt binary or clones FAISS; tools/dev/build-faiss-node.sh
// builds it offline against the system FAISS into bench/.cache/.
const faissNodeLocal = path.join(root, 'bench', '.cache', 'faiss-node', 'node_modules', 'faiss-node');
const faissNode = fs.existsSync(faissNodeLocal) ? optional(faissNodeLocal) : optional('faiss-node');
const hnswlib = optional('hnswlib-node');

function randomNormalized(count, seed) {
  const out = new Float32Array(count * dim);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < out.length; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = s / 4294967296 - 0.5;
  }
  for (let r = 0; r < count; r++) {
    let n = 0;
    for (let d = 0; d < dim; d++) n += out[r * dim + d] ** 2;
    n = 1 / Math.sqrt(n);
    for (let d = 0; d < dim; d++) out[r * dim + d] *= n;
  }
  return out;
}

// Uniform and normal (Box-Muller) draws from one xorshift stream.
function makeRng(seed) {
  let s = seed >>> 0 || 1;
  let spare = NaN;
  const uniform = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return (s + 0.5) / 4294967296;
  };
  const normal = () => {
    if (!Number.isNaN(spare)) {
      const v = spare;
      spare = NaN;
      return v;
    }
    const r = Math.sqrt(-2 * Math.log(uniform()));
    const a = 2 * Math.PI * uniform();
    spare = r * Math.sin(a);
    return r * Math.cos(a);
  };
  return { uniform, normal };
}

// Clustered data: kClusters centres; each cluster spreads along kClusterDirs random directions of
// its own plus isotropic noise. The structure (centres, directions) comes from a fixed seed, so
// base vectors and queries (different `seed`s) share it. The constants were chosen for recall@10
// at M 16 / efConstruction 100 of about 0.8 at ef 16 and 0.99 at ef 64 on 20k vectors (lower at
// 100k), so the ef sweep spans usable operating points; fewer directions or less noise make every
// query trivial (recall 1.0 at ef 16).
const kClusters = 50;
const kClusterDirs = 256;
const kSpread = 1.2; // norm of the in-cluster offset relative to the centre's 1
const kNoise = 0.5; // norm of the isotropic noise
let clusterShape;
function clusteredNormalized(count, seed) {
  if (!clusterShape) {
    const { normal } = makeRng(4242);
    const centres = new Float32Array(kClusters * dim);
    for (let i = 0; i < centres.length; i++) centres[i] = normal() / Math.sqrt(dim);
    const dirs = new Float32Array(kClusters * kClusterDirs * dim);
    for (let i = 0; i < dirs.length; i++) dirs[i] = (normal() * kSpread) / Math.sqrt(dim * kClusterDirs);
    clusterShape = { centres, dirs };
  }
  const { centres, dirs } = clusterShape;
  const { uniform, normal } = makeRng(seed);
  const out = new Float32Array(count * dim);
  const z = new Float64Array(kClusterDirs);
  const noise = kNoise / Math.sqrt(dim);
  for (let r = 0; r < count; r++) {
    const c = Math.min(kClusters - 1, Math.floor(uniform() * kClusters));
    for (let j = 0; j < kClusterDirs; j++) z[j] = normal();
    const row = out.subarray(r * dim, (r + 1) * dim);
    row.set(centres.subarray(c * dim, (c + 1) * dim));
    for (let j = 0; j < kClusterDirs; j++) {
      const dir = dirs.subarray((c * kClusterDirs + j) * dim, (c * kClusterDirs + j + 1) * dim);
      const zj = z[j];
      for (let d = 0; d < dim; d++) row[d] += zj * dir[d];
    }
    let n = 0;
    for (let d = 0; d < dim; d++) {
      row[d] += normal() * noise;
      n += row[d] * row[d];
    }
    n = 1 / Math.sqrt(n);
    for (let d = 0; d < dim; d++) row[d] *= n;
  }
  return out;
}
const dataKind = args.data ?? 'uniform';
if (dataKind !== 'uniform' && dataKind !== 'clustered') throw new Error('--data must be uniform or clustered');
const makeVectors = dataKind === 'clustered' ? clusteredNormalized : randomNormalized;

const rssMb = () => process.memoryUsage().rss / 1048576;
// Collects garbage and lets finalizers run (a peer's native buffers are freed in them), so an RSS
// baseline taken next does not include the previous library's memory: without this the HNSW row
// after faiss-node's flat index once showed -101 MB.
async function settledRssMb() {
  for (let i = 0; i < 2; i++) {
    global.gc?.();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return rssMb();
}

/**
 * Runs `search(offset, count)` over all queries at a batch size; returns QPS and how long the
 * event loop was blocked inside one call (the synchronous part of the call: for crossmodal the
 * argument checks and queueing, for a synchronous binding the whole search).
 */
async function measure(search, batch) {
  const blocked = [];
  const t = performance.now();
  for (let q = 0; q < nq; q += batch) {
    const t0 = performance.now();
    const pending = search(q, Math.min(batch, nq - q));
    blocked.push(performance.now() - t0);
    await pending;
  }
  const secs = (performance.now() - t) / 1000;
  // The median: on a shared machine a single call can be descheduled for hundreds of ms.
  blocked.sort((a, b) => a - b);
  return { qps: nq / secs, blockMs: blocked[Math.floor(blocked.length / 2)] };
}

/** Batch-1 queries with `inFlight` outstanding at a time; QPS only. */
async function measureConcurrent(searchOne) {
  const t = performance.now();
  let next = 0;
  const lane = async () => {
    while (next < nq) await searchOne(next++);
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return nq / ((performance.now() - t) / 1000);
}

// Recall@k against the exact ground truth: crossmodal's own implementation (lib/eval).
function recallOf(ids, gt) {
  return crossmodal.recallAgainstExact(ids, gt, nq, k);
}

const rows = [];
const notes = [];
const overheadRows = [];

// The floor any asynchronous binding pays per call on this machine: one round trip through
// Node's own thread pool (handing work to a thread and waking the event loop when it is done).
{
  const n = 5000;
  for (let i = 0; i < 500; i++) await fs.promises.access(root);
  const t = performance.now();
  for (let i = 0; i < n; i++) await fs.promises.access(root);
  const floorUs = ((performance.now() - t) / n) * 1000;
  const tiny = crossmodal.createIndex({ dim, metric: 'ip' });
  await tiny.add(randomNormalized(16, 7));
  const q = randomNormalized(1, 8);
  for (let i = 0; i < 500; i++) await tiny.search(q, 1);
  const t2 = performance.now();
  for (let i = 0; i < n; i++) await tiny.search(q, 1);
  const callUs = ((performance.now() - t2) / n) * 1000;
  tiny.dispose();
  notes.push(
    `per-call floor: Node's own thread-pool round trip (await fs.promises.access) ${floorUs.toFixed(0)} µs; a crossmodal search of a 16-vector index ${callUs.toFixed(0)} µs`,
  );
}
if (!faissNode.mod) notes.push(`faiss-node not measured (run tools/dev/build-faiss-node.sh): ${faissNode.why}`);
if (!hnswlib.mod) notes.push(`hnswlib-node not measured: ${hnswlib.why}`);

// The C++ baseline links the same crossmodal_core library as the addon. CMake builds it
// (CROSSMODAL_BUILD_BENCH, no addon) in the build directory of the C++ unit tests
// (tools/test-native.mjs), so the core compiled for those is reused, and rebuilds it when any
// source changed.
const benchBuild = path.join(root, 'build-native-tests');
const directBin = path.join(benchBuild, 'crossmodal_bench_direct_faiss');
console.log('building bench/search/direct_faiss.cc (CMake target crossmodal_bench_direct_faiss) ...');
execFileSync(
  'cmake',
  [
    '-S',
    root,
    '-B',
    benchBuild,
    '--log-level=WARNING',
    '-DCMAKE_BUILD_TYPE=Release',
    '-DCROSSMODAL_BUILD_ADDON=OFF',
    '-DCROSSMODAL_BUILD_TESTS=ON',
    '-DCROSSMODAL_BUILD_BENCH=ON',
  ],
  { stdio: 'inherit' },
);
execFileSync(
  'cmake',
  [
    '--build',
    benchBuild,
    '--target',
    'crossmodal_bench_direct_faiss',
    '--parallel',
    process.env.CROSSMODAL_BUILD_JOBS ?? String(os.availableParallelism()),
  ],
  { stdio: 'inherit' },
);

// The memory-bandwidth floor of a flat scan: at batch 1 every query reads all n × dim floats.
const bandwidth = (() => {
  const res = spawnSync(directBin, ['--bandwidth'], { encoding: 'utf8' });
  try {
    return JSON.parse(res.stdout.trim().split('\n').pop());
  } catch {
    notes.push(`memory bandwidth not measured: ${res.stderr || res.stdout || res.error}`);
    return null;
  }
})();

function median(values) {
  const v = [...values].sort((a, b) => a - b);
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
}

/**
 * The binding's overhead on one saved HNSW graph: this process (the addon, loaded from `file`) and
 * the C++ program (LOAD_INDEX=file) alternate `overheadRounds` rounds, each searching all queries
 * at batch 1 and 64 for every ef. Returns one row per ef with the per-round ratios.
 */
async function pairedOverhead(n, file, xq, queriesFile, efs) {
  console.log(`-- hnsw: binding overhead, ${overheadRounds} alternating rounds on the saved graph`);
  const index = await crossmodal.loadIndex(file);
  const node = async () => {
    const out = new Map();
    for (const ef of efs) {
      const searchRange = (q, m) => index.search(xq.subarray(q * dim, (q + m) * dim), k, { efSearch: ef });
      await searchRange(0, Math.min(64, nq)); // warm-up, as the C++ program's
      out.set(ef, { qps1: (await measure(searchRange, 1)).qps, qps64: (await measure(searchRange, 64)).qps });
    }
    return out;
  };
  // Vectors and ground truth are not needed when the program loads the saved graph.
  const empty = path.join(path.dirname(file), 'empty');
  fs.writeFileSync(empty, '');
  const direct = (handoff) => {
    const res = spawnSync(directBin, [empty, queriesFile, empty, String(dim), 'hnsw', String(k), '1', 'ann'], {
      encoding: 'utf8',
      env: { ...process.env, EF_SEARCH: efs.join(','), LOAD_INDEX: file, HANDOFF: handoff ? '1' : '0' },
      maxBuffer: 1 << 20,
    });
    if (res.status !== 0) throw new Error(`direct_faiss LOAD_INDEX failed: ${res.stderr}`);
    const out = new Map();
    for (const line of res.stdout
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'))) {
      const d = JSON.parse(line);
      out.set(d.ef, { qps1: d.qps1, qps64: d.qps64 });
    }
    return out;
  };
  const rounds = [];
  for (let r = 0; r < overheadRounds; r++) {
    // The order reverses every round, so a drift of the machine's speed favours no side.
    const round = {};
    const sides = [
      ['node', node],
      ['cpp', () => direct(false)],
      ['handoff', () => direct(true)],
    ];
    for (const [name, run] of r % 2 === 0 ? sides : sides.reverse()) round[name] = await run();
    rounds.push(round);
  }
  index.dispose();
  return efs.map((ef) => {
    const per = (key, side) => rounds.map((r) => r[side].get(ef)[key]);
    const ratios = (key, a, b) => rounds.map((r) => r[a].get(ef)[key] / r[b].get(ef)[key]);
    return {
      n,
      ef,
      node1: median(per('qps1', 'node')),
      cpp1: median(per('qps1', 'cpp')),
      handoff1: median(per('qps1', 'handoff')),
      ratios1: ratios('qps1', 'node', 'cpp'),
      handoffRatios1: ratios('qps1', 'handoff', 'cpp'),
      nodeVsHandoff1: ratios('qps1', 'node', 'handoff'),
      node64: median(per('qps64', 'node')),
      cpp64: median(per('qps64', 'cpp')),
      ratios64: ratios('qps64', 'node', 'cpp'),
    };
  });
}

for (const n of sizes) {
  console.log(`\n== ${n} × ${dim}: generating vectors`);
  const xb = makeVectors(n, 1234 + n);
  const xq = makeVectors(nq, 99);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'crossmodal-bench-'));
  fs.writeFileSync(path.join(tmp, 'xb.f32'), Buffer.from(xb.buffer));
  fs.writeFileSync(path.join(tmp, 'xq.f32'), Buffer.from(xq.buffer));

  // Ground truth: crossmodal's exact index (the first type must be flat).
  let gt;
  for (const type of types) {
    if (type === 'hnsw' && n > hnswMax) {
      notes.push(
        `HNSW skipped at ${n}: building it takes too long on this shared 2-core machine (raise --hnsw-max to run it)`,
      );
      continue;
    }
    if (!gt && type !== 'flat') throw new Error('--types must start with flat (it provides the ground truth)');
    const efs = type === 'hnsw' ? efValues : [0];
    console.log(`-- ${type}: crossmodal`);
    const rss0 = await settledRssMb();
    const index = crossmodal.createIndex({
      dim,
      metric: 'ip',
      type,
      ...(type === 'hnsw' ? { M: hnswM, efConstruction: hnswEfc } : {}),
    });
    let t = performance.now();
    // In chunks with a progress line: a 1M HNSW build runs for tens of minutes.
    const chunk = type === 'hnsw' && n > 100000 ? 100000 : n;
    for (let i = 0; i < n; i += chunk) {
      await index.add(xb.subarray(i * dim, Math.min(n, i + chunk) * dim));
      if (chunk < n)
        console.log(
          `   crossmodal ${type}: ${Math.min(n, i + chunk)} added, ${((performance.now() - t) / 1000).toFixed(0)} s`,
        );
    }
    const buildMs = performance.now() - t;
    const mem = rssMb() - rss0;
    for (const ef of efs) {
      const options = ef > 0 ? { efSearch: ef } : undefined;
      const ids = new BigInt64Array(nq * k);
      const searchRange = async (q, m) => {
        const r = await index.search(xq.subarray(q * dim, (q + m) * dim), k, options);
        ids.set(r.ids, q * k);
      };
      const one = await measure(searchRange, 1);
      const concurrent = await measureConcurrent((q) => searchRange(q, 1));
      const batch = await measure(searchRange, 64);
      if (type === 'flat') {
        gt = ids.slice();
        fs.writeFileSync(path.join(tmp, 'gt.i64'), Buffer.from(gt.buffer));
      }
      rows.push({
        n,
        lib: 'crossmodal',
        type,
        ef,
        buildMs,
        mem,
        qps1: one.qps,
        qps1c: concurrent,
        qps64: batch.qps,
        recall: recallOf(ids, gt),
        blockMs: one.blockMs,
      });
    }
    const pairedGraph =
      type === 'hnsw' && !skipped.has('direct') && overheadRounds > 0 ? path.join(tmp, 'hnsw.idx') : null;
    if (pairedGraph) await index.save(pairedGraph);
    index.dispose();
    if (pairedGraph) {
      overheadRows.push(...(await pairedOverhead(n, pairedGraph, xq, path.join(tmp, 'xq.f32'), efs)));
      fs.rmSync(pairedGraph);
    }

    for (const mode of skipped.has('direct') ? [] : ['ann', 'stock'].filter((m) => !skipped.has(m))) {
      if (mode === 'ann' && type === 'hnsw' && n > directHnswMax) {
        notes.push(`C++ same-calls HNSW skipped at ${n}: a third graph build (raise --direct-hnsw-max to run it)`);
        continue;
      }
      if (mode === 'stock' && type === 'hnsw' && n > stockHnswMax) {
        notes.push(`stock FAISS HNSW skipped at ${n}: its build is about 6× slower (raise --stock-hnsw-max to run it)`);
        continue;
      }
      console.log(`-- ${type}: C++ ${mode}`);
      const res = spawnSync(
        directBin,
        [
          path.join(tmp, 'xb.f32'),
          path.join(tmp, 'xq.f32'),
          path.join(tmp, 'gt.i64'),
          String(dim),
          type,
          String(k),
          '1',
          mode,
        ],
        {
          encoding: 'utf8',
          env: { ...process.env, EF_SEARCH: efs.join(','), HNSW_M: String(hnswM), HNSW_EFC: String(hnswEfc) },
          maxBuffer: 1 << 20,
        },
      );
      if (res.status !== 0) {
        notes.push(`direct ${mode} ${type} failed: ${res.stderr}`);
        continue;
      }
      for (const line of res.stdout
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('{'))) {
        const d = JSON.parse(line);
        rows.push({
          n,
          lib: mode === 'ann' ? 'C++ same calls' : 'C++ stock FAISS',
          type,
          ef: d.ef,
          buildMs: d.build_ms,
          mem: d.rss_mb,
          qps1: d.qps1,
          qps1c: NaN,
          qps64: d.qps64,
          recall: d.recall,
          blockMs: NaN,
        });
      }
    }

    if (type === 'flat' && faissNode.mod && !skipped.has('faiss-node')) {
      console.log(`-- ${type}: faiss-node`);
      const { IndexFlatIP } = faissNode.mod;
      const rss1 = await settledRssMb();
      const f = new IndexFlatIP(dim);
      t = performance.now();
      // In chunks: one JS array of n × dim doubles exceeds V8's array limits at 1M × 512.
      for (let i = 0; i < n; i += 10000) f.add(Array.from(xb.subarray(i * dim, Math.min(n, i + 10000) * dim)));
      const fb = performance.now() - t;
      const fids = new BigInt64Array(nq * k);
      const search = async (q, m) => {
        for (let i = 0; i < m; i++) {
          const r = f.search(Array.from(xq.subarray((q + i) * dim, (q + i + 1) * dim)), k);
          r.labels.forEach((l, j) => (fids[(q + i) * k + j] = BigInt(l)));
        }
      };
      const o = await measure(search, 1);
      const c = await measureConcurrent((q) => search(q, 1));
      const b = await measure(search, 64);
      rows.push({
        n,
        lib: 'faiss-node',
        type,
        ef: 0,
        buildMs: fb,
        mem: rssMb() - rss1,
        qps1: o.qps,
        qps1c: c,
        qps64: b.qps,
        recall: recallOf(fids, gt),
        blockMs: o.blockMs,
      });
    }
    if (type === 'hnsw' && hnswlib.mod && !skipped.has('hnswlib-node')) {
      console.log(`-- ${type}: hnswlib-node`);
      const { HierarchicalNSW } = hnswlib.mod;
      const rss1 = await settledRssMb();
      const h = new HierarchicalNSW('ip', dim);
      h.initIndex(n, hnswM, hnswEfc, 100);
      t = performance.now();
      for (let i = 0; i < n; i++) {
        h.addPoint(Array.from(xb.subarray(i * dim, (i + 1) * dim)), i);
        if (n > 100000 && (i + 1) % 100000 === 0)
          console.log(`   hnswlib-node: ${i + 1} added, ${((performance.now() - t) / 1000).toFixed(0)} s`);
      }
      const hb = performance.now() - t;
      const hmem = rssMb() - rss1;
      for (const ef of efs) {
        h.setEf(ef);
        const hids = new BigInt64Array(nq * k);
        const search = async (q, m) => {
          for (let i = 0; i < m; i++) {
            const r = h.searchKnn(Array.from(xq.subarray((q + i) * dim, (q + i + 1) * dim)), k);
            r.neighbors.forEach((l, j) => (hids[(q + i) * k + j] = BigInt(l)));
          }
        };
        const o = await measure(search, 1);
        const c = await measureConcurrent((q) => search(q, 1));
        const b = await measure(search, 64);
        rows.push({
          n,
          lib: 'hnswlib-node',
          type,
          ef,
          buildMs: hb,
          mem: hmem,
          qps1: o.qps,
          qps1c: c,
          qps64: b.qps,
          recall: recallOf(hids, gt),
          blockMs: o.blockMs,
        });
      }
    }
  }
  fs.rmSync(tmp, { recursive: true, force: true });
}

const fmt = (v, d = 0) => (Number.isFinite(v) ? v.toFixed(d) : '-');
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) ? `${(a / b).toFixed(2)}×` : '-');
console.log(
  '\nVector search benchmark (' +
    os.cpus().length +
    ' cores, load ' +
    os.loadavg()[0].toFixed(1) +
    `; ${dataKind} data, dim ${dim}, ${nq} queries, k ${k}; HNSW M ${hnswM}, efConstruction ${hnswEfc})`,
);
console.log(
  `| n | index | ef | library | build s | mem MB | QPS b=1 | QPS b=1, ${inFlight} in flight | QPS b=64 | recall@10 | event-loop block per call ms (median) | b=1 vs crossmodal | b=64 vs crossmodal |`,
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  const ours = rows.find((x) => x.n === r.n && x.type === r.type && x.ef === r.ef && x.lib === 'crossmodal');
  console.log(
    `| ${r.n} | ${r.type} | ${r.ef || '-'} | ${r.lib} | ${fmt(r.buildMs / 1000, 1)} | ${fmt(r.mem)} | ${fmt(r.qps1)} | ${fmt(r.qps1c)} | ${fmt(r.qps64)} | ${fmt(r.recall, 3)} | ${fmt(r.blockMs, 3)} | ${ratio(ours?.qps1, r.qps1)} | ${ratio(ours?.qps64, r.qps64)} |`,
  );
}
console.log(
  '\nRatios are crossmodal ÷ that row (> 1: crossmodal faster), at the same ef. "C++ same calls" runs crossmodal\'s search core without Node: crossmodal ÷ it is 1 − binding overhead.',
);

const flatRows = rows.filter((r) => r.type === 'flat');
if (bandwidth && flatRows.length > 0) {
  console.log(
    `\nMemory-bandwidth floor for flat search: ${bandwidth.read_gbps.toFixed(1)} GB/s read with ${bandwidth.threads} threads (bench/search/direct_faiss.cc --bandwidth, best of 5 passes over 1 GiB); a query at batch 1 reads n × ${dim} × 4 bytes`,
  );
  console.log('| n | library | QPS b=1 | bandwidth floor QPS b=1 | share of floor |');
  console.log('|---|---|---|---|---|');
  for (const r of flatRows) {
    const floorQps = (bandwidth.read_gbps * 1e9) / (r.n * dim * 4);
    console.log(
      `| ${r.n} | ${r.lib} | ${fmt(r.qps1)} | ${fmt(floorQps)} | ${((100 * r.qps1) / floorQps).toFixed(0)}% |`,
    );
  }
  console.log(
    "The floor is a plain summing pass, so a scan within ±10% of it (above 100% included) runs at the machine's streaming bandwidth. At batch 64 one pass over the vectors serves 64 queries, so batched flat search is bound by compute (a GEMM), not by this floor.",
  );
}

if (overheadRows.length > 0) {
  console.log(
    `\nBinding overhead on HNSW: one saved graph searched by crossmodal (Node) and by the C++ program, ${overheadRounds} alternating rounds`,
  );
  console.log(
    '| n | ef | crossmodal QPS b=1 | C++ QPS b=1 | C++ hand-off QPS b=1 | crossmodal ÷ C++, b=1 | C++ hand-off ÷ C++, b=1 | crossmodal ÷ C++ hand-off, b=1 | crossmodal QPS b=64 | C++ QPS b=64 | crossmodal ÷ C++, b=64 |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const o of overheadRows) {
    const span = (v) => `${median(v).toFixed(2)} (${Math.min(...v).toFixed(2)}–${Math.max(...v).toFixed(2)})`;
    console.log(
      `| ${o.n} | ${o.ef} | ${fmt(o.node1)} | ${fmt(o.cpp1)} | ${fmt(o.handoff1)} | ${span(o.ratios1)} | ${span(o.handoffRatios1)} | ${span(o.nodeVsHandoff1)} | ${fmt(o.node64)} | ${fmt(o.cpp64)} | ${span(o.ratios64)} |`,
    );
  }
  console.log(
    'QPS: medians over the rounds. Ratios: median (min–max) of the per-round ratios; crossmodal ÷ C++ is 1 − the binding\'s overhead. "C++ hand-off" is the C++ program with HANDOFF=1: each search on a worker thread while the caller waits, as any asynchronous caller does.',
  );
}

// Equal recall: hnswlib-node's QPS at crossmodal's recall, interpolated log-linearly between the
// two hnswlib-node points around it (no extrapolation).
function qpsAtRecall(points, recall, key) {
  const sorted = [...points].sort((a, b) => a.recall - b.recall);
  for (let i = 1; i < sorted.length; i++) {
    const lo = sorted[i - 1],
      hi = sorted[i];
    if (recall >= lo.recall && recall <= hi.recall) {
      const f = hi.recall === lo.recall ? 0 : (recall - lo.recall) / (hi.recall - lo.recall);
      return Math.exp(Math.log(lo[key]) + f * (Math.log(hi[key]) - Math.log(lo[key])));
    }
  }
  return NaN;
}
const hnswSizes = [...new Set(rows.filter((r) => r.type === 'hnsw' && r.lib === 'hnswlib-node').map((r) => r.n))];
if (hnswSizes.length > 0) {
  console.log("\nHNSW at equal recall: hnswlib-node interpolated at crossmodal's recall@10");
  console.log(
    '| n | crossmodal ef | recall@10 | crossmodal QPS b=1 | hnswlib-node QPS b=1 | ratio | crossmodal QPS b=64 | hnswlib-node QPS b=64 | ratio |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const n of hnswSizes) {
    const theirs = rows.filter((r) => r.n === n && r.type === 'hnsw' && r.lib === 'hnswlib-node');
    for (const ours of rows.filter((r) => r.n === n && r.type === 'hnsw' && r.lib === 'crossmodal')) {
      const q1 = qpsAtRecall(theirs, ours.recall, 'qps1');
      const q64 = qpsAtRecall(theirs, ours.recall, 'qps64');
      console.log(
        `| ${n} | ${ours.ef} | ${fmt(ours.recall, 3)} | ${fmt(ours.qps1)} | ${fmt(q1)} | ${ratio(ours.qps1, q1)} | ${fmt(ours.qps64)} | ${fmt(q64)} | ${ratio(ours.qps64, q64)} |`,
      );
    }
  }
  console.log('"-": crossmodal\'s recall lies outside the range hnswlib-node reached with these ef values.');
}
for (const note of notes) console.log(`note: ${note}`);
