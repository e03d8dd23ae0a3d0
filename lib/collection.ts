/**
 * Collections: an on-disk set of embedded images and texts bound to one model, with a FAISS index
 * and a SQLite metadata store kept in step.
 *
 * Crash safety. SQLite (WAL mode, synchronous=FULL) is the source of truth: each ingested batch is
 * one transaction that inserts the items — with their vectors — and appends one journal row per
 * change (`changes`: seq, op, id), so a batch is either fully committed or absent. The FAISS index
 * is a cache of that table: it is updated in memory after each commit and written as a snapshot
 * (atomically: temp file, fsync, rename) by `checkpoint()`, `close()` and every
 * `checkpointEvery` batches, after which `index_seq` records which journal entry the snapshot
 * includes and older journal rows are deleted. Opening loads the snapshot and replays the journal
 * entries after `index_seq` (idempotently: re-adding is an upsert, re-removing is a no-op); a
 * missing or refused snapshot is rebuilt from the stored vectors. A kill at any point therefore
 * reopens to an index that holds exactly the committed items.
 *
 * Exclusivity. An open collection holds an flock on `<dir>/LOCK` (native DirectoryLock) from
 * before any other file is touched until `close()` has written the last snapshot and closed the
 * database. A second opener, in another process or this one, fails with ERR_LOCKED instead of
 * writing beside the first. The kernel drops the lock when the holder dies, so a killed process
 * leaves nothing stale behind.
 * @packageDocumentation
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { native, type NativeDirectoryLock } from './binding';
import { CrossmodalError, fromNative, invalidArgument } from './errors';
import { createIndex, loadIndex, toIdArray, type IndexOptions, type VectorIndex } from './search';
import type { Metric } from './types';

/** What a collection needs from a model: `load()`'s Model satisfies it. */
export interface CollectionModel {
  /** Identifies the weights; stored with the collection and checked on every open. */
  readonly fingerprint?: string;
  readonly dim: number;
  embedTexts(texts: string[]): Promise<{ data: Float32Array; dim: number }>;
  embedImages(images: (string | Uint8Array)[]): Promise<{ data: Float32Array; dim: number }>;
}

export interface OpenCollectionOptions {
  model: CollectionModel;
  /** Model fingerprint when `model.fingerprint` is absent. */
  fingerprint?: string;
  /** Index to build for a new collection (dim and metric come from the model; metric defaults to cosine). */
  index?: Omit<IndexOptions, 'dim'>;
  /** The collection was built with another model: re-embed every item with this one (needs the sources). */
  reembed?: boolean;
  /** Write an index snapshot every this many batches (default 16). Between snapshots the journal covers the gap. */
  checkpointEvery?: number;
}

/** Metadata predicate: equality on fields, or `{ $in, $ne, $gt, $gte, $lt, $lte }`. Keys name fields of the user metadata JSON, or the columns `kind`, `source`, `width`, `height`, `addedAt`. */
export type Where = Record<string, unknown>;

export interface AddOptions {
  /** Items per encoder batch / transaction (default 32). */
  batchSize?: number;
  /** Called after each committed batch. */
  onProgress?: (progress: { done: number; total: number; added: number; duplicates: number }) => void;
}

export interface AddResult {
  /** Id of each input, in order (an existing id for a duplicate). */
  ids: bigint[];
  added: number;
  duplicates: number;
}

export interface CollectionItem {
  id: bigint;
  kind: 'image' | 'text' | 'vector';
  /** File path, text, or caller-supplied key. */
  source: string | null;
  hash: string;
  width: number | null;
  height: number | null;
  metadata: Record<string, unknown>;
  addedAt: Date;
}

export interface CollectionHit extends CollectionItem {
  score: number;
}

export interface CollectionSearchOptions {
  /** Hits to return (default 10). */
  k?: number;
  /** Metadata filter, executed inside FAISS as an id allow-list. */
  where?: Where;
  efSearch?: number;
  nprobe?: number;
}

export interface CollectionStats {
  count: number;
  images: number;
  texts: number;
  vectors: number;
  dim: number;
  metric: Metric;
  fingerprint: string;
  index: { type: string; description: string; size: number; tombstones: number };
  /** Journal entries not yet in the index snapshot. */
  pendingChanges: number;
  bytesOnDisk: number;
}

