// ONNX Runtime failures: a bundle whose ONNX file cannot become a session, and a text tower that
// fails at run time for some inputs (generated here with python3-onnx: the tiny fixture plus a
// Gather that goes out of bounds when the batch contains the token of "zebra", see
// test/helpers/poison_text_model.py).
//
// What the scheduler guarantees (native/model/tower_scheduler.cc): when an ONNX run fails for a
// batch of several calls, each call's rows run again on their own, so the culprit rejects with
// its own typed ERR_RUNTIME and its batch-mates resolve with their own, correct rows; calls in
// other batches are unaffected.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrossmodalError, load } from '../lib/index';
import { fp32BundleCopy, hasPythonOnnx, maxAbsDiff, rejection, tinyBundle } from './helpers/index';

const POISON_TOKEN = 22548; // "zebra</w>" in the fixture's CLIP vocabulary
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'crossmodal-ort-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

function bundleCopy(name: string): string {
  const dir = path.join(scratch, name);
  fs.cpSync(tinyBundle, dir, { recursive: true });
  return dir;
}

const havePythonOnnx = hasPythonOnnx();
if (!havePythonOnnx) {
  console.warn('model-runtime-failures: run-time failure tests skipped (needs /usr/bin/python3 with the onnx module)');
}

describe('session creation failures', () => {
  it('rejects load with ERR_MODEL_LOAD for a corrupt, a truncated and an empty ONNX file', async () => {
    const variants: [string, (file: string) => void][] = [
      ['garbage', (f) => fs.writeFileSync(f, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131 + 7) & 255)))],
      ['truncated', (f) => fs.writeFileSync(f, fs.readFileSync(f).subarray(0, 5000))],
      ['empty', (f) => fs.writeFileSync(f, Buffer.alloc(0))],
    ];
    for (const [name, damage] of variants) {
      for (const tower of ['text_model.onnx', 'vision_model.onnx']) {
        const dir = bundleCopy(`${name}-${tower}`);
        damage(path.join(dir, 'onnx', tower));
        const error = await rejection(load(dir, { device: 'cpu', intraOpThreads: 1 }));
        expect(error.code, `${name} ${tower}: ${error.message}`).toBe('ERR_MODEL_LOAD');
      }
    }
    // A failed load leaves nothing behind that stops the next one.
    const model = await load(tinyBundle, { device: 'cpu', intraOpThreads: 1 });
    expect((await model.embedTexts(['a photo of a cat'])).count).toBe(1);
    model.dispose();
  });
});

