// Collection crash safety: a child ingests (and removes) in batches and is SIGKILLed at seeded
// random moments, many times; after every kill the reopened collection must be consistent.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCollection } from '../lib/index';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { fakeModel, vectorFor } = require('./helpers/fake-model.cjs') as {
  fakeModel: () => {
    fingerprint: string;
    dim: number;
    embedTexts(t: string[]): Promise<{ data: Float32Array; dim: number }>;
    embedImages(i: unknown[]): Promise<{ data: Float32Array; dim: number }>;
  };
  vectorFor: (key: string, dim: number) => Float32Array;
};

const distEntry = path.resolve(__dirname, '..', 'dist', 'cjs', 'index.js');
const child = path.join(__dirname, 'helpers', 'ingest-child.cjs');
let haveSqlite = true;
try {
  require.resolve('better-sqlite3');
} catch {
  haveSqlite = false;
}
const runnable = fs.existsSync(distEntry) && haveSqlite;
if (!runnable)
  console.warn('collection-crash: skipped (needs `npm run build:ts` for the child process and better-sqlite3)');

function mulberry32(seed: number): () => number {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function runAndKill(dir: string, iteration: number, delayMs: number, type: string): Promise<void> {
  const proc = spawn(process.execPath, [child, dir, String(iteration), type], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr += d));
  await new Promise<void>((resolve, reject) => {
    proc.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) setTimeout(() => proc.kill('SIGKILL'), delayMs);
    });
    proc.on('exit', (code, signal) =>
      signal === 'SIGKILL' || code === 0 ? resolve() : reject(new Error(`child failed (${code}): ${stderr}`)),
    );
  });
}

async function verify(dir: string, type: string): Promise<{ count: number; pending: number }> {
  const collection = await openCollection(dir, { model: fakeModel(), index: { type: type as 'flat' } });
  try {
    expect(fs.readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    const stats = await collection.stats();
    const ids = await collection.find({});
    expect(stats.count).toBe(ids.length);
    // The index and the table agree: same size, and every item's vector finds the item itself.
    expect(stats.index.size).toBe(stats.count);
    const perBatch = new Map<string, number>();
    for (const id of ids) {
      const item = (await collection.get(id))!;
      const batch = item.metadata.batch as string;
      perBatch.set(batch, (perBatch.get(batch) ?? 0) + 1);
      const hits = await collection.searchVector(vectorFor(`text:${item.source}`, 16), { k: 1 });
      expect(hits[0]?.id).toBe(id);
    }
    // Half-done batches are impossible: 8 items, or 7 after the one removal a batch can get.
    for (const [batch, count] of perBatch) expect([7, 8], `batch ${batch}`).toContain(count);
    return { count: stats.count, pending: stats.pendingChanges };
  } finally {
    await collection.close();
  }
}

describe.skipIf(!runnable).each(['flat', 'hnsw'])('collection crash safety (%s index)', (type) => {
  it('reopens consistent after SIGKILL at random points, many times', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `crossmodal-crash-${type}-`));
    const random = mulberry32(type === 'flat' ? 42 : 7);
    let last = 0;
    let replayed = 0;
    const kills = type === 'flat' ? 14 : 6;
    const counts: number[] = [];
    for (let i = 0; i < kills; i++) {
      await runAndKill(dir, i, Math.floor(random() * 400), type);
      const { count, pending } = await verify(dir, type);
      expect(count).toBeGreaterThanOrEqual(last);
      if (pending > 0) replayed++;
      counts.push(count);
      last = count;
    }
    console.log(
      `crash test (${type}): items after each kill ${counts.join(', ')}; ${replayed} reopen(s) replayed the journal`,
    );
    expect(last).toBeGreaterThan(0);
    // Kills landed between snapshots, so opening had to replay journal entries.
    expect(replayed).toBeGreaterThan(0);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 600_000);
});
