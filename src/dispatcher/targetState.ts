/**
 * What the engine tracks per push target (subscription) between claims, and the target's own
 * delivery control: its slots (max_concurrency, or 1 when ordered), how far it claims ahead,
 * and its rate limit as a token bucket (capacity a tenth of a second of requests, at least one,
 * so a burst never runs far ahead of the rate).
 */
import type { ClaimedDelivery } from '../core/types.js';
import type { PushTarget } from './source.js';

export interface Claimed {
  claim: ClaimedDelivery;
  /** Local time the lease ends (measured from the claim request, so clock skew cannot stretch it). */
  until: number;
}

/** Largest claim (and settle) in one call. */
export const MAX_CLAIM = 1000;
/** How much of a target's recent throughput is claimed ahead of its free slots. */
const CLAIM_AHEAD_MS = 250;

export class TargetState {
  queue: Claimed[] = [];
  inFlight = 0;
  claiming = false;
  /** A wake-up arrived during a claim: claim again even if it came back short. */
  again = false;
  drained = false;
  removed = false;
  wakeAt: number | null = null;
  failures = 0;
  backoffUntil = 0;
  longPoll: AbortController | null = null;
  /** Set while buffered deliveries wait for a rate-limit token. */
  rateTimer: NodeJS.Timeout | null = null;
  #tokens = Number.NaN;
  #refilledAt = 0;
  /** Completions per ms, smoothed; sizes the claim-ahead buffer. */
  rate = 0;
  #completions = 0;
  #rateSince = Date.now();

  constructor(public target: PushTarget) {}

  get busy(): number {
    return this.inFlight + this.queue.length;
  }

  get ordered(): boolean {
    return this.target.delivery?.ordered === true;
  }

  /** Requests this target may have in flight: its own max_concurrency (capped), 1 when ordered. */
  slots(defaultSlots: number, cap: number): number {
    if (this.ordered) return 1;
    return Math.min(cap, this.target.delivery?.max_concurrency ?? defaultSlots);
  }

  /**
   * Deliveries this target may hold (in flight + buffered): its slots plus ~250 ms of its
   * throughput; ordered, just the one; rate-limited, no more than ~2 s of its rate, so claimed
   * deliveries never wait for tokens long enough to outlive their lease.
   */
  window(slots: number): number {
    if (this.ordered) return 1;
    const window = slots + Math.min(MAX_CLAIM, Math.max(slots, Math.ceil(this.rate * CLAIM_AHEAD_MS)));
    const rate = this.target.delivery?.rate_limit;
    return rate ? Math.max(1, Math.min(window, Math.ceil(rate * 2))) : window;
  }

  /** Takes a rate-limit token: 0 when one was taken (or there is no limit), else ms until one is free. */
  takeToken(now: number): number {
    const rate = this.target.delivery?.rate_limit;
    if (!rate) return 0;
    const capacity = Math.max(1, rate / 10);
    if (Number.isNaN(this.#tokens)) this.#tokens = capacity;
    else this.#tokens = Math.min(capacity, this.#tokens + ((now - this.#refilledAt) * rate) / 1000);
    this.#refilledAt = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - this.#tokens) * 1000) / rate));
  }

  completed(now: number): void {
    this.#completions++;
    if (now - this.#rateSince >= 50) {
      this.rate = 0.5 * this.rate + (0.5 * this.#completions) / (now - this.#rateSince);
      this.#completions = 0;
      this.#rateSince = now;
    }
  }
}
