/**
 * Builds the WHERE clause of the listings, numbering `$n` placeholders as conditions are added,
 * and turns event-type filters (`*`, exact, `prefix.*`, see core/filters.ts) into conditions. A
 * prefix filter is a half-open range (`>= 'order.'` and `< 'order/'`), not LIKE, where `_`
 * would be a wildcard; the range also lets a btree index serve it. The columns are COLLATE "C"
 * (see migrations/001), so the range means bytes, as in SQLite.
 */
export class Conditions {
  readonly params: unknown[] = [];
  private readonly parts: string[] = [];

  /** Adds a parameter; returns its placeholder. */
  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  add(sql: string): this {
    this.parts.push(sql);
    return this;
  }

  type(column: string, filter: string | undefined): this {
    if (filter === undefined || filter === '*') return this;
    if (filter.endsWith('.*')) {
      const prefix = filter.slice(0, -1); // keeps the dot: 'order.'
      const upper = `${prefix.slice(0, -1)}/`; // '.' + 1 = '/'
      return this.add(`(${column} >= ${this.param(prefix)} AND ${column} < ${this.param(upper)})`);
    }
    return this.add(`${column} = ${this.param(filter)}`);
  }

  where(): string {
    return this.parts.length > 0 ? `WHERE ${this.parts.join(' AND ')}` : '';
  }
}
