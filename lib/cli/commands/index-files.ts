/**
 * `crossmodal index <dir|file|glob…> --collection DIR`: embeds images into a collection.
 *
 * Resumable: a collection de-duplicates by content hash before embedding, so a second run over
 * the same inputs embeds only what is new. Interrupt-safe: every batch is one transaction, and
 * Ctrl-C stops after the batch in flight and closes the collection (a harder kill loses at most
 * that batch, never consistency). Unreadable files are skipped and listed in the summary.
 */
import * as path from 'node:path';
import type { Command } from 'commander';
import { openCollection } from '../../collection/index';
import { CrossmodalError } from '../../errors';
import { loadModel, rememberModel, rememberedModel } from '../context';
import { expandImageInputs, PER_IMAGE_CODES, positiveInt } from '../inputs';
import { EXIT, progress, toJson } from '../output';

interface IndexOptions {
  collection: string;
  model?: string;
  batchSize: string;
  json?: boolean;
}

export function registerIndex(program: Command): void {
  program
    .command('index')
    .description('embed images into a collection (recursive; resumable; skips unreadable files)')
    .argument('<inputs...>', 'image files, directories or globs')
    .requiredOption('--collection <dir>', 'collection directory (created when missing)')
    .option('--model <dir>', "model bundle (default: the collection's, else the bundled demo model)")
    .option('--batch-size <n>', 'images per batch and transaction', '32')
    .option('--json', 'print the summary as JSON')
    .action(async (inputs: string[], options: IndexOptions) => {
      const batchSize = positiveInt('--batch-size', options.batchSize, 4096);
      const dir = path.resolve(options.collection);
      const { files, unreadable } = await expandImageInputs(inputs);
      const skipped: { path: string; reason: string }[] = [...unreadable];
      const model = await loadModel(options.model ?? rememberedModel(dir));
      let stopRequested = false;
      const onSignal = (): void => {
        if (stopRequested) process.exit(130); // a second Ctrl-C: the last committed batch stands
        stopRequested = true;
        process.stderr.write('\ncrossmodal: stopping after the current batch (Ctrl-C again to quit now)\n');
      };
      process.on('SIGINT', onSignal);
      const collection = await openCollection(dir, { model }).catch((error: unknown) => {
        model.dispose();
        process.off('SIGINT', onSignal);
        throw error;
      });
      rememberModel(dir, model.info.root);
      let added = 0;
      let duplicates = 0;
      const bar = progress('index', files.length, { quiet: options.json });
      try {
        for (let start = 0; start < files.length && !stopRequested; start += batchSize) {
          const batch = files.slice(start, start + batchSize);
          try {
            const r = await collection.addImages(batch, undefined, { batchSize });
            added += r.added;
            duplicates += r.duplicates;
          } catch (error) {
            if (!(error instanceof CrossmodalError) || !PER_IMAGE_CODES.has(error.code)) throw error;
            // One bad file fails its batch: add the batch's files one by one to find it.
            for (const file of batch) {
              try {
                const r = await collection.addImages([file]);
                added += r.added;
                duplicates += r.duplicates;
              } catch (inner) {
                if (!(inner instanceof CrossmodalError) || !PER_IMAGE_CODES.has(inner.code)) throw inner;
                skipped.push({ path: file, reason: `${inner.code}: ${inner.message}` });
              }
            }
          }
          bar.update(Math.min(start + batchSize, files.length));
        }
      } finally {
        bar.stop();
        process.off('SIGINT', onSignal);
        await collection.close();
        model.dispose();
      }
      const summary = { collection: dir, files: files.length, added, duplicates, skipped, interrupted: stopRequested };
      if (options.json) {
        process.stdout.write(`${toJson(summary)}\n`);
      } else {
        process.stdout.write(
          `indexed ${files.length} files into ${dir}: ${added} added, ${duplicates} already there, ${skipped.length} skipped\n`,
        );
        for (const s of skipped) process.stdout.write(`  skipped ${s.path}: ${s.reason}\n`);
        if (stopRequested) process.stdout.write('interrupted: run the same command again to continue\n');
      }
      if (stopRequested) process.exitCode = 130;
      else if (skipped.length > 0) process.exitCode = EXIT.partial;
    });
}
