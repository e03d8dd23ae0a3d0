/**
 * `crossmodal demo`: the bundled shapes model finding images by text and by image.
 *
 * Indexes the bundled gallery of rendered scenes into a collection, runs simple and compositional
 * text queries and one image query, marks each hit right or wrong from the scene's structured
 * label, prints Recall@K over the gallery's captions, and writes a self-contained HTML page.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Command } from 'commander';
import { openCollection, type CollectionHit } from '../../collection/index';
import { rankingMetrics } from '../../eval/metrics';
import { similarity } from '../../model';
import { packageRoot } from '../../binding';
import { loadModel } from '../context';
import { imageDataUri, page, table, tileRow, type Tile } from '../../report/html';
import { positiveInt } from '../inputs';
import { progress, toJson } from '../output';

/** The scenes that ship with the package (rendered by models/training, never seen in training). */
export const demoGalleryDir = path.join(packageRoot, 'models', 'shapes-gallery');

/** One object group of a scene label (see models/training/scenes.py). */
export interface SceneGroup {
  shape: string;
  colour: string;
  size: string;
  count: number;
  position: string;
}
export interface GalleryScene {
  file: string;
  captions: string[];
  label: { objects: SceneGroup[]; relation?: string | null; held_out?: boolean };
}

export function readGallery(dir: string): GalleryScene[] {
  const raw = JSON.parse(fs.readFileSync(path.join(dir, 'gallery.json'), 'utf8')) as
    { images?: GalleryScene[] } | GalleryScene[];
  const scenes = Array.isArray(raw) ? raw : (raw.images ?? []);
  return scenes.map((s) => ({ ...s, file: path.join(dir, s.file) }));
}

/** A demo query: the text, and what a scene must contain to count as a correct hit. */
interface TextQuery {
  text: string;
  want: Partial<SceneGroup>;
}

// Simple queries name one attribute or a shape and a colour; compositional ones add a count or a
// position. "a purple star" is a combination the model never saw in training.
const TEXT_QUERIES: TextQuery[] = [
  { text: 'a red circle', want: { shape: 'circle', colour: 'red' } },
  { text: 'a blue star', want: { shape: 'star', colour: 'blue' } },
  { text: 'a yellow shape', want: { colour: 'yellow' } },
  { text: 'a ring', want: { shape: 'ring' } },
  { text: 'two green squares', want: { shape: 'square', colour: 'green', count: 2 } },
  { text: 'a triangle on the left', want: { shape: 'triangle', position: 'left' } },
  { text: 'two stars', want: { shape: 'star', count: 2 } },
  { text: 'a purple star', want: { shape: 'star', colour: 'purple' } },
];

