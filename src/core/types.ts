/**
 * Glossary — the words every other module uses.
 *
 * Event         An immutable fact a producer POSTed: `id` (time-sortable, `evt_…`, never a `.`),
 *               `type` (`order.created`), `source`, `payload` (a JSON object), `created_at`.
 * Subscription  Where events go. `url` set → push (the dispatcher POSTs to it); `url` null →
 *               pull-only inbox. `event_types` are filters (`*`, exact, `order.*`). Signed with
 *               `secrets` (`whsec_…`; after a rotation the previous one stays valid for a while).
 * Delivery      One per (event, matching subscription), created in the same transaction as the
 *               event. The unit the dispatcher and inbox consumers work on.
 * Attempt       One try at a delivery: time, duration, status code or error, response excerpt.
 * Lease         A claim on a pending delivery until `lease_expires_at`; while it holds, no other
 *               consumer is handed that delivery. An expired lease makes the delivery due again.
 * Settlement    What a consumer reports after an attempt: delivered, retry at T, or dead-letter.
 *
 * Delivery state machine:
 *
 *            claim (lease)             settle: delivered
 *   pending ───────────────► leased ─────────────────────► delivered
 *      ▲  ▲                   │  │
 *      │  └── lease expires ──┘  │ settle: retry (next_attempt_at = now + schedule[n])
 *      └─────────────────────────┘
 *                                 settle: dead (schedule used up, permanent 4xx, 410)
 *   leased ─────────────────────────────────────────────► failed ── replay ──► pending
 *
 * "leased" is not a stored status: it is `pending` with a live lease (`next_attempt_at` in the
 * future and a `lease_token`). That keeps "what is due" a single indexed range scan.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** Milliseconds since the Unix epoch. Every time inside Triggers is one of these. */
export type EpochMs = number;

export interface Event {
  id: string;
  type: string;
  source: string;
  payload: JsonObject;
  created_at: EpochMs;
}

/** What a producer sends; the store assigns nothing, the caller fills `id` and `created_at`. */
export type NewEvent = Event;

export type SubscriptionStatus = 'active' | 'disabled';

export interface SigningSecret {
  secret: string;
  /** null: current secret. A time: a rotated-out secret that still signs until then. */
  expires_at: EpochMs | null;
}

export interface Subscription {
  id: string;
  /** null for a pull-only inbox. */
  url: string | null;
  event_types: string[];
  /** Newest first. Every unexpired secret signs outgoing requests. */
  secrets: SigningSecret[];
  status: SubscriptionStatus;
  description: string | null;
  /** Why it was disabled, when it was disabled by Triggers itself (410 Gone…). */
  disabled_reason: string | null;
  /** Free-form labels a user attaches. */
  metadata: Record<string, string>;
  /** How the dispatcher treats this endpoint (see DeliveryOptions). */
  delivery: DeliveryOptions;
  /**
   * Endpoint health, kept by `settle` from the attempts made: the first failed attempt since the
   * last success (null while healthy) and the last successful one (kept to within a second, so a
   * stream of successes does not write the subscription row each time). Enabling clears the former.
   */
  first_failure_at: EpochMs | null;
  last_success_at: EpochMs | null;
  created_at: EpochMs;
  updated_at: EpochMs;
}

/**
 * Per-subscription delivery control. null means "the dispatcher's configured default".
 *
 * Ordered  One delivery in flight at a time, in event order: the store hands out a
 *          subscription's next pending delivery only when it is the earliest pending one (so a
 *          delivery waiting for its retry holds back every later one until it is delivered or
 *          dead-lettered).
 */
export interface DeliveryOptions {
  /** Requests per second at most. */
  rate_limit: number | null;
  /** Requests in flight at once at most. */
  max_concurrency: number | null;
  /** Per-request timeout, ms. */
  timeout_ms: number | null;
  /** Extra request headers (validated names and values; never the signature or content headers). */
  headers: Record<string, string>;
  /** Delays between attempts, ms; replaces TRIGGERS_RETRY_SCHEDULE for this subscription. */
  retry_schedule: number[] | null;
  ordered: boolean;
}

export const DEFAULT_DELIVERY_OPTIONS: DeliveryOptions = Object.freeze({
  rate_limit: null,
  max_concurrency: null,
  timeout_ms: null,
  headers: {},
  retry_schedule: null,
  ordered: false,
}) as DeliveryOptions;

export type NewSubscription = Omit<
  Subscription,
  'created_at' | 'updated_at' | 'delivery' | 'first_failure_at' | 'last_success_at'
> & { delivery?: DeliveryOptions };

export type SubscriptionPatch = Partial<
  Pick<Subscription, 'url' | 'event_types' | 'status' | 'description' | 'disabled_reason' | 'metadata' | 'secrets' | 'delivery'>
>;

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface Attempt {
  /** 1-based attempt number within its delivery. */
  n: number;
  at: EpochMs;
  duration_ms: number;
  status_code: number | null;
  error: string | null;
  /** The first bytes of the response body (capped). */
  response: string | null;
}

export interface Delivery {
  id: string;
  event_id: string;
  subscription_id: string;
  status: DeliveryStatus;
  attempts_count: number;
  /** When the delivery is next due (or when its lease ends, while leased). null once settled for good. */
  next_attempt_at: EpochMs | null;
  last_status_code: number | null;
  last_error: string | null;
  /** Milliseconds from the event's creation to its successful delivery. */
  latency_ms: number | null;
  created_at: EpochMs;
  updated_at: EpochMs;
  delivered_at: EpochMs | null;
}