// The subset of better-sqlite3 used here (its typings are a separate package).
interface Statement {
  run(...params: unknown[]): { changes: number; lastInsertRowid: number | bigint };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  safeIntegers(on?: boolean): Statement;
}
interface Database {
  prepare(sql: string): Statement;
  exec(sql: string): void;
  pragma(sql: string): unknown;
  transaction<F extends (...args: never[]) => unknown>(fn: F): F;
  close(): void;
}
type DatabaseConstructor = new (file: string) => Database;

const FORMAT = '1';

function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Width and height from a PNG, JPEG, GIF or WebP header (null when unknown). */
export function imageSize(b: Uint8Array): { width: number; height: number } | null {
  const u16be = (o: number): number => ((b[o] as number) << 8) | (b[o + 1] as number);
  const u16le = (o: number): number => (b[o] as number) | ((b[o + 1] as number) << 8);
  if (b.length > 24 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) {
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    return { width: v.getUint32(16), height: v.getUint32(20) };
  }
  if (b.length > 10 && b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46) return { width: u16le(6), height: u16le(8) };
  if (b.length > 30 && b[0] === 0x52 && b[1] === 0x49 && b[8] === 0x57 && b[9] === 0x45) {
    const chunk = String.fromCharCode(b[12] as number, b[13] as number, b[14] as number, b[15] as number);
    if (chunk === 'VP8X') return { width: 1 + (u16le(24) | ((b[26] as number) << 16)), height: 1 + (u16le(27) | ((b[29] as number) << 16)) };
    if (chunk === 'VP8 ') return { width: u16le(26) & 0x3fff, height: u16le(28) & 0x3fff };
    if (chunk === 'VP8L') {
      const bits = (b[21] as number) | ((b[22] as number) << 8) | ((b[23] as number) << 16) | ((b[24] as number) << 24);
      return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
    }
  }
  if (b.length > 4 && b[0] === 0xff && b[1] === 0xd8) {
    let o = 2;
    while (o + 9 < b.length) {
      if (b[o] !== 0xff) return null;
      const marker = b[o + 1] as number;
      const len = u16be(o + 2);
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return { width: u16be(o + 7), height: u16be(o + 5) };
      }
      o += 2 + len;
    }
  }
  return null;
}

const COLUMNS: Record<string, string> = { kind: 'kind', source: 'source', width: 'width', height: 'height', addedAt: 'added_at', id: 'id' };

/** Translates a `where` object into SQL over the items table. */
function whereSql(where: Where): { sql: string; params: unknown[] } {
  if (where === null || typeof where !== 'object') throw invalidArgument('where must be an object');
  const parts: string[] = [];
  const params: unknown[] = [];
  for (const [key, cond] of Object.entries(where)) {
    if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(key)) throw invalidArgument(`where: bad field name '${key}'`);
    const column = COLUMNS[key] ?? `json_extract(metadata, '$.${key}')`;
    const sqlValue = (v: unknown): unknown => {
      if (v instanceof Date) return v.getTime();
      if (typeof v === 'boolean') return v ? 1 : 0;
      if (typeof v === 'bigint') return v;
      if (v === null || typeof v === 'number' || typeof v === 'string') return v;
      throw invalidArgument(`where.${key}: unsupported value ${String(v)}`);
    };
    if (cond !== null && typeof cond === 'object' && !(cond instanceof Date)) {
      for (const [op, v] of Object.entries(cond as Record<string, unknown>)) {
        const ops: Record<string, string> = { $gt: '>', $gte: '>=', $lt: '<', $lte: '<=', $ne: 'IS NOT', $eq: 'IS' };
        if (op === '$in') {
          if (!Array.isArray(v) || v.length === 0) throw invalidArgument(`where.${key}.$in must be a non-empty array`);
          parts.push(`${column} IN (${v.map(() => '?').join(',')})`);
          params.push(...v.map(sqlValue));
        } else if (ops[op]) {
          parts.push(`${column} ${ops[op]} ?`);
          params.push(sqlValue(v));
        } else {
          throw invalidArgument(`where.${key}: unknown operator ${op}`);
        }
      }
    } else {
      parts.push(`${column} IS ?`);
      params.push(sqlValue(cond));
    }
  }
  return { sql: parts.length ? parts.join(' AND ') : '1', params };
}

