/**
 * Event-type filters (`*`, exact, `prefix.*`, see core/filters.ts) as SQL conditions. A prefix
 * filter becomes a half-open string range (`>= 'order.'` and `< 'order/'`) rather than LIKE,
 * which is case-insensitive and would treat `_` as a wildcard.
 */
export interface SqlCondition {
  sql: string;
  params: string[];
}

export function typeCondition(column: string, filter: string | undefined): SqlCondition | null {
  if (filter === undefined || filter === '*') return null;
  if (filter.endsWith('.*')) {
    const prefix = filter.slice(0, -1); // keeps the dot: 'order.'
    // '.' + 1 = '/': every string starting with the prefix sorts in [prefix, prefix with '/').
    const upper = `${prefix.slice(0, -1)}/`;
    return { sql: `(${column} >= ? AND ${column} < ?)`, params: [prefix, upper] };
  }
  return { sql: `${column} = ?`, params: [filter] };
}
