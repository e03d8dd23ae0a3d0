// Opening a collection: the directory lock, the store, the model binding (fingerprint, re-embedding)
// and the index, loaded from its snapshot and brought up to date, or rebuilt.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { native, type NativeDirectoryLock } from '../binding';
import { checkBoolean, checkInteger, checkPath, guarded, toJson } from '../checks';
import { CrossmodalError, fromNative, invalidArgument } from '../errors';
import { createIndex, loadIndex, type VectorIndex } from '../search';
import { Collection, INDEX_FILE } from './collection';
import { fillFromStore, readIndexSpec, replayJournal } from './index-sync';
import { reembedAll } from './reembed';
import { PostgresCollection } from './postgres/collection';
import { SqliteStore } from './sqlite/store';
import type { CollectionStore } from './store';
import type { CollectionModel, OpenCollectionOptions, PostgresCollectionOptions } from './types';

/** A PostgreSQL connection URL: `openCollection` opens a PostgresCollection for it. */
export type PostgresUrl = `postgres://${string}` | `postgresql://${string}`;

function isPostgresUrl(target: string): boolean {
  return /^postgres(ql)?:\/\//i.test(target);
}

/** The on-disk format this version reads and writes (meta `format`). */
const FORMAT = '1';

/**
 * The model fingerprint a collection records: `model.fingerprint`, else the explicit option.
 * Kept in one place so the lookup can change when models expose it everywhere.
 * @internal
 */
export function modelFingerprint(model: CollectionModel, explicit?: string): string {
  if (explicit !== undefined && (typeof explicit !== 'string' || explicit === ''))
    throw invalidArgument('options.fingerprint must be a non-empty string');
  const fp = model.fingerprint ?? explicit;
  if (typeof fp !== 'string' || fp === '') {
    throw invalidArgument('the model has no fingerprint: pass { fingerprint } to openCollection');
  }
  return fp;
}

/**
 * Takes `root`'s exclusive lock; ERR_LOCKED names the holder's pid when it is readable.
 * @internal Also taken by exports (./export), which read the store while no one writes it.
 */
export function lockCollection(root: string): NativeDirectoryLock {
  try {
    return new (native().DirectoryLock)(root, 'collection');
  } catch (error) {
    throw fromNative(error);
  }
}

/**
 * Opens (or creates) a collection in PostgreSQL with pgvector, bound to `model` by its
 * fingerprint. Several processes and machines may open one collection at once. See docs/postgres.md.
 * @param url - a `postgres://` / `postgresql://` connection URL
 * @param options - `model` (required), `collection` (table name), `schema`, and for a new
 *   collection `index.metric`, `halfvec`, `m`, `efConstruction`; `efSearch`, `poolSize`
 * @throws {CrossmodalError} `ERR_RUNTIME_UNAVAILABLE` (the optional `pg` package is missing),
 *   `ERR_STORE_UNAVAILABLE` (cannot connect), `ERR_STORE` (permission denied, tables not in this
 *   version's layout), `ERR_MODEL_MISMATCH`
 * @example
 * const photos = await openCollection('postgresql://app@db/photos', { model, collection: 'photos' });
 */
export async function openCollection(url: PostgresUrl, options: PostgresCollectionOptions): Promise<PostgresCollection>;
/** As above, with the store chosen explicitly: the connection is `options.connectionString`, else `target`. */
export async function openCollection(
  target: string,
  options: PostgresCollectionOptions & { store: 'postgres' },
): Promise<PostgresCollection>;
/**
 * Opens (or creates) a collection in `dir`, bound to `model` by its fingerprint. (A string that
 * is a `postgres://` URL at run time opens a PostgresCollection: see the overload above.)
 * @param dir - the collection directory (created if missing)
 * @param options - `model` (required), `index` options for a new collection, `reembed`, `checkpointEvery`
 * @throws {CrossmodalError} `ERR_LOCKED` (the collection is open in another process, or already
 *   open in this one), `ERR_MODEL_MISMATCH` (another model built it and `reembed` is not set),
 *   `ERR_DIMENSION_MISMATCH`, `ERR_IO`
 * @example
 * const photos = await openCollection('./photos', { model });
 * await photos.addImages(['cat.jpg']);
 * console.log(await photos.searchText('a cat', { k: 3 }));
 * await photos.close();
 */
export async function openCollection(dir: string, options: OpenCollectionOptions): Promise<Collection>;
export async function openCollection(
  target: string,
  options: OpenCollectionOptions | PostgresCollectionOptions,
): Promise<Collection | PostgresCollection> {
  return guarded(() => openAny(target, options));
}

/** The model interface a collection calls: checked at open, not at the first add. */
function checkModel(model: unknown): void {
  const m = model as Partial<CollectionModel> | null;
  if (m === null || typeof m !== 'object' || typeof m.embedTexts !== 'function' || typeof m.embedImages !== 'function')
    throw invalidArgument('options.model must be a model (load()) or an object with embedTexts, embedImages and dim');
  checkInteger(m.dim, 'model.dim', [1, 65536]);
  if (m.dim === undefined) throw invalidArgument('model.dim must be an integer in 1..65536');
}

