#!/usr/bin/env node
// Cross-check the exported bundle as crossmodal runs it against the torch reference that
// export.py wrote (.work/torch-reference.json): per precision, the worst cosine distance
// between crossmodal's normalised embeddings and torch's, for the same PNG scenes and texts.
//
//   node models/training/check_bundle.mjs [BUNDLE_DIR]    (crossmodal from CROSSMODAL_MODULE or dist/)
//
// fp32 must agree to 1e-4 (same graph, same preprocessing); fp16 and int8 are reported and
// held to looser bounds (weight rounding).
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const require = createRequire(import.meta.url);
const crossmodal = require(process.env.CROSSMODAL_MODULE ?? path.join(repo, 'dist/cjs/index.js'));
const ref = JSON.parse(readFileSync(path.join(here, '.work/torch-reference.json'), 'utf8'));
const bundle = path.resolve(process.argv[2] ?? path.join(repo, 'models/shapes-clip'));
const bounds = { fp32: 1e-4, fp16: 2e-3, int8: 3e-2 };

function worstCosineDistance(emb, rows) {
  let worst = 0;
  for (let i = 0; i < rows.length; i++) {
    let dot = 0;
    for (let d = 0; d < emb.dim; d++) dot += emb.data[i * emb.dim + d] * rows[i][d];
    worst = Math.max(worst, 1 - dot);
  }
  return worst;
}

let failed = 0;
for (const precision of ['fp32', 'fp16', 'int8']) {
  const suffix = { fp32: '', fp16: '_fp16', int8: '_quantized' }[precision];
  if (!existsSync(path.join(bundle, `onnx/vision_model${suffix}.onnx`))) continue; // a variant export.py did not write
  const model = await crossmodal.load(bundle, { precision });
  const images = await model.embedImages(ref.images);
  const texts = await model.embedTexts(ref.texts);
  const di = worstCosineDistance(images, ref.image_embeds);
  const dt = worstCosineDistance(texts, ref.text_embeds);
  const ok = di <= bounds[precision] && dt <= bounds[precision];
  if (!ok) failed++;
  console.log(
    `${ok ? 'ok  ' : 'FAIL'} ${precision}: 1 - cosine(crossmodal, torch) images ${di.toExponential(2)}, texts ${dt.toExponential(2)} (bound ${bounds[precision]}); logit scale ${model.info.logitScale.toFixed(3)} (torch ${ref.logit_scale.toFixed(3)})`,
  );
  model.dispose();
}
process.exit(failed ? 1 : 0);
