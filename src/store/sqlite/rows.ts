/**
 * Row shapes as SQLite returns them, and their mapping to the domain types. JSON columns are
 * parsed here and nowhere else; delivery ids are INTEGER rowids inside and strings outside.
 */
import {
  type Attempt,
  DEFAULT_DELIVERY_OPTIONS,
  type Delivery,
  type DeliveryOptions,
  type DeliveryStatus,
  type Event,
  type JsonObject,
  type SigningSecret,
  type Subscription,
  type SubscriptionStatus,
} from '../../core/types.js';

export interface EventRow {
  id: string;
  type: string;
  source: string;
  payload: string;
  created_at: number;
}

export interface DeliveryRow {
  id: number;
  event_id: string;
  subscription_id: string;
  status: DeliveryStatus;
  attempts_count: number;
  next_attempt_at: number | null;
  last_status_code: number | null;
  last_error: string | null;
  latency_ms: number | null;
  created_at: number;
  updated_at: number;
  delivered_at: number | null;
}

export interface AttemptRow {
  n: number;
  at: number;
  duration_ms: number;
  status_code: number | null;
  error: string | null;
  response: string | null;
}

export interface SubscriptionRow {
  id: string;
  url: string | null;
  event_types: string;
  secrets: string;
  status: SubscriptionStatus;
  description: string | null;
  disabled_reason: string | null;
  metadata: string;
  delivery: string;
  first_failure_at: number | null;
  last_success_at: number | null;
  created_at: number;
  updated_at: number;
}

export { DELIVERY_COLUMNS, deliveryColumns } from '../deliveryColumns.js';

export const toEvent = (row: EventRow): Event => ({
  id: row.id,
  type: row.type,
  source: row.source,
  payload: JSON.parse(row.payload) as JsonObject,
  created_at: row.created_at,
});

export const toDelivery = (row: DeliveryRow): Delivery => ({
  id: String(row.id),
  event_id: row.event_id,
  subscription_id: row.subscription_id,
  status: row.status,
  attempts_count: row.attempts_count,
  next_attempt_at: row.next_attempt_at,
  last_status_code: row.last_status_code,
  last_error: row.last_error,
  latency_ms: row.latency_ms,
  created_at: row.created_at,
  updated_at: row.updated_at,
  delivered_at: row.delivered_at,
});

export const toAttempt = (row: AttemptRow): Attempt => ({ ...row });

export const toSubscription = (row: SubscriptionRow): Subscription => ({
  id: row.id,
  url: row.url,
  event_types: JSON.parse(row.event_types) as string[],
  secrets: JSON.parse(row.secrets) as SigningSecret[],
  status: row.status,
  description: row.description,
  disabled_reason: row.disabled_reason,
  metadata: JSON.parse(row.metadata) as Record<string, string>,
  delivery: { ...DEFAULT_DELIVERY_OPTIONS, ...(JSON.parse(row.delivery) as Partial<DeliveryOptions>) },
  first_failure_at: row.first_failure_at,
  last_success_at: row.last_success_at,
  created_at: row.created_at,
  updated_at: row.updated_at,
});

/**
 * Delivery ids are rowids. Anything that is not a positive integer cannot name a delivery, so it
 * reads as "no such delivery" instead of an error.
 */
export function parseDeliveryId(id: string): number | null {
  if (!/^[1-9]\d{0,15}$/.test(id)) return null;
  const value = Number(id);
  return Number.isSafeInteger(value) ? value : null;
}
