// The addon is usable from worker_threads, and a Worker's environment tears down cleanly.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { repoRoot, tinyBundle } from './helpers';

const distCjs = path.join(repoRoot, 'dist', 'cjs', 'index.js');

function runWorker(source: string): Promise<{ result: unknown; exitCode: number }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(source, { eval: true, workerData: { distCjs, tinyBundle } });
    let result: unknown;
    worker.on('message', (m) => (result = m));
    worker.on('error', reject);
    worker.on('exit', (exitCode) => resolve({ result, exitCode }));
  });
}

describe('worker_threads', () => {
  it('embeds and searches inside several workers at once, then exits cleanly', async () => {
    const source = `
      const { parentPort, workerData } = require('node:worker_threads');
      const m = require(workerData.distCjs);
      (async () => {
        const model = await m.load(workerData.tinyBundle, { device: 'cpu' });
        const e = await model.embedTexts(['a worker thread', 'another text']);
        const index = m.createIndex({ dim: e.dim });
        await index.add(e);
        const r = await index.search(e, 1);
        parentPort.postMessage({ dim: e.dim, top: r.get(1)[0].id.toString() });
        // Leave the model and index for the environment cleanup to release.
      })();`;
    const runs = await Promise.all([runWorker(source), runWorker(source), runWorker(source)]);
    for (const run of runs) {
      expect(run.exitCode).toBe(0);
      expect(run.result).toMatchObject({ top: '1' });
    }
  });

  it('survives terminate() while a call is in flight', async () => {
    const worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       const m = require(workerData.distCjs);
       m.load(workerData.tinyBundle, { device: 'cpu' }).then((model) => {
         parentPort.postMessage('loaded');
         for (let i = 0; i < 20; i++) model.embedTexts(Array(64).fill('busy text ' + i));
       });`,
      { eval: true, workerData: { distCjs, tinyBundle } },
    );
    await new Promise<void>((resolve) => worker.once('message', () => resolve()));
    const code = await worker.terminate();
    expect(code).toBe(1);
  });

  it('survives terminate() with searches in flight, while other workers keep searching', async () => {
    // Searches run on one process-wide pool and settle through each environment's own channel:
    // a terminated environment must drop its completions without disturbing the others'.
    const busy = `
      const { parentPort } = require('node:worker_threads');
      const m = require(${JSON.stringify(distCjs)});
      const dim = 64, n = 20000;
      const v = new Float32Array(n * dim).map((_, i) => Math.sin(i * 0.37));
      const index = m.createIndex({ dim, metric: 'ip' });
      index.add(v).then(() => {
        parentPort.postMessage('ready');
        const loop = () => { for (let i = 0; i < 32; i++) index.search(v.subarray(0, 8 * dim), 10).then(loop, loop); };
        loop();
      });`;
    const steady = `
      const { parentPort } = require('node:worker_threads');
      const m = require(${JSON.stringify(distCjs)});
      (async () => {
        const dim = 64, n = 5000;
        const v = new Float32Array(n * dim).map((_, i) => Math.cos(i * 0.11));
        const index = m.createIndex({ dim, metric: 'l2' });
        await index.add(v);
        let agree = 0;
        for (let i = 0; i < 400; i++) {
          const r = await index.search(v.subarray(i * dim, (i + 1) * dim), 3);
          if (r.ids[0] === BigInt(i)) agree++;
        }
        parentPort.postMessage({ agree });
      })();`;
    const doomed = [0, 1, 2].map(() => new Worker(busy, { eval: true }));
    await Promise.all(doomed.map((w) => new Promise<void>((resolve) => w.once('message', () => resolve()))));
    const survivor = runWorker(steady);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const codes = await Promise.all(doomed.map((w) => w.terminate()));
    expect(codes).toEqual([1, 1, 1]);
    const run = await survivor;
    expect(run.exitCode).toBe(0);
    expect(run.result).toEqual({ agree: 400 });
  });

  it('keeps the process alive until a pending search settles, then lets it exit', () => {
    const script = `
      const m = require(${JSON.stringify(distCjs)});
      const dim = 32;
      const index = m.createIndex({ dim, metric: 'l2' });
      const v = new Float32Array(1000 * dim).map((_, i) => Math.sin(i * 0.7));
      index.add(v).then(() => index.search(v.subarray(dim, 2 * dim), 2)).then((r) => console.log('settled', String(r.ids[0])));`;
    const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(out.trim()).toBe('settled 1');
  });

  it('tokenizes with loadTokenizer inside workers (native threads too) and exits cleanly', async () => {
    const source = `
      const { parentPort, workerData } = require('node:worker_threads');
      const m = require(workerData.distCjs);
      (async () => {
        const tok = await m.loadTokenizer(workerData.tinyBundle, { threads: 2 });
        const t = await tok.tokenize(Array(500).fill('a dog in a worker'));
        parentPort.postMessage({ length: t.lengths[499], text: tok.decode(m.rowIds(t, 499)) });
        // Leave the tokenizer for the environment cleanup to release.
      })();`;
    const runs = await Promise.all([runWorker(source), runWorker(source)]);
    for (const run of runs) {
      expect(run.exitCode).toBe(0);
      expect(run.result).toEqual({ length: 7, text: 'a dog in a worker ' });
    }
  });
});
