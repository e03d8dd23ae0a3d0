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
  // Ranking, Recall@K and precision@K come from crossmodal's own evaluation module (lib/eval).
  const { rankingMetrics, topK } = crossmodal;
  const imageByText = await crossmodal.similarity(images, texts); // scenes x captions
  const textByImage = await crossmodal.similarity(texts, images); // captions x scenes
  const K = [1, 5, 10];

  // Retrieval: "exact" counts only a caption's own scene (own captions of a scene); "semantic"
  // counts every scene the caption is true of (every caption true of the scene).
  const ownCaptions = set.scenes.map(() => []);
  const trueCaptions = set.scenes.map(() => []);
  set.captions.forEach((c, j) => {
    ownCaptions[c.scene].push(j);
    for (const s of c.relevant) trueCaptions[s].push(j);
  });
  const recall = (scores, relevant) => rankingMetrics(scores, relevant, K).recall;
  const retrieval = {
    textToImage: {
      exact: recall(textByImage, (q) => [set.captions[q].scene]),
      semantic: recall(textByImage, (q) => set.captions[q].relevant),
    },
    imageToText: {
      exact: recall(imageByText, (i) => ownCaptions[i]),
      semantic: recall(imageByText, (i) => trueCaptions[i]),
    },
  };

  // Queries: precision@5 of the scenes ranked first for each query text.
  async function queryPrecision(queries) {
    if (!queries.length) return { precisionAt5: NaN, queries: 0 };
    const scores = await crossmodal.similarity(await model.embedTexts(queries.map((x) => x.text)), images);
    const perQuery = queries.map((x, i) => {
      const relevant = new Set(x.relevant);
      return topK(scores, i, 5).filter((scene) => relevant.has(scene)).length / 5;
    });
    const mean = (values) => values.reduce((a, b) => a + b, 0) / values.length;
    const byKind = {};
    for (const kind of new Set(queries.map((x) => x.kind))) {
      byKind[kind] = round(mean(perQuery.filter((_, i) => queries[i].kind === kind)));
    }
    return { precisionAt5: mean(perQuery), queries: queries.length, byKind };
  }
  const single = await queryPrecision(set.queries.single);
  const compositional = await queryPrecision(set.queries.compositional);

  // Zero-shot classification through model.classify (prompt ensembling over the templates).
  const classification = {};
  for (const [attr, c] of Object.entries(set.classify)) {
    const subset = new crossmodal.Embeddings(
      Float32Array.from(
        c.scenes.flatMap((i) => Array.from(images.data.subarray(i * images.dim, (i + 1) * images.dim))),
      ),
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
    compositional: {
      precisionAt5: round(compositional.precisionAt5),
      queries: compositional.queries,
      byKind: compositional.byKind,
    },
    classification: Object.fromEntries(
      Object.entries(classification).map(([k, v]) => [k, { accuracy: round(v.accuracy), scenes: v.scenes }]),
    ),
  };
}

/** Runs generate.py (asynchronously: rendering 1,000 scenes takes a while and must not block the event loop). */
export async function generateSet(dir, { split, mode, n, renderPath }) {
  await promisify(execFile)(
    '/usr/bin/python3',
    [path.join(here, 'generate.py'), dir, '--split', split, '--mode', mode, '--n', String(n), '--path', renderPath],
    {
      maxBuffer: 16 << 20,
    },
  );
}

export function formatTable(results) {
  const rows = [
    [
      'set',
      't2i R@1/5/10 exact',
      't2i R@1/5/10 semantic',
      'i2t R@1/5/10 exact',
      'i2t R@1/5/10 semantic',
      'single P@5',
      'comp. P@5',
      'colour',
      'shape',
      'count',
    ],
  ];
  for (const [name, x] of Object.entries(results)) {
    const rk = (o) => `${o[1].toFixed(3)} / ${o[5].toFixed(3)} / ${o[10].toFixed(3)}`;
    rows.push([
      name,
      rk(x.retrieval.textToImage.exact),
      rk(x.retrieval.textToImage.semantic),
      rk(x.retrieval.imageToText.exact),
      rk(x.retrieval.imageToText.semantic),
      x.singleAttribute.precisionAt5.toFixed(3),
      Number.isNaN(x.compositional.precisionAt5) ? 'n/a' : x.compositional.precisionAt5.toFixed(3),
      x.classification.colour.accuracy.toFixed(3),
      x.classification.shape.accuracy.toFixed(3),
      x.classification.count.accuracy.toFixed(3),
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
