// A checked filter (../where.ts) as an SQL condition over the items table, with bound parameters.
import type { Filter, FilterColumn, FilterField, FilterOperator, FilterValue } from '../where';

const COLUMNS: Record<FilterColumn, string> = {
  kind: 'kind',
  source: 'source',
  width: 'width',
  height: 'height',
  addedAt: 'added_at',
  id: 'id',
};
// IS / IS NOT rather than = / <>: they treat NULL (a missing metadata field) as a value.
const OPERATORS: Record<Exclude<FilterOperator, 'in'>, string> = {
  is: 'IS',
  isNot: 'IS NOT',
  gt: '>',
  gte: '>=',
  lt: '<',
  lte: '<=',
};

function columnSql(field: FilterField): string {
  // parseWhere admits only identifiers joined by dots as metadata paths, so the path can be inlined.
  return 'column' in field ? COLUMNS[field.column] : `json_extract(metadata, '$.${field.metadata}')`;
}

/** SQLite has no boolean type: JSON true/false read back through json_extract as 1/0. */
function sqlValue(value: FilterValue): string | number | bigint | null {
  return typeof value === 'boolean' ? (value ? 1 : 0) : value;
}

export function whereSql(filter: Filter): { sql: string; params: (string | number | bigint | null)[] } {
  const parts: string[] = [];
  const params: (string | number | bigint | null)[] = [];
  for (const condition of filter) {
    const column = columnSql(condition.field);
    if (condition.op === 'in') {
      parts.push(`${column} IN (${condition.values.map(() => '?').join(',')})`);
    } else {
      parts.push(`${column} ${OPERATORS[condition.op]} ?`);
    }
    params.push(...condition.values.map(sqlValue));
  }
  return { sql: parts.length > 0 ? parts.join(' AND ') : '1', params };
}
