// The addon is usable from worker_threads, and a Worker's environment tears down cleanly.
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
