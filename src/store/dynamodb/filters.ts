/**
 * Event-type filters (`*`, exact, `prefix.*`, see core/filters.ts) and the other listing filters
 * as DynamoDB filter / condition expressions over a delivery's or an event's attributes.
 */
import type { Expr } from './client.js';

/** null when the filter lets everything through. */
export function typeCondition(expr: Expr, attribute: string, type: string | undefined): string | null {
  if (type === undefined || type === '*') return null;
  if (type.endsWith('.*')) return `begins_with(${expr.n(attribute)}, ${expr.v(type.slice(0, -1))})`;
  return `${expr.n(attribute)} = ${expr.v(type)}`;
}

/** Joins conditions with AND; undefined when there are none. */
export function allOf(conditions: (string | null | undefined)[]): string | undefined {
  const present = conditions.filter((c): c is string => typeof c === 'string' && c !== '');
  return present.length === 0 ? undefined : present.map((c) => `(${c})`).join(' AND ');
}
