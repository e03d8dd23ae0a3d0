#!/usr/bin/env node
// Measure the shapes-clip demo model with crossmodal itself (not torch).
//
//   node models/training/evaluate.mjs [--bundle DIR] [--n 1000] [--heldout 300] [--precision fp32]
//                                     [--json OUT.json] [--module path/to/crossmodal]
//
// Generates held-out evaluation sets with the Python generator (generate.py, deterministic) in a
// temporary directory: 'test' scenes (attribute combinations seen in training, new scenes) and
// 'heldout' scenes (each contains a (shape, colour) pair never seen in training), each drawn by
// both rendering paths (pil = the training renderer; cairo = an independent renderer with other
// canvas sizes, non-square images and JPEG). On every set it reports:
//   - retrieval over scenes x 5 captions: text->image and image->text Recall@1/5/10, "exact" (the
//     caption's own scene / one of the image's own captions) and "semantic" (any scene the caption
//     is true of / any caption true of the image; several scenes can fit a caption);
//   - precision@5 of single-attribute queries ("a red shape", "a star") and compositional ones
//     (colour + shape + position, count + colour + shape);
//   - zero-shot classification accuracy through model.classify (colour, shape, count) on
//     single-kind scenes.
// Prints a table and writes the figures as JSON.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');

// ---------------------------------------------------------------------------------------------
// Metrics (pure functions over a similarity matrix and relevance sets; to move to lib/eval)
// ---------------------------------------------------------------------------------------------

/** Indices of the k largest values of row `r` of a row-major rows x cols matrix, best first. */
export function topKOfRow(data, cols, r, k) {
  const best = []; // [value, index], kept sorted descending, length <= k
  for (let c = 0; c < cols; c++) {
    const v = data[r * cols + c];
    if (best.length === k && v <= best[k - 1][0]) continue;
    let i = best.length < k ? best.length : k - 1;
    best[i] = [v, c];
    while (i > 0 && best[i - 1][0] < best[i][0]) {
      [best[i - 1], best[i]] = [best[i], best[i - 1]];
      i--;
    }
  }
  return best.map(([, c]) => c);
}

/** Top k columns for every row of a SimilarityMatrix-like {data, rows, cols}. */
export function rankRows(matrix, k) {
  const out = [];
  for (let r = 0; r < matrix.rows; r++) out.push(topKOfRow(matrix.data, matrix.cols, r, k));
  return out;
}

/** The transpose of a {data, rows, cols} matrix (to rank images per text from image x text scores). */
export function transpose(matrix) {
  const { data, rows, cols } = matrix;
  const t = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = data[r * cols + c];
  return { data: t, rows: cols, cols: rows };
}

/** Recall@k: the fraction of queries with at least one relevant item among their top k.
 *  rankings[q] = ranked item indices; relevant[q] = Set of relevant item indices. */
export function recallAtK(rankings, relevant, ks) {
  const out = {};
  for (const k of ks) {
    let hits = 0;
    rankings.forEach((ranked, q) => {
      if (ranked.slice(0, k).some((i) => relevant[q].has(i))) hits++;
    });
    out[k] = hits / rankings.length;
  }
  return out;
}

/** Mean precision@k: the fraction of the top k that is relevant, averaged over queries. */
export function precisionAtK(rankings, relevant, k) {
  let sum = 0;
  rankings.forEach((ranked, q) => {
    sum += ranked.slice(0, k).filter((i) => relevant[q].has(i)).length / k;
  });
  return rankings.length ? sum / rankings.length : NaN;
}

/** Fraction of predictions equal to the truth. */
export function accuracy(predicted, truth) {
  let ok = 0;
  predicted.forEach((p, i) => {
    if (p === truth[i]) ok++;
  });
  return predicted.length ? ok / predicted.length : NaN;
}

// ---------------------------------------------------------------------------------------------
// Evaluation of one generated set
// ---------------------------------------------------------------------------------------------

const round = (x) => Math.round(x * 1000) / 1000;

