/**
 * The receiver's wire shapes: its names, the JSON of a stored request (times as ISO 8601, as
 * everywhere in the API), and the schemas that validate and document them.
 */
import { ValidationError } from '../core/errors.js';
import type { ReceivedRequest, ReceiverSummary, ReceiverVerdict } from '../core/types.js';

export const RECEIVER_NAME_PATTERN = '^[A-Za-z0-9_-]{1,64}$';
const NAME = new RegExp(RECEIVER_NAME_PATTERN);

export const VERDICTS: readonly ReceiverVerdict[] = [
  'verified',
  'invalid_signature',
  'stale_timestamp',
  'missing_signature',
  'unsigned',
];

/** A receiver name from a path or a query, or a 400 that says what a name may be. */
export function receiverName(value: string, what = 'receiver name'): string {
  if (!NAME.test(value))
    throw new ValidationError(`${what} must be 1 to 64 letters, digits, _ or -`, undefined, 'invalid_receiver_name');
  return value;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export const serializeReceived = (r: ReceivedRequest) => ({
  id: r.id,
  name: r.name,
  received_at: iso(r.received_at),
  method: r.method,
  path: r.path,
  headers: r.headers,
  body: r.body,
  body_size: r.body_size,
  webhook_id: r.webhook_id,
  verdict: r.verdict,
  legacy: r.legacy,
  duplicate: r.duplicate,
});

/** `sharedSecret`: whether TRIGGERS_RECEIVER_SECRET is set (it verifies every name without a secret of its own). */
export const serializeReceiver = (r: ReceiverSummary, sharedSecret: boolean) => ({
  name: r.name,
  count: r.count,
  last_received_at: r.last_received_at === null ? null : iso(r.last_received_at),
  has_secret: r.has_secret,
  verifies_with: r.has_secret ? 'own_secret' : sharedSecret ? 'TRIGGERS_RECEIVER_SECRET' : null,
});

export const verdictSchema = {
  type: 'string',
  enum: VERDICTS,
  description:
    '`verified`: a signature matched; `invalid_signature`: signed, no match; `stale_timestamp`: `webhook-timestamp` more than ' +
    '5 minutes off; `missing_signature`: a secret is set but nothing was signed; `unsigned`: no secret set, nothing checked.',
} as const;

export const receivedRequestSchema = {
  type: 'object',
  required: [
    'id',
    'name',
    'received_at',
    'method',
    'path',
    'headers',
    'body',
    'body_size',
    'webhook_id',
    'verdict',
    'legacy',
    'duplicate',
  ],
  properties: {
    id: { type: 'string' },
    name: { type: 'string', description: 'The receiver name from the path.' },
    received_at: { type: 'string', format: 'date-time' },
    method: { type: 'string' },
    path: { type: 'string', description: 'Path and query string as sent.' },
    headers: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description: 'Lower-case names; repeats joined with `, `.',
    },
    body: { type: 'string', description: 'The raw body as UTF-8 text, at most 256 KiB of it.' },
    body_size: { type: 'integer', description: 'The full body length in bytes.' },
    webhook_id: { type: ['string', 'null'] },
    verdict: verdictSchema,
    legacy: { type: 'boolean', description: 'Verified through the legacy `X-Webhook-Signature` header.' },
    duplicate: { type: 'boolean', description: 'An accepted `webhook-id` this receiver had already accepted.' },
  },
} as const;

export const receiverSummarySchema = {
  type: 'object',
  required: ['name', 'count', 'last_received_at', 'has_secret'],
  properties: {
    name: { type: 'string' },
    count: { type: 'integer', description: 'Requests stored.' },
    last_received_at: { type: ['string', 'null'], format: 'date-time' },
    has_secret: { type: 'boolean', description: 'A secret is set for this name through the API.' },
    verifies_with: {
      type: ['string', 'null'],
      enum: ['own_secret', 'TRIGGERS_RECEIVER_SECRET', null],
      description:
        'What signatures to this name are checked with: its own secret, the shared TRIGGERS_RECEIVER_SECRET, or nothing (null: requests are stored as `unsigned`).',
    },
  },
} as const;

export const nameParams = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', description: 'Receiver name: 1 to 64 letters, digits, `_` or `-`.' } },
} as const;
