// The collection store over one SQLite database, synchronously (better-sqlite3). It runs on the
// store's worker thread (worker.ts), never on the event loop; store.ts is the asynchronous face.
import type { CollectionStore, ItemCounts, ItemSource, JournalEntries, NewItem, StoredVectors } from '../store';
import { JOURNAL_ADD, JOURNAL_REMOVE } from '../store';
import type { CollectionItem } from '../types';
import type { Filter } from '../where';
import { PRAGMAS, SCHEMA } from './schema';
import { whereSql } from './where-sql';

/** The store's operations, each returning its result directly instead of a promise. */
export type SyncStore = {
  [K in keyof CollectionStore]: (...args: Parameters<CollectionStore[K]>) => Awaited<ReturnType<CollectionStore[K]>>;
};

// The subset of better-sqlite3 used here (its typings are a separate package).
interface Statement {
  run(...params: unknown[]): { changes: number; lastInsertRowid: number | bigint };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  iterate(...params: unknown[]): IterableIterator<unknown>;
  pluck(on?: boolean): Statement;
  safeIntegers(on?: boolean): Statement;
}
interface Database {
  prepare(sql: string): Statement;
  exec(sql: string): void;
  pragma(sql: string): unknown;
  transaction<F extends (...args: never[]) => unknown>(fn: F): F;
  close(): void;
}
export type DatabaseConstructor = new (file: string) => Database;

interface ItemRow {
  id: bigint;
  kind: CollectionItem['kind'];
  source: string | null;
  hash: string;
  width: bigint | null;
  height: bigint | null;
  metadata: string;
  added_at: bigint;
}

const ITEM_COLUMNS = 'id, kind, source, hash, width, height, metadata, added_at';

/** An error the worker sends across as this crossmodal code (see errors.ts, toWireError). */
function coded(code: 'ERR_INDEX_CORRUPT' | 'ERR_STORE', message: string): Error {
  return Object.assign(new Error(`collection database: ${message}`), { code });
}

function parseMetadata(row: ItemRow): Record<string, unknown> {
  let metadata: unknown;
  try {
    metadata = JSON.parse(row.metadata);
  } catch {
    throw coded('ERR_INDEX_CORRUPT', `the metadata of item ${row.id} is not JSON`);
  }
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata))
    throw coded('ERR_INDEX_CORRUPT', `the metadata of item ${row.id} is not a JSON object`);
  return metadata as Record<string, unknown>;
}

function toItem(row: ItemRow): CollectionItem {
  return {
    id: row.id,
    kind: row.kind,
    source: row.source,
    hash: row.hash,
    width: row.width === null ? null : Number(row.width),
    height: row.height === null ? null : Number(row.height),
    metadata: parseMetadata(row),
    addedAt: new Date(Number(row.added_at)),
  };
}

/**
 * Vector blobs (float32, native byte order) of equal length into one fresh matrix. Rows of unequal
 * or partial length are damage, refused here: copied as they are, a short row would be zero-padded
 * by the next one's offset and a long one would overrun it.
 */
function matrix(blobs: Uint8Array[]): Float32Array {
  const rowBytes = blobs[0]?.byteLength ?? 0;
  for (const b of blobs)
    if (!(b instanceof Uint8Array) || b.byteLength !== rowBytes || rowBytes % 4 !== 0)
      throw coded('ERR_INDEX_CORRUPT', 'stored vectors have unequal or partial lengths');
  const out = new Float32Array((blobs.length * rowBytes) / 4);
  const bytes = new Uint8Array(out.buffer);
  blobs.forEach((blob, i) => bytes.set(blob, i * rowBytes));
  return out;
}

function blob(vectors: Float32Array, row: number, dim: number): Buffer {
  return Buffer.from(vectors.buffer, vectors.byteOffset + row * dim * 4, dim * 4);
}

/** The columns of each table of the layout (schema.ts), in order. */
const LAYOUT: Record<string, string[]> = {
  meta: ['key', 'value'],
  items: ['id', 'kind', 'source', 'hash', 'width', 'height', 'metadata', 'added_at', 'vector'],
  changes: ['seq', 'op', 'id'],
};