interface ItemRow {
  id: number | bigint;
  kind: 'image' | 'text' | 'vector';
  source: string | null;
  hash: string;
  width: number | null;
  height: number | null;
  metadata: string;
  added_at: number;
}

function toItem(row: ItemRow): CollectionItem {
  return {
    id: BigInt(row.id),
    kind: row.kind,
    source: row.source,
    hash: row.hash,
    width: row.width,
    height: row.height,
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    addedAt: new Date(row.added_at),
  };
}

/**
 * The model fingerprint a collection records: `model.fingerprint`, else the explicit option.
 * Kept in one place so the lookup can change when models expose it everywhere.
 * @internal
 */
export function modelFingerprint(model: CollectionModel, explicit?: string): string {
  const fp = model.fingerprint ?? explicit;
  if (typeof fp !== 'string' || fp === '') {
    throw invalidArgument('the model has no fingerprint: pass { fingerprint } to openCollection');
  }
  return fp;
}

/** An open collection. Create or open one with {@link openCollection}. */
export class Collection {
  readonly dir: string;
  readonly dim: number;
  readonly fingerprint: string;
  #db: Database | undefined;
  #index: VectorIndex;
  #model: CollectionModel;
  #checkpointEvery: number;
  #batchesSinceCheckpoint = 0;
  #queue: Promise<unknown> = Promise.resolve();
  // Referenced for the collection's whole life: collecting the handle would release the lock.
  #lock: NativeDirectoryLock;

  /** @internal */
  constructor(dir: string, db: Database, index: VectorIndex, model: CollectionModel, fingerprint: string, checkpointEvery: number, lock: NativeDirectoryLock) {
    this.dir = dir;
    this.#lock = lock;
    this.#db = db;
    this.#index = index;
    this.#model = model;
    this.dim = index.dim;
    this.fingerprint = fingerprint;
    this.#checkpointEvery = checkpointEvery;
  }

  #live(): Database {
    if (!this.#db) throw new CrossmodalError('ERR_DISPOSED', 'the collection has been closed');
    return this.#db;
  }

