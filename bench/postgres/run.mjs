#!/usr/bin/env node
// PostgreSQL + pgvector collections beside local (SQLite + FAISS HNSW) collections, on clustered
// 512-d vectors like real embeddings.
//
//   npm run bench:postgres [-- --n 100000 --dim 512 --queries 200 --ef 10,20,40,80,160,320]
//   node bench/postgres/run.mjs --only ingest --n 20000     (PostgreSQL ingest rate only)
//   CROSSMODAL_ENTRY=/path/to/other/dist/cjs/index.js node bench/postgres/run.mjs …   (another build)
//   --halfvec   the PostgreSQL collection stores halfvec (16-bit floats)
//   --point-seconds 30   a sweep point stops after this long (at least 10 queries)
//   --url postgresql://…   an existing server instead of a throwaway cluster (needs pgvector ≥ 0.8)
//
// Data: a mixture of --clusters (100) Gaussian clusters on the unit sphere (centre plus isotropic
// noise of norm --spread, then normalised), base vectors and queries from different seeds; every
// item carries { bucket: i % 100 }, so `where: { bucket: 7 }` passes 1 %. Both collections use
// HNSW with M 16 and efConstruction 64 (pgvector's defaults) and the cosine metric.
// Measured: ingest rows/s through each collection's addVectors (the PostgreSQL one in batches of
// 1000, COPY, HNSW maintained per row; the local one in one call), then for each ef_search of the
// sweep, single-client queries back to back: QPS and recall@10 against exact search (a flat
// index over the same vectors; with the filter, exact search among the 1 %), without and with
// the filter. Reported: the sweep, and each store's QPS interpolated at equal recall.
// Needs `npm run build:ts`, PostgreSQL 15 + pgvector (tools/setup-postgres.sh) and pg-copy-streams.
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCluster } from './cluster.mjs';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const entry = process.env.CROSSMODAL_ENTRY ?? path.join(root, 'dist', 'cjs', 'index.js');
const crossmodal = require(entry);

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const n = Number(opt('n', 100000));
const dim = Number(opt('dim', 512));
const nq = Number(opt('queries', 200));
const k = 10;
const efs = String(opt('ef', '10,20,40,80,160,320')).split(',').map(Number);
const clusters = Number(opt('clusters', 100));
const spread = Number(opt('spread', 1.0));
const only = opt('only', 'all');
// A sweep point stops after this many seconds (at least 10 queries), so a slow point cannot eat the run.
const pointSeconds = Number(opt('point-seconds', 30));
const halfvec = args.includes('--halfvec');
const targets = String(opt('recall', '0.9,0.95,0.99')).split(',').map(Number);
if (!Number.isInteger(n) || n < 1000) throw new Error('--n must be an integer ≥ 1000');
if (only !== 'all' && only !== 'ingest') throw new Error('--only must be all or ingest');

// xorshift32 uniforms and Box-Muller normals, seeded.
function rng(seed) {
  let s = seed >>> 0 || 1;
  const uniform = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return (s + 0.5) / 4294967296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  return { uniform, normal };
}

let centres;
function clustered(count, seed) {
  if (!centres) {
    const { normal } = rng(4242);
    centres = new Float32Array(clusters * dim);
    for (let c = 0; c < clusters; c++) {
      const row = centres.subarray(c * dim, (c + 1) * dim);
      let norm = 0;
      for (let d = 0; d < dim; d++) norm += (row[d] = normal()) ** 2;
      for (let d = 0; d < dim; d++) row[d] /= Math.sqrt(norm);
    }
  }
  const { uniform, normal } = rng(seed);
  const out = new Float32Array(count * dim);
  const noise = spread / Math.sqrt(dim);
  for (let r = 0; r < count; r++) {
    const c = Math.min(clusters - 1, Math.floor(uniform() * clusters));
    const row = out.subarray(r * dim, (r + 1) * dim);
    let norm = 0;
    for (let d = 0; d < dim; d++) {
      row[d] = centres[c * dim + d] + normal() * noise;
      norm += row[d] * row[d];
    }
    for (let d = 0; d < dim; d++) row[d] /= Math.sqrt(norm);
  }
  return out;
}

