/** `crossmodal embed <inputs…> --out file.npy|file.jsonl`: embeddings of images (or texts) to a file. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { loadModel } from '../context';
import type { Embeddings } from '../../model';
import { embedImageFiles, expandImageInputs } from '../inputs';
import { EXIT, progress, toJson, UsageError } from '../output';
import { npyBytes } from '../../npy';

export function registerEmbed(program: Command): void {
  program
    .command('embed')
    .description('write embeddings of images (default) or texts to .npy or .jsonl')
    .argument('<inputs...>', 'image files, directories or globs; texts with --texts')
    .requiredOption(
      '--out <file>',
      'output file: .npy (float32 rows × dim) or .jsonl (one {input, embedding} per line)',
    )
    .option('--texts', 'the inputs are texts, not images')
    .option('--skip-errors', 'leave out images that cannot be read or decoded (listed; exit 3) instead of failing')
    .option('--model <dir>', 'model bundle (default: the bundled demo model)')
    .option('--json', 'print a JSON summary (rows, dim, the inputs in row order, skipped files)')
    .action(
      async (
        inputs: string[],
        options: { out: string; texts?: boolean; model?: string; skipErrors?: boolean; json?: boolean },
      ) => {
        const ext = path.extname(options.out).toLowerCase();
        if (ext !== '.npy' && ext !== '.jsonl')
          throw new UsageError(`--out must end in .npy or .jsonl (got '${options.out}')`);
        let items = inputs;
        if (!options.texts) {
          const { files, unreadable } = await expandImageInputs(inputs);
          if (unreadable.length > 0)
            throw new UsageError(`cannot read ${unreadable[0]!.path}: ${unreadable[0]!.reason}`);
          items = files;
        }
        const model = await loadModel(options.model);
        try {
          const bar = progress('embed', items.length, { quiet: options.json });
          let embeddings: Embeddings;
          let skipped: { path: string; reason: string }[] = [];
          if (options.texts) {
            embeddings = await model.embedTexts(items);
          } else {
            const result = await embedImageFiles(model, items, options.skipErrors === true);
            ({ embeddings, skipped } = result);
            items = result.files;
          }
          bar.update(items.length + skipped.length);
          bar.stop();
          const temp = `${options.out}.${process.pid}.tmp`;
          if (ext === '.npy') {
            fs.writeFileSync(temp, npyBytes(embeddings.data, embeddings.count, embeddings.dim));
          } else {
            const lines = items.map((input, i) => JSON.stringify({ input, embedding: Array.from(embeddings.row(i)) }));
            fs.writeFileSync(temp, `${lines.join('\n')}\n`);
          }
          fs.renameSync(temp, options.out);
          if (options.json) {
            process.stdout.write(
              `${toJson({ out: options.out, rows: embeddings.count, dim: embeddings.dim, inputs: items, skipped })}\n`,
            );
          } else {
            process.stderr.write(`wrote ${embeddings.count} × ${embeddings.dim} embeddings to ${options.out}\n`);
            for (const s of skipped) process.stderr.write(`  skipped ${s.path}: ${s.reason}\n`);
          }
          if (skipped.length > 0) process.exitCode = EXIT.partial;
        } finally {
          model.dispose();
        }
      },
    );
}