describe.skipIf(!havePythonOnnx)('run-time failures in a batch', () => {
  const good = Array.from(
    { length: 24 },
    (_, i) => `a photo of ${i + 1} ${['cats', 'dogs', 'red cars', 'trees'][i % 4]}`,
  );
  const bad = (i: number): string => `a photo of a zebra number ${i}`;
  const reference = new Map<string, Float32Array>();
  let poisoned = '';

  beforeAll(async () => {
    poisoned = fp32BundleCopy(path.join(scratch, 'poisoned'));
    const file = path.join(poisoned, 'onnx', 'text_model.onnx');
    execFileSync('/usr/bin/python3', [
      path.join(__dirname, 'helpers', 'poison_text_model.py'),
      file,
      file,
      String(POISON_TOKEN),
    ]);
    // Each good text embedded alone by the unmodified fixture.
    const plain = await load(tinyBundle, { device: 'cpu', intraOpThreads: 1 });
    for (const text of good) reference.set(text, (await plain.embedTexts([text])).row(0).slice());
    expect(Array.from((await plain.tokenize([bad(0)])).ids)).toContain(POISON_TOKEN);
    plain.dispose();
  });

  const expectCorrect = (text: string, row: Float32Array): void => {
    expect(maxAbsDiff(row, reference.get(text)!), text).toBeLessThan(1e-5);
  };

  it('a failing call rejects with ERR_RUNTIME and the model stays usable', async () => {
    const model = await load(poisoned, { device: 'cpu', intraOpThreads: 1 });
    try {
      const error = await rejection(model.embedTexts([bad(1)]));
      expect(error.code).toBe('ERR_RUNTIME');
      // One bad text fails its whole call.
      expect((await rejection(model.embedTexts([good[0]!, bad(2), good[1]!]))).code).toBe('ERR_RUNTIME');
      const after = await model.embedTexts(good.slice(0, 4));
      good.slice(0, 4).forEach((t, i) => expectCorrect(t, after.row(i)));
    } finally {
      model.dispose();
    }
  });

  it('batch-mates of a failing call still get their own, correct rows', async () => {
    // One batch of four calls: the batcher holds the first for up to 200 ms to fill the batch.
    const model = await load(poisoned, {
      device: 'cpu',
      intraOpThreads: 1,
      maxTextBatchSize: 4,
      maxQueueDelayMs: 200,
    });
    try {
      const texts = [good[0]!, bad(3), good[1]!, good[2]!];
      const settled = await Promise.allSettled(texts.map((t) => model.embedTexts([t])));
      const outcome = settled.map((s) => (s.status === 'fulfilled' ? 'ok' : (s.reason as CrossmodalError).code));
      console.log(`model-runtime-failures: one batch of [good, bad, good, good] settled as ${outcome.join(', ')}`);
      expect(outcome).toEqual(['ok', 'ERR_RUNTIME', 'ok', 'ok']);
      settled.forEach((s, i) => {
        if (s.status === 'fulfilled') expectCorrect(texts[i]!, s.value.row(0));
        else {
          expect(s.reason).toBeInstanceOf(CrossmodalError);
          expect((s.reason as CrossmodalError).code).toBe('ERR_RUNTIME');
        }
      });
      // Many calls, some bad, batched four at a time: every good call resolves to its own embedding.
      const mixed = good.flatMap((t, i) => (i % 6 === 5 ? [t, bad(i)] : [t]));
      const results = await Promise.allSettled(mixed.map((t) => model.embedTexts([t])));
      let resolved = 0;
      let collateral = 0;
      results.forEach((r, i) => {
        const text = mixed[i]!;
        if (text.includes('zebra')) {
          expect(r.status).toBe('rejected');
          expect((r as PromiseRejectedResult).reason.code).toBe('ERR_RUNTIME');
        } else if (r.status === 'fulfilled') {
          expectCorrect(text, r.value.row(0));
          resolved++;
        } else {
          expect((r.reason as CrossmodalError).code).toBe('ERR_RUNTIME');
          collateral++;
        }
      });
      const bads = mixed.filter((t) => t.includes('zebra')).length;
      console.log(
        `model-runtime-failures: ${mixed.length} concurrent calls, ${bads} bad: ${resolved} good calls resolved correctly, ` +
          `${collateral} good calls failed with their batch`,
      );
      expect(collateral).toBe(0);
      expect(resolved).toBeGreaterThan(0);
      // Still usable, and a full batch of good texts is exact.
      const after = await model.embedTexts(good.slice(0, 8));
      good.slice(0, 8).forEach((t, i) => expectCorrect(t, after.row(i)));
    } finally {
      model.dispose();
    }
  });

  it('calls in other batches are unaffected (batches of one)', async () => {
    const model = await load(poisoned, { device: 'cpu', intraOpThreads: 1, maxTextBatchSize: 1 });
    try {
      const texts = good.slice(0, 12).flatMap((t, i) => (i % 3 === 1 ? [bad(i), t] : [t]));
      const results = await Promise.allSettled(texts.map((t) => model.embedTexts([t])));
      results.forEach((r, i) => {
        const text = texts[i]!;
        if (text.includes('zebra')) {
          expect(r.status).toBe('rejected');
          expect((r as PromiseRejectedResult).reason.code).toBe('ERR_RUNTIME');
        } else {
          expect(r.status, text).toBe('fulfilled');
          expectCorrect(text, (r as PromiseFulfilledResult<{ row(i: number): Float32Array }>).value.row(0));
        }
      });
    } finally {
      model.dispose();
    }
  });
});