async function openAny(
  target: string,
  options: OpenCollectionOptions | PostgresCollectionOptions,
): Promise<Collection | PostgresCollection> {
  if (
    typeof target !== 'string' ||
    (target === '' && (options as PostgresCollectionOptions | undefined)?.store !== 'postgres')
  )
    throw invalidArgument('dir must be a non-empty string');
  if (!options || typeof options !== 'object' || Array.isArray(options) || !options.model)
    throw invalidArgument(`openCollection needs { model }${options === null ? ' (got null)' : ''}`);
  checkModel(options.model);
  const storeOption = (options as { store?: unknown }).store;
  if (storeOption !== undefined && storeOption !== 'postgres' && storeOption !== 'sqlite')
    throw invalidArgument(`store must be 'sqlite' or 'postgres', got ${String(storeOption)}`);
  if (storeOption === 'postgres' || (storeOption === undefined && isPostgresUrl(target))) {
    const pgOptions = options as PostgresCollectionOptions;
    const connectionString = pgOptions.connectionString ?? target;
    if (typeof connectionString !== 'string') throw invalidArgument('connectionString must be a string');
    return PostgresCollection.open(connectionString, pgOptions, modelFingerprint(options.model, options.fingerprint));
  }
  return openLocalCollection(target, options as OpenCollectionOptions);
}

async function openLocalCollection(dir: string, options: OpenCollectionOptions): Promise<Collection> {
  const model = options.model;
  const fingerprint = modelFingerprint(model, options.fingerprint);
  const checkpointEvery = options.checkpointEvery ?? 16;
  checkInteger(checkpointEvery, 'options.checkpointEvery', [1, 2 ** 31 - 1]);
  checkBoolean(options.reembed, 'options.reembed');
  checkPath(dir, 'dir');
  if (
    options.index !== undefined &&
    (options.index === null || typeof options.index !== 'object' || Array.isArray(options.index))
  )
    throw invalidArgument('options.index must be an object');
  // What a new collection records as its index settings, checked as an index would check it (a
  // spec refused later would leave a collection that can never be opened).
  const newSpec = toJson({ ...(options.index ?? {}), dim: model.dim }, 'options.index');
  createIndex({ ...(options.index ?? {}), dim: model.dim }).dispose();
  const root = path.resolve(dir);
  fs.mkdirSync(root, { recursive: true });
  // Before any file in the directory is read or written: another opener may be writing them.
  const lock = lockCollection(root);
  let store: CollectionStore;
  try {
    store = await SqliteStore.open(root);
  } catch (error) {
    lock.release();
    throw error;
  }
  // Declared out here so a failed open can free it (its vectors live in native memory).
  let index: VectorIndex | undefined;
  try {
    const indexFile = path.join(root, INDEX_FILE);
    // A snapshot interrupted before its rename leaves a temp file; the previous snapshot is intact.
    for (const f of fs.readdirSync(root))
      if (f.startsWith(`${INDEX_FILE}.tmp-`)) fs.rmSync(path.join(root, f), { force: true });

    let meta = await store.readMeta();
    if (meta.format === undefined) {
      await store.writeMeta({
        format: FORMAT,
        fingerprint,
        dim: String(model.dim),
        index: newSpec,
        index_seq: '0',
      });
      meta = await store.readMeta();
    }
    if (meta.format !== FORMAT)
      throw new CrossmodalError(
        'ERR_INDEX_CORRUPT',
        `collection ${root} has format ${meta.format}; this version reads ${FORMAT}`,
      );
    const spec = readIndexSpec(meta);
    const storedFingerprint = meta.fingerprint as string;
    const storedDim = Number(meta.dim);

    if (storedFingerprint !== fingerprint || storedDim !== model.dim) {
      if (!options.reembed) {
        throw new CrossmodalError(
          'ERR_MODEL_MISMATCH',
          `collection ${root} was built with model ${storedFingerprint} (${storedDim}-d); this model is ${fingerprint} (${model.dim}-d). ` +
            'Open it with { reembed: true } to re-embed every item with the new model.',
        );
      }
      // index_seq -1: no snapshot matches the new vectors; the index is rebuilt below.
      await reembedAll(store, model, {
        fingerprint,
        dim: String(model.dim),
        index: JSON.stringify({ ...spec, dim: model.dim }),
        index_seq: '-1',
      });
      fs.rmSync(indexFile, { force: true });
      meta = await store.readMeta();
    }

    const dim = model.dim;
    const indexSeq = Number(meta.index_seq ?? '-1');
    if (!Number.isSafeInteger(indexSeq))
      throw new CrossmodalError('ERR_INDEX_CORRUPT', `collection ${root}: meta "index_seq" is not an integer`);
    if (indexSeq >= 0 && fs.existsSync(indexFile)) {
      try {
        index = await loadIndex(indexFile, { fingerprint, dim });
      } catch (error) {
        if (!(error instanceof CrossmodalError) || !['ERR_INDEX_CORRUPT', 'ERR_INDEX_MISMATCH'].includes(error.code))
          throw error;
        index = undefined; // rebuilt from the store below
      }
    }
    if (index) {
      await replayJournal(store, index, indexSeq);
      // Items the snapshot holds but the store no longer does (a removal journalled and trimmed
      // by a snapshot that was then lost) cannot exist: snapshots are written before trimming.
      // A size disagreement means something else went wrong: rebuild rather than trust it.
      if (index.size !== (await store.counts()).count) {
        index.dispose();
        index = undefined;
      }
    }
    if (!index) {
      index = createIndex({ ...spec, dim });
      await fillFromStore(store, index);
    }
    return new Collection(root, store, index, model, fingerprint, checkpointEvery, lock);
  } catch (error) {
    index?.dispose();
    try {
      await store.close();
    } finally {
      lock.release();
    }
    throw error;
  }
}