export async function evaluateSet(crossmodal, model, dir) {
  const set = JSON.parse(readFileSync(path.join(dir, 'set.json'), 'utf8'));
  const files = set.scenes.map((s) => path.join(dir, s.file));
  const images = await model.embedImages(files);
  const captionTexts = set.captions.map((c) => c.text);
  const texts = await model.embedTexts(captionTexts);
  const imageByText = await crossmodal.similarity(images, texts); // scenes x captions
  const textByImage = transpose(imageByText);
  const K = [1, 5, 10];

  // Retrieval.
  const t2iRank = rankRows(textByImage, 10);
  const i2tRank = rankRows(imageByText, 10);
  const own = set.captions.map((c) => new Set([c.scene]));
  const trueOf = set.captions.map((c) => new Set(c.relevant));
  const ownCaptions = set.scenes.map(() => new Set());
  const trueCaptions = set.scenes.map(() => new Set());
  set.captions.forEach((c, j) => {
    ownCaptions[c.scene].add(j);
    for (const s of c.relevant) trueCaptions[s].add(j);
  });
  const retrieval = {
    textToImage: { exact: recallAtK(t2iRank, own, K), semantic: recallAtK(t2iRank, trueOf, K) },
    imageToText: { exact: recallAtK(i2tRank, ownCaptions, K), semantic: recallAtK(i2tRank, trueCaptions, K) },
  };

  // Queries.
  async function queryPrecision(queries) {
    if (!queries.length) return { precisionAt5: NaN, queries: 0 };
    const q = await model.embedTexts(queries.map((x) => x.text));
    const ranked = rankRows(transpose(await crossmodal.similarity(images, q)), 5);
    const rel = queries.map((x) => new Set(x.relevant));
    const byKind = {};
    for (const kind of new Set(queries.map((x) => x.kind))) {
      const idx = queries.map((x, i) => (x.kind === kind ? i : -1)).filter((i) => i >= 0);
      byKind[kind] = round(precisionAtK(idx.map((i) => ranked[i]), idx.map((i) => rel[i]), 5));
    }
    return { precisionAt5: precisionAtK(ranked, rel, 5), queries: queries.length, byKind };
  }
  const single = await queryPrecision(set.queries.single);
  const compositional = await queryPrecision(set.queries.compositional);

  // Zero-shot classification through model.classify (prompt ensembling over the templates).
  const classification = {};
  for (const [attr, c] of Object.entries(set.classify)) {
    const subset = new crossmodal.Embeddings(
      Float32Array.from(c.scenes.flatMap((i) => Array.from(images.data.subarray(i * images.dim, (i + 1) * images.dim)))),
      c.scenes.length,
      images.dim,
    );
    const results = await model.classify(subset, c.labels, { templates: c.templates, topK: 1 });
    const predicted = results.map((r) => c.labels.indexOf(r[0].label));
    classification[attr] = { accuracy: accuracy(predicted, c.truth), scenes: c.scenes.length };
  }

  const r = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, round(v)]));
  return {
    path: set.path,
    mode: set.mode,
    scenes: set.scenes.length,
    captions: set.captions.length,
    retrieval: {
      textToImage: { exact: r(retrieval.textToImage.exact), semantic: r(retrieval.textToImage.semantic) },
      imageToText: { exact: r(retrieval.imageToText.exact), semantic: r(retrieval.imageToText.semantic) },
    },
    singleAttribute: { precisionAt5: round(single.precisionAt5), queries: single.queries, byKind: single.byKind },
    compositional: { precisionAt5: round(compositional.precisionAt5), queries: compositional.queries, byKind: compositional.byKind },
    classification: Object.fromEntries(Object.entries(classification).map(([k, v]) => [k, { accuracy: round(v.accuracy), scenes: v.scenes }])),
  };
}

/** Runs generate.py (asynchronously: rendering 1,000 scenes takes a while and must not block the event loop). */
export async function generateSet(dir, { split, mode, n, renderPath }) {
  await promisify(execFile)('/usr/bin/python3', [path.join(here, 'generate.py'), dir, '--split', split, '--mode', mode, '--n', String(n), '--path', renderPath], {
    maxBuffer: 16 << 20,
  });
}

export function formatTable(results) {
  const rows = [['set', 't2i R@1/5/10 exact', 't2i R@1/5/10 semantic', 'i2t R@1/5/10 exact', 'i2t R@1/5/10 semantic', 'single P@5', 'comp. P@5', 'colour', 'shape', 'count']];
  for (const [name, x] of Object.entries(results)) {
    const rk = (o) => `${o[1].toFixed(3)} / ${o[5].toFixed(3)} / ${o[10].toFixed(3)}`;
    rows.push([
      name,
      rk(x.retrieval.textToImage.exact), rk(x.retrieval.textToImage.semantic),
      rk(x.retrieval.imageToText.exact), rk(x.retrieval.imageToText.semantic),
      x.singleAttribute.precisionAt5.toFixed(3), Number.isNaN(x.compositional.precisionAt5) ? 'n/a' : x.compositional.precisionAt5.toFixed(3),
      x.classification.colour.accuracy.toFixed(3), x.classification.shape.accuracy.toFixed(3), x.classification.count.accuracy.toFixed(3),
    ]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  const line = (r) => `| ${r.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
  return [line(rows[0]), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}

async function main() {
  const args = process.argv.slice(2);
  const opt = (name, dflt) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : dflt;
  };
  const require = createRequire(import.meta.url);
  const crossmodal = require(opt('module', process.env.CROSSMODAL_MODULE ?? path.join(repo, 'dist/cjs/index.js')));
  const bundle = path.resolve(opt('bundle', path.join(repo, 'models/shapes-clip')));
  const n = Number(opt('n', 1000));
  const nHeld = Number(opt('heldout', 300));
  const precision = opt('precision', 'fp32');
  const model = await crossmodal.load(bundle, { precision });
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'shapes-eval-'));
  const results = {};
  try {
    for (const [name, spec] of [
      ['test/pil', { split: 'test', mode: 'seen', n, renderPath: 'pil' }],
      ['test/cairo', { split: 'test', mode: 'seen', n, renderPath: 'cairo' }],
      ['heldout/pil', { split: 'heldout', mode: 'held', n: nHeld, renderPath: 'pil' }],
      ['heldout/cairo', { split: 'heldout', mode: 'held', n: nHeld, renderPath: 'cairo' }],
    ]) {
      const dir = path.join(tmp, name.replace('/', '-'));
      await generateSet(dir, spec);
      results[name] = await evaluateSet(crossmodal, model, dir);
      console.error(`[evaluate] ${name}: done`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    model.dispose();
  }
  const report = { bundle: path.relative(repo, bundle), precision, results };
  console.log(formatTable(results));
  const out = opt('json');
  if (out) writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
  else console.log(JSON.stringify(report, null, 2));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
