/**
 * Where the dispatcher gets its work from and reports back to. Two implementations share one
 * engine (dispatcher.ts): LocalSource talks to a Store in this process; RemoteSource talks to a
 * Triggers API over HTTP, exactly as a separate dispatcher process (or the seed's Lambda) does.
 *
 *   targets()   the push subscriptions to work on: active, with a url, and their signing secrets
 *   claim()     lease up to `limit` due deliveries of one subscription
 *   settle()    report attempts; the source applies the retry rules (outcome.ts) and commits
 *               many results at once
 *   nextDueAt() when the subscription's next delivery becomes due (for the retry timer)
 *   release()   give claims back unattempted (target removed, stopping, no slot in time)
 *   onReady()   wake-ups when new deliveries are due (appends, replays)
 *   onTargetsChanged()  subscriptions were created, changed or deleted: read targets() again
 *               (sources that can tell; others are re-read every few seconds)
 */
import type { ClaimedDelivery, DeliveryOptions, EpochMs } from '../core/types.js';

export interface PushTarget {
  /** The subscription id. */
  id: string;
  url: string;
  /** Unexpired signing secrets, newest first; every one of them signs each request. */
  secrets: string[];
  /** The subscription's delivery control; absent or null fields mean the configured defaults. */
  delivery?: DeliveryOptions;
}

/** What one HTTP attempt produced (deliver.ts), with the claim it was made for. */
export interface AttemptReport {
  claim: ClaimedDelivery;
  /** When the request started. */
  at: EpochMs;
  duration_ms: number;
  /** null when no response arrived (timeout, connection refused, blocked address…). */
  status_code: number | null;
  error: string | null;
  /** A response's Retry-After, in milliseconds from the response. */
  retry_after_ms: number | null;
  /** The first bytes of the response body. */
  response: string | null;
}

export type OutcomeKind = 'delivered' | 'retry' | 'dead';

export interface SettledReport {
  delivery_id: string;
  kind: OutcomeKind;
  /** For a retry, when it is due again, when the source knows it. */
  next_attempt_at: EpochMs | null;
  /** false when the lease had been lost: another consumer owns the delivery now. */
  applied: boolean;
}

export interface ClaimOptions {
  /** Long-poll: wait up to this long for deliveries when none is due (sources that can). */
  waitMs?: number;
  signal?: AbortSignal;
}

export interface DeliverySource {
  /** True when `claim` can long-poll (`waitMs`): the remote API. The local store wakes us instead. */
  readonly longPoll: boolean;
  targets(): Promise<PushTarget[]>;
  claim(subscriptionId: string, limit: number, leaseMs: number, options?: ClaimOptions): Promise<ClaimedDelivery[]>;
  /** One commit for the whole batch; the answer is in the same order as `reports`. */
  settle(reports: AttemptReport[]): Promise<SettledReport[]>;
  nextDueAt(subscriptionId: string): Promise<EpochMs | null>;
  /** Gives claims back without an attempt: due again at once, for whoever claims next. */
  release(claims: ClaimedDelivery[]): Promise<void>;
  onReady(listener: (subscriptionIds: string[]) => void): () => void;
  /** Called when targets() would answer differently (a rotated secret, a new URL…). */
  onTargetsChanged?(listener: () => void): () => void;
}
