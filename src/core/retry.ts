/**
 * The retry schedule: the delays between attempts. A delivery gets `schedule.length + 1`
 * attempts; when the last one fails it is dead-lettered. Each delay is jittered by ±20 % so
 * a burst of failures does not come back as a burst of retries.
 */
import { parseDuration } from './duration.js';

export const DEFAULT_RETRY_SCHEDULE = '1s,2s,4s,5m,30m,2h,5h,10h,14h,20h,24h';
export const JITTER = 0.2;

/**
 * Parses `1s,2s,4s,…`; an empty (or blank) text is no retries. Returns null when any item is
 * not a duration, an empty one (`1s,,2s`, a trailing comma) included: that is a typo, not a
 * wish for fewer retries.
 */
export function parseSchedule(text: string): number[] | null {
  if (text.trim() === '') return [];
  const delays = text.split(',').map(parseDuration);
  if (delays.some((delay) => delay === null || delay < 0)) return null;
  return delays as number[];
}

/**
 * The delay before the next attempt after `retryIndex` failed attempts in this cycle
 * (0 after the first failure), or null when the schedule is used up.
 */
export function retryDelay(schedule: readonly number[], retryIndex: number, random: () => number = Math.random): number | null {
  const base = schedule[retryIndex];
  if (base === undefined) return null;
  return Math.max(0, Math.round(base * (1 + JITTER * (2 * random() - 1))));
}
