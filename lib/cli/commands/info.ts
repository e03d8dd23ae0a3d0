/** `crossmodal info [path]`: what a model bundle, collection or index file is, and where it runs. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { loadIndex } from '../../search';
import { loadRuntime, nativeInfo } from '../../runtime';
import { loadModel, openExistingCollection } from '../context';
import { toJson, UsageError } from '../output';

export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('describe a model bundle, a collection or an index file (default: the bundled demo model)')
    .argument('[path]', 'bundle directory, collection directory or index file')
    .option('--model <dir>', 'model bundle, to open a collection')
    .option('--json', 'print JSON')
    .action(async (target: string | undefined, options: { model?: string; json?: boolean }) => {
      const runtime = await loadRuntime();
      const addon = nativeInfo();
      let what: Record<string, unknown>;
      if (target && fs.existsSync(path.join(target, 'collection.db'))) {
        const { collection, model } = await openExistingCollection(target, options.model);
        try {
          what = { collection: { dir: path.resolve(target), ...(await collection.stats()) }, model: model.info };
        } finally {
          await collection.close();
          model.dispose();
        }
      } else if (target && fs.existsSync(target) && fs.statSync(target).isFile()) {
        const index = await loadIndex(target);
        try {
          what = { index: { file: path.resolve(target), ...(await index.info()) } };
        } finally {
          index.dispose();
        }
      } else if (target && !fs.existsSync(target)) {
        throw new UsageError(`${target} does not exist`);
      } else {
        const model = await loadModel(target);
        what = { model: model.info };
        model.dispose();
      }
      const report = { ...what, runtime, addon };
      if (options.json) {
        process.stdout.write(`${toJson(report)}\n`);
        return;
      }
      process.stdout.write(`addon:   ${addon.path} (N-API ${addon.napiVersion})\n`);
      process.stdout.write(`runtime: ONNX Runtime ${runtime.version} from ${runtime.path}\n`);
      process.stdout.write(`${toJson(what)}\n`);
    });
}
