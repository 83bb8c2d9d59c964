/**
 * JSON schemas the routes share: request bodies (validated by fastify's compiled Ajv, without
 * type coercion — a number is never accepted where a string is asked for) and responses
 * (compiled serializers; they also make the OpenAPI document).
 *
 * Query strings arrive as text and are not coerced either: numeric parameters are declared as
 * digit strings and converted by the routes (see `query.ts`).
 */
import { EVENT_FILTER_PATTERN, EVENT_TYPE_PATTERN } from '../core/filters.js';
import { ID_PATTERN } from '../core/ids.js';

export const errorSchema = {
  type: 'object',
  description: 'Every error has this shape; `code` is stable and machine-readable.',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' } },
    },
  },
} as const;

/** Error responses for the OpenAPI document and the serializer, by status. */
export function errorResponses(...statuses: number[]): Record<number, typeof errorSchema> {
  const out: Record<number, typeof errorSchema> = {};
  for (const status of statuses) out[status] = errorSchema;
  return out;
}

/** Errors every protected route can answer (403: the key's scopes do not include the route's). */
export const commonErrors = (...more: number[]) => errorResponses(400, 401, 403, 503, ...more);

const isoTime = { type: 'string', format: 'date-time' } as const;
const nullableIsoTime = { type: ['string', 'null'], format: 'date-time' } as const;

export const idParam = (name: string, description: string) =>
  ({
    type: 'object',
    required: [name],
    properties: { [name]: { type: 'string', description } },
  }) as const;

// ── requests ────────────────────────────────────────────────────────────────────────────

export const eventTypeSchema = {
  type: 'string',
  minLength: 1,
  maxLength: 200,
  pattern: EVENT_TYPE_PATTERN,
  description: 'Dot-separated segments of letters, digits and `_ - : /`, e.g. `order.created`.',
} as const;

export const eventFilterSchema = {
  type: 'string',
  minLength: 1,
  maxLength: 200,
  pattern: EVENT_FILTER_PATTERN,
  description: '`*`, an exact type, or a prefix wildcard such as `order.*`.',
} as const;

export const newEventSchema = {
  type: 'object',
  required: ['type', 'source', 'payload'],
  description: 'Unknown extra top-level fields are accepted and ignored.',
  properties: {
    type: eventTypeSchema,
    source: { type: 'string', minLength: 1, maxLength: 200 },
    payload: { type: 'object', description: 'Any JSON object.', additionalProperties: true },
  },
} as const;

export const idempotencyHeader = {
  type: 'object',
  properties: {
    'idempotency-key': {
      type: 'string',
      description:
        '1 to 255 printable ASCII characters. A repeat from the same API key within 24 hours answers with the first response and stores nothing; keys are separate per API key and per route.',
    },
  },
} as const;

/** A duration: seconds as a number, or text like `250ms`, `30s`, `5m`. */
export const durationSchema = {
  anyOf: [
    { type: 'number', minimum: 0 },
    { type: 'string', maxLength: 32 },
  ],
} as const;

export const subscriptionIdSchema = { type: 'string', pattern: ID_PATTERN } as const;

// ── responses ───────────────────────────────────────────────────────────────────────────

const payloadSchema = { type: 'object', additionalProperties: true } as const;

export const acceptedEventSchema = {
  type: 'object',
  required: ['id', 'type', 'source', 'created_at', 'status'],
  properties: {
    id: { type: 'string' },
    type: { type: 'string' },
    source: { type: 'string' },
    created_at: isoTime,
    status: { type: 'string', enum: ['pending', 'delivered', 'failed'] },
  },
} as const;

export const envelopeSchema = {
  type: 'object',
  required: ['id', 'type', 'source', 'created_at', 'payload'],
  properties: {
    id: { type: 'string' },
    type: { type: 'string' },
    source: { type: 'string' },
    created_at: isoTime,
    payload: payloadSchema,
  },
} as const;

export const eventSummarySchema = {
  type: 'object',
  required: ['id', 'type', 'source', 'created_at', 'payload', 'status'],
  properties: {
    ...envelopeSchema.properties,
    status: { type: 'string', enum: ['pending', 'delivered', 'failed'] },
  },
} as const;

