#!/usr/bin/env node
// Vector search benchmark: crossmodal's indexes beside faiss-node (flat), hnswlib-node (HNSW) and
// the same index code called from C++ without Node (bench/search/direct_faiss.cc), all in one
// run on the same vectors, reported as ratios because the machine is shared and absolute timings
// drift.
//
//   node bench/search/run.mjs [--sizes 100000,1000000] [--dim 512] [--queries 1000] [--k 10]
//                             [--types flat,hnsw,ivf-flat] [--hnsw-max 200000] [--ef 512]
//
// Vectors are uniform random, normalised (the hard case for approximate search: no clusters).
// Per library and size: build time, memory (RSS growth), QPS at batch 1 (sequential awaits) and
// batch 64, recall@10 against exact search, and event-loop blocking: the longest gap a 1 ms
// interval timer saw while the batch-1 queries ran (a blocking binding stalls it for the whole
// search).
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
// HNSW parameters shared by crossmodal, hnswlib-node and stock FAISS, so recall is comparable.
const efSearch = Number(args.ef ?? 512);

function optional(name) {
  try {
    return { mod: require(name), why: '' };
  } catch (error) {
    return { mod: null, why: error.message.split('\n')[0] };
  }
}
const faissNode = optional('faiss-node');
const hnswlib = optional('hnswlib-node');

function randomNormalized(count, seed) {
  const out = new Float32Array(count * dim);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < out.length; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
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

const rssMb = () => process.memoryUsage().rss / 1048576;

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

function recallOf(ids, gt) {
  let hit = 0;
  for (let q = 0; q < nq; q++) {
    const truth = new Set();
    for (let j = 0; j < k; j++) truth.add(BigInt(gt[q * k + j]));
    for (let j = 0; j < k; j++) if (truth.has(BigInt(ids[q * k + j]))) hit++;
  }
  return hit / (nq * k);
}

const rows = [];
const notes = [];
if (!faissNode.mod) notes.push(`faiss-node not measured: ${faissNode.why}`);
if (!hnswlib.mod) notes.push(`hnswlib-node not measured: ${hnswlib.why}`);

const directBin = path.join(root, 'build', 'bench', 'direct_faiss');
if (!fs.existsSync(directBin)) {
  console.log('building bench/search/direct_faiss.cc ...');
  fs.mkdirSync(path.dirname(directBin), { recursive: true });
  const native = (f) => path.join(root, 'native', f);
  execFileSync('g++', ['-O3', '-std=c++17', '-fopenmp', `-I${path.join(root, 'native')}`, path.join(here, 'direct_faiss.cc'),
    native('search/ann_index.cc'), native('search/index_spec.cc'), native('search/index_file.cc'), native('search/fast_flat.cc'),
    native('common/native_buffer.cc'), '-lfaiss', '-lopenblas', '-llapack', '-lz', '-o', directBin], { stdio: 'inherit' });
}

for (const n of sizes) {
  console.log(`\n== ${n} × ${dim}: generating vectors`);
  const xb = randomNormalized(n, 1234 + n);
  const xq = randomNormalized(nq, 99);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'crossmodal-bench-'));
  fs.writeFileSync(path.join(tmp, 'xb.f32'), Buffer.from(xb.buffer));
  fs.writeFileSync(path.join(tmp, 'xq.f32'), Buffer.from(xq.buffer));

  // Ground truth: crossmodal's exact index at batch 64 (BLAS).
  let gt;
  for (const type of types) {
    if (type === 'hnsw' && n > hnswMax) {
      notes.push(`HNSW skipped at ${n}: building it takes too long on this shared 2-core machine (raise --hnsw-max to run it)`);
      continue;
    }
    global.gc?.();
    const rss0 = rssMb();
    const index = crossmodal.createIndex({ dim, metric: 'ip', type, ...(type === 'hnsw' ? { M: 32, efConstruction: 200, efSearch } : {}) });
    let t = performance.now();
    await index.add(xb);
    const buildMs = performance.now() - t;
    const mem = rssMb() - rss0;
    const ids = new BigInt64Array(nq * k);
    const one = await measure(async (q, m) => {
      const r = await index.search(xq.subarray(q * dim, (q + m) * dim), k);
      ids.set(r.ids, q * k);
    }, 1);
    const batch = await measure(async (q, m) => {
      const r = await index.search(xq.subarray(q * dim, (q + m) * dim), k);
      ids.set(r.ids, q * k);
    }, 64);
    if (type === 'flat') {
      gt = ids.slice();
      fs.writeFileSync(path.join(tmp, 'gt.i64'), Buffer.from(gt.buffer));
    }
    rows.push({ n, lib: 'crossmodal', type, buildMs, mem, qps1: one.qps, qps64: batch.qps, recall: gt ? recallOf(ids, gt) : NaN, blockMs: one.blockMs });
    index.dispose();

    for (const mode of ['ann', 'stock']) {
      const res = spawnSync(directBin, [path.join(tmp, 'xb.f32'), path.join(tmp, 'xq.f32'), path.join(tmp, 'gt.i64'), String(dim), type, String(k), '1', mode], { encoding: 'utf8', env: { ...process.env, EF_SEARCH: String(efSearch) } });
      if (res.status !== 0) {
        notes.push(`direct ${mode} ${type} failed: ${res.stderr}`);
        continue;
      }
      const d = JSON.parse(res.stdout.trim().split('\n').pop());
      rows.push({ n, lib: mode === 'ann' ? 'C++ same calls' : 'C++ stock FAISS', type, buildMs: d.build_ms, mem: d.rss_mb, qps1: d.qps1, qps64: d.qps64, recall: d.recall, blockMs: NaN });
    }

    if (type === 'flat' && faissNode.mod) {
      const { IndexFlatIP } = faissNode.mod;
      const rss1 = rssMb();
      const f = new IndexFlatIP(dim);
      t = performance.now();
      f.add(Array.from(xb));
      const fb = performance.now() - t;
      const fids = new BigInt64Array(nq * k);
      const search = async (q, m) => {
        for (let i = 0; i < m; i++) {
          const r = f.search(Array.from(xq.subarray((q + i) * dim, (q + i + 1) * dim)), k);
          r.labels.forEach((l, j) => (fids[(q + i) * k + j] = BigInt(l)));
        }
      };
      const o = await measure(search, 1);
      const b = await measure(search, 64);
      rows.push({ n, lib: 'faiss-node', type, buildMs: fb, mem: rssMb() - rss1, qps1: o.qps, qps64: b.qps, recall: recallOf(fids, gt), blockMs: o.blockMs });
    }
    if (type === 'hnsw' && hnswlib.mod) {
      const { HierarchicalNSW } = hnswlib.mod;
      const rss1 = rssMb();
      const h = new HierarchicalNSW('ip', dim);
      h.initIndex(n, 32, 200, 100);
      t = performance.now();
      for (let i = 0; i < n; i++) h.addPoint(Array.from(xb.subarray(i * dim, (i + 1) * dim)), i);
      const hb = performance.now() - t;
      h.setEf(efSearch);
      const hids = new BigInt64Array(nq * k);
      const search = async (q, m) => {
        for (let i = 0; i < m; i++) {
          const r = h.searchKnn(Array.from(xq.subarray((q + i) * dim, (q + i + 1) * dim)), k);
          r.neighbors.forEach((l, j) => (hids[(q + i) * k + j] = BigInt(l)));
        }
      };
      const o = await measure(search, 1);
      const b = await measure(search, 64);
      rows.push({ n, lib: 'hnswlib-node', type, buildMs: hb, mem: rssMb() - rss1, qps1: o.qps, qps64: b.qps, recall: recallOf(hids, gt), blockMs: o.blockMs });
    }
  }
  fs.rmSync(tmp, { recursive: true, force: true });
}

