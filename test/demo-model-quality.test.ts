// The shapes-clip demo model's measured quality, as crossmodal runs it: regenerates the
// held-out evaluation sets with the Python scene generator (deterministic; both rendering
// paths), evaluates with models/training/evaluate.mjs and checks the figures stated in
// models/shapes-clip/evaluation.json (quoted by MODEL_CARD.md) with a 0.05 margin, and the
// quality targets of the demo model. The committed gallery is checked without Python.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as crossmodal from '../lib/index';
import { load, type Model } from '../lib/index';
import { repoRoot } from './helpers';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const evaluation = require('../models/training/evaluate.mjs') as {
  generateSet(dir: string, spec: { split: string; mode: string; n: number; renderPath: string }): Promise<void>;
  evaluateSet(cm: typeof crossmodal, model: Model, dir: string): Promise<SetResult>;
};

interface SetResult {
  retrieval: Record<'textToImage' | 'imageToText', Record<'exact' | 'semantic', Record<'1' | '5' | '10', number>>>;
  singleAttribute: { precisionAt5: number };
  compositional: { precisionAt5: number };
  classification: Record<'colour' | 'shape' | 'count', { accuracy: number }>;
}

const bundle = path.join(repoRoot, 'models', 'shapes-clip');
const stated = JSON.parse(fs.readFileSync(path.join(bundle, 'evaluation.json'), 'utf8')) as {
  results: Record<string, SetResult & { scenes: number; mode: string; path: string }>;
};
const MARGIN = 0.05;
// The demo model's targets on scenes with seen attribute combinations (training renderer).
const TARGETS = { single: 0.9, compositional: 0.7, colour: 0.9, shape: 0.9, count: 0.8 };

