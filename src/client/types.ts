/**
 * The HTTP API's request and response shapes, as they travel on the wire: times are ISO 8601
 * strings; durations in requests are seconds (a number) or a string like `250ms`, `30s`, `5m`.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };
/** Seconds, or a string like `250ms`, `30s`, `5m`. */
export type Duration = number | string;
export type EventStatus = 'pending' | 'delivered' | 'failed';
export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface TokenResponse {
  access_token: string;
  token_type: 'bearer';
  /** Seconds. */
  expires_in: number;
}

export interface EventInput {
  type: string;
  source: string;
  payload: JsonObject;
}

export interface SendOptions {
  /** Repeating a key answers with the first response and stores nothing new. */
  idempotencyKey?: string;
}

export interface EventAccepted {
  id: string;
  type: string;
  source: string;
  created_at: string;
  status: EventStatus;
  /**
   * true: the server answered with the stored response to an earlier request with the same
   * Idempotency-Key (header `Idempotent-Replayed`) and stored nothing new.
   */
  replayed: boolean;
}

/** What a webhook receives: the event envelope. */
export interface EventEnvelope {
  id: string;
  type: string;
  source: string;
  created_at: string;
  payload: JsonObject;
}

export interface EventSummary extends EventEnvelope {
  status: EventStatus;
}

export interface AttemptInfo {
  n: number;
  at: string;
  duration_ms: number;
  status_code: number | null;
  error: string | null;
  response: string | null;
}

export interface DeliveryInfo {
  id: string;
  event_id: string;
  subscription_id: string;
  status: DeliveryStatus;
  attempts_count: number;
  next_attempt_at: string | null;
  last_status_code: number | null;
  last_error: string | null;
  latency_ms: number | null;
  created_at: string;
  updated_at: string;
  delivered_at: string | null;
}

export interface DeliveryDetail extends DeliveryInfo {
  attempts: AttemptInfo[];
}

export interface EventDetail extends EventSummary {
  deliveries: DeliveryDetail[];
}

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

export interface EventQuery {
  limit?: number;
  cursor?: string;
  order?: 'asc' | 'desc';
  type?: string;
  source?: string;
  status?: EventStatus;
  since?: string | number;
  until?: string | number;
}

export interface InboxQuery {
  subscription?: string;
  limit?: number;
  /** An event-type filter: exact, `order.*` or `*`. */
  type?: string;
  order?: 'asc' | 'desc';
  cursor?: string;
}

export interface InboxEvent extends EventEnvelope {
  status: 'pending';
  /** Attempts made so far. */
  attempts: number;
  delivery_id?: string;
}

export interface InboxPage {
  items: InboxEvent[];
  /** From the `X-Next-Cursor` header; null on the last page. */
  next_cursor: string | null;
}

export interface InboxAck {
  id: string;
  subscription_id: string;
  status: 'delivered';
  already_acked: boolean;
}

export interface ClaimRequest {
  subscription?: string;
  /** 1–1000, default 10. */
  limit?: number;
  /** 1s–12h, default 30s. */
  lease?: Duration;
  /** Long-poll up to this long (0–30s) when nothing is due. */
  wait?: Duration;
}

export interface ClaimedDeliveryInfo {
  delivery_id: string;
  subscription_id: string;
  /** The number this attempt will have. */
  attempt: number;
  /** Pass back when settling. */
  retry_index: number;
  lease_token: string;
  lease_expires_at: string;
  event: EventEnvelope;
}

/** What a consumer reports after an attempt. */
export interface AttemptReportInput {
  lease_token: string | null;
  retry_index?: number;
  /** From the claim: lets the server apply that subscription's own retry schedule. */
  subscription_id?: string;
  /** null: no response (timeout, connection error). */
  status_code?: number | null;
  error?: string | null;
  duration_ms?: number;
  /** The endpoint's Retry-After, in seconds. */
  retry_after?: number | null;
  response?: string | null;
}

export interface SettleInput extends AttemptReportInput {
  delivery_id: string;
}

export interface SettledDelivery {
  delivery_id: string;
  /** Applied: the status it now has; not applied: the status it has; null: no such delivery. */
  status: DeliveryStatus | null;
  next_attempt_at: string | null;
  /** false: the lease was lost or the delivery was already settled; nothing changed. */
  applied: boolean;
}

export interface SubscriptionInfo {
  id: string;
  url: string | null;
  event_types: string[];
  status: 'active' | 'disabled';
  /** null when the key may not see secrets (one with only the `read` scope). */
  secret: string | null;
  previous_secrets: { secret: string | null; expires_at: string }[];
  description: string | null;
  metadata: Record<string, string>;
  disabled_reason: string | null;
  /** Delivery control (absent from servers older than it). */
  rate_limit?: number | null;
  max_concurrency?: number | null;
  timeout?: string | null;
  /** Values null when the key may not see secrets (one with only the `read` scope). */
  headers?: Record<string, string | null>;
  retry_schedule?: string | null;
  ordered?: boolean;
  first_failure_at?: string | null;
  last_success_at?: string | null;
  created_at: string;
  updated_at: string;
}

export interface SubscriptionInput extends DeliveryControlInput {
  id?: string;
  /** null or absent: a pull-only inbox. */
  url?: string | null;
  event_types?: string[];
  secret?: string;
  description?: string | null;
  metadata?: Record<string, string>;
  /** Default `active`; a disabled subscription stores no deliveries until enabled. */
  status?: 'active' | 'disabled';
}

/** Per-subscription delivery control (docs/delivery-control.md); null resets a field to its default. */
export interface DeliveryControlInput {
  rate_limit?: number | null;
  max_concurrency?: number | null;
  /** `"5s"`, `"500ms"`, or seconds. */
  timeout?: string | number | null;
  headers?: Record<string, string> | null;
  /** `"1s,10s,1m"`. */
  retry_schedule?: string | null;
  ordered?: boolean;
}

export interface SubscriptionUpdate extends DeliveryControlInput {
  url?: string | null;
  event_types?: string[];
  status?: 'active' | 'disabled';
  description?: string | null;
  metadata?: Record<string, string>;
}

export interface DeadLetterInfo extends DeliveryInfo {
  event: EventEnvelope;
}

export interface DeadLetterQuery {
  subscription?: string;
  type?: string;
  since?: string | number;
  until?: string | number;
  limit?: number;
  cursor?: string;
}

export interface ReplayFilter {
  subscription?: string;
  type?: string;
  since?: string | number;
  until?: string | number;
}

export interface ReplayResult {
  replayed: number;
}

export interface HealthInfo {
  status: string;
  storage: string;
  role?: string;
}