const fmt = (v, d = 0) => (Number.isFinite(v) ? v.toFixed(d) : '-');
console.log('\nVector search benchmark (' + os.cpus().length + ' cores, load ' + os.loadavg()[0].toFixed(1) + `; dim ${dim}, ${nq} queries, k ${k})`);
console.log('| n | index | library | build s | mem MB | QPS b=1 | QPS b=64 | recall@10 | event-loop block per call ms (median) | QPS b=1 vs crossmodal | QPS b=64 vs crossmodal |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  const ours = rows.find((x) => x.n === r.n && x.type === r.type && x.lib === 'crossmodal');
  console.log(`| ${r.n} | ${r.type} | ${r.lib} | ${fmt(r.buildMs / 1000, 1)} | ${fmt(r.mem)} | ${fmt(r.qps1)} | ${fmt(r.qps64)} | ${fmt(r.recall, 3)} | ${fmt(r.blockMs, 3)} | ${fmt(ours.qps1 / r.qps1, 2)}× | ${fmt(ours.qps64 / r.qps64, 2)}× |`);
}
console.log('\nRatios are crossmodal ÷ that row (> 1: crossmodal faster). "C++ same calls" runs crossmodal\'s search core without Node: crossmodal ÷ it is 1 − binding overhead.');
for (const note of notes) console.log(`note: ${note}`);