export function sceneMatches(scene: GalleryScene, want: Partial<SceneGroup>): boolean {
  return scene.label.objects.some((g) =>
    Object.entries(want).every(([key, value]) => g[key as keyof SceneGroup] === value),
  );
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('index the bundled gallery of shape scenes with the bundled model and search it by text and by image')
    .option('--out <file>', 'HTML page of the results', path.join('demo', 'results.html'))
    .option('-k, --k <n>', 'hits per query', '5')
    .option('--model <dir>', 'model bundle (default: the bundled shapes model)')
    .option('--gallery <dir>', 'gallery directory with gallery.json', demoGalleryDir)
    .option('--json', 'print JSON instead of the text report')
    .action(async (options: { out: string; k: string; model?: string; gallery: string; json?: boolean }) => {
      const started = Date.now();
      const k = positiveInt('--k', options.k, 50);
      const scenes = readGallery(options.gallery);
      const byFile = new Map(scenes.map((s, i) => [s.file, i]));
      const model = await loadModel(options.model);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crossmodal-demo-'));
      const log = (line: string): void => {
        if (!options.json) process.stdout.write(`${line}\n`);
      };
      try {
        log(`model:   ${model.info.root} (dim ${model.dim}, vision on ${model.info.visionProvider.provider})`);
        const collection = await openCollection(dir, { model });
        try {
          const bar = progress('index', scenes.length, { quiet: options.json });
          await collection.addImages(
            scenes.map((s) => s.file),
            scenes.map((s) => ({ scene: path.basename(s.file) })),
            { onProgress: (p) => bar.update(p.done) },
          );
          bar.stop();
          log(`indexed: ${scenes.length} scenes from ${options.gallery} into a collection\n`);

          const sceneOf = (hit: CollectionHit): GalleryScene =>
            scenes[byFile.get(hit.source ?? '') ?? -1] as GalleryScene;
          const results: {
            query: string;
            /** One attribute ("a ring"), several ("two green squares"), or the image query. */
            kind: 'single attribute' | 'compositional' | 'image';
            relevantInGallery: number;
            hits: { file: string; score: number; correct: boolean }[];
          }[] = [];
          const sections: string[] = [];
          for (const q of TEXT_QUERIES) {
            const hits = await collection.searchText(q.text, { k });
            const judged = hits.map((h) => ({ hit: h, scene: sceneOf(h), correct: sceneMatches(sceneOf(h), q.want) }));
            const relevant = scenes.filter((s) => sceneMatches(s, q.want)).length;
            results.push({
              query: q.text,
              kind: Object.keys(q.want).length === 1 ? 'single attribute' : 'compositional',
              relevantInGallery: relevant,
              hits: judged.map((j) => ({ file: path.basename(j.scene.file), score: j.hit.score, correct: j.correct })),
            });
            const right = judged.filter((j) => j.correct).length;
            log(`"${q.text}"  ${right}/${judged.length} correct (${relevant} matching scenes in the gallery)`);
            for (const j of judged)
              log(
                `  ${j.correct ? '✓' : '✗'} ${j.hit.score.toFixed(4)}  ${path.basename(j.scene.file)}  ${j.scene.captions[0]}`,
              );
            sections.push(
              tileRow(
                `“${q.text}”`,
                judged.map((j): Tile => ({
                  image: imageDataUri(j.scene.file),
                  caption: j.scene.captions[0] ?? '',
                  score: j.hit.score,
                  correct: j.correct,
                })),
                `${right} of ${judged.length} correct; ${relevant} matching scenes in the gallery`,
              ),
            );
          }

          // Image query: the first gallery scene with a single group; a hit is right when it has a
          // group of the same shape and colour.
          const probe = scenes.find((s) => s.label.objects.length === 1) ?? (scenes[0] as GalleryScene);
          const group = probe.label.objects[0] as SceneGroup;
          const imageHits = (await collection.searchImage(probe.file, { k: k + 1 }))
            .filter((h) => h.source !== probe.file)
            .slice(0, k);
          const want = { shape: group.shape, colour: group.colour };
          const judgedImage = imageHits.map((h) => ({
            hit: h,
            scene: sceneOf(h),
            correct: sceneMatches(sceneOf(h), want),
          }));
          const imageQuery = `image ${path.basename(probe.file)} (${probe.captions[0]})`;
          log(`\n${imageQuery}: scenes with a ${group.colour} ${group.shape}`);
          for (const j of judgedImage)
            log(
              `  ${j.correct ? '✓' : '✗'} ${j.hit.score.toFixed(4)}  ${path.basename(j.scene.file)}  ${j.scene.captions[0]}`,
            );
          results.push({
            query: imageQuery,
            kind: 'image',
            relevantInGallery: scenes.filter((s) => s !== probe && sceneMatches(s, want)).length,
            hits: judgedImage.map((j) => ({
              file: path.basename(j.scene.file),
              score: j.hit.score,
              correct: j.correct,
            })),
          });
          sections.push(
            tileRow(
              `Image query: ${path.basename(probe.file)}`,
              [{ image: imageDataUri(probe.file), caption: `query: ${probe.captions[0]}` }],
              'the query image',
            ),
            tileRow(
              `Scenes most like ${path.basename(probe.file)}`,
              judgedImage.map((j): Tile => ({
                image: imageDataUri(j.scene.file),
                caption: j.scene.captions[0] ?? '',
                score: j.hit.score,
                correct: j.correct,
              })),
              `right when the scene has a ${group.colour} ${group.shape}`,
            ),
          );

          // Recall@K over the gallery: every caption against every scene, and back.
          const captions = scenes.flatMap((s) => s.captions);
          const captionScene = scenes.flatMap((s, i) => s.captions.map(() => i));
          const imageEmbeddings = await model.embedImages(scenes.map((s) => s.file));
          const textEmbeddings = await model.embedTexts(captions);
          const t2i = rankingMetrics(await similarity(textEmbeddings, imageEmbeddings), (q) => [
            captionScene[q] as number,
          ]);
          const firstCaption: number[] = [];
          scenes.forEach((s, i) =>
            firstCaption.push(
              i === 0 ? 0 : (firstCaption[i - 1] as number) + (scenes[i - 1] as GalleryScene).captions.length,
            ),
          );
          const i2t = rankingMetrics(await similarity(imageEmbeddings, textEmbeddings), (i) =>
            Array.from(
              { length: (scenes[i] as GalleryScene).captions.length },
              (_, c) => (firstCaption[i] as number) + c,
            ),
          );
          const pct = (x: number | undefined): string => `${((x ?? 0) * 100).toFixed(1)}`;
          log(`\nRecall@K over the gallery (${scenes.length} scenes, ${captions.length} captions):`);
          log(
            `  text→image  R@1 ${pct(t2i.recall[1])}  R@5 ${pct(t2i.recall[5])}  R@10 ${pct(t2i.recall[10])}  median rank ${t2i.medianRank}`,
          );
          log(
            `  image→text  R@1 ${pct(i2t.recall[1])}  R@5 ${pct(i2t.recall[5])}  R@10 ${pct(i2t.recall[10])}  median rank ${i2t.medianRank}`,
          );

          const recallTable = table(
            ['direction', 'R@1', 'R@5', 'R@10', 'median rank'],
            [
              ['text → image', pct(t2i.recall[1]), pct(t2i.recall[5]), pct(t2i.recall[10]), t2i.medianRank],
              ['image → text', pct(i2t.recall[1]), pct(i2t.recall[5]), pct(i2t.recall[10]), i2t.medianRank],
            ],
          );
          const intro =
            `<p class="note">${scenes.length} rendered scenes indexed with the bundled shapes model (${path.basename(model.info.root)}); ` +
            'a green frame marks a hit whose scene matches the query, a red one a hit that does not.</p>';
          fs.mkdirSync(path.dirname(path.resolve(options.out)), { recursive: true });
          fs.writeFileSync(
            options.out,
            page(
              'crossmodal demo: searching shapes by text and by image',
              `${intro}<h2>Recall@K over the gallery's captions</h2>${recallTable}${sections.join('\n')}`,
            ),
          );
          const seconds = (Date.now() - started) / 1000;
          if (options.json) {
            process.stdout.write(
              `${toJson({ scenes: scenes.length, queries: results, recall: { textToImage: t2i.recall, imageToText: i2t.recall }, html: path.resolve(options.out), seconds })}\n`,
            );
          } else {
            log(`\nwrote ${options.out} (open it in a browser); done in ${seconds.toFixed(1)} s`);
          }
        } finally {
          await collection.close();
        }
      } finally {
        model.dispose();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
}
