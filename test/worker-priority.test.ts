// workerNice: the model's compute threads (ONNX Runtime's intra-op threads, the two batchers'
// threads, the preprocessing pool) run at a higher nice value than the caller, so a process whose
// CPUs are saturated by inference still runs its event loop at once. Read from /proc: Linux keeps
// nice values per thread.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { load } from '../lib/index';
import { repoRoot, tinyBundle } from './helpers';

const photo = path.join(repoRoot, 'test/fixtures/images/jpeg_baseline_640x427.jpg');
const linux = process.platform === 'linux' && fs.existsSync('/proc/self/task');
if (!linux) console.warn('worker-priority: per-thread nice values are Linux-only; skipping');

/** tid → nice value of every thread of this process (field 19 of /proc/self/task/<tid>/stat). */
function threadNiceness(): Map<string, number> {
  const result = new Map<string, number>();
  for (const tid of fs.readdirSync('/proc/self/task')) {
    try {
      const fields = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      result.set(tid, Number(fields[16]));
    } catch {
      // the thread exited between readdir and read
    }
  }
  return result;
}

/** Nice values of the threads a load (and one call per tower) started. */
async function newThreadNiceness(options: { workerNice?: number }): Promise<number[]> {
  const before = threadNiceness();
  const model = await load(tinyBundle, {
    device: 'cpu',
    intraOpThreads: 2,
    preprocessThreads: 2,
    warmup: false,
    ...options,
  });
  try {
    await model.embedTexts(['a red circle']);
    await model.embedImages([photo]);
    const after = threadNiceness();
    return [...after].filter(([tid]) => !before.has(tid)).map(([, nice]) => nice);
  } finally {
    model.dispose();
  }
}

describe.skipIf(!linux)('workerNice', () => {
  const callerNice = threadNiceness().get(String(process.pid)) ?? 0;

  it('runs every compute thread of a model at the requested nice value, never the caller', async () => {
    const target = Math.min(19, callerNice + 7);
    const started = await newThreadNiceness({ workerNice: target });
    // Per tower a prepare and an inference thread (4), one preprocessing worker besides the
    // caller of each parallel loop, one ONNX Runtime intra-op thread per session (2).
    expect(started.filter((nice) => nice === target).length).toBeGreaterThanOrEqual(7);
    expect(threadNiceness().get(String(process.pid))).toBe(callerNice);
  });

  it('defaults to nice 10', async () => {
    const started = await newThreadNiceness({});
    expect(started.filter((nice) => nice === Math.max(10, callerNice)).length).toBeGreaterThanOrEqual(7);
  });

  it('workerNice: 0 leaves the threads at the caller’s nice value', async () => {
    const started = await newThreadNiceness({ workerNice: 0 });
    expect(started.length).toBeGreaterThanOrEqual(7);
    expect(started.every((nice) => nice === callerNice)).toBe(true);
  });

  it('rejects values outside 0..19 with ERR_INVALID_ARGUMENT', async () => {
    for (const workerNice of [-1, 20, 2.5, Number.NaN, '5'])
      await expect(load(tinyBundle, { workerNice: workerNice as number, warmup: false })).rejects.toMatchObject({
        code: 'ERR_INVALID_ARGUMENT',
      });
  });
});
