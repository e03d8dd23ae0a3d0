// Preprocessing fidelity of every side against Pillow (issue #15): transformers' CLIPImageProcessor
// path in Python (EXIF transpose, RGB, shortest edge to 224 with bicubic, centre crop 224, rescale
// 1/255, normalise with the bundle's mean/std) is the reference the models were trained with.
//
// The reference images come from tools/dev/pillow_preprocess.py (the script the fidelity tests and
// bench:preprocess use), which stores the resized and cropped uint8 image as a PNG; the float
// tensor follows from it by the fixed arithmetic float32(float32(v × rescale) − mean) / std. Each
// side's tensor for the same photo is compared with it element by element, and its embedding with
// the embedding of Pillow's tensor. All embeddings come from one vision tower (crossmodal's, fed
// raw tensors through embedImages([{ tensor }])), so the cosine measures preprocessing alone.
//
// Runs after the timed phases, in the sides' own processes (Transformers.js and crossmodal each load
// their own libonnxruntime, which cannot share one process): each other side writes its tensors to
// a file, the crossmodal process reads them and compares.
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

const CHUNK = 25; // photos per round trip: bounds the tensors in memory (25 × 600 KB per side)

/** Coordinator: Pillow references for `files` (cached PNGs); returns their directory or throws. */
function pillowReferences({ root, modelDir, files, cacheRoot }) {
  const configPath = path.join(modelDir, 'preprocessor_config.json');
  const key = crypto.createHash('sha1').update(fs.readFileSync(configPath)).digest('hex').slice(0, 10);
  const dir = path.join(cacheRoot, 'pillow', `encode-${key}`);
  const missing = files.filter((f) => !fs.existsSync(path.join(dir, `${path.basename(f)}.png`)));
  for (let i = 0; i < missing.length; i += 100) {
    execFileSync(
      '/usr/bin/python3',
      [path.join(root, 'tools/dev/pillow_preprocess.py'), configPath, dir, ...missing.slice(i, i + 100)],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
  }
  return dir;
}

/**
 * Coordinator: runs the comparison through the workers. `workers.crossmodal` compares; every other
 * side in `others` writes its tensors. Returns `{ skipped }` or `{ count, sides: { side: summary } }`.
 */
export async function runFidelity({ root, modelDir, imagesDir, count, cacheRoot, workers, others, log }) {
  if (!fs.existsSync(imagesDir)) return { skipped: `no photos at ${imagesDir}` };
  const files = fs
    .readdirSync(imagesDir)
    .filter((f) => /\.jpe?g$/i.test(f))
    .sort()
    .slice(0, count)
    .map((f) => path.join(imagesDir, f));
  if (files.length === 0) return { skipped: `no JPEGs in ${imagesDir}` };
  let refsDir;
  try {
    refsDir = pillowReferences({ root, modelDir, files, cacheRoot });
  } catch (e) {
    const why = String(e.stderr || e.message)
      .trim()
      .split('\n')
      .pop();
    return { skipped: `Pillow reference unavailable (${why}); bash tools/bootstrap.sh --python installs python3-pil` };
  }
  log(`fidelity: ${files.length} photos against Pillow (${path.relative(root, refsDir)})`);
  const scratch = path.join(cacheRoot, 'fidelity');
  fs.mkdirSync(scratch, { recursive: true });
  const rows = []; // per photo: { file, sides: { side: { maxAbs, meanAbs, cosine } } }
  for (let i = 0; i < files.length; i += CHUNK) {
    const chunk = files.slice(i, i + CHUNK);
    const tensors = {};
    for (const s of others) {
      tensors[s] = path.join(scratch, `${s}-${process.pid}.f32`);
      await workers[s].call('pixels', { files: chunk, out: tensors[s] });
    }
    rows.push(...(await workers.crossmodal.call('fidelity', { files: chunk, refsDir, modelDir, tensors })));
    for (const f of Object.values(tensors)) fs.rmSync(f, { force: true });
  }
  const sides = {};
  for (const s of ['crossmodal', ...others]) {
    const r = rows.map((row) => ({ file: path.basename(row.file), ...row.sides[s] }));
    const worst = r.reduce((a, b) => (b.maxAbs > a.maxAbs ? b : a));
    sides[s] = {
      maxAbs: worst.maxAbs,
      worstPhoto: worst.file,
      meanAbs: r.reduce((a, b) => a + b.meanAbs, 0) / r.length,
      worstMeanAbs: Math.max(...r.map((x) => x.meanAbs)),
      minCosine: Math.min(...r.map((x) => x.cosine)),
      meanCosine: r.reduce((a, b) => a + b.cosine, 0) / r.length,
    };
  }
  return { count: files.length, sides, perPhoto: rows };
}

/** Worker side: a side's preprocessed tensors for `files`, written as raw float32 to `out`. */
export async function writePixels(impl, { files, out }) {
  const data = await impl.preprocess(files);
  fs.writeFileSync(out, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return { values: data.length };
}

/** Pillow's float tensor (planar RGB) from its uint8 PNG, with the bundle's rescale/mean/std. */
async function pillowTensor(sharp, png, pre) {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  const plane = info.width * info.height;
  const t = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const mean = Math.fround(pre.image_mean[c]);
    const std = Math.fround(pre.image_std[c]);
    const lut = Float32Array.from({ length: 256 }, (_, v) =>
      Math.fround(Math.fround(Math.fround(v * pre.rescale_factor) - mean) / std),
    );
    for (let i = 0; i < plane; i++) t[c * plane + i] = lut[data[info.channels * i + c]];
  }
  return t;
}

/**
 * Crossmodal worker: compares its own tensors and the other sides' (files from writePixels) with
 * Pillow's, and embeds all of them with `impl.embedTensors`. Returns one row per photo.
 */
export async function compareWithPillow(impl, { files, refsDir, modelDir, tensors }) {
  const { default: sharp } = await import('sharp');
  const pre = JSON.parse(fs.readFileSync(path.join(modelDir, 'preprocessor_config.json'), 'utf8'));
  const refs = await Promise.all(
    files.map((f) => pillowTensor(sharp, path.join(refsDir, `${path.basename(f)}.png`), pre)),
  );
  const per = refs[0].length;
  const sideData = { crossmodal: await impl.preprocess(files) };
  for (const [s, file] of Object.entries(tensors)) {
    const buf = fs.readFileSync(file);
    sideData[s] = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  }
  const rows = files.map((file) => ({ file, sides: {} }));
  const refEmbeds = await impl.embedTensors(refs);
  for (const [s, data] of Object.entries(sideData)) {
    if (data.length !== per * files.length)
      throw new Error(`fidelity: ${s} gave ${data.length} values for ${files.length} photos (expected ${per} each)`);
    const own = files.map((_, i) => data.subarray(i * per, (i + 1) * per));
    const embeds = await impl.embedTensors(own);
    const dim = embeds.length / files.length;
    own.forEach((t, i) => {
      let max = 0;
      let sum = 0;
      for (let j = 0; j < per; j++) {
        const d = Math.abs(t[j] - refs[i][j]);
        if (d > max) max = d;
        sum += d;
      }
      let dot = 0;
      for (let j = i * dim; j < (i + 1) * dim; j++) dot += embeds[j] * refEmbeds[j]; // both L2-normalised
      rows[i].sides[s] = { maxAbs: max, meanAbs: sum / per, cosine: dot };
    });
  }
  return rows;
}
