// A collection in PostgreSQL with pgvector: the same API as the local Collection, but the database
// holds everything, including the search index (HNSW). Any number of processes on any number of
// machines may open one collection at once: ingest is idempotent by content hash (a unique
// column), each batch is one transaction, and every search is one query in the database, so
// there is no local index to keep in step and nothing to lock.
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type * as Pg from 'pg';
import type { Pool, PoolClient, QueryResultRow } from 'pg';
import { checkBoolean, checkOptions, guardClass } from '../../checks';
import { CrossmodalError, invalidArgument } from '../../errors';
import { checkImageInput, checkVectors, metadataJson } from '../arguments';
import { toIdArray } from '../../search';
import type { Metric } from '../../types';
import { checkAdd, imageSource, ingest, textSource, vectorSource, type IngestSource, type Metadata } from '../ingest';
import type { ItemKind, NewItem } from '../store';
import type {
  AddOptions,
  AddResult,
  CollectionApi,
  CollectionHit,
  CollectionItem,
  CollectionModel,
  CollectionSearchOptions,
  CollectionStats,
  PostgresCollectionOptions,
} from '../types';
import { parseWhere, type Filter, type Where } from '../where';
import { storeError } from './errors';
import { METRICS, migrations, relations, vectorType, whereSql, type Relations, type SchemaSpec } from './sql';

/** The layout version this code writes and reads (the number of migrations). */
const SCHEMA_VERSION = 1;
/** One advisory lock serialises every crossmodal migration in a database (its key: 'crossmodal' in ASCII). */
const MIGRATION_LOCK = 0x63726f73736d;

interface ItemRow {
  id: string;
  kind: ItemKind;
  source: string | null;
  hash: string;
  width: number | null;
  height: number | null;
  metadata: Record<string, unknown>;
  added_at: Date;
}

const ITEM_COLUMNS = 'id, kind, source, hash, width, height, metadata, added_at';

function itemId(id: number | bigint): bigint {
  if (typeof id === 'bigint' && BigInt.asIntN(64, id) === id) return id;
  if (Number.isSafeInteger(id)) return BigInt(id);
  throw invalidArgument('id must be a 64-bit bigint or a safe integer');
}

function toItem(row: ItemRow): CollectionItem {
  return {
    id: BigInt(row.id),
    kind: row.kind,
    source: row.source,
    hash: row.hash,
    width: row.width,
    height: row.height,
    metadata: row.metadata,
    addedAt: row.added_at,
  };
}

/** pgvector's text form of a vector: `[x,y,…]` (what the `pgvector` package's toSql writes). */
function vectorLiteral(v: Float32Array): string {
  return JSON.stringify(Array.from(v));
}

/** RFC 7386 JSON merge patch, as SQLite's json_patch applies it for local collections. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    target !== null && typeof target === 'object' && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

function positiveInteger(value: unknown, name: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > max)
    throw invalidArgument(`${name} must be an integer in [1, ${max}]`);
  return value as number;
}

/** The session's staging table of ingest (temporary: private to the connection). */
const STAGING = 'crossmodal_staging';

/** COPY's text format: \N for null; backslash, tab, newline and carriage return escaped. */
function copyField(value: string | number | null): string {
  if (value === null) return '\\N';
  if (typeof value === 'number') return String(value);
  return value.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c] as string);
}
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** The rows of a batch in COPY's text format, about 64 KiB per chunk. */
function* copyRows(items: NewItem[], vectors: Float32Array, dim: number): Generator<string> {
  let chunk = '';
  for (let j = 0; j < items.length; j++) {
    const item = items[j] as NewItem;
    chunk +=
      [
        item.kind,
        copyField(item.source),
        item.hash,
        copyField(item.width),
        copyField(item.height),
        copyField(item.metadata),
        new Date(item.addedAt).toISOString(),
        vectorLiteral(vectors.subarray(j * dim, (j + 1) * dim)),
      ].join('\t') + '\n';
    if (chunk.length >= 65536) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk.length > 0) yield chunk;
}

