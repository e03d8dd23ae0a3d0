// The benchmarks' model: a CLIP ViT-B/32-architecture bundle with random weights (the real model's
// shapes and FLOPs; no pretrained weights can be downloaded here), generated once into
// bench/.models/clip-vit-b-32-random by tools/dev/generate_tiny_clip.py (Debian's python3-torch
// and python3-onnx, installed by `tools/bootstrap.sh --python`).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const vitB32Dir = path.join(root, 'bench/.models/clip-vit-b-32-random');

/** Generates the ViT-B/32 bundle when `dir` is the default and it is missing; returns `dir`. */
export function ensureBundle(dir = vitB32Dir, log = (...a) => console.error('[bench]', ...a)) {
  const complete = ['onnx/vision_model.onnx', 'onnx/text_model.onnx'].every((f) => fs.existsSync(path.join(dir, f)));
  if (complete) return dir;
  if (path.resolve(dir) !== vitB32Dir) throw new Error(`no bundle at ${dir}`);
  log('generating the ViT-B/32-architecture bundle with random weights (~600 MB, a few minutes) …');
  execFileSync(
    '/usr/bin/python3',
    [path.join(root, 'tools/dev/generate_tiny_clip.py'), '--preset', 'vit-b-32', '--no-check'],
    {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  return dir;
}
