// Shared test helpers: fixture locations and numeric comparisons. The other helpers of the suites
// live beside this file: png.ts (PNG reading), vectors.ts (random vectors, exact top-k), and the
// CommonJS scripts child processes run (fake-model.cjs, ingest-child.cjs, hold-child.cjs).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, expect } from 'vitest';
import { CrossmodalError } from '../../lib/index';

export const repoRoot = path.resolve(__dirname, '..', '..');
export const tinyBundle = path.join(repoRoot, 'test', 'fixtures', 'tiny-clip');
export const tinyReferenceDir = path.join(repoRoot, 'test', 'fixtures', 'tiny-clip-reference');
export const flickrDir = path.resolve(repoRoot, '..', 'shared', 'data', 'flickr8k-1k');

/** A temporary folder removed after the test file; returns a function giving fresh paths in it. */
export function scratchDirs(prefix: string): () => string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
  let counter = 0;
  return () => path.join(root, `c${counter++}`);
}

export interface TinyReference {
  logit_scale: number;
  captions: string[];
  input_ids: number[][];
  lengths: number[];
  text_embeds: number[][];
  text_embeds_normalized: number[][];
  images: { file: string; width: number; height: number; mode: string }[];
  image_embeds: number[][];
  image_embeds_normalized: number[][];
}

export function readTinyReference(): TinyReference {
  return JSON.parse(fs.readFileSync(path.join(tinyReferenceDir, 'reference.json'), 'utf8')) as TinyReference;
}

export function referenceImagePaths(reference: TinyReference): string[] {
  return reference.images.map((image) => path.join(tinyReferenceDir, image.file));
}

/** Largest absolute difference between a row of `actual` and `expected`. */
export function maxAbsDiff(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != ${expected.length}`);
  let max = 0;
  for (let i = 0; i < actual.length; i++)
    max = Math.max(max, Math.abs((actual[i] as number) - (expected[i] as number)));
  return max;
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] as number) * (b[i] as number);
  return sum;
}

/** The CrossmodalError `promise` rejects with (fails the test if it resolves or rejects otherwise). */
export async function rejection(promise: Promise<unknown>): Promise<CrossmodalError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(CrossmodalError);
    return error as CrossmodalError;
  }
  throw new Error('expected a rejection');
}

/** A seeded generator in [0, 1) (mulberry32): kill points and data that reproduce from a seed. */
export function mulberry32(seed: number): () => number {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Whether /usr/bin/python3 has the onnx module (tests that generate ONNX files skip without it). */
export function hasPythonOnnx(): boolean {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import onnx'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Copies the tiny fixture bundle to `dir` with only its fp32 towers (the fp16 and int8 variants
 * removed), for tests that rewrite a tower: `precision: 'auto'` must load the rewritten file.
 */
export function fp32BundleCopy(dir: string): string {
  fs.cpSync(tinyBundle, dir, { recursive: true });
  for (const f of fs.readdirSync(path.join(dir, 'onnx')))
    if (f !== 'text_model.onnx' && f !== 'vision_model.onnx') fs.rmSync(path.join(dir, 'onnx', f));
  return dir;
}
