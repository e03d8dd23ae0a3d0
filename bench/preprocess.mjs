#!/usr/bin/env node
// Image preprocessing throughput: crossmodal's native pipeline vs sharp (libvips) resize + JS
// normalisation to the same NCHW float32 tensor, in the same run, interleaved, with the same
// number of threads. Also reports each side's fidelity against Pillow (Hugging Face's reference).
//
//   npm run build && npm run bench:preprocess [-- --threads N --rounds R --large N]
//
// Sets: the 1,000 Flickr8k photos (~500 px; ../shared/data/flickr8k-1k) and 12 MP JPEGs made
// from them (4000x3000, upscaled + grain, quality 90; cached in bench/.cache/large/). Pillow
// references come from tools/dev/pillow_preprocess.py (Debian's python3-pil), cached in bench/.cache/.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { preprocessImages } = require(path.join(root, 'dist', 'cjs', 'index.js'));
const sharp = require('sharp');

const args = process.argv.slice(2);
const arg = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const threads = arg('threads', os.availableParallelism ? os.availableParallelism() : os.cpus().length);
const rounds = arg('rounds', 3);
const largeCount = arg('large', 24);
const fidelitySample = arg('fidelity-sample', 100);

const flickr = path.resolve(root, '..', 'shared', 'data', 'flickr8k-1k', 'images');
const cache = path.join(root, 'bench', '.cache');
const configPath = path.join(root, 'test', 'fixtures', 'images', 'configs', 'clip.json');
const config = JSON.parse(fs.readFileSync(configPath, 'utf8'));
const SIZE = 224;

if (!fs.existsSync(flickr)) {
  console.error(`bench/preprocess: no photos in ${flickr}`);
  process.exit(1);
}
const photos = fs
  .readdirSync(flickr)
  .filter((f) => /\.jpe?g$/i.test(f))
  .sort()
  .map((f) => path.join(flickr, f));

// --- 12 MP inputs -----------------------------------------------------------------------------
async function makeLarge() {
  const dir = path.join(cache, 'large');
  fs.mkdirSync(dir, { recursive: true });
  const out = [];
  let seed = 12345;
  const noise = () => (((seed = (seed * 1103515245 + 12345) >>> 0) >>> 24) % 9) - 4;
  for (let i = 0; i < largeCount; i++) {
    const file = path.join(dir, `large_${String(i).padStart(2, '0')}.jpg`);
    if (!fs.existsSync(file)) {
      const { data, info } = await sharp(photos[(i * 37) % photos.length])
        .resize(4000, 3000, { fit: 'cover', kernel: 'lanczos3' })
        .raw()
        .toBuffer({ resolveWithObject: true });
      for (let j = 0; j < data.length; j++) data[j] = Math.min(255, Math.max(0, data[j] + noise()));
      await sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } })
        .jpeg({ quality: 90, chromaSubsampling: '4:2:0' })
        .toFile(file);
    }
    out.push(file);
  }
  return out;
}

// --- the peer: sharp resize (shortest edge 224, bicubic, centre crop) + JS normalisation ------
const mean = config.image_mean.map(Math.fround);
const std = config.image_std.map(Math.fround);
const lut = [0, 1, 2].map((c) =>
  Float32Array.from({ length: 256 }, (_, v) =>
    Math.fround(Math.fround(Math.fround(v * config.rescale_factor) - mean[c]) / std[c]),
  ),
);

async function sharpOne(file, out, offset, accurate) {
  // accurate: no fast shrink-on-load (libvips still shrinks on load, but to an exact integer factor first).
  const { data } = await sharp(file)
    .rotate() // EXIF orientation, as crossmodal does by default
    .removeAlpha()
    .resize(SIZE, SIZE, { fit: 'cover', position: 'centre', kernel: 'cubic', fastShrinkOnLoad: !accurate })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const plane = SIZE * SIZE;
  const [l0, l1, l2] = lut;
  for (let i = 0; i < plane; i++) {
    out[offset + i] = l0[data[3 * i]];
    out[offset + plane + i] = l1[data[3 * i + 1]];
    out[offset + 2 * plane + i] = l2[data[3 * i + 2]];
  }
}

async function runSharp(files, accurate = false) {
  sharp.concurrency(1); // one libvips thread per image; `threads` images in flight
  const per = 3 * SIZE * SIZE;
  const out = new Float32Array(files.length * per);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < files.length; i = next++) await sharpOne(files[i], out, i * per, accurate);
  };
  await Promise.all(Array.from({ length: threads }, worker));
  return out;
}

async function runCrossmodal(files, dctScaling) {
  const batch = 64;
  const per = 3 * SIZE * SIZE;
  const out = new Float32Array(files.length * per);
  for (let i = 0; i < files.length; i += batch) {
    const r = await preprocessImages(files.slice(i, i + batch), config, { threads, dctScaling });
    out.set(r.data, i * per);
  }
  return out;
}