  /** Writes serialise through one queue, so batches commit to SQLite and the index in the same order. */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Embeds and adds images (paths or encoded bytes). Inputs whose bytes are already in the
   * collection are not added again; their existing id is returned.
   * @param images - file paths or encoded image bytes
   * @param metadata - one object for all, or one per image
   * @param options - `batchSize`, `onProgress`
   * @throws {CrossmodalError} `ERR_IO`, image and model errors (the failing batch is not committed), `ERR_DISPOSED`
   * @example
   * await photos.addImages(['a.jpg', 'b.png'], { album: 'summer' }, { onProgress: (p) => console.log(p.done) });
   */
  async addImages(images: (string | Uint8Array)[], metadata?: Record<string, unknown> | Record<string, unknown>[], options: AddOptions = {}): Promise<AddResult> {
    if (!Array.isArray(images)) throw invalidArgument('images must be an array of paths or buffers');
    return this.#add('image', images, metadata, options, async (batch) => {
      const bytes = await Promise.all(batch.map(async (img) => (typeof img === 'string' ? new Uint8Array(await fs.promises.readFile(img).catch((e: Error) => {
        throw new CrossmodalError('ERR_IO', `cannot read ${img}: ${e.message}`, { cause: e });
      })) : img)));
      return batch.map((img, i) => {
        const b = bytes[i] as Uint8Array;
        const size = imageSize(b);
        return { source: typeof img === 'string' ? path.resolve(img) : null, hash: sha256(b), width: size?.width ?? null, height: size?.height ?? null, input: b };
      });
    }, (inputs) => this.#model.embedImages(inputs as Uint8Array[]));
  }

  /**
   * Embeds and adds texts. A text already in the collection is not added again.
   * @param texts - the texts
   * @param metadata - one object for all, or one per text
   * @param options - `batchSize`, `onProgress`
   * @throws {CrossmodalError} model errors (the failing batch is not committed), `ERR_DISPOSED`
   */
  async addTexts(texts: string[], metadata?: Record<string, unknown> | Record<string, unknown>[], options: AddOptions = {}): Promise<AddResult> {
    if (!Array.isArray(texts) || texts.some((t) => typeof t !== 'string')) throw invalidArgument('texts must be an array of strings');
    return this.#add('text', texts, metadata, options, async (batch) =>
      batch.map((t) => ({ source: t, hash: sha256(`text\0${t}`), width: null, height: null, input: t })),
      (inputs) => this.#model.embedTexts(inputs as string[]));
  }

  async #add<T>(
    kind: 'image' | 'text',
    inputs: T[],
    metadata: Record<string, unknown> | Record<string, unknown>[] | undefined,
    options: AddOptions,
    describe: (batch: T[]) => Promise<{ source: string | null; hash: string; width: number | null; height: number | null; input: unknown }[]>,
    embed: (inputs: unknown[]) => Promise<{ data: Float32Array; dim: number }>,
  ): Promise<AddResult> {
    if (Array.isArray(metadata) && metadata.length !== inputs.length) throw invalidArgument('metadata must be one object, or one per input');
    const batchSize = options.batchSize ?? 32;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw invalidArgument('batchSize must be a positive integer');
    return this.#serial(async () => {
      const db = this.#live();
      const ids: bigint[] = [];
      let added = 0, duplicates = 0;
      const findHash = db.prepare('SELECT id FROM items WHERE hash = ?').safeIntegers(true);
      const insert = db.prepare('INSERT INTO items (kind, source, hash, width, height, metadata, added_at, vector) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
      const journal = db.prepare("INSERT INTO changes (op, id) VALUES ('add', ?)");
      for (let start = 0; start < inputs.length; start += batchSize) {
        const batch = inputs.slice(start, start + batchSize);
        const described = await describe(batch);
        // Duplicates: already stored, or repeated within this call.
        const fresh: number[] = [];
        const batchIds: (bigint | undefined)[] = described.map((d, i) => {
          const existing = findHash.get(d.hash) as { id: bigint } | undefined;
          if (existing) return existing.id;
          const earlier = described.findIndex((e, j) => j < i && e.hash === d.hash);
          if (earlier >= 0) return undefined;
          fresh.push(i);
          return undefined;
        });
        let vectors: Float32Array = new Float32Array(0);
        if (fresh.length > 0) {
          const emb = await embed(fresh.map((i) => described[i]!.input));
          if (emb.dim !== this.dim) throw new CrossmodalError('ERR_DIMENSION_MISMATCH', `the model produced ${emb.dim}-d vectors, the collection holds ${this.dim}-d`);
          vectors = emb.data;
        }
        const now = Date.now();
        const newIds: bigint[] = [];
        db.transaction(() => {
          fresh.forEach((i, j) => {
            const d = described[i]!;
            const meta = Array.isArray(metadata) ? metadata[start + i] : metadata;
            const vec = vectors.subarray(j * this.dim, (j + 1) * this.dim);
            const info = insert.run(kind, d.source, d.hash, d.width, d.height, JSON.stringify(meta ?? {}), now,
              Buffer.from(vec.buffer, vec.byteOffset, vec.byteLength));
            const id = BigInt(info.lastInsertRowid);
            journal.run(id);
            newIds.push(id);
            batchIds[i] = id;
          });
        })();
        if (newIds.length > 0) await this.#index.add(vectors.subarray(0, newIds.length * this.dim), BigInt64Array.from(newIds));
        // In-call repeats resolve to the id their first occurrence got.
        described.forEach((d, i) => {
          if (batchIds[i] === undefined) batchIds[i] = batchIds[described.findIndex((e) => e.hash === d.hash)];
        });
        ids.push(...(batchIds as bigint[]));
        added += newIds.length;
        duplicates += batch.length - newIds.length;
        options.onProgress?.({ done: Math.min(start + batchSize, inputs.length), total: inputs.length, added, duplicates });
        if (++this.#batchesSinceCheckpoint >= this.#checkpointEvery) await this.#checkpoint();
      }
      return { ids, added, duplicates };
    });
  }

  /**
   * Adds precomputed vectors (e.g. from another process), with a caller-supplied key each.
   * @param vectors - `n × dim` floats
   * @param keys - one unique key per vector (stored as `source`; de-duplicated)
   * @param metadata - one object for all, or one per vector
   */
  async addVectors(vectors: Float32Array, keys: string[], metadata?: Record<string, unknown> | Record<string, unknown>[]): Promise<AddResult> {
    if (!(vectors instanceof Float32Array) || vectors.length !== keys.length * this.dim) throw invalidArgument('vectors must hold keys.length × dim floats');
    return this.#add('text', keys, metadata, { batchSize: Math.max(1, keys.length) }, async (batch) =>
      batch.map((k) => ({ source: k, hash: sha256(`key\0${k}`), width: null, height: null, input: k })),
      async (inputs) => {
        const data = new Float32Array(inputs.length * this.dim);
        inputs.forEach((k, j) => data.set(vectors.subarray(keys.indexOf(k as string) * this.dim, (keys.indexOf(k as string) + 1) * this.dim), j * this.dim));
        return { data, dim: this.dim };
      }).then((r) => {
        this.#live().prepare("UPDATE items SET kind = 'vector' WHERE id IN (SELECT value FROM json_each(?))").run(JSON.stringify(r.ids.map(Number)));
        return r;
      });
  }

  async #ids(where: Where | undefined): Promise<BigInt64Array | undefined> {
    if (where === undefined) return undefined;
    const { sql, params } = whereSql(where);
    const rows = this.#live().prepare(`SELECT id FROM items WHERE ${sql}`).safeIntegers(true).all(...params) as { id: bigint }[];
    return BigInt64Array.from(rows, (r) => r.id);
  }

  async #search(vector: { data: Float32Array; dim: number } | Float32Array, options: CollectionSearchOptions): Promise<CollectionHit[]> {
    const k = options.k ?? 10;
    if (!Number.isInteger(k) || k < 1) throw invalidArgument('k must be a positive integer');
    const allow = await this.#ids(options.where);
    if (allow && allow.length === 0) return [];
    const results = await this.#index.search(vector, k, { filter: allow ? { allow } : undefined, efSearch: options.efSearch, nprobe: options.nprobe });
    const hits = results.get(0);
    if (hits.length === 0) return [];
    const rows = this.#live().prepare('SELECT id, kind, source, hash, width, height, metadata, added_at FROM items WHERE id IN (SELECT value FROM json_each(?))')
      .safeIntegers(true).all(JSON.stringify(hits.map((h) => h.id.toString()))) as ItemRow[];
    const byId = new Map(rows.map((r) => [BigInt(r.id), r]));
    return hits.flatMap((h) => {
      const row = byId.get(h.id);
      if (!row) return [];
      return [{ ...toItem({ ...row, width: row.width === null ? null : Number(row.width), height: row.height === null ? null : Number(row.height), added_at: Number(row.added_at) }), score: h.score }];
    });
  }

  /**
   * Items nearest to a text.
   * @param query - the text
   * @param options - `k` (default 10), `where` metadata filter, `efSearch`, `nprobe`
   * @example
   * const hits = await photos.searchText('a dog on a beach', { k: 5, where: { album: 'summer' } });
   */
  async searchText(query: string, options: CollectionSearchOptions = {}): Promise<CollectionHit[]> {
    if (typeof query !== 'string') throw invalidArgument('query must be a string');
    return this.#search(await this.#model.embedTexts([query]), options);
  }

  /** Items nearest to an image (path or bytes). @param image - the image @param options - as {@link Collection.searchText} */
  async searchImage(image: string | Uint8Array, options: CollectionSearchOptions = {}): Promise<CollectionHit[]> {
    return this.#search(await this.#model.embedImages([image]), options);
  }

  /** Items nearest to a vector. @param vector - `dim` floats @param options - as {@link Collection.searchText} */
  async searchVector(vector: Float32Array, options: CollectionSearchOptions = {}): Promise<CollectionHit[]> {
    if (!(vector instanceof Float32Array) || vector.length !== this.dim) throw new CrossmodalError('ERR_DIMENSION_MISMATCH', `vector must be a Float32Array of ${this.dim} values`);
    return this.#search(vector, options);
  }

  /** One item, or null. @param id - its id */
  async get(id: number | bigint): Promise<CollectionItem | null> {
    const row = this.#live().prepare('SELECT id, kind, source, hash, width, height, metadata, added_at FROM items WHERE id = ?').get(BigInt(id)) as ItemRow | undefined;
    return row ? toItem(row) : null;
  }

  /** Ids of the items matching a filter. @param where - metadata filter */
  async find(where: Where = {}): Promise<bigint[]> {
    return Array.from((await this.#ids(where)) ?? []);
  }

  /**
   * Removes items (from the table and the index, atomically with respect to crashes).
   * @param ids - item ids
   * @returns how many were removed
   */
  async remove(ids: (number | bigint)[] | BigInt64Array): Promise<number> {
    const idArray = toIdArray(ids);
    return this.#serial(async () => {
      const db = this.#live();
      const del = db.prepare('DELETE FROM items WHERE id = ?');
      const journal = db.prepare("INSERT INTO changes (op, id) VALUES ('remove', ?)");
      let removed = 0;
      db.transaction(() => {
        for (const id of idArray) {
          if (del.run(id).changes > 0) {
            journal.run(id);
            removed++;
          }
        }
      })();
      await this.#index.remove(idArray);
      return removed;
    });
  }

  /**
   * Replaces (or with `merge`, merges into) an item's metadata.
   * @param id - item id
   * @param metadata - new metadata
   * @returns false when the id does not exist
   */
  async updateMetadata(id: number | bigint, metadata: Record<string, unknown>, options: { merge?: boolean } = {}): Promise<boolean> {
    if (metadata === null || typeof metadata !== 'object') throw invalidArgument('metadata must be an object');
    return this.#serial(async () => {
      const db = this.#live();
      const sql = options.merge ? 'UPDATE items SET metadata = json_patch(metadata, ?) WHERE id = ?' : 'UPDATE items SET metadata = ? WHERE id = ?';
      return db.prepare(sql).run(JSON.stringify(metadata), BigInt(id)).changes > 0;
    });
  }

  /**
   * Rebuilds the index from the stored vectors (drops tombstones, re-trains IVF) and snapshots it.
   * @returns the number of items
   */
  async compact(): Promise<number> {
    return this.#serial(async () => {
      const db = this.#live();
      // The options the collection was created with: IVF picks nlist again for the current size.
      const spec = JSON.parse((db.prepare("SELECT value FROM meta WHERE key = 'index'").get() as { value: string }).value) as IndexOptions;
      const fresh = createIndex({ ...spec, dim: this.dim });
      await fillFromTable(db, fresh, this.dim);
      const old = this.#index;
      this.#index = fresh;
      old.dispose();
      await this.#checkpoint();
      return fresh.size;
    });
  }

  /** Writes an index snapshot and trims the journal. Called by `close()` and every `checkpointEvery` batches. */
  async checkpoint(): Promise<void> {
    return this.#serial(() => this.#checkpoint());
  }

  async #checkpoint(): Promise<void> {
    const db = this.#live();
    const seq = (db.prepare('SELECT COALESCE(MAX(seq), 0) AS s FROM changes').get() as { s: number }).s;
    await this.#index.save(path.join(this.dir, 'index.faiss'), { fingerprint: this.fingerprint });
    db.transaction(() => {
      db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('index_seq', ?)").run(String(seq));
      db.prepare('DELETE FROM changes WHERE seq <= ?').run(seq);
    })();
    this.#batchesSinceCheckpoint = 0;
  }

  /** Counts, model, index state. */
  async stats(): Promise<CollectionStats> {
    const db = this.#live();
    const counts = db.prepare("SELECT COUNT(*) AS n, SUM(kind = 'image') AS images, SUM(kind = 'text') AS texts, SUM(kind = 'vector') AS vectors FROM items").get() as Record<string, number | null>;
    const info = await this.#index.info();
    const pending = (db.prepare('SELECT COUNT(*) AS n FROM changes').get() as { n: number }).n;
    let bytes = 0;
    for (const f of fs.readdirSync(this.dir)) bytes += fs.statSync(path.join(this.dir, f)).size;
    return {
      count: counts.n ?? 0,
      images: counts.images ?? 0,
      texts: counts.texts ?? 0,
      vectors: counts.vectors ?? 0,
      dim: this.dim,
      metric: info.metric,
      fingerprint: this.fingerprint,
      index: { type: info.type, description: info.description, size: info.size, tombstones: info.tombstones },
      pendingChanges: pending,
      bytesOnDisk: bytes,
    };
  }

  /** Snapshots the index, closes the database and releases the directory lock. Idempotent. */
  async close(): Promise<void> {
    if (!this.#db) return;
    try {
      await this.checkpoint().catch(() => undefined);
      await this.#queue;
      this.#db?.close();
      this.#db = undefined;
      this.#index.dispose();
    } finally {
      // Last, so the next opener finds the snapshot written and the database closed.
      this.#lock.release();
    }
  }
}

