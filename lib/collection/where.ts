// The metadata filter language of collections (`where`), checked once and turned into a plain
// condition list that every store compiles to its own query language (sqlite/where-sql.ts).
import { invalidArgument } from '../errors';

/**
 * Metadata predicate: equality on fields, or `{ $in, $ne, $gt, $gte, $lt, $lte, $eq }`. Keys name
 * fields of the user metadata JSON (dotted paths reach nested fields), or the columns `kind`,
 * `source`, `width`, `height`, `addedAt`, `id`. Conditions are ANDed.
 */
export type Where = Record<string, unknown>;

/** An item property a condition reads: a built-in column, or a path into the metadata JSON. */
export type FilterField = { column: FilterColumn } | { metadata: string };
export type FilterColumn = 'kind' | 'source' | 'width' | 'height' | 'addedAt' | 'id';
export type FilterValue = string | number | bigint | boolean | null;
export type FilterOperator = 'is' | 'isNot' | 'gt' | 'gte' | 'lt' | 'lte' | 'in';

/** One checked condition. `values` has one element, except for `in` (one or more). */
export interface FilterCondition {
  field: FilterField;
  op: FilterOperator;
  values: FilterValue[];
}

/** A checked `where`: its conditions, all of which must hold (structured-cloneable). */
export type Filter = FilterCondition[];

const COLUMNS: readonly FilterColumn[] = ['kind', 'source', 'width', 'height', 'addedAt', 'id'];
const OPERATORS: Record<string, FilterOperator> = {
  $eq: 'is',
  $ne: 'isNot',
  $gt: 'gt',
  $gte: 'gte',
  $lt: 'lt',
  $lte: 'lte',
  $in: 'in',
};
// Metadata paths become part of a query (a JSON path): only plain identifiers joined by dots.
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_.]*$/;

/**
 * Checks a `where` object and returns its conditions.
 * @throws {CrossmodalError} `ERR_INVALID_ARGUMENT` naming the offending field, operator or value
 */
export function parseWhere(where: Where): Filter {
  if (where === null || typeof where !== 'object' || Array.isArray(where))
    throw invalidArgument('where must be an object');
  const conditions: Filter = [];
  for (const [key, condition] of Object.entries(where)) {
    if (!FIELD_NAME.test(key)) throw invalidArgument(`where: bad field name '${key}'`);
    const field: FilterField = (COLUMNS as readonly string[]).includes(key)
      ? { column: key as FilterColumn }
      : { metadata: key };
    const value = (v: unknown): FilterValue => {
      if (v instanceof Date) return v.getTime();
      // What the stores can bind: a NaN or an infinity compares with nothing meaningfully, and a
      // bigint beyond 64 bits has no SQL integer to become.
      if (typeof v === 'number' && !Number.isFinite(v))
        throw invalidArgument(`where.${key}: ${v} is not a finite number`);
      if (typeof v === 'bigint' && BigInt.asIntN(64, v) !== v)
        throw invalidArgument(`where.${key}: ${v} does not fit in a signed 64-bit integer`);
      if (
        v === null ||
        typeof v === 'number' ||
        typeof v === 'string' ||
        typeof v === 'boolean' ||
        typeof v === 'bigint'
      )
        return v;
      throw invalidArgument(`where.${key}: unsupported value ${String(v)}`);
    };
    if (condition !== null && typeof condition === 'object' && !(condition instanceof Date)) {
      for (const [operator, operand] of Object.entries(condition as Record<string, unknown>)) {
        const op = OPERATORS[operator];
        if (op === undefined) throw invalidArgument(`where.${key}: unknown operator ${operator}`);
        if (op === 'in') {
          if (!Array.isArray(operand) || operand.length === 0)
            throw invalidArgument(`where.${key}.$in must be a non-empty array`);
          // SQLite binds at most 32766 parameters per statement.
          if (operand.length > 30000) throw invalidArgument(`where.${key}.$in has more than 30000 values`);
          conditions.push({ field, op, values: Array.from(operand, value) });
        } else {
          conditions.push({ field, op, values: [value(operand)] });
        }
      }
    } else {
      conditions.push({ field, op: 'is', values: [value(condition)] });
    }
  }
  return conditions;
}
