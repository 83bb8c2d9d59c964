/**
 * Reading query strings and loose request values. Query values are text (no coercion happens
 * in validation), so numbers, times and ids are converted here, with 400s that name the field.
 */
import { parseDuration } from '../core/duration.js';
import { ValidationError } from '../core/errors.js';
import { isValidFilter } from '../core/filters.js';
import { isValidId } from '../core/ids.js';
import type { EpochMs } from '../core/types.js';

/** Query-string schema pieces (documented as text, checked here). */
export const q = {
  limit: (max: number, fallback: number) =>
    ({ type: 'string', maxLength: 16, description: `1 to ${max}, default ${fallback}.` }) as const,
  order: (fallback: 'asc' | 'desc') =>
    ({ type: 'string', enum: ['asc', 'desc'], description: `Default ${fallback}.` }) as const,
  cursor: { type: 'string', maxLength: 1024, description: 'From the previous page.' } as const,
  time: (what: string) =>
    ({ type: 'string', maxLength: 64, description: `${what}: ISO 8601 time or milliseconds since the epoch.` }) as const,
  text: (description: string) => ({ type: 'string', maxLength: 200, description }) as const,
};

export function limitParam(text: string | undefined, fallback: number, max: number, name = 'limit'): number {
  if (text === undefined || text === '') return fallback;
  const value = /^[0-9]{1,7}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new ValidationError(`querystring/${name} must be an integer from 1 to ${max}`);
  }
  return value;
}

export function timeParam(value: unknown, name: string): EpochMs | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string') {
    if (/^\d{1,16}$/.test(value)) return Number(value);
    const parsed = Date.parse(value);
    if (!Number.isNaN(parsed)) return parsed;
  }
  throw new ValidationError(`${name} must be an ISO 8601 time or milliseconds since the epoch`);
}

export function idParam(value: string, what = 'id'): string {
  if (!isValidId(value)) throw new ValidationError(`${what} must be 1 to 128 letters, digits, _ or -`, undefined, 'invalid_id');
  return value;
}

export function filterParam(value: string | undefined, name = 'type'): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (!isValidFilter(value)) throw new ValidationError(`${name} must be an event type or a filter such as order.* or *`);
  return value;
}

/**
 * A duration given as seconds (number) or text (`30s`, `250ms`), within [min, max] ms.
 * Text without a unit is seconds, as a number would be.
 */
export function durationParam(value: unknown, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined || value === null) return fallback;
  let ms: number | null = null;
  if (typeof value === 'number' && Number.isFinite(value)) ms = Math.round(value * 1000);
  else if (typeof value === 'string') ms = parseDuration(value);
  if (ms === null || ms < min || ms > max) {
    throw new ValidationError(`${name} must be a duration from ${min / 1000}s to ${max / 1000}s (seconds, or text like 30s)`);
  }
  return ms;
}

/** Caps free text a consumer reports (error messages, response excerpts). */
export const cap = (text: string | null | undefined, max: number): string | null =>
  text === undefined || text === null ? null : text.length > max ? text.slice(0, max) : text;
