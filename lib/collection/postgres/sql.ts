// SQL text for a PostgreSQL collection. Identifiers (schema and collection names) are validated
// by `identifier` and quoted; numbers inlined into DDL (dim, m, ef_construction) are validated
// integers. Every value that comes from a caller at query time is a bound parameter.
import { invalidArgument } from '../../errors';
import type { Metric } from '../../types';
import type { Filter, FilterColumn, FilterValue } from '../where';

// Lower-case so the quoted and unquoted spellings name the same table; 48 leaves room for the
// suffixes (`_meta`, `_embedding_hnsw`) within PostgreSQL's 63-byte identifier limit.
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,47}$/;

/** A validated, double-quoted identifier. */
export function identifier(name: unknown, what: string): string {
  if (typeof name !== 'string' || !IDENTIFIER.test(name)) {
    throw invalidArgument(
      `${what} must be a lower-case identifier (letters, digits, _; at most 48 characters), got ${JSON.stringify(name)}`,
    );
  }
  return `"${name}"`;
}

/** pgvector operator and HNSW operator class per metric, and how a distance becomes a crossmodal score. */
export const METRICS: Record<Metric, { operator: string; opclass: string; score: (distance: number) => number }> = {
  // <=> is 1 − cosine; the FAISS collections report the cosine.
  cosine: { operator: '<=>', opclass: 'cosine_ops', score: (d) => 1 - d },
  // <#> is the negated inner product.
  ip: { operator: '<#>', opclass: 'ip_ops', score: (d) => -d },
  // <-> is the Euclidean distance; the FAISS collections report its square.
  l2: { operator: '<->', opclass: 'l2_ops', score: (d) => d * d },
};

/** Names of one collection's relations, quoted and schema-qualified. */
export interface Relations {
  schema: string;
  items: string;
  meta: string;
  migrations: string;
  index: string;
  /** The unquoted `schema.items` for regclass lookups (pg_total_relation_size). */
  itemsRegclass: string;
}

export function relations(schema: string, collection: string): Relations {
  const s = identifier(schema, 'schema');
  identifier(collection, 'collection');
  return {
    schema: s,
    items: `${s}."${collection}"`,
    meta: `${s}."${collection}_meta"`,
    migrations: `${s}."crossmodal_migrations"`,
    index: `"${collection}_embedding_hnsw"`,
    itemsRegclass: `${s}."${collection}"`,
  };
}

export interface SchemaSpec {
  dim: number;
  metric: Metric;
  halfvec: boolean;
  m: number;
  efConstruction: number;
}

/** The vector column's type. */
export function vectorType(spec: { dim: number; halfvec: boolean }): string {
  return `${spec.halfvec ? 'halfvec' : 'vector'}(${spec.dim})`;
}

/**
 * The migrations, in order: migration i (1-based) brings a collection from version i−1 to i. The
 * migrations table records which ran, per collection; they run under an advisory lock, so
 * several processes opening a new collection at once create it once.
 */
export function migrations(r: Relations, spec: SchemaSpec): string[][] {
  const type = vectorType(spec);
  const opclass = `${spec.halfvec ? 'halfvec' : 'vector'}_${METRICS[spec.metric].opclass}`;
  return [
    [
      `CREATE TABLE ${r.meta} (key text PRIMARY KEY, value text NOT NULL)`,
      `CREATE TABLE ${r.items} (
        id bigserial PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('image', 'text', 'vector')),
        source text,
        hash text NOT NULL UNIQUE,
        width integer,
        height integer,
        metadata jsonb NOT NULL DEFAULT '{}',
        added_at timestamptz NOT NULL DEFAULT now(),
        embedding ${type} NOT NULL
      )`,
      `CREATE INDEX ${r.index} ON ${r.items} USING hnsw (embedding ${opclass}) WITH (m = ${spec.m}, ef_construction = ${spec.efConstruction})`,
    ],
  ];
}

const COLUMNS: Record<FilterColumn, { sql: string; type: string }> = {
  kind: { sql: 'kind', type: 'text' },
  source: { sql: 'source', type: 'text' },
  width: { sql: 'width', type: 'integer' },
  height: { sql: 'height', type: 'integer' },
  // parseWhere turns Dates into milliseconds since the epoch.
  addedAt: { sql: 'added_at', type: 'timestamptz' },
  id: { sql: 'id', type: 'bigint' },
};
const COMPARE = { gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;

function jsonValue(value: FilterValue): string {
  return typeof value === 'bigint' ? value.toString() : JSON.stringify(value);
}

function columnValue(column: FilterColumn, value: FilterValue): unknown {
  if (value === null) return null;
  if (column === 'addedAt') {
    if (typeof value !== 'number')
      throw invalidArgument('where.addedAt: compare with a Date or milliseconds since the epoch');
    return new Date(value);
  }
  if (typeof value === 'boolean') throw invalidArgument(`where.${column}: unsupported value ${String(value)}`);
  return typeof value === 'bigint' ? value.toString() : value;
}

/**
 * A checked filter (../where.ts) as an SQL condition with bound parameters numbered from
 * `firstParam`. Mirrors sqlite/where-sql.ts: a missing metadata field reads as null, `$eq`/`$ne`
 * treat null as a value, and the range operators match only values of the operand's JSON type
 * (numbers with numbers, strings with strings).
 */
export function whereSql(filter: Filter, firstParam: number): { sql: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  const param = (value: unknown): string => {
    params.push(value);
    return `$${firstParam + params.length - 1}`;
  };
  for (const condition of filter) {
    if ('column' in condition.field) {
      const column = condition.field.column;
      const { sql, type } = COLUMNS[column];
      const values = condition.values.map((v) => columnValue(column, v));
      if (condition.op === 'in') parts.push(`${sql} = ANY(${param(values)}::${type}[])`);
      else if (condition.op === 'is') parts.push(`${sql} IS NOT DISTINCT FROM ${param(values[0])}::${type}`);
      else if (condition.op === 'isNot') parts.push(`${sql} IS DISTINCT FROM ${param(values[0])}::${type}`);
      else parts.push(`${sql} ${COMPARE[condition.op]} ${param(values[0])}::${type}`);
      continue;
    }
    // The path travels as a text[] parameter, never inside the SQL text.
    const field = `COALESCE(metadata #> ${param(condition.field.metadata.split('.'))}::text[], 'null'::jsonb)`;
    const values = condition.values.map(jsonValue);
    if (condition.op === 'in') parts.push(`${field} = ANY(${param(values)}::jsonb[])`);
    else if (condition.op === 'is') parts.push(`${field} = ${param(values[0])}::jsonb`);
    else if (condition.op === 'isNot') parts.push(`${field} <> ${param(values[0])}::jsonb`);
    else {
      const operand = param(values[0]);
      parts.push(
        `(jsonb_typeof(${field}) = jsonb_typeof(${operand}::jsonb) AND ${field} ${COMPARE[condition.op]} ${operand}::jsonb)`,
      );
    }
  }
  return { sql: parts.length > 0 ? parts.join(' AND ') : 'TRUE', params };
}
