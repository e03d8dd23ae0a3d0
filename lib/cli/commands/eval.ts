/** `crossmodal eval <captions>`: Recall@K, ranks, mAP, CLIPScore and a match threshold on a caption data set. */
import * as fs from 'node:fs';
import type { Command } from 'commander';
import { loadCaptionDataset, type CaptionFormat } from '../../eval/datasets';
import { evaluateRetrieval } from '../../eval/retrieval';
import { htmlReport, textReport } from '../../eval/report';
import { loadModel } from '../context';
import { positiveInt } from '../inputs';
import { progress, toJson, UsageError } from '../output';

interface EvalOptions {
  images?: string;
  format?: string;
  split: string;
  model?: string;
  limit?: string;
  k: string;
  index?: string;
  precision?: string;
  calibrate?: boolean;
  targetPrecision: string;
  json?: boolean;
  html?: string;
}

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('evaluate image-text retrieval on a caption data set (Recall@K both ways, ranks, mAP, CLIPScore)')
    .argument('<captions>', 'captions.csv (image,caption), COCO captions JSON, or Karpathy split JSON')
    .option(
      '--images <dir>',
      'folder the image names are relative to (default: beside the captions file, or its images/)',
    )
    .option('--format <format>', 'csv | coco | karpathy (default: detected)')
    .option('--split <name>', 'Karpathy split to evaluate', 'test')
    .option('--limit <n>', 'only the first N images (and their captions)')
    .option('--k <list>', 'comma-separated K values for Recall@K', '1,5,10')
    .option('--index <type>', 'also measure an approximate index against exact search: hnsw | ivf-flat | ivf-pq')
    .option(
      '--precision <variant>',
      'also measure the drift of a precision variant against the loaded model: fp16 | int8',
    )
    .option('--calibrate', 'report the match threshold (accuracy-optimal and at --target-precision)')
    .option('--target-precision <p>', 'precision the reported threshold must reach', '0.95')
    .option('--model <dir>', 'model bundle (default: the bundled demo model)')
    .option('--json', 'print JSON')
    .option('--html <file>', 'write a self-contained HTML report (charts, worst misses)')
    .action(async (captions: string, options: EvalOptions) => {
      const format = options.format;
      if (format !== undefined && !['csv', 'coco', 'karpathy'].includes(format))
        throw new UsageError(`--format must be csv, coco or karpathy (got '${format}')`);
      const ks = options.k.split(',').map((k) => positiveInt('--k', k.trim(), 10_000));
      const limit = options.limit === undefined ? undefined : positiveInt('--limit', options.limit);
      const index = options.index;
      if (index !== undefined && !['hnsw', 'ivf-flat', 'ivf-pq'].includes(index))
        throw new UsageError(`--index must be hnsw, ivf-flat or ivf-pq (got '${index}')`);
      const precision = options.precision;
      if (precision !== undefined && precision !== 'fp16' && precision !== 'int8')
        throw new UsageError(`--precision must be fp16 or int8 (got '${precision}')`);
      const targetPrecision = Number(options.targetPrecision);
      if (!(targetPrecision > 0 && targetPrecision <= 1))
        throw new UsageError(`--target-precision must be in (0, 1] (got '${options.targetPrecision}')`);

      const dataset = loadCaptionDataset(captions, {
        images: options.images,
        format: format as CaptionFormat | undefined,
        split: options.split,
        limit,
      });
      const model = await loadModel(options.model);
      try {
        const bar = progress('embed', dataset.images.length + dataset.captions.length, { quiet: options.json });
        const report = await evaluateRetrieval(model, dataset, {
          ks,
          calibrate: true,
          targetPrecision,
          approximateIndex: index as 'hnsw' | 'ivf-flat' | 'ivf-pq' | undefined,
          comparePrecision: precision as 'fp16' | 'int8' | undefined,
          onProgress: (done) => bar.update(done),
        });
        bar.stop();
        if (options.html) fs.writeFileSync(options.html, htmlReport(report, dataset, `crossmodal eval: ${captions}`));
        if (options.json) {
          const { ranks: _t2i, ...textToImage } = report.textToImage;
          const { ranks: _i2t, ...imageToText } = report.imageToText;
          const { perPair: _pairs, ...clipScore } = report.clipScore;
          process.stdout.write(
            `${toJson({ model: model.info.root, captionsFile: captions, ...report, textToImage, imageToText, clipScore, pairScores: undefined, calibration: options.calibrate ? report.calibration : undefined })}\n`,
          );
          return;
        }
        const text = textReport(options.calibrate ? report : { ...report, calibration: null });
        process.stdout.write(`model: ${model.info.root}\n${text}\n`);
        if (options.html) process.stdout.write(`wrote ${options.html}\n`);
      } finally {
        model.dispose();
      }
    });
}
