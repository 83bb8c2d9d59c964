/**
 * What an attempt's result means for its delivery — the design's status rules, in one place,
 * used by the in-process dispatcher and by the API when a remote dispatcher reports a nack:
 *
 *   2xx                          → delivered
 *   410 Gone                     → dead, and the subscription is disabled
 *   other 4xx but 408, 425, 429  → dead at once (permanent)
 *   3xx                          → retried (redirects are never followed)
 *   5xx, 408, 425, 429, timeout,
 *   connection error             → retried after the schedule's next delay, or after the
 *                                  response's Retry-After (clamped) when it gave one
 *   schedule used up             → dead
 */
import { retryDelay } from './retry.js';
import type { EpochMs, SettlementOutcome } from './types.js';

export interface AttemptResult {
  /** null when no response arrived (timeout, connection refused…). */
  status_code: number | null;
  error: string | null;
  /** The response's Retry-After, in milliseconds, when it had one. */
  retry_after_ms?: number | null;
}

export interface Decision {
  outcome: SettlementOutcome;
  /** Set on 410: disable the subscription with this reason. */
  disable_subscription?: string;
}

export const RETRY_AFTER_MIN_MS = 1_000;
export const RETRY_AFTER_MAX_MS = 24 * 3_600_000;

const RETRYABLE_4XX = new Set([408, 425, 429]);

export const isSuccess = (status: number | null): boolean => status !== null && status >= 200 && status < 300;

export function decide(
  result: AttemptResult,
  retryIndex: number,
  schedule: readonly number[],
  now: EpochMs,
  random?: () => number,
): Decision {
  const status = result.status_code;
  if (isSuccess(status)) return { outcome: { kind: 'delivered' } };
  if (status === 410) {
    return { outcome: { kind: 'dead' }, disable_subscription: 'endpoint answered 410 Gone' };
  }
  if (status !== null && status >= 400 && status < 500 && !RETRYABLE_4XX.has(status)) {
    return { outcome: { kind: 'dead' } };
  }
  const delay = retryDelay(schedule, retryIndex, random);
  if (delay === null) return { outcome: { kind: 'dead' } };
  const retryAfter = result.retry_after_ms;
  const wait =
    retryAfter !== null && retryAfter !== undefined
      ? Math.min(RETRY_AFTER_MAX_MS, Math.max(RETRY_AFTER_MIN_MS, retryAfter))
      : delay;
  return { outcome: { kind: 'retry', next_attempt_at: now + wait } };
}

/** Parses a Retry-After header (seconds or an HTTP date) into milliseconds from `now`. */
export function parseRetryAfter(header: string | string[] | undefined, now: EpochMs): number | null {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}
