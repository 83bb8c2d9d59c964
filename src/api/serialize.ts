/**
 * Store types → API JSON. Inside Triggers times are epoch milliseconds; on the wire they are
 * ISO 8601 strings (UTC). A subscription's `secrets` list becomes `secret` (the current one)
 * and `previous_secrets` (rotated-out ones still signing).
 */
import { formatDeliveryOptions } from '../core/deliveryOptions.js';
import { envelope, iso } from '../core/envelope.js';
import type {
  Attempt,
  ClaimedDelivery,
  Delivery,
  DeliveryWithAttempts,
  EpochMs,
  EventWithDeliveries,
  Subscription,
} from '../core/types.js';
import type { DeadLetter, EventSummary, InboxItem } from '../store/store.js';

export const isoOrNull = (ms: EpochMs | null): string | null => (ms === null ? null : iso(ms));

export { envelope, iso };

export const eventSummary = (event: EventSummary) => ({ ...envelope(event), status: event.status });

export const attempt = (a: Attempt) => ({
  n: a.n,
  at: iso(a.at),
  duration_ms: a.duration_ms,
  status_code: a.status_code,
  error: a.error,
  response: a.response,
});

export const delivery = (d: Delivery) => ({
  id: d.id,
  event_id: d.event_id,
  subscription_id: d.subscription_id,
  status: d.status,
  attempts_count: d.attempts_count,
  next_attempt_at: isoOrNull(d.next_attempt_at),
  last_status_code: d.last_status_code,
  last_error: d.last_error,
  latency_ms: d.latency_ms,
  created_at: iso(d.created_at),
  updated_at: iso(d.updated_at),
  delivered_at: isoOrNull(d.delivered_at),
});

export const deliveryWithAttempts = (d: DeliveryWithAttempts) => ({ ...delivery(d), attempts: d.attempts.map(attempt) });

export const eventDetail = (event: EventWithDeliveries) => ({
  ...eventSummary(event),
  deliveries: event.deliveries.map(deliveryWithAttempts),
});

export const deadLetter = (d: DeadLetter) => ({ ...delivery(d), event: envelope(d.event) });

export const inboxItem = (item: InboxItem) => ({
  ...envelope(item),
  status: 'pending' as const,
  attempts: item.attempts_count,
  delivery_id: item.delivery_id,
});

export const claimed = (c: ClaimedDelivery) => ({
  delivery_id: c.delivery_id,
  subscription_id: c.subscription_id,
  attempt: c.attempt,
  retry_index: c.retry_index,
  lease_token: c.lease_token,
  lease_expires_at: iso(c.lease_expires_at),
  event: envelope(c.event),
});

/**
 * A subscription as the API shows it. `reveal: false` (a read-only caller, see scopes.ts) nulls
 * the signing secrets and the custom header values, keeping the header names and when rotated-out
 * secrets expire.
 */
export function subscription(s: Subscription, now: EpochMs, reveal = true) {
  const current = s.secrets.find((secret) => secret.expires_at === null) ?? s.secrets[0];
  const options = formatDeliveryOptions(s.delivery);
  return {
    id: s.id,
    url: s.url,
    event_types: s.event_types,
    status: s.status,
    secret: reveal ? (current?.secret ?? '') : null,
    previous_secrets: s.secrets
      .filter((secret) => secret !== current && secret.expires_at !== null && secret.expires_at > now)
      .map((secret) => ({ secret: reveal ? secret.secret : null, expires_at: iso(secret.expires_at as EpochMs) })),
    description: s.description,
    metadata: s.metadata,
    disabled_reason: s.disabled_reason,
    ...options,
    headers: reveal ? options.headers : Object.fromEntries(Object.keys(options.headers).map((name) => [name, null])),
    first_failure_at: isoOrNull(s.first_failure_at),
    last_success_at: isoOrNull(s.last_success_at),
    created_at: iso(s.created_at),
    updated_at: iso(s.updated_at),
  };
}
