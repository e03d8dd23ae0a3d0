// Large index arrays (flat codes, HNSW storage and graph) are backed by transparent huge pages
// after add and load (native/search/huge_pages.cc), so random vector reads stop missing the TLB.
// Each case runs in a child process that reports how much its AnonHugePages grew (from
// /proc/self/smaps_rollup) while the index was built or loaded. CROSSMODAL_HUGE_PAGES=0 turns the
// feature off, which in THP "madvise" mode (Debian's default) must leave the index on 4 KiB pages.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { scratchDirs } from './helpers';

const distEntry = path.resolve(__dirname, '..', 'dist', 'cjs', 'index.js');
const haveDist = fs.existsSync(distEntry);

function thpMode(): string | undefined {
  try {
    return /\[(\w+)\]/.exec(fs.readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}
// MADV_COLLAPSE, which turns already-written memory into huge pages, arrived in Linux 6.1.
const [major = 0, minor = 0] = os
  .release()
  .split('.')
  .map((p) => Number.parseInt(p, 10));
const kernelHasCollapse = major > 6 || (major === 6 && minor >= 1);
const mode = process.platform === 'linux' ? thpMode() : undefined;
const why = !haveDist
  ? 'needs `npm run build:ts`'
  : mode === undefined || mode === 'never'
    ? 'transparent huge pages are not available'
    : !kernelHasCollapse
      ? `kernel ${os.release()} has no MADV_COLLAPSE`
      : '';
if (why) console.warn(`index-huge-pages: skipped (${why})`);
const freshDir = scratchDirs('crossmodal-huge-pages-');

const childScript = `
const cm = require(${JSON.stringify(distEntry)});
const fs = require('fs');
const anonHugeMb = () =>
  Number(/AnonHugePages:\\s+(\\d+) kB/.exec(fs.readFileSync('/proc/self/smaps_rollup', 'utf8'))[1]) / 1024;
const [step, type, file] = process.argv.slice(1);
const dim = 1024, count = 10000;  // 40 MB of vectors: twenty 2 MiB pages
const vectors = new Float32Array(count * dim);
let s = 12345;
for (let i = 0; i < vectors.length; i++) { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; vectors[i] = s / 4294967296 - 0.5; }
(async () => {
  const before = anonHugeMb();
  let index;
  if (step === 'add') {
    index = cm.createIndex({ dim, metric: 'l2', type, ...(type === 'hnsw' ? { M: 4, efConstruction: 8 } : {}) });
    await index.add(vectors.subarray(0, (count / 2) * dim));  // two adds: the second re-allocates
    await index.add(vectors.subarray((count / 2) * dim));
    await index.save(file);
  } else {
    index = await cm.loadIndex(file);
  }
  const grownMb = anonHugeMb() - before;
  const result = await index.search(vectors.subarray(0, 3 * dim), 5);
  index.dispose();
  process.stdout.write(JSON.stringify({ grownMb, ids: Array.from(result.ids, String) }));
})().catch((e) => { console.error(e); process.exit(1); });
`;

function runChild(
  step: 'add' | 'load',
  type: 'flat' | 'hnsw',
  file: string,
  enabled: boolean,
): { grownMb: number; ids: string[] } {
  const env = { ...process.env };
  delete env.GLIBC_TUNABLES; // glibc's own hugetlb tunable would mask the difference
  if (enabled) delete env.CROSSMODAL_HUGE_PAGES;
  else env.CROSSMODAL_HUGE_PAGES = '0';
  return JSON.parse(execFileSync(process.execPath, ['-e', childScript, step, type, file], { env, encoding: 'utf8' }));
}

describe.skipIf(why !== '')('huge pages for index arrays', () => {
  for (const type of ['flat', 'hnsw'] as const) {
    it(`backs a ${type} index's vectors with huge pages after add and after load`, () => {
      const dir = freshDir();
      fs.mkdirSync(dir, { recursive: true });
      const file = path.join(dir, `${type}.idx`);
      const added = runChild('add', type, file, true);
      const loaded = runChild('load', type, file, true);
      // 40 MB of codes; the 2 MiB-aligned interior is at least 36 MB. Half of that leaves room for
      // a kernel that cannot find free huge pages for every range.
      expect(added.grownMb).toBeGreaterThanOrEqual(18);
      expect(loaded.grownMb).toBeGreaterThanOrEqual(18);

      // The same file loaded with the feature off: on 4 KiB pages in "madvise" mode ("always"
      // backs everything), and with the same results, as page size never changes them. (Only a
      // loaded file is comparable: HNSW builds on several threads differ from run to run.)
      const plainLoaded = runChild('load', type, file, false);
      const plainAdded = runChild('add', type, path.join(dir, `${type}-plain.idx`), false);
      if (mode === 'madvise') {
        expect(plainAdded.grownMb).toBeLessThan(8);
        expect(plainLoaded.grownMb).toBeLessThan(8);
      }
      expect(loaded.ids).toEqual(added.ids);
      expect(plainLoaded.ids).toEqual(loaded.ids);
      // An exact index finds each query vector itself first (1024-d uniform data is too hard for
      // this small graph to promise the same).
      if (type === 'flat') expect(loaded.ids[0]).toBe('0');
    }, 120_000);
  }
});
