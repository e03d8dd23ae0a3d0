/** `crossmodal classify <image…> --labels a,b,c`: zero-shot classification with prompt templates. */
import type { Command } from 'commander';
import { loadModel } from '../context';
import { expandImageInputs, positiveInt } from '../inputs';
import { toJson, UsageError } from '../output';

export function registerClassify(program: Command): void {
  program
    .command('classify')
    .description('zero-shot classification of images over labels')
    .argument('<images...>', 'image files, directories or globs')
    .requiredOption('--labels <list>', 'comma-separated class names, e.g. cat,dog,bird')
    .option('--template <text...>', 'prompt template(s) with {} for the label', ['a photo of a {}.'])
    .option('--top <n>', 'labels to show per image', '3')
    .option('--model <dir>', 'model bundle (default: the bundled demo model)')
    .option('--json', 'print JSON')
    .action(
      async (
        inputs: string[],
        options: { labels: string; template: string[]; top: string; model?: string; json?: boolean },
      ) => {
        const labels = options.labels
          .split(',')
          .map((l) => l.trim())
          .filter((l) => l.length > 0);
        if (labels.length < 2) throw new UsageError('--labels needs at least two comma-separated labels');
        for (const t of options.template)
          if (!t.includes('{}')) throw new UsageError(`--template '${t}' has no {} for the label`);
        const top = positiveInt('--top', options.top, labels.length);
        const { files, unreadable } = await expandImageInputs(inputs);
        if (unreadable.length > 0) throw new UsageError(`cannot read ${unreadable[0]!.path}: ${unreadable[0]!.reason}`);
        const model = await loadModel(options.model);
        try {
          const results = await model.classify(files, labels, { templates: options.template, topK: top });
          if (options.json) {
            process.stdout.write(`${toJson(files.map((file, i) => ({ file, labels: results[i] })))}\n`);
            return;
          }
          files.forEach((file, i) => {
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
