// ONNX external data and the bundle directory (issue #16, "Paths"): an ONNX file names its
// external weight files by path, so a crafted bundle could point one at a file outside itself
// (`../../secret`, `/etc/…`) and have its bytes read as weights. ONNX Runtime 1.30 refuses
// external data that resolves outside the model's directory, and crossmodal always creates
// sessions from the model's path (never from bytes, where that check has no directory to hold
// the path to), so such a bundle fails to load with ERR_MODEL_LOAD; external data beside the
// model loads as before. The models are made here with python3-onnx
// (test/helpers/external_data_model.py).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { load } from '../lib/index';
import { fp32BundleCopy, hasPythonOnnx, maxAbsDiff, rejection, repoRoot, tinyBundle } from './helpers/index';

const havePythonOnnx = hasPythonOnnx();
if (!havePythonOnnx) console.warn('bundle-external-data: skipped (needs /usr/bin/python3 with the onnx module)');

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'crossmodal-extdata-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** A copy of the tiny bundle whose vision tower keeps its largest weight at `location`. */
function bundleWithExternalWeight(name: string, location: string, dataFile: string): string {
  const dir = fp32BundleCopy(path.join(scratch, name, 'bundle'));
  const model = path.join(dir, 'onnx', 'vision_model.onnx');
  execFileSync('/usr/bin/python3', [
    path.join(__dirname, 'helpers', 'external_data_model.py'),
    model,
    model,
    location,
    dataFile,
  ]);
  return dir;
}

describe.skipIf(!havePythonOnnx)('ONNX external data stays inside the bundle', () => {
  it('loads external weights beside the model, with the same embeddings', async () => {
    const dir = bundleWithExternalWeight(
      'inside',
      'weights.bin',
      path.join(scratch, 'inside', 'bundle', 'onnx', 'weights.bin'),
    );
    const image = path.join(repoRoot, 'test/fixtures/images/jpeg_baseline_640x427.jpg');
    const external = await load(dir, { device: 'cpu', intraOpThreads: 1 });
    const plain = await load(tinyBundle, { device: 'cpu', intraOpThreads: 1 });
    const [a, b] = [await external.embedImages([image]), await plain.embedImages([image])];
    expect(maxAbsDiff(a.row(0), b.row(0))).toBeLessThan(1e-6);
    external.dispose();
    plain.dispose();
  });

  it('refuses weights outside the bundle, by a relative or an absolute path', async () => {
    const outside = path.join(scratch, 'secret.bin');
    for (const [name, location] of [
      ['relative', '../../../secret.bin'],
      ['absolute', outside],
    ] as const) {
      const dir = bundleWithExternalWeight(name, location, outside);
      const error = await rejection(load(dir, { device: 'cpu', intraOpThreads: 1 }));
      expect(error.code, `${name}: ${error.message}`).toBe('ERR_MODEL_LOAD');
      expect(error.message, name).toMatch(/external data/i);
    }
  });
});