/**
 * Refuses a database that is not a collection's before anything is written to it: another
 * application's SQLite file named collection.db (its tables would otherwise get ours beside them,
 * or fail every statement later with "no such column"), or one whose tables differ from this
 * version's layout. An empty database is a new collection.
 */
function checkLayout(db: Database, file: string): void {
  const tables = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    .pluck()
    .all() as string[];
  if (tables.length === 0) return;
  const foreign = tables.filter((t) => !(t in LAYOUT));
  if (foreign.length > 0 || !tables.includes('meta'))
    throw coded(
      'ERR_STORE',
      `${file} is not a crossmodal collection (it holds the tables ${tables.join(', ')}); open another directory`,
    );
  for (const table of tables) {
    const columns = (db.prepare(`SELECT name FROM pragma_table_info('${table}')`).pluck().all() as string[]).join(',');
    if (columns !== (LAYOUT[table] as string[]).join(','))
      throw coded('ERR_STORE', `${file}: table ${table} is not in this version's layout (columns ${columns})`);
  }
}

export class SqliteDatabase implements SyncStore {
  #db: Database;
  // Prepared once: preparing parses and plans the SQL each time.
  #idByHash: Statement;
  #insert: Statement;
  #journal: Statement;
  #delete: Statement;
  #item: Statement;
  #vectorOf: Statement;

  constructor(Driver: DatabaseConstructor, file: string) {
    this.#db = new Driver(file);
    try {
      // Before the pragmas: switching to WAL rewrites the file header of a database that is not ours.
      checkLayout(this.#db, file);
      for (const pragma of PRAGMAS) this.#db.pragma(pragma);
      this.#db.exec(SCHEMA);
      this.#idByHash = this.#db.prepare('SELECT id FROM items WHERE hash = ?').pluck().safeIntegers(true);
      this.#insert = this.#db
        .prepare(
          'INSERT INTO items (kind, source, hash, width, height, metadata, added_at, vector) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        )
        .safeIntegers(true);
      this.#journal = this.#db.prepare('INSERT INTO changes (op, id) VALUES (?, ?)');
      this.#delete = this.#db.prepare('DELETE FROM items WHERE id = ?');
      this.#item = this.#db.prepare(`SELECT ${ITEM_COLUMNS} FROM items WHERE id = ?`).safeIntegers(true);
      this.#vectorOf = this.#db.prepare('SELECT vector FROM items WHERE id = ?').pluck();
    } catch (error) {
      this.#db.close();
      throw error;
    }
  }

  readMeta(): Record<string, string> {
    const rows = this.#db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[];
    return Object.fromEntries(rows.map((r) => [r.key, r.value]));
  }

  writeMeta(entries: Record<string, string>): void {
    const set = this.#db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
    this.#db.transaction(() => {
      for (const [key, value] of Object.entries(entries)) set.run(key, value);
    })();
  }