/** `from` of pg-copy-streams: a Writable that a pg client runs as `COPY … FROM STDIN`. */
type CopyFrom = (sql: string) => Writable & Pg.Submittable;

/** Loads pg-copy-streams (a dependency, needed only by PostgreSQL collections). */
function loadCopyFrom(): CopyFrom {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('pg-copy-streams') as { from: CopyFrom }).from;
  } catch (error) {
    throw new CrossmodalError(
      'ERR_RUNTIME_UNAVAILABLE',
      'PostgreSQL collections need the `pg-copy-streams` package: npm install pg-copy-streams',
      { cause: error },
    );
  }
}

/** Loads node-postgres, an optional peer dependency. */
function loadPg(): typeof Pg {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('pg') as typeof Pg;
  } catch (error) {
    throw new CrossmodalError(
      'ERR_RUNTIME_UNAVAILABLE',
      'PostgreSQL collections need the `pg` package: npm install pg',
      { cause: error },
    );
  }
}

/** An open PostgreSQL collection. Create or open one with `openCollection('postgres://…', { model })`. */
export class PostgresCollection implements CollectionApi {
  readonly dim: number;
  readonly fingerprint: string;
  readonly metric: Metric;
  /** `schema.table` of the items. */
  readonly table: string;
  #pool: Pool | undefined;
  #closing: Promise<void> | undefined;
  #model: CollectionModel;
  #relations: Relations;
  #spec: SchemaSpec;
  #efSearch: number;
  #maxScanTuples: number;

  private constructor(
    pool: Pool,
    model: CollectionModel,
    fingerprint: string,
    r: Relations,
    spec: SchemaSpec,
    efSearch: number,
    maxScanTuples: number,
  ) {
    this.#pool = pool;
    this.#model = model;
    this.fingerprint = fingerprint;
    this.#relations = r;
    this.#spec = spec;
    this.dim = spec.dim;
    this.metric = spec.metric;
    this.table = r.itemsRegclass;
    this.#efSearch = efSearch;
    this.#maxScanTuples = maxScanTuples;
  }

  /**
   * Connects, creates the collection's tables on first use (migrations under an advisory lock)
   * and checks the model binding.
   * @internal Use openCollection.
   */
  static async open(
    connectionString: string,
    options: PostgresCollectionOptions,
    fingerprint: string,
  ): Promise<PostgresCollection> {
    const model = options.model;
    const r = relations(options.schema ?? 'public', options.collection ?? 'crossmodal');
    const metric = options.index?.metric ?? 'cosine';
    if (!(metric in METRICS)) throw invalidArgument(`metric must be cosine, ip or l2, got ${String(metric)}`);
    if (options.halfvec !== undefined && typeof options.halfvec !== 'boolean')
      throw invalidArgument('halfvec must be a boolean');
    // pgvector's limits: HNSW indexes vectors up to 2000 dimensions, halfvec up to 4000.
    const maxDim = options.halfvec ? 4000 : 2000;
    if (!Number.isInteger(model.dim) || model.dim < 1 || model.dim > maxDim)
      throw invalidArgument(`the model's dim must be an integer in [1, ${maxDim}] for a pgvector HNSW index`);
    const requested: SchemaSpec = {
      dim: model.dim,
      metric,
      halfvec: options.halfvec ?? false,
      m: positiveInteger(options.m, 'm', 16, 100),
      efConstruction: positiveInteger(options.efConstruction, 'efConstruction', 64, 1000),
    };
    const efSearch = positiveInteger(options.efSearch, 'efSearch', 40, 1000);
    const poolSize = positiveInteger(options.poolSize, 'poolSize', 10, 1000);
    // pgvector's default; its own bounds are [1, 2^31 − 1].
    const maxScanTuples = positiveInteger(options.maxScanTuples, 'maxScanTuples', 20000, 2147483647);
    const pg = loadPg();
    const pool = new pg.Pool({ connectionString, max: poolSize });
    // An idle pooled connection that the server drops (restart, idle timeout) is reported here;
    // without a listener it would crash the process. The pool discards it; the next query reconnects.
    pool.on('error', () => undefined);
    try {
      const meta = await migrate(pool, r, requested, fingerprint);
      const stored: SchemaSpec = {
        dim: Number(meta.dim),
        metric: meta.metric as Metric,
        halfvec: meta.halfvec === 'true',
        m: Number(meta.m),
        efConstruction: Number(meta.ef_construction),
      };
      if (meta.fingerprint !== fingerprint || stored.dim !== model.dim) {
        throw new CrossmodalError(
          'ERR_MODEL_MISMATCH',
          `collection ${r.itemsRegclass} was built with model ${meta.fingerprint} (${stored.dim}-d); this model is ${fingerprint} (${model.dim}-d). ` +
            'Re-embedding is not supported for PostgreSQL collections: use another collection name.',
        );
      }
      return new PostgresCollection(pool, model, fingerprint, r, stored, efSearch, maxScanTuples);
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw storeError(error, 'opening the collection');
    }
  }

