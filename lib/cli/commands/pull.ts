/** `crossmodal pull org/name`: download a model bundle from the Hugging Face hub into the shared cache. */
import { Option, type Command } from 'commander';
import { pullSnapshot, type PullPrecision } from '../../hub';
import { progress, toJson, UsageError, type Progress } from '../output';

interface PullCommandOptions {
  revision: string;
  precision?: PullPrecision;
  timeout?: string;
  json?: boolean;
}

export function registerPull(program: Command): void {
  program
    .command('pull')
    .description(
      'download a model bundle (configs, tokenizer, one precision of the ONNX towers) from the Hugging Face hub; prints its directory',
    )
    .argument('<model>', 'model id, e.g. Xenova/clip-vit-base-patch32')
    .option('--revision <rev>', 'branch, tag or commit', 'main')
    .addOption(
      new Option('--precision <precision>', 'ONNX variant to download (default: fp32, else int8, fp16)').choices([
        'fp32',
        'fp16',
        'int8',
        'q4',
      ]),
    )
    .option(
      '--timeout <seconds>',
      'give up on a server that sends nothing for this long (default: $HF_HUB_DOWNLOAD_TIMEOUT, else 10)',
    )
    .option('--json', 'print JSON (commit, files, bytes downloaded)')
    .addHelpText(
      'after',
      `
Then use it as --model <model> in the other commands, or load(resolveModel('<model>')) in code.
Environment: HF_ENDPOINT (default https://huggingface.co), HF_TOKEN (private or gated models),
HF_HUB_CACHE / HF_HOME (the cache, shared with Python's huggingface_hub), HF_HUB_OFFLINE=1 (cache only).
An interrupted download resumes when the command is run again.`,
    )
    .action(async (model: string, options: PullCommandOptions) => {
      let timeoutMs: number | undefined;
      if (options.timeout !== undefined) {
        const seconds = Number(options.timeout);
        if (options.timeout.trim() === '' || !Number.isFinite(seconds) || seconds <= 0) {
          throw new UsageError(`--timeout must be a positive number of seconds (got '${options.timeout}')`);
        }
        timeoutMs = seconds * 1000;
      }
      const controller = new AbortController();
      const onSignal = (): void => controller.abort();
      process.once('SIGINT', onSignal);
      let bar: Progress | undefined;
      try {
        const result = await pullSnapshot(model, {
          revision: options.revision,
          precision: options.precision,
          timeoutMs,
          signal: controller.signal,
          onProgress(p) {
            // Kilobytes, so the bar's count and rate read as kB and kB/s.
            bar ??= progress(`downloading ${p.fileCount} files (kB)`, Math.max(1, Math.ceil(p.totalBytes / 1024)), {
              quiet: options.json,
            });
            bar.update(Math.min(Math.floor(p.bytes / 1024), Math.ceil(p.totalBytes / 1024)));
          },
        });
        bar?.stop();
        bar = undefined;
        if (options.json) {
          process.stdout.write(`${toJson(result)}\n`);
          return;
        }
        if (result.downloadedFiles.length === 0) {
          process.stderr.write(
            `${result.repoId}@${result.revision} (${result.commit.slice(0, 12)}, ${result.precision}) is up to date in the cache\n`,
          );
        } else {
          process.stderr.write(
            `pulled ${result.repoId}@${result.revision} (${result.commit.slice(0, 12)}, ${result.precision}): ${result.downloadedFiles.length} files, ${(result.downloadedBytes / 1e6).toFixed(1)} MB\n`,
          );
        }
        process.stdout.write(`${result.dir}\n`);
      } finally {
        bar?.stop();
        process.off('SIGINT', onSignal);
      }
    });
}
