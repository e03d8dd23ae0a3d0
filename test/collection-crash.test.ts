// Collection crash safety: a child ingests (and removes) in batches and is SIGKILLed at seeded
// random moments, many times; after every kill the reopened collection must be consistent. A
// second child snapshots (compact, checkpoint, close) in a loop and is killed inside those calls.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCollection } from '../lib/index';
import { mulberry32 } from './helpers';

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
const checkpointChild = path.join(__dirname, 'helpers', 'checkpoint-child.cjs');
let haveSqlite = true;
try {
  require.resolve('better-sqlite3');
} catch {
  haveSqlite = false;
}
const runnable = fs.existsSync(distEntry) && haveSqlite;
if (!runnable)
  console.warn('collection-crash: skipped (needs `npm run build:ts` for the child process and better-sqlite3)');

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

/**
 * Reopens the collection and checks it: table and index agree, and nothing committed is lost.
 * Incremental, so that 50 kills stay cheap: `known` holds the ids seen at earlier checks (all must
 * still be there); the items new since then are read one by one, grouped by batch (no half-done
 * batch: `batchSizes` lists the counts a batch may have) and each must find itself by its vector;
 * a sample of the known ones is searched too.
 */
async function verify(
  dir: string,
  type: string,
  known: Set<bigint>,
  batchSizes: number[],
): Promise<{ count: number; pending: number }> {
  const collection = await openCollection(dir, { model: fakeModel(), index: { type: type as 'flat' } });
  try {
    expect(fs.readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    const stats = await collection.stats();
    const ids = await collection.find({});
    expect(stats.count).toBe(ids.length);
    // The index and the table agree: same size, and every item's vector finds the item itself.
    expect(stats.index.size).toBe(stats.count);
    const current = new Set(ids);
    for (const id of known) expect(current.has(id), `item ${id} lost`).toBe(true);
    const perBatch = new Map<string, number>();
    const fresh = ids.filter((id) => !known.has(id));
    const sample = [...known].filter((_, i) => i % Math.max(1, Math.floor(known.size / 16)) === 0);
    for (const id of [...fresh, ...sample]) {
      const item = (await collection.get(id))!;
      if (!known.has(id)) {
        const batch = item.metadata.batch as string;
        perBatch.set(batch, (perBatch.get(batch) ?? 0) + 1);
      }
      const hits = await collection.searchVector(vectorFor(`text:${item.source}`, 16), { k: 1 });
      expect(hits[0]?.id).toBe(id);
    }
    for (const [batch, count] of perBatch) expect(batchSizes, `batch ${batch}`).toContain(count);
    for (const id of fresh) known.add(id);
    return { count: stats.count, pending: stats.pendingChanges };
  } finally {
    await collection.close();
  }
}

/** Seeded kills during ingest: 40 with a flat index, 12 with HNSW (52 in all). */
describe.skipIf(!runnable).each(['flat', 'hnsw'])('collection crash safety (%s index)', (type) => {
  it('reopens consistent after SIGKILL at random points during ingest, many times', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `crossmodal-crash-${type}-`));
    const random = mulberry32(type === 'flat' ? 42 : 7);
    let last = 0;
    let replayed = 0;
    const kills = type === 'flat' ? 40 : 12;
    const counts: number[] = [];
    const known = new Set<bigint>();
    const started = performance.now();
    for (let i = 0; i < kills; i++) {
      // Short runs (≤ 250 ms of ingest) keep the collection, and so each check, small.
      await runAndKill(dir, i, Math.floor(random() * 250), type);
      // Half-done batches are impossible: 8 items, or 7 after the one removal a batch can get.
      const { count, pending } = await verify(dir, type, known, [7, 8]);
      expect(count).toBeGreaterThanOrEqual(last);
      if (pending > 0) replayed++;
      counts.push(count);
      last = count;
    }
    console.log(
      `crash test (${type}): ${kills} kills in ${((performance.now() - started) / 1000).toFixed(1)} s; ` +
        `items after each kill ${counts.join(', ')}; ${replayed} reopen(s) replayed the journal`,
    );
    expect(last).toBeGreaterThan(0);
    // Kills landed between snapshots, so opening had to replay journal entries.
    expect(replayed).toBeGreaterThan(0);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 600_000);
});

/**
 * Seeded kills during snapshots: a child adds a batch, then runs compact(), checkpoint() or
 * close() + reopen (index snapshot: temp file, fsync, rename; journal trim; SQLite WAL checkpoint
 * on close), and is killed at a random moment inside that call, 50 times. The collection starts
 * with 8,000 items so that a snapshot takes long enough to be hit.
 */
describe.skipIf(!runnable)('collection crash safety during checkpoint and compaction', () => {
  it('reopens consistent after SIGKILL inside compact, checkpoint and close, 50 times', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crossmodal-crash-ckpt-'));
    const base = 8000;
    const seed = await openCollection(dir, { model: fakeModel(), checkpointEvery: 1000 });
    await seed.addTexts(
      Array.from({ length: base }, (_, i) => `base-${i}`),
      { batch: 'base' },
      { batchSize: 2000 },
    );
    const known = new Set<bigint>(await seed.find({}));
    expect(known.size).toBe(base);
    await seed.close();
    const random = mulberry32(2025);
    const durations: Record<string, number> = {};
    const killedIn: Record<string, number> = { compact: 0, checkpoint: 0, close: 0, between: 0 };
    const kills = 50;
    const started = performance.now();
    let last = base;
    for (let i = 0; i < kills; i++) {
      const proc = spawn(process.execPath, [checkpointChild, dir, String(i)], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      let buffered = '';
      let inFlight = '';
      let armed = false;
      let skip = Math.floor(random() * 3);
      proc.stderr.on('data', (d) => (stderr += d));
      proc.stdout.on('data', (d: Buffer) => {
        buffered += d.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) {
          const [word, op, ms] = line.split(' ');
          if (word === 'op') {
            inFlight = op!;
            const known = durations[op!];
            if (!armed && known !== undefined && skip-- <= 0) {
              armed = true;
              setTimeout(() => proc.kill('SIGKILL'), random() * 1.2 * known);
            }
          } else if (word === 'done') {
            inFlight = '';
            durations[op!] = Number(ms);
          }
        }
      });
      // Until each operation's duration is known (the first runs), kill after a fixed time.
      const fallback = setTimeout(() => proc.kill('SIGKILL'), 3000);
      await new Promise<void>((resolve, reject) =>
        proc.on('exit', (code, signal) =>
          signal === 'SIGKILL' ? resolve() : reject(new Error(`child failed (${code}): ${stderr}`)),
        ),
      );
      clearTimeout(fallback);
      killedIn[inFlight || 'between']!++;
      const { count } = await verify(dir, 'flat', known, [8]);
      expect(count).toBeGreaterThanOrEqual(last);
      last = count;
    }
    const ms = Object.entries(durations)
      .map(([op, d]) => `${op} ${d.toFixed(0)} ms`)
      .join(', ');
    console.log(
      `crash test (checkpoint): ${kills} kills in ${((performance.now() - started) / 1000).toFixed(1)} s; killed inside ` +
        `compact ${killedIn.compact}, checkpoint ${killedIn.checkpoint}, close/reopen ${killedIn.close}, ` +
        `between ${killedIn.between}; last durations ${ms}; ${last - base} items added by the children`,
    );
    // Most kills must land inside a snapshot, or the test proves little.
    expect(killedIn.compact! + killedIn.checkpoint! + killedIn.close!).toBeGreaterThanOrEqual(kills / 2);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 600_000);
});
