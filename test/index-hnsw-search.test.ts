// crossmodal searches FAISS's HNSW graph with its own routine (native/search/hnsw_search.cc:
// prefetching, per-thread visited tags). It must return exactly what FAISS 1.7.3's own
// IndexHNSW::search returns on the same graph. CROSSMODAL_HNSW_SEARCH=faiss selects FAISS's
// routine for a whole process, so a child process with it set searches the same saved index.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createIndex } from '../lib/index';
import { scratchDirs } from './helpers';
import { gaussianVectors } from './helpers/vectors';

const distEntry = path.resolve(__dirname, '..', 'dist', 'cjs', 'index.js');
const haveDist = fs.existsSync(distEntry);
if (!haveDist) console.warn('index-hnsw-search: skipped (needs `npm run build:ts`)');
const freshDir = scratchDirs('crossmodal-hnsw-search-');

interface Case {
  efSearch: number;
  k: number;
  deny?: number[];
}
const cases: Case[] = [
  { efSearch: 16, k: 10 },
  { efSearch: 64, k: 10 },
  { efSearch: 200, k: 50 },
  { efSearch: 32, k: 10, deny: Array.from({ length: 300 }, (_, i) => i * 7) },
];

// Runs every case on the saved index, one query per call and all queries in one call, and
// returns the ids and scores as plain arrays (so both processes print comparable JSON).
const searchScript = `
const cm = require(${JSON.stringify(distEntry)});
const [file, queriesFile, casesJson] = process.argv.slice(1);
(async () => {
  const index = await cm.loadIndex(file);
  const buf = require('fs').readFileSync(queriesFile);
  const queries = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  const dim = index.dim;
  const out = [];
  for (const c of JSON.parse(casesJson)) {
    const options = { efSearch: c.efSearch, ...(c.deny ? { filter: { deny: c.deny } } : {}) };
    const batch = await index.search(queries, c.k, options);
    const singles = [];
    for (let q = 0; q < queries.length / dim; q++) {
      const r = await index.search(queries.subarray(q * dim, (q + 1) * dim), c.k, options);
      singles.push(...Array.from(r.ids, String));
    }
    out.push({ ids: Array.from(batch.ids, String), scores: Array.from(batch.scores), singles });
  }
  index.dispose();
  process.stdout.write(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
`;

function runSearches(file: string, queriesFile: string, hnswSearch: 'crossmodal' | 'faiss'): unknown {
  const env = { ...process.env };
  if (hnswSearch === 'faiss') env.CROSSMODAL_HNSW_SEARCH = 'faiss';
  else delete env.CROSSMODAL_HNSW_SEARCH;
  const stdout = execFileSync(process.execPath, ['-e', searchScript, file, queriesFile, JSON.stringify(cases)], {
    env,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  return JSON.parse(stdout);
}

describe.skipIf(!haveDist)('HNSW search routine', () => {
  for (const metric of ['ip', 'l2', 'cosine'] as const) {
    it(`returns exactly FAISS's results (${metric}, filters, removed ids, batch and single queries)`, async () => {
      const dim = 48;
      const dir = freshDir();
      fs.mkdirSync(dir, { recursive: true });
      const index = createIndex({ dim, metric, type: 'hnsw', M: 8, efConstruction: 40 });
      await index.add(gaussianVectors(6000, dim, 31, metric !== 'l2'));
      // Removed ids stay in the graph as tombstones: the search walks through them but must not
      // return them.
      await index.remove(Array.from({ length: 200 }, (_, i) => BigInt(i * 13 + 1)));
      const file = path.join(dir, 'hnsw.idx');
      await index.save(file);
      index.dispose();
      const queriesFile = path.join(dir, 'queries.f32');
      fs.writeFileSync(queriesFile, Buffer.from(gaussianVectors(40, dim, 32, metric !== 'l2').buffer));

      const ours = runSearches(file, queriesFile, 'crossmodal') as {
        ids: string[];
        scores: number[];
        singles: string[];
      }[];
      const theirs = runSearches(file, queriesFile, 'faiss') as typeof ours;
      expect(ours).toHaveLength(cases.length);
      for (let c = 0; c < cases.length; c++) {
        expect(ours[c].ids).toEqual(theirs[c].ids);
        expect(ours[c].scores).toEqual(theirs[c].scores);
        expect(ours[c].singles).toEqual(ours[c].ids);
        // The comparison is not vacuous: results are full and respect removals and the filter.
        const found = ours[c].ids.filter((id) => id !== '-1');
        expect(found.length).toBeGreaterThan(0.9 * ours[c].ids.length);
        for (const id of found) {
          expect(Number(id) % 13 === 1 && Number(id) < 200 * 13).toBe(false);
          if (cases[c].deny) expect(cases[c].deny!.includes(Number(id))).toBe(false);
        }
      }
    });
  }
});
