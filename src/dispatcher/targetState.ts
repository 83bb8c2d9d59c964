/** What the engine tracks per push target (subscription) between claims. */
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
  /** Completions per ms, smoothed; sizes the claim-ahead buffer. */
  rate = 0;
  #completions = 0;
  #rateSince = Date.now();

  constructor(public target: PushTarget) {}

  get busy(): number {
    return this.inFlight + this.queue.length;
  }

  /** Deliveries this target may hold (in flight + buffered): its slots plus ~250 ms of its throughput. */
  window(slots: number): number {
    return slots + Math.min(MAX_CLAIM, Math.max(slots, Math.ceil(this.rate * CLAIM_AHEAD_MS)));
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