  #live(): Pool {
    if (!this.#pool || this.#closing) throw new CrossmodalError('ERR_DISPOSED', 'the collection has been closed');
    return this.#pool;
  }

  async #query<R extends QueryResultRow>(during: string, sql: string, params: unknown[] = []): Promise<R[]> {
    const pool = this.#live();
    try {
      return (await pool.query<R>(sql, params)).rows;
    } catch (error) {
      throw storeError(error, during);
    }
  }

  /** Runs `fn` in one transaction on one pooled connection; rolls back on error. */
  async #transaction<T>(during: string, fn: (client: PoolClient) => Promise<T>): Promise<T> {
    const pool = this.#live();
    let client: PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw storeError(error, during);
    }
    let broken = false;
    // A checked-out client reports a dead socket as an 'error' event (besides failing the query
    // in flight); without a listener that event would be an uncaught exception.
    const onError = (): void => {
      broken = true;
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true; // the connection is gone: do not return it to the pool
      }
      throw storeError(error, during);
    } finally {
      client.removeListener('error', onError);
      client.release(broken);
    }
  }

  /**
   * Embeds and adds images (paths or encoded bytes); inputs whose bytes are already stored (by
   * any process) return the existing id.
   * @throws {CrossmodalError} `ERR_IO`, image and model errors, `ERR_STORE_UNAVAILABLE`, `ERR_STORE`, `ERR_DISPOSED`
   */
  async addImages(images: (string | Uint8Array)[], metadata?: Metadata, options?: AddOptions): Promise<AddResult> {
    return this.#add(imageSource(images, this.#model), metadata, options, 32);
  }

  /** Embeds and adds texts; a text already stored returns its existing id. */
  async addTexts(texts: string[], metadata?: Metadata, options?: AddOptions): Promise<AddResult> {
    return this.#add(textSource(texts, this.#model), metadata, options, 32);
  }

  /** Adds precomputed vectors with one unique key each (stored as `source`; de-duplicated). */
  async addVectors(
    vectors: Float32Array,
    keys: string[],
    metadata?: Metadata,
    options?: AddOptions,
  ): Promise<AddResult> {
    return this.#add(vectorSource(vectors, keys, this.dim), metadata, options, 1000);
  }

  /**
   * The shared ingest loop (../ingest.ts) over this database: per batch, the stored hashes are
   * looked up, the new inputs embedded in this process and inserted in one transaction
   * (`ON CONFLICT (hash) DO NOTHING`: an item another process inserted meanwhile keeps its id).
   */
  async #add<T>(
    source: IngestSource<T>,
    metadata: Metadata,
    addOptions: AddOptions | undefined,
    defaultBatch: number,
  ): Promise<AddResult> {
    const { batchSize, options, metadata: metadataJsons } = checkAdd(source.total, metadata, addOptions, defaultBatch);
    this.#live();
    return ingest(
      source,
      {
        dim: this.dim,
        lookup: (hashes) => this.#idsByHash(hashes),
        insert: (items, vectors) => this.#insert(items, vectors),
      },
      metadataJsons,
      options,
      batchSize,
    );
  }

  async #idsByHash(hashes: string[]): Promise<Map<string, bigint>> {
    const rows = await this.#query<{ id: string; hash: string }>(
      'looking up content hashes',
      `SELECT id, hash FROM ${this.#relations.items} WHERE hash = ANY($1::text[])`,
      [hashes],
    );
    return new Map(rows.map((row) => [row.hash, BigInt(row.id)]));
  }

  /**
   * Copies items with their vectors as they are (kind, source, hash, metadata, time added): what
   * an export from a local collection writes. Items whose hash is stored already are skipped, so
   * a repeated export adds only what is new. One transaction.
   * @internal
   * @returns how many were inserted and how many were there already
   */
  async importItems(items: NewItem[], vectors: Float32Array): Promise<{ added: number; present: number }> {
    this.#live();
    if (vectors.length !== items.length * this.dim)
      throw invalidArgument('vectors must hold items.length × dim floats');
    const stored = await this.#idsByHash(items.map((item) => item.hash));
    const keep: number[] = [];
    items.forEach((item, i) => {
      if (!stored.has(item.hash)) keep.push(i);
    });
    if (keep.length === 0) return { added: 0, present: items.length };
    const dim = this.dim;
    const subset = new Float32Array(keep.length * dim);
    keep.forEach((i, j) => subset.set(vectors.subarray(i * dim, (i + 1) * dim), j * dim));
    const { added } = await this.#insert(
      keep.map((i) => items[i] as NewItem),
      subset,
    );
    return { added: added.size, present: items.length - added.size };
  }

  /**
   * One batch in one transaction: COPY the rows into this session's staging table, then move
   * them into the items table with `ON CONFLICT (hash) DO NOTHING`. COPY streams the rows as
   * one text payload the server parses row by row, instead of one bound array per column that
   * it must parse whole before the INSERT starts. Returns the ids the batch inserted and those
   * another writer had inserted first.
   */
  async #insert(
    items: NewItem[],
    vectors: Float32Array,
  ): Promise<{ added: Map<string, bigint>; existing: Map<string, bigint> }> {
    const copyFrom = loadCopyFrom();
    const r = this.#relations;
    return this.#transaction('inserting a batch', async (client) => {
      // Per session, once: ON COMMIT DELETE ROWS empties it at the end of every transaction, so
      // a batch never sees another's rows and no temporary table is created per batch.
      await client.query(
        `CREATE TEMPORARY TABLE IF NOT EXISTS ${STAGING} (kind text, source text, hash text, width integer,
           height integer, metadata jsonb, added_at timestamptz, embedding ${vectorType(this.#spec)}) ON COMMIT DELETE ROWS`,
      );
      const copy = client.query(
        copyFrom(`COPY ${STAGING} (kind, source, hash, width, height, metadata, added_at, embedding) FROM STDIN`),
      );
      await pipeline(Readable.from(copyRows(items, vectors, this.dim)), copy);
      // Hash order: concurrent writers wait for each other's unique-index entries in one global
      // order, so overlapping batches cannot deadlock. DISTINCT ON: a row repeated within one
      // staging load (not produced by the ingest loop, which de-duplicates) would otherwise
      // make ON CONFLICT fail with "cannot affect row a second time".
      const inserted = await client.query<{ id: string; hash: string }>(
        `INSERT INTO ${r.items} (kind, source, hash, width, height, metadata, embedding, added_at)
         SELECT DISTINCT ON (hash) kind, source, hash, width, height, metadata, embedding, added_at
         FROM ${STAGING} ORDER BY hash
         ON CONFLICT (hash) DO NOTHING
         RETURNING id, hash`,
      );
      const added = new Map(inserted.rows.map((row) => [row.hash, BigInt(row.id)]));
      const missing = items.filter((x) => !added.has(x.hash)).map((x) => x.hash);
      const existing = new Map<string, bigint>();
      if (missing.length > 0) {
        // Another writer committed these first (the conflict waited for its commit); a new statement sees them.
        const found = await client.query<{ id: string; hash: string }>(
          `SELECT id, hash FROM ${r.items} WHERE hash = ANY($1::text[])`,
          [missing],
        );
        for (const row of found.rows) existing.set(row.hash, BigInt(row.id));
      }
      return { added, existing };
    });
  }

  /** Checks the search options before anything is embedded; returns the parsed filter. */
  #checkSearch(options: CollectionSearchOptions): Filter | undefined {
    if (options === null || typeof options !== 'object') throw invalidArgument('options must be an object');
    const k = options.k ?? 10;
    if (!Number.isInteger(k) || k < 1) throw invalidArgument('k must be a positive integer');
    if (
      options.efSearch !== undefined &&
      (!Number.isInteger(options.efSearch) || options.efSearch < 1 || options.efSearch > 1000)
    )
      throw invalidArgument('efSearch must be an integer in [1, 1000]');
    this.#live();
    return options.where === undefined ? undefined : parseWhere(options.where);
  }

  /**
   * One HNSW query in the database. `hnsw.iterative_scan = relaxed_order` lets pgvector keep
   * scanning the graph until `k` rows pass the filter (it stops at `hnsw.max_scan_tuples`);
   * relaxed order can return rows slightly out of order, so the outer query sorts them again.
   */
  async #search(
    vector: Float32Array,
    filter: Filter | undefined,
    options: CollectionSearchOptions,
  ): Promise<CollectionHit[]> {
    const k = options.k ?? 10;
    const { operator, score } = METRICS[this.metric];
    const type = this.#spec.halfvec ? 'halfvec' : 'vector';
    const where = whereSql(filter ?? [], 3);
    const efSearch = Math.min(1000, Math.max(options.efSearch ?? this.#efSearch, k));
    const rows = await this.#transaction('searching', async (client) => {
      await client.query(
        `SELECT set_config('hnsw.ef_search', $1, true), set_config('hnsw.iterative_scan', 'relaxed_order', true),
                set_config('hnsw.max_scan_tuples', $2, true)`,
        [String(efSearch), String(this.#maxScanTuples)],
      );
      const result = await client.query<ItemRow & { distance: number }>(
        `WITH nearest AS MATERIALIZED (
           SELECT ${ITEM_COLUMNS}, embedding ${operator} $1::${type} AS distance
           FROM ${this.#relations.items} WHERE ${where.sql}
           ORDER BY embedding ${operator} $1::${type} LIMIT $2
         ) SELECT * FROM nearest ORDER BY distance`,
        [vectorLiteral(vector), k, ...where.params],
      );
      return result.rows;
    });
    return rows.map((row) => ({ ...toItem(row), score: score(row.distance) }));
  }

  /** Items nearest to a text. @param options - `k` (default 10), `where`, `efSearch` (HNSW candidate list) */
  async searchText(query: string, options?: CollectionSearchOptions): Promise<CollectionHit[]> {
    if (typeof query !== 'string') throw invalidArgument('query must be a string');
    options = checkOptions(options);
    const filter = this.#checkSearch(options);
    return this.#search((await this.#model.embedTexts([query])).data, filter, options);
  }

  /** Items nearest to an image (path or bytes). */
  async searchImage(image: string | Uint8Array, options?: CollectionSearchOptions): Promise<CollectionHit[]> {
    checkImageInput(image, 'image');
    options = checkOptions(options);
    const filter = this.#checkSearch(options);
    return this.#search((await this.#model.embedImages([image])).data, filter, options);
  }

  /** Items nearest to a vector of `dim` floats. */
  async searchVector(vector: Float32Array, options?: CollectionSearchOptions): Promise<CollectionHit[]> {
    if (!(vector instanceof Float32Array) || vector.length !== this.dim)
      throw new CrossmodalError('ERR_DIMENSION_MISMATCH', `vector must be a Float32Array of ${this.dim} values`);
    checkVectors(vector, 1, this.dim, 'vector');
    options = checkOptions(options);
    return this.#search(vector, this.#checkSearch(options), options);
  }

  /** One item, or null. */
  async get(id: number | bigint): Promise<CollectionItem | null> {
    const key = itemId(id);
    const rows = await this.#query<ItemRow>(
      'reading an item',
      `SELECT ${ITEM_COLUMNS} FROM ${this.#relations.items} WHERE id = $1`,
      [key.toString()],
    );
    return rows[0] ? toItem(rows[0]) : null;
  }

  /** Ids of the items matching a filter, in id order. */
  async find(where?: Where): Promise<bigint[]> {
    const sql = whereSql(parseWhere(where === undefined ? {} : where), 1);
    const rows = await this.#query<{ id: string }>(
      'filtering',
      `SELECT id FROM ${this.#relations.items} WHERE ${sql.sql} ORDER BY id`,
      sql.params,
    );
    return rows.map((row) => BigInt(row.id));
  }

  /** Removes items; returns how many existed. */
  async remove(ids: (number | bigint)[] | BigInt64Array): Promise<number> {
    const idArray = toIdArray(ids);
    const rows = await this.#query<{ id: string }>(
      'removing items',
      `DELETE FROM ${this.#relations.items} WHERE id = ANY($1::bigint[]) RETURNING id`,
      [Array.from(idArray, (id) => id.toString())],
    );
    return rows.length;
  }

  /** Replaces (or with `merge`, JSON-merge-patches) an item's metadata; false when the id does not exist. */
  async updateMetadata(
    id: number | bigint,
    metadata: Record<string, unknown>,
    options?: { merge?: boolean },
  ): Promise<boolean> {
    const key = itemId(id).toString();
    const json = metadataJson(metadata, 'metadata');
    const { merge } = checkOptions(options);
    checkBoolean(merge, 'options.merge');
    const items = this.#relations.items;
    if (merge !== true) {
      const rows = await this.#query(
        'updating metadata',
        `UPDATE ${items} SET metadata = $2::jsonb WHERE id = $1 RETURNING id`,
        [key, json],
      );
      return rows.length > 0;
    }
    // The row lock makes concurrent merges into one item apply one after the other.
    return this.#transaction('updating metadata', async (client) => {
      const current = await client.query<{ metadata: unknown }>(
        `SELECT metadata FROM ${items} WHERE id = $1 FOR UPDATE`,
        [key],
      );
      if (current.rows.length === 0) return false;
      await client.query(`UPDATE ${items} SET metadata = $2::jsonb WHERE id = $1`, [
        key,
        JSON.stringify(mergePatch(current.rows[0]?.metadata, metadata)),
      ]);
      return true;
    });
  }

  /** Counts, model and index settings; `bytesOnDisk` is the table's size with its indexes and TOAST. */
  async stats(): Promise<CollectionStats> {
    const [row] = await this.#query<{ count: string; images: string; texts: string; vectors: string; bytes: string }>(
      'reading statistics',
      `SELECT count(*) AS count, count(*) FILTER (WHERE kind = 'image') AS images, count(*) FILTER (WHERE kind = 'text') AS texts,
              count(*) FILTER (WHERE kind = 'vector') AS vectors, pg_total_relation_size($1::regclass) AS bytes
       FROM ${this.#relations.items}`,
      [this.#relations.itemsRegclass],
    );
    const count = Number(row?.count ?? 0);
    const spec = this.#spec;
    return {
      count,
      images: Number(row?.images ?? 0),
      texts: Number(row?.texts ?? 0),
      vectors: Number(row?.vectors ?? 0),
      dim: this.dim,
      metric: this.metric,
      fingerprint: this.fingerprint,
      index: {
        type: 'hnsw',
        description: `pgvector HNSW on ${vectorType(spec)} (${this.metric}, m=${spec.m}, ef_construction=${spec.efConstruction})`,
        size: count,
        tombstones: 0,
      },
      pendingChanges: 0,
      bytesOnDisk: Number(row?.bytes ?? 0),
    };
  }

  /** PostgreSQL maintains the HNSW index itself (VACUUM reclaims removed rows): returns the item count. */
  async compact(): Promise<number> {
    return (await this.stats()).count;
  }

  /** Every batch is committed when its add call's promise settles: nothing to snapshot. */
  async checkpoint(): Promise<void> {
    this.#live();
  }

  /** Closes the connection pool (after queries in flight). Idempotent; other calls then reject with ERR_DISPOSED. */
  async close(): Promise<void> {
    this.#closing ??= (async () => {
      const pool = this.#pool;
      this.#pool = undefined;
      await pool?.end().catch(() => undefined);
    })();
    return this.#closing;
  }
}

