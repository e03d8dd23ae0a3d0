/** `crossmodal score <image> "text"…`: cosine similarity and CLIPScore of an image against texts. */
import type { Command } from 'commander';
import { clipScore, CLIP_SCORE_WEIGHT } from '../../eval/metrics';
import { loadModel } from '../context';
import { toJson, UsageError } from '../output';

export function registerScore(program: Command): void {
  program
    .command('score')
    .description(`cosine similarity and CLIPScore (${CLIP_SCORE_WEIGHT} · max(cos, 0)) of an image against texts`)
    .argument('<image>', 'image file')
    .argument('<texts...>', 'one or more texts')
    .option(
      '--threshold <cos>',
      'flag texts whose cosine is below this as mismatches (see `crossmodal eval --calibrate`)',
    )
    .option('--model <dir>', 'model bundle (default: the bundled demo model)')
    .option('--json', 'print JSON')
    .action(async (image: string, texts: string[], options: { threshold?: string; model?: string; json?: boolean }) => {
      let threshold: number | undefined;
      if (options.threshold !== undefined) {
        threshold = Number(options.threshold);
        if (options.threshold.trim() === '' || !Number.isFinite(threshold) || threshold < -1 || threshold > 1) {
          throw new UsageError(`--threshold must be a cosine between -1 and 1 (got '${options.threshold}')`);
        }
      }
      const model = await loadModel(options.model);
      try {
        const cos = await model.score([image], texts);
        const rows = texts.map((text, j) => {
          const cosine = cos.get(0, j);
          return {
            text,
            cosine,
            clipScore: clipScore(cosine),
            ...(threshold === undefined ? {} : { match: cosine >= threshold }),
          };
        });
        if (options.json) {
          process.stdout.write(`${toJson({ image, threshold, scores: rows })}\n`);
        } else {
          process.stdout.write(`${image}\n`);
          for (const r of rows) {
            const flag = r.match === undefined ? '' : r.match ? '  match' : '  MISMATCH';
            process.stdout.write(`  cos ${r.cosine.toFixed(4)}  CLIP-S ${r.clipScore.toFixed(4)}${flag}  ${r.text}\n`);
          }
        }
        if (threshold !== undefined && rows.some((r) => r.match === false)) process.exitCode = 3;
      } finally {
        model.dispose();
      }
    });
}