const python = '/usr/bin/python3';
const canRun = (modules: string): boolean => {
  if (!fs.existsSync(python)) return false;
  try {
    execFileSync(python, ['-c', `import ${modules}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
const hasPil = canRun('numpy, PIL');
const hasCairo = hasPil && canRun('cairo');
if (!hasPil)
  console.warn(
    'demo-model-quality: /usr/bin/python3 with numpy + PIL missing: skipping the regenerated evaluation sets',
  );
else if (!hasCairo)
  console.warn(
    'demo-model-quality: python3-cairo missing (tools/setup-native.sh --python): skipping the second rendering path',
  );

let model: Model;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shapes-quality-'));
beforeAll(async () => {
  model = await load(bundle);
});
afterAll(() => {
  model?.dispose();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function expectAtLeastStated(got: SetResult, want: SetResult): void {
  const pairs: [string, number, number][] = [
    ['single-attribute P@5', got.singleAttribute.precisionAt5, want.singleAttribute.precisionAt5],
    ['colour accuracy', got.classification.colour.accuracy, want.classification.colour.accuracy],
    ['shape accuracy', got.classification.shape.accuracy, want.classification.shape.accuracy],
    ['count accuracy', got.classification.count.accuracy, want.classification.count.accuracy],
  ];
  if (!Number.isNaN(want.compositional.precisionAt5))
    pairs.push(['compositional P@5', got.compositional.precisionAt5, want.compositional.precisionAt5]);
  for (const dir of ['textToImage', 'imageToText'] as const) {
    for (const kind of ['exact', 'semantic'] as const) {
      for (const k of ['1', '5', '10'] as const)
        pairs.push([`${dir} ${kind} R@${k}`, got.retrieval[dir][kind][k], want.retrieval[dir][kind][k]]);
    }
  }
  const below = pairs
    .filter(([, g, w]) => g < w - MARGIN)
    .map(([name, g, w]) => `${name}: ${g} < stated ${w} - ${MARGIN}`);
  expect(below).toEqual([]);
}

const sets: [string, { split: string; mode: string; renderPath: string }, boolean][] = [
  ['test/pil', { split: 'test', mode: 'seen', renderPath: 'pil' }, hasPil],
  ['test/cairo', { split: 'test', mode: 'seen', renderPath: 'cairo' }, hasCairo],
  ['heldout/pil', { split: 'heldout', mode: 'held', renderPath: 'pil' }, hasPil],
  ['heldout/cairo', { split: 'heldout', mode: 'held', renderPath: 'cairo' }, hasCairo],
];

describe('shapes-clip demo model quality (measured with crossmodal)', () => {
  const results: Record<string, SetResult> = {};
  for (const [name, spec, available] of sets) {
    it.skipIf(!available)(
      `${name}: at least the figures stated in evaluation.json (margin ${MARGIN})`,
      async () => {
        const want = stated.results[name];
        expect(want, `evaluation.json has no ${name}`).toBeDefined();
        const dir = path.join(tmp, name.replace('/', '-'));
        await evaluation.generateSet(dir, { ...spec, n: want.scenes });
        results[name] = await evaluation.evaluateSet(crossmodal, model, dir);
        expectAtLeastStated(results[name], want);
        if (name === 'test/pil') {
          // `crossmodal eval` on the same scenes (captions.csv) reproduces the exact-protocol recalls.
          const cli = execFileSync(
            process.execPath,
            [
              path.join(repoRoot, 'dist', 'cjs', 'cli', 'main.js'),
              'eval',
              path.join(dir, 'captions.csv'),
              '--model',
              bundle,
              '--json',
            ],
            { encoding: 'utf8', maxBuffer: 64 << 20 },
          );
          const report = JSON.parse(cli) as {
            textToImage: { recall: Record<string, number> };
            imageToText: { recall: Record<string, number> };
          };
          for (const k of ['1', '5', '10'] as const) {
            expect(
              Math.abs(report.textToImage.recall[k]! - results[name]!.retrieval.textToImage.exact[k]),
            ).toBeLessThanOrEqual(0.0005);
            expect(
              Math.abs(report.imageToText.recall[k]! - results[name]!.retrieval.imageToText.exact[k]),
            ).toBeLessThanOrEqual(0.0005);
          }
        }
      },
      600_000,
    );
  }

  // Targets the committed model states as met are asserted; the ones MODEL_CARD.md states as not
  // met are reported (skipped with their figure), and start being asserted once evaluation.json
  // (a retrained model) claims them.
  const statedTest = stated.results['test/pil']!;
  const targetFigures: [string, number, (r: SetResult) => number][] = [
    ['single-attribute P@5', TARGETS.single, (r) => r.singleAttribute.precisionAt5],
    ['compositional P@5', TARGETS.compositional, (r) => r.compositional.precisionAt5],
    ['colour accuracy', TARGETS.colour, (r) => r.classification.colour.accuracy],
    ['shape accuracy', TARGETS.shape, (r) => r.classification.shape.accuracy],
    ['count accuracy', TARGETS.count, (r) => r.classification.count.accuracy],
  ];
  for (const [name, target, figure] of targetFigures) {
    const claimed = figure(statedTest) >= target;
    if (!claimed)
      console.warn(
        `demo-model-quality: target ${name} >= ${target} not met by the committed model (stated ${figure(statedTest)})`,
      );
    it.skipIf(!hasPil || !claimed)(`test/pil: ${name} >= ${target} (target of the demo model)`, () => {
      const r = results['test/pil'];
      expect(r, 'test/pil was not evaluated').toBeDefined();
      expect(figure(r!)).toBeGreaterThanOrEqual(target);
    });
  }

  it("classifies the colour and shape of the committed gallery's single-kind scenes", async () => {
    const gallery = JSON.parse(
      fs.readFileSync(path.join(repoRoot, 'models', 'shapes-gallery', 'gallery.json'), 'utf8'),
    ) as {
      images: { file: string; label: { objects: { shape: string; colour: string }[]; held_out: boolean } }[];
    };
    // Scenes of seen (shape, colour) pairs: the stated test/pil figures are for those; the
    // gallery's held-out scenes are measured by the heldout sets above.
    const single = gallery.images.filter((g) => g.label.objects.length === 1 && !g.label.held_out);
    expect(single.length).toBeGreaterThan(100);
    const files = single.map((g) => path.join(repoRoot, 'models', 'shapes-gallery', g.file));
    const embeddings = await model.embedImages(files);
    const article = (w: string) => (/^[aeiou]/.test(w) ? `an ${w}` : `a ${w}`);
    const templates = ['{}', 'a photo of {}.', 'a picture of {}.'];
    for (const [attr, values, phrase] of [
      [
        'colour',
        ['red', 'orange', 'yellow', 'green', 'blue', 'purple', 'pink', 'gray'],
        (v: string) => `${article(v)} shape`,
      ],
      ['shape', ['circle', 'square', 'triangle', 'star', 'cross', 'ring'], (v: string) => article(v)],
    ] as const) {
      const labels = values.map(phrase);
      const top = await model.classify(embeddings, labels, { templates, topK: 1 });
      const correct = top.filter(
        (t, i) => values[labels.indexOf(t[0]!.label)] === single[i]!.label.objects[0]![attr],
      ).length;
      const acc = correct / single.length;
      const statedAcc = stated.results['test/pil']!.classification[attr].accuracy;
      expect(acc, `${attr} accuracy on the gallery`).toBeGreaterThanOrEqual(Math.min(statedAcc, 0.95) - 0.1);
    }
  }, 120_000);
});