// --- Pillow references --------------------------------------------------------------------------
function pillowReferences(name, files) {
  const dir = path.join(cache, 'pillow', name);
  const missing = files.filter((f) => !fs.existsSync(path.join(dir, `${path.basename(f)}.png`)));
  for (let i = 0; i < missing.length; i += 100) {
    execFileSync('/usr/bin/python3', [
      path.join(root, 'tools', 'dev', 'pillow_preprocess.py'),
      configPath,
      dir,
      ...missing.slice(i, i + 100),
    ]);
  }
  // Decode the reference PNGs with sharp (lossless) and normalise them the same way.
  return Promise.all(
    files.map(async (f) => {
      const { data } = await sharp(path.join(dir, `${path.basename(f)}.png`))
        .raw()
        .toBuffer({ resolveWithObject: true });
      const plane = SIZE * SIZE;
      const t = new Float32Array(3 * plane);
      for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) t[c * plane + i] = lut[c][data[3 * i + c]];
      return t;
    }),
  );
}

function fidelity(out, refs) {
  const per = 3 * SIZE * SIZE;
  let max = 0;
  let worstMean = 0;
  refs.forEach((ref, i) => {
    let sum = 0;
    for (let j = 0; j < per; j++) {
      const d = Math.abs(out[i * per + j] - ref[j]);
      if (d > max) max = d;
      sum += d;
    }
    worstMean = Math.max(worstMean, sum / per);
  });
  return { max, mean: worstMean };
}

// --- run ---------------------------------------------------------------------------------------
const sides = [
  { name: 'crossmodal (Pillow-exact)', run: (f) => runCrossmodal(f, false) },
  { name: 'crossmodal dctScaling', run: (f) => runCrossmodal(f, true) },
  { name: 'sharp, fastShrinkOnLoad: false', run: (f) => runSharp(f, true) },
  { name: 'sharp resize + JS normalise', run: (f) => runSharp(f) },
];

const large = await makeLarge();
const sets = [
  { name: 'flickr8k ~500px', files: photos },
  { name: '12 MP JPEG', files: large },
];

console.log(
  `bench/preprocess: ${threads} threads, ${rounds} interleaved rounds, CLIP 224 config (shortest edge + centre crop), sharp ${sharp.versions.sharp} / libvips ${sharp.versions.vips}, ${os.cpus()[0].model}, load ${os.loadavg()[0].toFixed(1)}`,
);
// Timing: each set is cut into chunks; every chunk is run by every side back to back (the order
// rotating), `rounds` times. On a shared machine the load changes from second to second, so each
// side's rate is its chunks' best times summed, and the ratio is the median of the per-chunk
// ratios against sharp (both measured under the same conditions).
const median = (v) => {
  const s = [...v].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const rows = [];
for (const set of sets) {
  const sample = set.files.slice(0, Math.min(fidelitySample, set.files.length));
  const refs = await pillowReferences(set.name.startsWith('12') ? 'large' : 'flickr', sample);
  const fid = [];
  for (const [k, side] of sides.entries()) fid[k] = fidelity(await side.run(sample), refs); // also warms up
  const chunkSize = set.files.length >= 200 ? 100 : 4;
  const chunks = [];
  for (let i = 0; i < set.files.length; i += chunkSize) chunks.push(set.files.slice(i, i + chunkSize));
  const best = chunks.map(() => sides.map(() => Infinity));
  let turn = 0;
  for (let r = 0; r < rounds; r++) {
    for (const [c, chunk] of chunks.entries()) {
      for (let j = 0; j < sides.length; j++) {
        const k = (j + turn) % sides.length;
        const t0 = process.hrtime.bigint();
        await sides[k].run(chunk);
        best[c][k] = Math.min(best[c][k], Number(process.hrtime.bigint() - t0) / 1e9);
      }
      turn++;
    }
  }
  const peer = sides.length - 1;
  for (const [k, side] of sides.entries()) {
    const total = best.reduce((sum, b) => sum + b[k], 0);
    const ratio = median(best.map((b) => b[peer] / b[k]));
    rows.push([
      set.name,
      String(set.files.length),
      side.name,
      (set.files.length / total).toFixed(1),
      `${ratio.toFixed(2)}x`,
      fid[k].max.toFixed(4),
      fid[k].mean.toFixed(5),
    ]);
  }
}
const header = ['set', 'images', 'side', 'images/s', 'vs sharp', 'max abs', 'worst mean abs'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells) => cells.map((c, i) => (i >= 3 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
console.log(line(header));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const r of rows) console.log(line(r));
console.log(
  `(images/s: sum of each chunk's best of ${rounds} rounds; vs sharp: median per-chunk ratio; fidelity vs Pillow 9.4 on the first ${fidelitySample} images of each set, normalised units; 1 8-bit level ≈ 0.015)`,
);
