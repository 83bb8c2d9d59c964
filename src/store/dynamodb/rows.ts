/**
 * Item shapes as the document client returns them, and their mapping to the domain types.
 * Nullable attributes may be absent or NULL; both read as null. Payloads are stored as JSON text
 * so they come back exactly as given (DynamoDB maps would drop nothing, but numbers and key
 * order round-trip more simply as text).
 */
import type { ApiKey, Scope } from '../../core/apiKeys.js';
import {
  type Attempt,
  DEFAULT_DELIVERY_OPTIONS,
  type Delivery,
  type DeliveryOptions,
  type DeliveryStatus,
  type DeliveryWithAttempts,
  type Event,
  type JsonObject,
  type SigningSecret,
  type Subscription,
  type SubscriptionStatus,
} from '../../core/types.js';
import type { Item } from './client.js';

const num = (value: unknown): number | null =>
  typeof value === 'number' ? value : value === undefined || value === null ? null : Number(value);
const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);

export const isEventItem = (item: Item): boolean => item.sk === 'EVT';
export const isDeliveryItem = (item: Item): boolean => typeof item.sk === 'string' && item.sk.startsWith('DLV#');

export const toEvent = (item: Item): Event => ({
  id: String(item.id),
  type: String(item.type),
  source: String(item.source),
  payload: JSON.parse(String(item.payload)) as JsonObject,
  created_at: Number(item.created_at),
});

interface StoredAttempt {
  at: number;
  duration_ms: number;
  status_code: number | null;
  error: string | null;
  response: string | null;
}

export const toDelivery = (item: Item): Delivery => {
  const latency = num(item.latency_ms);
  return {
    id: String(item.id),
    event_id: String(item.event_id),
    subscription_id: String(item.subscription_id),
    status: item.status as DeliveryStatus,
    attempts_count: Number(item.attempts_count),
    next_attempt_at: num(item.next_attempt_at),
    last_status_code: num(item.last_status_code),
    last_error: str(item.last_error),
    latency_ms: latency === null ? null : Math.max(0, latency),
    created_at: Number(item.created_at),
    updated_at: Number(item.updated_at),
    delivered_at: num(item.delivered_at),
  };
};

/** Attempts are stored in the delivery item, in order; `n` is the position. */
export const toAttempts = (item: Item): Attempt[] =>
  ((item.attempts ?? []) as StoredAttempt[]).map((attempt, index) => ({
    n: index + 1,
    at: Number(attempt.at),
    duration_ms: Number(attempt.duration_ms),
    status_code: num(attempt.status_code),
    error: str(attempt.error),
    response: str(attempt.response),
  }));

export const toDeliveryWithAttempts = (item: Item): DeliveryWithAttempts => ({ ...toDelivery(item), attempts: toAttempts(item) });

export const toStoredAttempt = (attempt: Omit<Attempt, 'n'>): StoredAttempt => ({
  at: attempt.at,
  duration_ms: attempt.duration_ms,
  status_code: attempt.status_code,
  error: attempt.error,
  response: attempt.response,
});

export const toSubscription = (item: Item): Subscription => ({
  id: String(item.id),
  url: str(item.url),
  event_types: (item.event_types ?? []) as string[],
  secrets: (item.secrets ?? []) as SigningSecret[],
  status: item.status as SubscriptionStatus,
  description: str(item.description),
  disabled_reason: str(item.disabled_reason),
  metadata: (item.metadata ?? {}) as Record<string, string>,
  delivery: { ...DEFAULT_DELIVERY_OPTIONS, ...((item.delivery ?? {}) as Partial<DeliveryOptions>) },
  first_failure_at: num(item.first_failure_at),
  last_success_at: num(item.last_success_at),
  created_at: Number(item.created_at),
  updated_at: Number(item.updated_at),
});

export const toApiKey = (item: Item): ApiKey => ({
  id: String(item.id),
  name: String(item.name),
  scopes: (item.scopes ?? []) as Scope[],
  rate_limit: num(item.rate_limit),
  prefix: String(item.prefix),
  hash: String(item.hash),
  created_at: Number(item.created_at),
  revoked_at: num(item.revoked_at),
});