/** Creates or upgrades the collection's tables; returns its meta. Runs in one transaction under an advisory lock. */
async function migrate(
  pool: Pool,
  r: Relations,
  spec: SchemaSpec,
  fingerprint: string,
): Promise<Record<string, string>> {
  const client = await pool.connect();
  let broken = false;
  const onError = (): void => {
    broken = true;
  };
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    const schema = r.schema.slice(1, -1);
    const ext = await client.query(`SELECT 1 FROM pg_extension WHERE extname = 'vector'`);
    if (ext.rows.length === 0) await client.query('CREATE EXTENSION vector');
    const ns = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    if (ns.rows.length === 0) await client.query(`CREATE SCHEMA ${r.schema}`);
    // Created only when missing: CREATE ... IF NOT EXISTS would need the CREATE privilege even
    // when the table exists, and a role that may only read and write must still open collections.
    const hasMigrations = await client.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [r.migrations]);
    if (hasMigrations.rows[0]?.t === null) {
      await client.query(
        `CREATE TABLE ${r.migrations} (collection text NOT NULL, version integer NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (collection, version))`,
      );
    }
    const name = r.itemsRegclass;
    const done = await client.query<{ version: number | null }>(
      `SELECT max(version) AS version FROM ${r.migrations} WHERE collection = $1`,
      [name],
    );
    const version = done.rows[0]?.version ?? 0;
    if (version > SCHEMA_VERSION)
      throw new CrossmodalError(
        'ERR_STORE',
        `PostgreSQL collection ${name} has schema version ${version}; this version of crossmodal reads ${SCHEMA_VERSION}`,
      );
    if (version === 0) {
      const clash = await client.query<{ t: string | null; m: string | null }>(
        'SELECT to_regclass($1) AS t, to_regclass($2) AS m',
        [name, r.meta],
      );
      if (clash.rows[0]?.t !== null || clash.rows[0]?.m !== null)
        throw new CrossmodalError(
          'ERR_STORE',
          `PostgreSQL table ${name} (or its _meta table) exists but is not a crossmodal collection`,
        );
    }
    const steps = migrations(r, spec);
    for (let v = version + 1; v <= SCHEMA_VERSION; v++) {
      for (const statement of steps[v - 1] as string[]) await client.query(statement);
      await client.query(`INSERT INTO ${r.migrations} (collection, version) VALUES ($1, $2)`, [name, v]);
    }
    if (version === 0) {
      const meta: Record<string, string> = {
        fingerprint,
        dim: String(spec.dim),
        metric: spec.metric,
        halfvec: String(spec.halfvec),
        m: String(spec.m),
        ef_construction: String(spec.efConstruction),
      };
      await client.query(`INSERT INTO ${r.meta} (key, value) SELECT * FROM unnest($1::text[], $2::text[])`, [
        Object.keys(meta),
        Object.values(meta),
      ]);
    }
    const rows = await client.query<{ key: string; value: string }>(`SELECT key, value FROM ${r.meta}`);
    await client.query('COMMIT');
    return Object.fromEntries(rows.rows.map((row) => [row.key, row.value]));
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {
      broken = true;
    });
    throw error;
  } finally {
    client.removeListener('error', onError);
    client.release(broken);
  }
}

// Every method and getter throws or rejects with CrossmodalErrors only.
guardClass(PostgresCollection);
