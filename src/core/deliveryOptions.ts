/**
 * Per-subscription delivery control as users write it (the API's `rate_limit`, `timeout`,
 * `headers`, `retry_schedule`…) and the rules it must meet. Parsing returns a message for the
 * first thing wrong, so the API can answer 400 with it; nothing here throws on user input.
 *
 * Custom headers may not replace what Triggers itself sends or what HTTP framing depends on:
 * `content-type`, `content-length`, `transfer-encoding`, `host`, `connection`, `user-agent`,
 * `te`, `upgrade`, `expect`, `keep-alive`, `proxy-*` and every `webhook-*` (the signature).
 */
import { formatDuration, parseDuration } from './duration.js';
import { parseSchedule } from './retry.js';
import { DEFAULT_DELIVERY_OPTIONS, type DeliveryOptions } from './types.js';

export const MAX_RATE_LIMIT = 100_000;
export const MAX_CONCURRENCY = 10_000;
export const MIN_TIMEOUT_MS = 100;
export const MAX_TIMEOUT_MS = 5 * 60_000;
export const MAX_HEADERS = 20;
export const MAX_HEADER_VALUE = 1000;
export const MAX_RETRIES = 50;
/** No single retry delay beyond a week: a delivery must come back within retention's reach. */
export const MAX_RETRY_DELAY_MS = 7 * 86_400_000;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,100}$/;
const RESERVED = new Set([
  'content-type',
  'content-length',
  'transfer-encoding',
  'host',
  'connection',
  'user-agent',
  'te',
  'trailer',
  'upgrade',
  'expect',
  'keep-alive',
]);

/** Why a header name cannot be set by a subscription, or null when it can. */
export function reservedHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return RESERVED.has(lower) || lower.startsWith('webhook-') || lower.startsWith('proxy-');
}

/** What the API accepts: every field optional; null resets to the default. */
export interface DeliveryOptionsInput {
  rate_limit?: number | null;
  max_concurrency?: number | null;
  timeout?: string | number | null;
  headers?: Record<string, string> | null;
  retry_schedule?: string | null;
  ordered?: boolean | null;
}

export type Parsed = { ok: true; options: DeliveryOptions } | { ok: false; field: string; message: string };

/** Applies `input` on top of `base` (the current options, or the defaults for a new subscription). */
export function parseDeliveryOptions(input: DeliveryOptionsInput, base: DeliveryOptions = DEFAULT_DELIVERY_OPTIONS): Parsed {
  const options: DeliveryOptions = { ...base, headers: { ...base.headers } };
  const fail = (field: string, message: string): Parsed => ({ ok: false, field, message: `${field} ${message}` });

  if (input.rate_limit !== undefined) {
    const value = input.rate_limit;
    if (value !== null && !(typeof value === 'number' && Number.isFinite(value) && value > 0 && value <= MAX_RATE_LIMIT)) {
      return fail('rate_limit', `must be a number of requests per second above 0 and at most ${MAX_RATE_LIMIT}`);
    }
    options.rate_limit = value;
  }
  if (input.max_concurrency !== undefined) {
    const value = input.max_concurrency;
    if (value !== null && !(Number.isInteger(value) && value >= 1 && value <= MAX_CONCURRENCY)) {
      return fail('max_concurrency', `must be an integer from 1 to ${MAX_CONCURRENCY}`);
    }
    options.max_concurrency = value;
  }
  if (input.timeout !== undefined) {
    const value = input.timeout;
    if (value === null) options.timeout_ms = null;
    else {
      const ms = typeof value === 'number' ? (Number.isFinite(value) ? Math.round(value * 1000) : null) : parseDuration(value);
      if (ms === null || ms < MIN_TIMEOUT_MS || ms > MAX_TIMEOUT_MS) {
        return fail('timeout', `must be a duration from ${MIN_TIMEOUT_MS}ms to ${formatDuration(MAX_TIMEOUT_MS)} (e.g. "5s")`);
      }
      options.timeout_ms = ms;
    }
  }
  if (input.headers !== undefined) {
    const headers = input.headers ?? {};
    const entries = Object.entries(headers);
    if (entries.length > MAX_HEADERS) return fail('headers', `may hold at most ${MAX_HEADERS} headers`);
    const seen = new Set<string>();
    const normalized: Record<string, string> = {};
    for (const [name, value] of entries) {
      if (!TOKEN.test(name)) return fail('headers', `has an invalid header name ${JSON.stringify(name)}`);
      if (reservedHeader(name)) return fail('headers', `may not set ${JSON.stringify(name.toLowerCase())}: Triggers sends it itself`);
      if (seen.has(name.toLowerCase())) return fail('headers', `names ${JSON.stringify(name.toLowerCase())} twice`);
      seen.add(name.toLowerCase());
      // Visible ASCII, space and tab only: no CR/LF (header injection), no other control bytes.
      if (typeof value !== 'string' || value.length > MAX_HEADER_VALUE || !/^[\t\x20-\x7e]*$/.test(value)) {
        return fail('headers', `value of ${JSON.stringify(name)} must be printable ASCII, at most ${MAX_HEADER_VALUE} characters, without CR or LF`);
      }
      normalized[name.toLowerCase()] = value.trim();
    }
    options.headers = normalized;
  }
  if (input.retry_schedule !== undefined) {
    const value = input.retry_schedule;
    if (value === null) options.retry_schedule = null;
    else {
      const schedule = typeof value === 'string' ? parseSchedule(value) : null;
      if (schedule === null || schedule.length > MAX_RETRIES || schedule.some((delay) => delay > MAX_RETRY_DELAY_MS)) {
        return fail(
          'retry_schedule',
          `must be a comma-separated list of at most ${MAX_RETRIES} durations of at most 7d each (e.g. "1s,10s,1m"; "" for no retries)`,
        );
      }
      options.retry_schedule = schedule;
    }
  }
  if (input.ordered !== undefined) options.ordered = input.ordered === true;
  return { ok: true, options };
}

/** The options as the API shows them: durations written as people write them. */
export function formatDeliveryOptions(options: DeliveryOptions) {
  return {
    rate_limit: options.rate_limit,
    max_concurrency: options.max_concurrency,
    timeout: options.timeout_ms === null ? null : formatDuration(options.timeout_ms),
    headers: options.headers,
    retry_schedule: options.retry_schedule === null ? null : options.retry_schedule.map(formatDuration).join(','),
    ordered: options.ordered,
  };
}
