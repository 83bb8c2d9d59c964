/**
 * The remote source: a dispatcher in its own process (or the seed's Lambda) that speaks only
 * HTTP to a Triggers API — `GET /subscriptions` for targets, `POST /inbox/claim` (long-polling
 * when idle) to lease work, `POST /deliveries/settle` to report many attempts in one commit,
 * `POST /deliveries/release` to give back claims it will not attempt. The server applies the
 * retry rules, so every dispatcher retries and dead-letters alike.
 */
import type { TriggersClient } from '../client/client.js';
import type { ClaimedDeliveryInfo, SettledDelivery, SubscriptionInfo } from '../client/types.js';
import { parseDuration } from '../core/duration.js';
import { parseSchedule } from '../core/retry.js';
import type { ClaimedDelivery, EpochMs, JsonObject } from '../core/types.js';
import type { AttemptReport, ClaimOptions, DeliverySource, PushTarget, SettledReport } from './source.js';

/** The API takes at most this many results per settle call. */
const SETTLE_MAX = 1000;
/** The API's longest long-poll. */
const WAIT_MAX_MS = 30_000;

const time = (value: string | number): EpochMs => (typeof value === 'number' ? value : Date.parse(value));

export function remoteTarget(subscription: SubscriptionInfo, now: EpochMs): PushTarget | null {
  if (subscription.status !== 'active' || !subscription.url) return null;
  const secrets = [subscription.secret];
  for (const previous of subscription.previous_secrets ?? []) {
    if (time(previous.expires_at) > now) secrets.push(previous.secret);
  }
  // Secrets are null only for a read-only key, which the API refuses claims to anyway.
  const signing = secrets.filter((secret): secret is string => secret !== null && secret !== '');
  const target: PushTarget = { id: subscription.id, url: subscription.url, secrets: signing };
  if (subscription.ordered !== undefined) {
    const timeout = subscription.timeout ? parseDuration(subscription.timeout) : null;
    const schedule = subscription.retry_schedule ? parseSchedule(subscription.retry_schedule) : null;
    target.delivery = {
      rate_limit: subscription.rate_limit ?? null,
      max_concurrency: subscription.max_concurrency ?? null,
      timeout_ms: timeout,
      headers: Object.fromEntries(
        Object.entries(subscription.headers ?? {}).filter((entry): entry is [string, string] => entry[1] !== null),
      ),
      // The server applies the schedule when settling; kept for completeness.
      retry_schedule: schedule,
      ordered: subscription.ordered,
    };
  }
  return target;
}

function claimed(info: ClaimedDeliveryInfo): ClaimedDelivery {
  return {
    delivery_id: info.delivery_id,
    subscription_id: info.subscription_id,
    attempt: info.attempt,
    retry_index: info.retry_index,
    lease_token: info.lease_token,
    lease_expires_at: time(info.lease_expires_at),
    event: {
      id: info.event.id,
      type: info.event.type,
      source: info.event.source,
      created_at: time(info.event.created_at),
      payload: info.event.payload as JsonObject,
    },
  };
}

function settled(result: SettledDelivery | undefined, deliveryId: string): SettledReport {
  if (!result) return { delivery_id: deliveryId, kind: 'retry', next_attempt_at: null, applied: false };
  const kind = result.status === 'delivered' ? 'delivered' : result.status === 'failed' ? 'dead' : 'retry';
  return {
    delivery_id: result.delivery_id,
    kind,
    next_attempt_at: kind === 'retry' && result.next_attempt_at ? time(result.next_attempt_at) : null,
    applied: result.applied,
  };
}

export class RemoteSource implements DeliverySource {
  readonly longPoll = true;
  readonly #client: TriggersClient;

  constructor(client: TriggersClient) {
    this.#client = client;
  }

  async targets(): Promise<PushTarget[]> {
    const now = Date.now();
    const targets: PushTarget[] = [];
    for (const subscription of await this.#client.listSubscriptions()) {
      const target = remoteTarget(subscription, now);
      if (target) targets.push(target);
    }
    return targets;
  }

  async claim(subscriptionId: string, limit: number, leaseMs: number, options: ClaimOptions = {}): Promise<ClaimedDelivery[]> {
    const wait = Math.min(options.waitMs ?? 0, WAIT_MAX_MS);
    const deliveries = await this.#client.claim(
      { subscription: subscriptionId, limit: Math.min(limit, 1000), lease: `${Math.ceil(leaseMs)}ms`, wait: `${wait}ms` },
      { signal: options.signal },
    );
    return deliveries.map(claimed);
  }

  async settle(reports: AttemptReport[]): Promise<SettledReport[]> {
    const out: SettledReport[] = [];
    for (let start = 0; start < reports.length; start += SETTLE_MAX) {
      const chunk = reports.slice(start, start + SETTLE_MAX);
      const results = await this.#client.settle(
        chunk.map((report) => ({
          delivery_id: report.claim.delivery_id,
          lease_token: report.claim.lease_token,
          retry_index: report.claim.retry_index,
          subscription_id: report.claim.subscription_id,
          status_code: report.status_code,
          error: report.error,
          duration_ms: report.duration_ms,
          retry_after: report.retry_after_ms === null ? null : report.retry_after_ms / 1000,
          response: report.response,
        })),
      );
      const byId = new Map(results.map((result) => [result.delivery_id, result]));
      for (const report of chunk) out.push(settled(byId.get(report.claim.delivery_id), report.claim.delivery_id));
    }
    return out;
  }

  /** Not exposed by the API: the long poll and the server's own wake-ups stand in for it. */
  async nextDueAt(): Promise<EpochMs | null> {
    return null;
  }

  async release(claims: ClaimedDelivery[]): Promise<void> {
    for (let start = 0; start < claims.length; start += SETTLE_MAX) {
      const chunk = claims.slice(start, start + SETTLE_MAX);
      await this.#client.release(chunk.map(({ delivery_id, lease_token }) => ({ delivery_id, lease_token })));
    }
  }

  onReady(): () => void {
    return () => undefined;
  }
}
