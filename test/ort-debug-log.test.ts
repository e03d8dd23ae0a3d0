// ONNX Runtime 1.30's bundled telemetry SDK used to leave an empty /tmp/mat-debug-<pid>.log behind
// for every process that loaded a model. The addon sets ORT_DISABLE_TELEMETRY=1 before ONNX
// Runtime's environment is created (native/runtime/ort_library.h), unless the application chose a
// value itself. Checked in child processes with their own TMPDIR, where the SDK writes the file.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, scratchDirs, tinyBundle } from './helpers';

const scratch = scratchDirs('crossmodal-ort-log-');

function runModelChild(env: Record<string, string>): { pid: number; env: string; files: string[] } {
  const tmp = scratch();
  fs.mkdirSync(tmp);
  const script = `
    const { load } = require(${JSON.stringify(path.join(repoRoot, 'dist', 'cjs', 'index.js'))});
    (async () => {
      const model = await load(${JSON.stringify(tinyBundle)}, { device: 'cpu' });
      await model.embedTexts(['a photo of a cat']);
      model.dispose();
      process.stdout.write(String(process.pid) + ' ' + process.env.ORT_DISABLE_TELEMETRY);
    })().catch((e) => { console.error(e); process.exit(1); });`;
  const child = spawnSync(process.execPath, ['-e', script], {
    env: { ...process.env, TMPDIR: `${tmp}/`, ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(child.status, child.stderr).toBe(0);
  const [pid, value] = child.stdout.split(' ');
  return { pid: Number(pid), env: value as string, files: fs.readdirSync(tmp) };
}

describe('no mat-debug-<pid>.log', () => {
  it('a process that loads a model leaves no debug log in its temp directory', () => {
    const { pid, files } = runModelChild({});
    expect(pid).toBeGreaterThan(0);
    expect(files.filter((f) => f.startsWith('mat-debug-'))).toEqual([]);
  });

  it('an explicit ORT_DISABLE_TELEMETRY=0 is respected: the addon sets the variable only when unset', () => {
    // Whether ONNX Runtime then writes the file depends on its telemetry SDK's state, not on us;
    // what the addon guarantees is that it does not override the application's choice.
    expect(runModelChild({ ORT_DISABLE_TELEMETRY: '0' }).env).toBe('0');
    expect(runModelChild({}).env).toBe('1');
  });
});
