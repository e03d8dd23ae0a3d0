// Collection exclusivity: a directory is open in at most one place. A second open in this process
// or in another one fails with ERR_LOCKED; the lock goes away on close(), on a failed open, and
// when the holding process is SIGKILLed.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCollection } from '../lib/index';
import { rejection, scratchDirs } from './helpers';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { fakeModel } = require('./helpers/fake-model.cjs') as {
  fakeModel: (
    dim?: number,
    fingerprint?: string,
  ) => {
    fingerprint: string;
    dim: number;
    embedTexts(t: string[]): Promise<{ data: Float32Array; dim: number }>;
    embedImages(i: unknown[]): Promise<{ data: Float32Array; dim: number }>;
  };
};

let haveSqlite = true;
try {
  require.resolve('better-sqlite3');
} catch {
  haveSqlite = false;
  console.warn('collection-lock: skipped (better-sqlite3 is not installed)');
}
const distEntry = path.resolve(__dirname, '..', 'dist', 'cjs', 'index.js');
const haveDist = fs.existsSync(distEntry);
if (!haveDist) console.warn('collection-lock: child-process case skipped (needs `npm run build:ts`)');

const freshDir = scratchDirs('crossmodal-lock-');

describe.skipIf(!haveSqlite)('collection lock', () => {
  it('refuses a second open in the same process until the first is closed', async () => {
    const dir = freshDir();
    const first = await openCollection(dir, { model: fakeModel() });
    await first.addTexts(['a', 'b']);
    const error = await rejection(openCollection(dir, { model: fakeModel() }));
    expect(error.code).toBe('ERR_LOCKED');
    expect(error.message).toBe(
      `collection ${path.resolve(dir)} is open in another process (pid ${process.pid}) or already open in this one`,
    );
    // The refused open touched nothing: the first handle still works.
    expect((await first.stats()).count).toBe(2);
    await first.close();
    const second = await openCollection(dir, { model: fakeModel() });
    expect((await second.stats()).count).toBe(2);
    await second.close();
  });

  it('releases the lock when opening fails', async () => {
    const dir = freshDir();
    await (await openCollection(dir, { model: fakeModel(16, 'model-a') })).close();
    await expect(openCollection(dir, { model: fakeModel(16, 'model-b') })).rejects.toMatchObject({
      code: 'ERR_MODEL_MISMATCH',
    });
    const c = await openCollection(dir, { model: fakeModel(16, 'model-a') });
    await c.close();
  });

  it('close() is idempotent, also when called concurrently', async () => {
    const dir = freshDir();
    let c = await openCollection(dir, { model: fakeModel() });
    await c.addTexts(['x']);
    await c.close();
    await c.close();
    c = await openCollection(dir, { model: fakeModel() });
    await Promise.all([c.close(), c.close()]);
    await c.close();
    c = await openCollection(dir, { model: fakeModel() });
    expect((await c.stats()).count).toBe(1);
    await c.close();
  });

  it.skipIf(!haveDist)(
    'refuses while another process holds it, and opens once that process is SIGKILLed',
    async () => {
      const dir = freshDir();
      const proc = spawn(process.execPath, [path.join(__dirname, 'helpers', 'hold-child.cjs'), dir], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      proc.stderr.on('data', (d) => (stderr += d));
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        proc.on('exit', (_code, signal) => resolve(signal)),
      );
      try {
        await new Promise<void>((resolve, reject) => {
          proc.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
          proc.on('exit', (code) => reject(new Error(`child exited early (${code}): ${stderr}`)));
        });
        const error = await rejection(openCollection(dir, { model: fakeModel() }));
        expect(error.code).toBe('ERR_LOCKED');
        expect(error.message).toContain(`collection ${path.resolve(dir)} is open in another process (pid ${proc.pid})`);
      } finally {
        proc.kill('SIGKILL');
      }
      expect(await exited).toBe('SIGKILL');
      // No stale lock: the kernel dropped it with the process, and the child's commits are there.
      const c = await openCollection(dir, { model: fakeModel() });
      expect((await c.stats()).count).toBe(3);
      expect((await c.searchText('held 2', { k: 1 }))[0]?.source).toBe('held 2');
      await c.close();
    },
    60_000,
  );
});