const unavailable = () => Promise.reject(new Error('the benchmark adds vectors only'));
const model = { fingerprint: `bench-${dim}`, dim, embedTexts: unavailable, embedImages: unavailable };
const keys = Array.from({ length: n }, (_, i) => `v${i}`);
const metadata = keys.map((_, i) => ({ bucket: i % 100 }));
const t0 = performance.now();
const base = clustered(n, 1);
const queries = clustered(nq, 2);
console.log(
  `data: ${n} × ${dim}-d, ${clusters} clusters, spread ${spread}, ${nq} queries (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
);

const url = opt('url', undefined);
const cluster = url ? undefined : startCluster(['shared_buffers=1GB', 'maintenance_work_mem=1GB', 'max_wal_size=4GB']);
// A run stopped from outside (Ctrl-C, `timeout`) removes its throwaway cluster too.
for (const signal of ['SIGINT', 'SIGTERM'])
  process.once(signal, () => {
    cluster?.destroy();
    process.exit(130);
  });
const results = { n, dim, clusters, spread, queries: nq, k, cpus: os.cpus().length, loadavg: os.loadavg(), entry };
try {
  const pg = await crossmodal.openCollection(url ?? cluster.url, {
    model,
    collection: `bench_${process.pid}`,
    poolSize: 2,
  });
  let started = performance.now();
  let lastPrint = started;
  await pg.addVectors(base, keys, metadata, {
    batchSize: 1000,
    onProgress: ({ done }) => {
      if (performance.now() - lastPrint > 10000) {
        lastPrint = performance.now();
        console.log(`  postgres ingest ${done}/${n} (${Math.round(done / ((lastPrint - started) / 1000))} rows/s)`);
      }
    },
  });
  const pgSeconds = (performance.now() - started) / 1000;
  // Where the bytes are: the table (heap + TOAST) and the HNSW index.
  const { Client } = require('pg');
  const admin = new Client({ connectionString: url ?? cluster.url });
  await admin.connect();
  const name = `public.bench_${process.pid}`;
  const sizes = (
    await admin.query(
      `SELECT pg_table_size($1::regclass) AS "table", pg_indexes_size($1::regclass) AS indexes,
       pg_relation_size($2::regclass) AS hnsw`,
      [name, `public.bench_${process.pid}_embedding_hnsw`],
    )
  ).rows[0];
  await admin.end();
  results.postgresSizes = Object.fromEntries(Object.entries(sizes).map(([key, v]) => [key, Number(v)]));
  const perVector = (bytes) => (bytes / n).toFixed(0);
  console.log(
    `postgres bytes per vector: table ${perVector(results.postgresSizes.table)}, HNSW ${perVector(results.postgresSizes.hnsw)}, all indexes ${perVector(results.postgresSizes.indexes)}`,
  );
  results.postgresIngest = {
    halfvec,
    seconds: pgSeconds,
    rowsPerSecond: n / pgSeconds,
    bytes: (await pg.stats()).bytesOnDisk,
  };
  console.log(
    `postgres ingest: ${n} rows in ${pgSeconds.toFixed(1)} s = ${Math.round(n / pgSeconds)} rows/s (HNSW maintained), ${(results.postgresIngest.bytes / 2 ** 20).toFixed(0)} MiB on disk`,
  );
  if (only === 'ingest') {
    await pg.close();
  } else {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crossmodal-bench-local-'));
    const local = await crossmodal.openCollection(dir, { model, index: { type: 'hnsw', M: 16, efConstruction: 64 } });
    started = performance.now();
    await local.addVectors(base, keys, metadata);
    const localSeconds = (performance.now() - started) / 1000;
    results.localIngest = { seconds: localSeconds, rowsPerSecond: n / localSeconds };
    console.log(
      `local ingest: ${n} rows in ${localSeconds.toFixed(1)} s = ${Math.round(n / localSeconds)} rows/s (one addVectors call)`,
    );

    // Exact neighbours: a flat index, all of it and the 1 % that passes the filter.
    const flat = crossmodal.createIndex({ dim, type: 'flat' });
    await flat.add(
      base,
      BigInt64Array.from(keys, (_, i) => BigInt(i)),
    );
    const allowed = BigInt64Array.from({ length: Math.ceil((n - 7) / 100) }, (_, j) => BigInt(7 + j * 100));
    const exact = { none: [], filtered: [] };
    for (const [name, filter] of [
      ['none', undefined],
      ['filtered', { allow: allowed }],
    ]) {
      const r = await flat.search(queries, k, filter ? { filter } : {});
      for (let q = 0; q < nq; q++) exact[name].push(...r.get(q).map((h) => Number(h.id)));
    }
    flat.dispose();

    const sweep = [];
    for (const [filterName, where] of [
      ['none', undefined],
      ['filtered', { bucket: 7 }],
    ]) {
      for (const [storeName, coll] of [
        ['postgres', pg],
        ['local', local],
      ]) {
        for (const ef of efs) {
          const found = [];
          // One warm-up query per point, then the timed pass.
          await coll.searchVector(queries.subarray(0, dim), { k, efSearch: ef, where });
          started = performance.now();
          let done = 0;
          for (let q = 0; q < nq; q++) {
            const hits = await coll.searchVector(queries.subarray(q * dim, (q + 1) * dim), { k, efSearch: ef, where });
            const ids = hits.map((h) => Number(h.source.slice(1)));
            while (ids.length < k) ids.push(-1);
            found.push(...ids);
            done++;
            if (done >= 10 && performance.now() - started > pointSeconds * 1000) break;
          }
          const seconds = (performance.now() - started) / 1000;
          const recall = crossmodal.recallAgainstExact(found, exact[filterName].slice(0, done * k), done, k);
          const point = { filter: filterName, store: storeName, ef, queries: done, qps: done / seconds, recall };
          sweep.push(point);
          console.log(
            `  ${filterName.padEnd(8)} ${storeName.padEnd(8)} ef ${String(ef).padStart(4)}: ${point.qps.toFixed(0).padStart(6)} QPS, recall@10 ${recall.toFixed(3)} (${done} queries)`,
          );
        }
      }
    }
    results.sweep = sweep;
    // QPS at equal recall: along each store's sweep, linear in recall between the two points around the target.
    const qpsAt = (points, target) => {
      const sorted = [...points].sort((a, b) => a.recall - b.recall);
      for (let i = 0; i < sorted.length; i++) {
        if (sorted[i].recall >= target) {
          if (i === 0) return sorted[0].qps;
          const [a, b] = [sorted[i - 1], sorted[i]];
          return a.qps + ((b.qps - a.qps) * (target - a.recall)) / (b.recall - a.recall || 1);
        }
      }
      return NaN;
    };
    results.equalRecall = [];
    for (const filterName of ['none', 'filtered']) {
      for (const target of targets) {
        const at = (store) =>
          qpsAt(
            sweep.filter((p) => p.filter === filterName && p.store === store),
            target,
          );
        const row = { filter: filterName, recall: target, postgres: at('postgres'), local: at('local') };
        row.localOverPostgres = row.local / row.postgres;
        results.equalRecall.push(row);
        console.log(
          `equal recall ${target} (${filterName}): postgres ${row.postgres.toFixed(0)} QPS, local ${row.local.toFixed(0)} QPS, local/postgres ${row.localOverPostgres.toFixed(2)}×`,
        );
      }
    }
    await local.close();
    await pg.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
} finally {
  cluster?.destroy();
}
results.loadavgAfter = os.loadavg();
const outFile = opt(
  'json',
  path.join(root, 'bench', '.cache', `postgres-${only}-${n}${halfvec ? '-halfvec' : ''}.json`),
);
fs.mkdirSync(path.dirname(outFile), { recursive: true });
fs.writeFileSync(outFile, JSON.stringify(results, null, 2));
console.log(`wrote ${path.relative(root, outFile)}`);
