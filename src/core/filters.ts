/**
 * Event-type filters: `*` matches everything, `order.*` matches every type starting with
 * `order.` (at any depth), anything else matches exactly.
 */

/** Letters, digits and `_ - : /` in dot-separated segments, or a trailing `.*`, or `*`. */
const FILTER = /^(\*|[A-Za-z0-9_\-:/]+(\.[A-Za-z0-9_\-:/]+)*(\.\*)?)$/;
const TYPE = /^[A-Za-z0-9_\-:/]+(\.[A-Za-z0-9_\-:/]+)*$/;

export const EVENT_TYPE_PATTERN = TYPE.source;
export const EVENT_FILTER_PATTERN = FILTER.source;

export const isValidEventType = (type: string): boolean => type.length <= 200 && TYPE.test(type);
export const isValidFilter = (filter: string): boolean => filter.length <= 200 && FILTER.test(filter);

export function matchesFilter(filter: string, type: string): boolean {
  if (filter === '*') return true;
  if (filter.endsWith('.*')) return type.startsWith(filter.slice(0, -1));
  return filter === type;
}

export function matchesAny(filters: readonly string[], type: string): boolean {
  for (const filter of filters) if (matchesFilter(filter, type)) return true;
  return false;
}
