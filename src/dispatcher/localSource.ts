/**
 * The in-process source: claims and settles straight on the Store, applies the retry rules
 * itself (decide()), and is woken by the store the moment deliveries are appended or replayed.
 */
import { decide } from '../core/outcome.js';
import type { ClaimedDelivery, EpochMs, Settlement, Subscription } from '../core/types.js';
import type { Store } from '../store/store.js';
import type { AttemptReport, ClaimOptions, DeliverySource, PushTarget, SettledReport } from './source.js';

export interface LocalSourceOptions {
  retrySchedule: readonly number[];
  clock?: () => EpochMs;
  /** Jitter source for the retry schedule (tests pass a fixed one). */
  random?: () => number;
}

export function pushTarget(subscription: Subscription, now: EpochMs): PushTarget | null {
  if (subscription.status !== 'active' || !subscription.url) return null;
  const secrets = subscription.secrets
    .filter((entry) => entry.expires_at === null || entry.expires_at > now)
    .map((entry) => entry.secret);
  return { id: subscription.id, url: subscription.url, secrets, delivery: subscription.delivery };
}

export class LocalSource implements DeliverySource {
  readonly longPoll = false;
  readonly #store: Store;
  readonly #schedule: readonly number[];
  readonly #clock: () => EpochMs;
  readonly #random: (() => number) | undefined;
  /** Subscriptions with a retry schedule of their own, as of the last targets() read. */
  #schedules = new Map<string, readonly number[]>();

  constructor(store: Store, options: LocalSourceOptions) {
    this.#store = store;
    this.#schedule = options.retrySchedule;
    this.#clock = options.clock ?? Date.now;
    this.#random = options.random;
  }

  async targets(): Promise<PushTarget[]> {
    const now = this.#clock();
    const targets: PushTarget[] = [];
    const schedules = new Map<string, readonly number[]>();
    for (const subscription of await this.#store.listSubscriptions()) {
      const target = pushTarget(subscription, now);
      if (target) targets.push(target);
      if (subscription.delivery.retry_schedule !== null) schedules.set(subscription.id, subscription.delivery.retry_schedule);
    }
    this.#schedules = schedules;
    return targets;
  }

  claim(subscriptionId: string, limit: number, leaseMs: number, _options?: ClaimOptions) {
    return this.#store.claim({ subscription_id: subscriptionId, limit, lease_ms: leaseMs });
  }

  async settle(reports: AttemptReport[]): Promise<SettledReport[]> {
    const now = this.#clock();
    const settlements: Settlement[] = new Array(reports.length);
    for (let i = 0; i < reports.length; i++) {
      const report = reports[i] as AttemptReport;
      const schedule = this.#schedules.get(report.claim.subscription_id) ?? this.#schedule;
      const decision = decide(report, report.claim.retry_index, schedule, now, this.#random);
      const settlement: Settlement = {
        delivery_id: report.claim.delivery_id,
        lease_token: report.claim.lease_token,
        attempt: {
          at: report.at,
          duration_ms: report.duration_ms,
          status_code: report.status_code,
          error: report.error,
          response: report.response,
        },
        outcome: decision.outcome,
      };
      if (decision.disable_subscription) settlement.disable_subscription = decision.disable_subscription;
      settlements[i] = settlement;
    }
    const results = await this.#store.settle(settlements);
    const applied = new Map<string, boolean>();
    for (const result of results) applied.set(result.delivery_id, result.applied);
    return settlements.map((settlement) => {
      const outcome = settlement.outcome;
      return {
        delivery_id: settlement.delivery_id,
        kind: outcome.kind,
        next_attempt_at: outcome.kind === 'retry' ? outcome.next_attempt_at : null,
        applied: applied.get(settlement.delivery_id) ?? false,
      };
    });
  }

  nextDueAt(subscriptionId: string): Promise<EpochMs | null> {
    return this.#store.nextDueAt(subscriptionId);
  }

  async release(claims: ClaimedDelivery[]): Promise<void> {
    if (claims.length === 0) return;
    await this.#store.releaseLeases(claims.map(({ delivery_id, lease_token }) => ({ delivery_id, lease_token })));
  }

  onReady(listener: (subscriptionIds: string[]) => void): () => void {
    return this.#store.onDeliveriesReady(listener);
  }

  onTargetsChanged(listener: () => void): () => void {
    return this.#store.onSubscriptionsChanged(listener);
  }
}
