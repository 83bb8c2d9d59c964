/**
 * Row shapes as node-postgres returns them (bigint columns already numbers, see `typeParsers`),
 * and their mapping to the domain types. Delivery ids are bigint identities inside and strings
 * outside, exactly as in the SQLite store.
 */
import pg from 'pg';
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

const INT8 = 20;
/** Epoch milliseconds, counts and delivery ids all fit a double; read bigint as number. */
export const typeParsers = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export interface EventRow {
  id: string;
  type: string;
  source: string;
  payload: JsonObject;
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
  delivery_id?: number;
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
  event_types: string[];
  secrets: SigningSecret[];
  status: SubscriptionStatus;
  description: string | null;
  disabled_reason: string | null;
  metadata: Record<string, string>;
  delivery: Partial<DeliveryOptions>;
  first_failure_at: number | null;
  last_success_at: number | null;
  created_at: number;
  updated_at: number;
}

export { DELIVERY_COLUMNS, deliveryColumns } from '../deliveryColumns.js';

export const SUBSCRIPTION_COLUMNS =
  'id, url, event_types, secrets, status, description, disabled_reason, metadata, delivery, first_failure_at, last_success_at, created_at, updated_at';

export const toEvent = (row: EventRow): Event => ({
  id: row.id,
  type: row.type,
  source: row.source,
  payload: row.payload,
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

export const toAttempt = (row: AttemptRow): Attempt => ({
  n: row.n,
  at: row.at,
  duration_ms: row.duration_ms,
  status_code: row.status_code,
  error: row.error,
  response: row.response,
});

export const toSubscription = (row: SubscriptionRow): Subscription => ({
  id: row.id,
  url: row.url,
  event_types: row.event_types,
  secrets: row.secrets,
  status: row.status,
  description: row.description,
  disabled_reason: row.disabled_reason,
  metadata: row.metadata,
  delivery: { ...DEFAULT_DELIVERY_OPTIONS, ...row.delivery },
  first_failure_at: row.first_failure_at,
  last_success_at: row.last_success_at,
  created_at: row.created_at,
  updated_at: row.updated_at,
});

/** Anything that is not a positive integer cannot name a delivery: "no such delivery", not an error. */
export function parseDeliveryId(id: string): number | null {
  if (!/^[1-9]\d{0,15}$/.test(id)) return null;
  const value = Number(id);
  return Number.isSafeInteger(value) ? value : null;
}
