/** `crossmodal classify <image…> --labels a,b,c`: zero-shot classification with prompt templates. */
import type { Command } from 'commander';
import { loadModel } from '../context';
import { embedImageFiles, expandImageInputs, positiveInt } from '../inputs';
import { EXIT, toJson, UsageError } from '../output';

export function registerClassify(program: Command): void {
  program
    .command('classify')
    .description('zero-shot classification of images over labels')
    .argument('<images...>', 'image files, directories or globs')
    .requiredOption('--labels <list>', 'comma-separated class names, e.g. cat,dog,bird')
    .option('--template <text...>', 'prompt template(s) with {} for the label', ['a photo of a {}.'])
    .option('--top <n>', 'labels to show per image (default 3, or all when fewer)')
    .option('--skip-errors', 'leave out images that cannot be read or decoded (listed; exit 3) instead of failing')
    .option('--model <dir>', 'model bundle (default: the bundled demo model)')
    .option('--json', 'print JSON')
    .action(
      async (
        inputs: string[],
        options: {
          labels: string;
          template: string[];
          top?: string;
          model?: string;
          json?: boolean;
          skipErrors?: boolean;
        },
      ) => {
        const labels = options.labels
          .split(',')
          .map((l) => l.trim())
          .filter((l) => l.length > 0);
        if (labels.length < 2) throw new UsageError('--labels needs at least two comma-separated labels');
        for (const t of options.template)
          if (!t.includes('{}')) throw new UsageError(`--template '${t}' has no {} for the label`);
        const top =
          options.top === undefined ? Math.min(3, labels.length) : positiveInt('--top', options.top, labels.length);
        const { files, unreadable } = await expandImageInputs(inputs);
        if (unreadable.length > 0) throw new UsageError(`cannot read ${unreadable[0]!.path}: ${unreadable[0]!.reason}`);
        const model = await loadModel(options.model);
        try {
          const { embeddings, files: kept, skipped } = await embedImageFiles(model, files, options.skipErrors === true);
          if (skipped.length > 0) process.exitCode = EXIT.partial;
          const results = kept.length
            ? await model.classify(embeddings, labels, { templates: options.template, topK: top })
            : [];
          if (options.json) {
            const out = kept.map((file, i) => ({ file, labels: results[i] }));
            process.stdout.write(`${toJson(options.skipErrors ? { results: out, skipped } : out)}\n`);
            return;
          }
          for (const s of skipped) process.stderr.write(`skipped ${s.path}: ${s.reason}\n`);
          kept.forEach((file, i) => {
            const best = results[i]!;
            process.stdout.write(`${file}\n`);
            for (const r of best)
              process.stdout.write(
                `  ${(r.probability * 100).toFixed(1).padStart(5)}%  ${r.label}  (cos ${r.similarity.toFixed(4)})\n`,
              );
          });
        } finally {
          model.dispose();
        }
      },
    );
}