  idsByHash(hashes: string[]): (bigint | null)[] {
    return hashes.map((hash) => (this.#idByHash.get(hash) as bigint | undefined) ?? null);
  }

  insertItems(items: NewItem[], vectors: Float32Array): BigInt64Array {
    const dim = items.length > 0 ? vectors.length / items.length : 0;
    const ids = new BigInt64Array(items.length);
    this.#db.transaction(() => {
      items.forEach((item, i) => {
        const { lastInsertRowid } = this.#insert.run(
          item.kind,
          item.source,
          item.hash,
          item.width,
          item.height,
          item.metadata,
          item.addedAt,
          blob(vectors, i, dim),
        );
        ids[i] = BigInt(lastInsertRowid);
        this.#journal.run('add', ids[i]);
      });
    })();
    return ids;
  }

  removeItems(ids: BigInt64Array): number {
    let removed = 0;
    this.#db.transaction(() => {
      for (const id of ids) {
        if (this.#delete.run(id).changes > 0) {
          this.#journal.run('remove', id);
          removed++;
        }
      }
    })();
    return removed;
  }

  updateMetadata(id: bigint, metadata: string, merge: boolean): boolean {
    const sql = merge
      ? 'UPDATE items SET metadata = json_patch(metadata, ?) WHERE id = ?'
      : 'UPDATE items SET metadata = ? WHERE id = ?';
    return this.#db.prepare(sql).run(metadata, id).changes > 0;
  }

  items(ids: BigInt64Array): CollectionItem[] {
    const out: CollectionItem[] = [];
    for (const id of ids) {
      const row = this.#item.get(id) as ItemRow | undefined;
      if (row) out.push(toItem(row));
    }
    return out;
  }

  filterIds(filter: Filter): BigInt64Array {
    const { sql, params } = whereSql(filter);
    const ids = this.#db
      .prepare(`SELECT id FROM items WHERE ${sql}`)
      .pluck()
      .safeIntegers(true)
      .all(...params) as bigint[];
    return BigInt64Array.from(ids);
  }

  counts(): ItemCounts {
    const counts = this.#db
      .prepare(
        "SELECT COUNT(*) AS n, SUM(kind = 'image') AS images, SUM(kind = 'text') AS texts, SUM(kind = 'vector') AS vectors FROM items",
      )
      .get() as Record<string, number | null>;
    const pending = this.#db.prepare('SELECT COUNT(*) FROM changes').pluck().get() as number;
    return {
      count: counts.n ?? 0,
      images: counts.images ?? 0,
      texts: counts.texts ?? 0,
      vectors: counts.vectors ?? 0,
      pendingChanges: pending,
    };
  }

  scanVectors(afterId: bigint, limit: number): StoredVectors {
    const rows = this.#db
      .prepare('SELECT id, vector FROM items WHERE id > ? ORDER BY id LIMIT ?')
      .safeIntegers(true)
      .all(afterId, limit) as { id: bigint; vector: Buffer }[];
    return { ids: BigInt64Array.from(rows, (r) => r.id), vectors: matrix(rows.map((r) => r.vector)) };
  }

  vectorsOf(ids: BigInt64Array): StoredVectors {
    const found: bigint[] = [];
    const blobs: Buffer[] = [];
    for (const id of ids) {
      const vector = this.#vectorOf.get(id) as Buffer | undefined;
      if (vector === undefined) continue;
      found.push(id);
      blobs.push(vector);
    }
    return { ids: BigInt64Array.from(found), vectors: matrix(blobs) };
  }

  changesSince(seq: number): JournalEntries {
    const rows = this.#db
      .prepare('SELECT op, id FROM changes WHERE seq > ? ORDER BY seq')
      .safeIntegers(true)
      .all(seq) as { op: string; id: bigint }[];
    return {
      ops: Uint8Array.from(rows, (r) => (r.op === 'remove' ? JOURNAL_REMOVE : JOURNAL_ADD)),
      ids: BigInt64Array.from(rows, (r) => r.id),
    };
  }

  lastChangeSeq(): number {
    return this.#db.prepare('SELECT COALESCE(MAX(seq), 0) FROM changes').pluck().get() as number;
  }

  commitCheckpoint(seq: number): void {
    this.#db.transaction(() => {
      this.#db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('index_seq', ?)").run(String(seq));
      this.#db.prepare('DELETE FROM changes WHERE seq <= ?').run(seq);
    })();
  }

  sources(): ItemSource[] {
    const rows = this.#db
      .prepare('SELECT id, kind, source FROM items ORDER BY id')
      .safeIntegers(true)
      .all() as ItemSource[];
    return rows;
  }

  replaceVectors(ids: BigInt64Array, vectors: Float32Array, meta: Record<string, string>): void {
    const dim = ids.length > 0 ? vectors.length / ids.length : 0;
    const update = this.#db.prepare('UPDATE items SET vector = ? WHERE id = ?');
    // One transaction: a crash while re-embedding leaves the old model's collection intact.
    this.#db.transaction(() => {
      ids.forEach((id, i) => update.run(blob(vectors, i, dim), id));
      this.#db.prepare('DELETE FROM changes').run();
      this.writeMeta(meta);
    })();
  }

  close(): void {
    this.#db.close();
  }
}