export interface DeliveryWithAttempts extends Delivery {
  attempts: Attempt[];
}

/** A delivery handed to a consumer under a lease, with everything needed to deliver it. */
export interface ClaimedDelivery {
  delivery_id: string;
  subscription_id: string;
  event: Event;
  /** The number this attempt will have (attempts_count + 1). */
  attempt: number;
  /**
   * Attempts made since the delivery was last queued (0 on a first try, reset by a replay):
   * the index into the retry schedule when this attempt fails.
   */
  retry_index: number;
  lease_token: string;
  lease_expires_at: EpochMs;
  /**
   * The webhook body (the event's envelope as JSON, see core/envelope.ts), when the store built
   * it from its stored text; else the dispatcher serializes `event`. Never sent to API clients.
   */
  body?: string;
}

export type SettlementOutcome =
  /** 2xx, or an inbox consumer's ack. */
  | { kind: 'delivered' }
  /** Try again at `next_attempt_at`. */
  | { kind: 'retry'; next_attempt_at: EpochMs }
  /** Dead-letter: schedule used up or a permanent error. */
  | { kind: 'dead' };

export interface Settlement {
  delivery_id: string;
  /** The token from the claim. A settlement whose lease was lost is ignored, except `delivered`. */
  lease_token: string | null;
  /** The attempt that was made; null for a plain inbox ack (no HTTP request was made). */
  attempt: Omit<Attempt, 'n'> | null;
  outcome: SettlementOutcome;
  /** Set when the endpoint answered 410 Gone: the subscription is disabled with this reason. */
  disable_subscription?: string;
}

export interface SettleResult {
  delivery_id: string;
  /** false when the lease was lost (another consumer holds it) or the delivery was already settled. */
  applied: boolean;
  /** When not applied: the delivery's status as found, null when there is no such delivery. */
  found?: DeliveryStatus | null;
}

/** How long an Idempotency-Key answers with its first response; after that it is a new key. */
export const IDEMPOTENCY_TTL_MS = 24 * 3_600_000;

export interface IdempotentResponse {
  status: number;
  body: Json;
}

export interface AppendRequest {
  events: NewEvent[];
  /** When set, the batch is stored at most once per key; `response` is what a repeat gets back. */
  idempotency?: { key: string; response: IdempotentResponse };
}

export type AppendResult =
  | { kind: 'stored'; deliveries: number }
  /** The key was seen before: nothing was stored, here is the first response. */
  | { kind: 'replayed'; response: IdempotentResponse };

export type EventStatus = 'pending' | 'delivered' | 'failed';

export interface EventWithDeliveries extends Event {
  status: EventStatus;
  deliveries: DeliveryWithAttempts[];
}

// ── receiver ────────────────────────────────────────────────────────────────────────────
//
// Received request  One HTTP request that arrived at the built-in receiver (`POST /receiver/{name}`),
//                   stored whatever its signature said, so the log shows rejected ones too.
// Receiver          A name (`^[A-Za-z0-9_-]{1,64}$`) that requests are posted to; it exists once a
//                   request arrives or a secret is set for it.
// Verdict           What signature verification concluded about one request:
//                     verified           a Standard Webhooks `v1` signature (or the legacy
//                                        `X-Webhook-Signature`) matched a secret
//                     invalid_signature  signed, but no signature matched
//                     stale_timestamp    `webhook-timestamp` more than 5 minutes from now
//                     missing_signature  a secret is set but the request carries no signature
//                     unsigned           no secret is set for the receiver: nothing to check
// Duplicate         An accepted request (verified or unsigned) whose `webhook-id` an earlier
//                   accepted request to the same receiver already carried: the sender retried
//                   something that had arrived. It is stored, flagged, and answered 200.

export type ReceiverVerdict = 'verified' | 'invalid_signature' | 'stale_timestamp' | 'missing_signature' | 'unsigned';

export interface ReceivedRequest {
  /** Assigned by the store; increasing within a store (newer requests have larger ids). */
  id: string;
  /** The receiver name from the path. */
  name: string;
  /** Assigned by the store (its clock) when the request is recorded. */
  received_at: EpochMs;
  method: string;
  /** Path and query string as sent. */
  path: string;
  /** Lower-case header names; repeated headers joined with `, `. */
  headers: Record<string, string>;
  /** The raw body decoded as UTF-8, capped (see `body_size` for the full length). */
  body: string;
  /** The body's full length in bytes, as received. */
  body_size: number;
  /** The `webhook-id` header, when sent. */
  webhook_id: string | null;
  verdict: ReceiverVerdict;
  /** Verified through the legacy `X-Webhook-Signature` (hex HMAC-SHA256 of the body). */
  legacy: boolean;
  duplicate: boolean;
}

/** What the receiver hands the store; the store assigns `id`, `received_at` and `duplicate`. */
export type NewReceivedRequest = Omit<ReceivedRequest, 'id' | 'received_at' | 'duplicate'>;

export interface ReceiverSummary {
  name: string;
  /** Requests stored for this receiver (cleared ones are not counted). */
  count: number;
  last_received_at: EpochMs | null;
  has_secret: boolean;
}