export const attemptSchema = {
  type: 'object',
  properties: {
    n: { type: 'integer' },
    at: isoTime,
    duration_ms: { type: 'number' },
    status_code: { type: ['integer', 'null'] },
    error: { type: ['string', 'null'] },
    response: { type: ['string', 'null'] },
  },
} as const;

const deliveryProperties = {
  id: { type: 'string' },
  event_id: { type: 'string' },
  subscription_id: { type: 'string' },
  status: { type: 'string', enum: ['pending', 'delivered', 'failed'] },
  attempts_count: { type: 'integer' },
  next_attempt_at: nullableIsoTime,
  last_status_code: { type: ['integer', 'null'] },
  last_error: { type: ['string', 'null'] },
  latency_ms: { type: ['number', 'null'] },
  created_at: isoTime,
  updated_at: isoTime,
  delivered_at: nullableIsoTime,
} as const;

export const deliverySchema = {
  type: 'object',
  properties: { ...deliveryProperties, attempts: { type: 'array', items: attemptSchema } },
} as const;

export const eventDetailSchema = {
  type: 'object',
  properties: {
    ...eventSummarySchema.properties,
    deliveries: { type: 'array', items: deliverySchema },
  },
} as const;

export const deadLetterSchema = {
  type: 'object',
  properties: { ...deliveryProperties, event: envelopeSchema },
} as const;

export const inboxItemSchema = {
  type: 'object',
  properties: {
    ...envelopeSchema.properties,
    status: { type: 'string', enum: ['pending'] },
    attempts: { type: 'integer', description: 'Attempts made so far.' },
    delivery_id: { type: 'string' },
  },
} as const;

export const claimedDeliverySchema = {
  type: 'object',
  properties: {
    delivery_id: { type: 'string' },
    subscription_id: { type: 'string' },
    attempt: { type: 'integer', description: 'The number this attempt will have.' },
    retry_index: { type: 'integer', description: 'Pass back in a nack: the index into the retry schedule.' },
    lease_token: { type: 'string' },
    lease_expires_at: isoTime,
    event: envelopeSchema,
  },
} as const;

export const subscriptionSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    url: { type: ['string', 'null'], description: 'null: a pull-only inbox.' },
    event_types: { type: 'array', items: { type: 'string' } },
    status: { type: 'string', enum: ['active', 'disabled'] },
    secret: {
      type: ['string', 'null'],
      description: 'The current signing secret (`whsec_…`); null for a key with only the `read` scope.',
    },
    previous_secrets: {
      type: 'array',
      description: 'Rotated-out secrets that still sign until `expires_at` (each `secret` null for a `read`-only key).',
      items: { type: 'object', properties: { secret: { type: ['string', 'null'] }, expires_at: isoTime } },
    },
    description: { type: ['string', 'null'] },
    metadata: { type: 'object', additionalProperties: { type: 'string' } },
    disabled_reason: { type: ['string', 'null'] },
    rate_limit: { type: ['number', 'null'], description: 'Requests per second at most; null: no limit.' },
    max_concurrency: {
      type: ['integer', 'null'],
      description: 'Requests in flight at most; null: TRIGGERS_SUBSCRIPTION_CONCURRENCY.',
    },
    timeout: { type: ['string', 'null'], description: 'Per-request timeout (`5s`); null: TRIGGERS_DELIVERY_TIMEOUT.' },
    headers: {
      type: 'object',
      additionalProperties: { type: ['string', 'null'] },
      description: 'Custom request headers (values null for a key with only the `read` scope).',
    },
    retry_schedule: {
      type: ['string', 'null'],
      description: 'Delays between attempts (`1s,10s,1m`); null: TRIGGERS_RETRY_SCHEDULE.',
    },
    ordered: { type: 'boolean', description: 'One delivery in flight at a time, in event order.' },
    first_failure_at: {
      type: ['string', 'null'],
      format: 'date-time',
      description: 'First failed attempt since the last success.',
    },
    last_success_at: { type: ['string', 'null'], format: 'date-time' },
    created_at: isoTime,
    updated_at: isoTime,
  },
} as const;

export const pageOf = (items: object) =>
  ({
    type: 'object',
    required: ['data', 'next_cursor'],
    properties: {
      data: { type: 'array', items },
      next_cursor: { type: ['string', 'null'], description: 'Pass as `cursor` for the next page; null on the last.' },
    },
  }) as const;
