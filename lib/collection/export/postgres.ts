// Export of a local collection into a PostgreSQL collection: the same items, vectors and metadata,
// copied with COPY a batch (one transaction) at a time. Incremental: an item whose content hash the
// target holds already is skipped, so a later run copies only what was added since (and a run cut
// short resumes where it stopped). Removals are not propagated; ids are the target's own.
import { checkBoolean, checkFunction, checkInteger, checkOptions, checkPath, guarded } from '../../checks';
import { CrossmodalError, invalidArgument } from '../../errors';
import { PostgresCollection } from '../postgres/collection';
import type { NewItem } from '../store';
import type { CollectionModel } from '../types';
import { openLocalSource } from './local';

export interface PostgresExportOptions {
  /** Target table name (default `crossmodal`). */
  collection?: string;
  /** Target schema (default `public`). */
  schema?: string;
  /** A new target stores `halfvec` (16-bit floats). */
  halfvec?: boolean;
  /** Items per transaction (default 1000). */
  batchSize?: number;
  onProgress?: (progress: { done: number; total: number; added: number; present: number }) => void;
}

export interface PostgresExportResult {
  /** Items in the local collection. */
  total: number;
  /** Items copied by this run. */
  added: number;
  /** Items the target held already (by content hash). */
  present: number;
  /** `schema.table` of the target. */
  table: string;
}

/**
 * Copies the local collection in `dir` into the PostgreSQL collection at `url` (created with the
 * local collection's model fingerprint, dimension and metric; an existing one must match them).
 * @throws {CrossmodalError} `ERR_INVALID_ARGUMENT`, `ERR_LOCKED`, `ERR_MODEL_MISMATCH`, `ERR_STORE_UNAVAILABLE`, `ERR_STORE`
 */
export async function exportToPostgres(
  dir: string,
  url: string,
  options?: PostgresExportOptions,
): Promise<PostgresExportResult> {
  return guarded(() => copyToPostgres(dir, url, options));
}

async function copyToPostgres(
  dir: string,
  url: string,
  rawOptions: PostgresExportOptions | undefined,
): Promise<PostgresExportResult> {
  checkPath(dir, 'dir');
  if (typeof url !== 'string' || !/^postgres(ql)?:\/\//i.test(url))
    throw invalidArgument(
      `the target must be a postgres:// or postgresql:// URL, got ${typeof url === 'string' ? JSON.stringify(url) : typeof url}`,
    );
  const options = checkOptions(rawOptions);
  checkInteger(options.batchSize, 'options.batchSize', [1, 2 ** 31 - 1]);
  checkBoolean(options.halfvec, 'options.halfvec');
  checkFunction(options.onProgress, 'options.onProgress');
  for (const key of ['collection', 'schema'] as const)
    if (options[key] !== undefined && (typeof options[key] !== 'string' || options[key] === ''))
      throw invalidArgument(`options.${key} must be a non-empty string`);
  const batchSize = options.batchSize ?? 1000;
  const source = await openLocalSource(dir);
  try {
    // The vectors are copied, never computed: a model that cannot embed, bound by the fingerprint.
    const unavailable = (): Promise<never> =>
      Promise.reject(new CrossmodalError('ERR_INVALID_ARGUMENT', 'an export copies vectors; it embeds nothing'));
    const model: CollectionModel = {
      fingerprint: source.fingerprint,
      dim: source.dim,
      embedTexts: unavailable,
      embedImages: unavailable,
    };
    const target = await PostgresCollection.open(
      url,
      {
        model,
        collection: options.collection,
        schema: options.schema,
        index: { metric: source.metric },
        halfvec: options.halfvec,
      },
      source.fingerprint,
    );
    let done = 0,
      added = 0,
      present = 0;
    try {
      for await (const batch of source.batches(batchSize)) {
        const items: NewItem[] = batch.items.map((item) => ({
          kind: item.kind,
          source: item.source,
          hash: item.hash,
          width: item.width,
          height: item.height,
          metadata: JSON.stringify(item.metadata),
          addedAt: item.addedAt.getTime(),
        }));
        const r = await target.importItems(items, batch.vectors);
        done += items.length;
        added += r.added;
        present += r.present;
        options.onProgress?.({ done, total: source.count, added, present });
      }
    } finally {
      await target.close();
    }
    return { total: done, added, present, table: target.table };
  } finally {
    await source.close();
  }
}
