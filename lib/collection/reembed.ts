// Re-embedding a collection with another model: every item's vector is computed again from its
// source (a file path or a text), which items added from buffers or as vectors do not have.
import * as fs from 'node:fs';
import { CrossmodalError } from '../errors';
import type { CollectionStore } from './store';
import type { CollectionModel } from './types';

/** Items embedded per model call. */
const BATCH = 32;

/**
 * Computes every item's vector with `model` and stores them with `meta` in one transaction (a
 * crash while re-embedding leaves the old model's collection intact); the journal is emptied.
 * @throws {CrossmodalError} `ERR_MODEL_MISMATCH` when some item's source is not available,
 *   `ERR_DIMENSION_MISMATCH`, and the model's errors
 */
export async function reembedAll(
  store: CollectionStore,
  model: CollectionModel,
  meta: Record<string, string>,
): Promise<void> {
  const rows = await store.sources();
  const missing = rows.filter(
    (r) => r.kind === 'vector' || r.source === null || (r.kind === 'image' && !fs.existsSync(r.source)),
  );
  if (missing.length > 0) {
    throw new CrossmodalError(
      'ERR_MODEL_MISMATCH',
      `cannot re-embed ${missing.length} item(s) whose source is not available (e.g. id ${missing[0]!.id}: added from a buffer or as a vector)`,
    );
  }
  const dim = model.dim;
  const ids = new BigInt64Array(rows.length);
  const vectors = new Float32Array(rows.length * dim);
  let filled = 0;
  for (let i = 0; i < rows.length; i += BATCH) {
    const batch = rows.slice(i, i + BATCH);
    for (const kind of ['image', 'text'] as const) {
      const part = batch.filter((r) => r.kind === kind);
      if (part.length === 0) continue;
      const sources = part.map((r) => r.source as string);
      const embedded = kind === 'image' ? await model.embedImages(sources) : await model.embedTexts(sources);
      if (embedded.dim !== dim)
        throw new CrossmodalError('ERR_DIMENSION_MISMATCH', `the model produced ${embedded.dim}-d vectors`);
      part.forEach((r, j) => {
        ids[filled] = r.id;
        vectors.set(embedded.data.subarray(j * dim, (j + 1) * dim), filled * dim);
        filled++;
      });
    }
  }
  await store.replaceVectors(ids, vectors, meta);
}
