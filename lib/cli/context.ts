/** What several commands share: resolving the model, and remembering which model built a collection. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openCollection, type Collection } from '../collection/index';
import { looksLikeRepoId, resolveModel } from '../hub';
import { demoModelDir, load, type Model } from '../model';
import { UsageError } from './output';

/** Written beside a collection by `crossmodal index`, so `search` can reopen it with the same model. */
const CLI_STATE = 'crossmodal-cli.json';

/** `--model`: a bundle directory, else `org/name` pulled before (resolved from the Hugging Face cache), else the demo model. */
export async function loadModel(modelOption: string | undefined): Promise<Model> {
  if (modelOption && !fs.existsSync(modelOption) && looksLikeRepoId(modelOption)) {
    return load(resolveModel(modelOption), { warmup: false });
  }
  return load(modelOption ? path.resolve(modelOption) : demoModelDir, { warmup: false });
}

/** The model recorded for a collection by `index`, if any. */
export function rememberedModel(collectionDir: string): string | undefined {
  try {
    const state = JSON.parse(fs.readFileSync(path.join(collectionDir, CLI_STATE), 'utf8')) as { model?: unknown };
    return typeof state.model === 'string' ? state.model : undefined;
  } catch {
    return undefined;
  }
}

export function rememberModel(collectionDir: string, modelDir: string): void {
  const file = path.join(collectionDir, CLI_STATE);
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, JSON.stringify({ model: modelDir }, null, 2));
  fs.renameSync(temp, file);
}

/** Opens an existing collection with the model given, or else the one `index` recorded. */
export async function openExistingCollection(
  dir: string,
  modelOption: string | undefined,
): Promise<{ collection: Collection; model: Model }> {
  const full = path.resolve(dir);
  if (!fs.existsSync(path.join(full, 'collection.db'))) {
    throw new UsageError(`${dir} is not a collection`, 'create one with `crossmodal index <images…> --collection DIR`');
  }
  const model = await loadModel(modelOption ?? rememberedModel(full));
  try {
    return { collection: await openCollection(full, { model }), model };
  } catch (error) {
    model.dispose();
    throw error;
  }
}