async function fillFromTable(db: Database, index: VectorIndex, dim: number): Promise<void> {
  const chunk = 8192;
  let last = -1n;
  const select = db.prepare('SELECT id, vector FROM items WHERE id > ? ORDER BY id LIMIT ?').safeIntegers(true);
  for (;;) {
    const rows = select.all(last, chunk) as { id: bigint; vector: Buffer }[];
    if (rows.length === 0) break;
    const vectors = new Float32Array(rows.length * dim);
    rows.forEach((r, i) => vectors.set(new Float32Array(r.vector.buffer.slice(r.vector.byteOffset, r.vector.byteOffset + r.vector.byteLength)), i * dim));
    const ids = BigInt64Array.from(rows, (r) => r.id);
    // IVF trains on the first chunk: take a bigger first chunk when the table is large.
    await index.upsert(vectors, ids);
    last = (rows[rows.length - 1] as { id: bigint }).id;
  }
}

/** Takes `root`'s exclusive lock; ERR_LOCKED names the holder's pid when it is readable. */
function lockCollection(root: string): NativeDirectoryLock {
  try {
    return new (native().DirectoryLock)(root, 'collection');
  } catch (error) {
    throw fromNative(error);
  }
}

function loadSqlite(): DatabaseConstructor {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('better-sqlite3') as DatabaseConstructor;
  } catch (error) {
    throw new CrossmodalError('ERR_NATIVE_BINDING', `collections need the better-sqlite3 package: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Opens (or creates) a collection in `dir`, bound to `model` by its fingerprint.
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
export async function openCollection(dir: string, options: OpenCollectionOptions): Promise<Collection> {
  if (typeof dir !== 'string' || dir === '') throw invalidArgument('dir must be a non-empty string');
  if (!options || typeof options !== 'object' || !options.model) throw invalidArgument('openCollection needs { model }');
  const model = options.model;
  const fingerprint = modelFingerprint(model, options.fingerprint);
  const checkpointEvery = options.checkpointEvery ?? 16;
  const root = path.resolve(dir);
  fs.mkdirSync(root, { recursive: true });
  // Before any file in the directory is read or written: another opener may be writing them.
  const lock = lockCollection(root);
  let db: Database;
  // Declared out here so a failed open can free it (its vectors live in native memory).
  let index: VectorIndex | undefined;
  try {
    db = new (loadSqlite())(path.join(root, 'collection.db'));
  } catch (error) {
    lock.release();
    throw error;
  }
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec(`
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS items (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        source TEXT,
        hash TEXT NOT NULL UNIQUE,
        width INTEGER,
        height INTEGER,
        metadata TEXT NOT NULL DEFAULT '{}',
        added_at INTEGER NOT NULL,
        vector BLOB NOT NULL
      );
      CREATE TABLE IF NOT EXISTS changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, op TEXT NOT NULL, id INTEGER NOT NULL);
    `);
    const meta = (key: string): string | undefined => (db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value;
    const setMeta = db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
    const indexFile = path.join(root, 'index.faiss');
    // A snapshot interrupted before its rename leaves a temp file; the previous snapshot is intact.
    for (const f of fs.readdirSync(root)) if (f.startsWith('index.faiss.tmp-')) fs.rmSync(path.join(root, f), { force: true });

    if (meta('format') === undefined) {
      const spec = { ...(options.index ?? {}), dim: model.dim };
      db.transaction(() => {
        setMeta.run('format', FORMAT);
        setMeta.run('fingerprint', fingerprint);
        setMeta.run('dim', String(model.dim));
        setMeta.run('index', JSON.stringify(spec));
        setMeta.run('index_seq', '0');
      })();
    }
    if (meta('format') !== FORMAT) throw new CrossmodalError('ERR_INDEX_CORRUPT', `collection ${root} has format ${meta('format')}; this version reads ${FORMAT}`);
    const spec = JSON.parse(meta('index') as string) as IndexOptions;
    const storedFingerprint = meta('fingerprint') as string;
    const storedDim = Number(meta('dim'));

    if (storedFingerprint !== fingerprint || storedDim !== model.dim) {
      if (!options.reembed) {
        throw new CrossmodalError('ERR_MODEL_MISMATCH',
          `collection ${root} was built with model ${storedFingerprint} (${storedDim}-d); this model is ${fingerprint} (${model.dim}-d). ` +
          'Open it with { reembed: true } to re-embed every item with the new model.');
      }
      await reembedAll(db, model, { ...spec, dim: model.dim });
      db.transaction(() => {
        setMeta.run('fingerprint', fingerprint);
        setMeta.run('dim', String(model.dim));
        setMeta.run('index', JSON.stringify({ ...spec, dim: model.dim }));
        setMeta.run('index_seq', '-1');
      })();
      fs.rmSync(indexFile, { force: true });
    }

    const dim = model.dim;
    const indexSeq = Number(meta('index_seq') ?? '-1');
    if (indexSeq >= 0 && fs.existsSync(indexFile)) {
      try {
        index = await loadIndex(indexFile, { fingerprint, dim });
      } catch (error) {
        if (!(error instanceof CrossmodalError) || !['ERR_INDEX_CORRUPT', 'ERR_INDEX_MISMATCH'].includes(error.code)) throw error;
        index = undefined; // rebuilt from the table below
      }
    }
    if (index) {
      // Replay the journal past the snapshot, in order; both operations are idempotent.
      const changes = db.prepare('SELECT seq, op, id FROM changes WHERE seq > ? ORDER BY seq').safeIntegers(true).all(indexSeq) as { op: string; id: bigint }[];
      const vectorOf = db.prepare('SELECT vector FROM items WHERE id = ?').safeIntegers(true);
      for (const c of changes) {
        if (c.op === 'remove') {
          await index.remove([c.id]);
        } else {
          const row = vectorOf.get(c.id) as { vector: Buffer } | undefined;
          if (!row) continue; // removed later in the journal
          const v = new Float32Array(row.vector.buffer.slice(row.vector.byteOffset, row.vector.byteOffset + row.vector.byteLength));
          await index.upsert(v, [c.id]);
        }
      }
      // Items the snapshot holds but the table no longer does (a removal journalled and trimmed
      // by a snapshot that was then lost) cannot exist: snapshots are written before trimming.
      const count = (db.prepare('SELECT COUNT(*) AS n FROM items').get() as { n: number }).n;
      if (index.size !== count) {
        index.dispose();
        index = undefined;
      }
    }
    if (!index) {
      index = createIndex({ ...spec, dim });
      await fillFromTable(db, index, dim);
    }
    const collection = new Collection(root, db, index, model, fingerprint, checkpointEvery, lock);
    return collection;
  } catch (error) {
    index?.dispose();
    try {
      db.close();
    } finally {
      lock.release();
    }
    throw error;
  }
}

async function reembedAll(db: Database, model: CollectionModel, spec: IndexOptions): Promise<void> {
  const rows = db.prepare('SELECT id, kind, source FROM items ORDER BY id').safeIntegers(true).all() as { id: bigint; kind: string; source: string | null }[];
  const missing = rows.filter((r) => r.kind === 'vector' || r.source === null || (r.kind === 'image' && !fs.existsSync(r.source)));
  if (missing.length > 0) {
    throw new CrossmodalError('ERR_MODEL_MISMATCH', `cannot re-embed ${missing.length} item(s) whose source is not available (e.g. id ${missing[0]!.id}: added from a buffer or as a vector)`);
  }
  const update = db.prepare('UPDATE items SET vector = ? WHERE id = ?');
  const updates: [Buffer, bigint][] = [];
  for (let i = 0; i < rows.length; i += 32) {
    const batch = rows.slice(i, i + 32);
    for (const kind of ['image', 'text'] as const) {
      const part = batch.filter((r) => r.kind === kind);
      if (part.length === 0) continue;
      const emb = kind === 'image' ? await model.embedImages(part.map((r) => r.source as string)) : await model.embedTexts(part.map((r) => r.source as string));
      if (emb.dim !== spec.dim) throw new CrossmodalError('ERR_DIMENSION_MISMATCH', `the model produced ${emb.dim}-d vectors`);
      part.forEach((r, j) => updates.push([Buffer.from(emb.data.slice(j * spec.dim, (j + 1) * spec.dim).buffer), r.id]));
    }
  }
  // One transaction: a crash during re-embedding leaves the old model's collection intact.
  db.transaction(() => {
    for (const [vector, id] of updates) update.run(vector, id);
    db.prepare('DELETE FROM changes').run();
  })();
}
