/**
 * Subscriptions: where events go. A URL is checked when set (no private or loopback targets
 * unless allowed; the built-in receiver on this server's own origin is always allowed), and
 * filters are checked before they are stored. Rotating a secret keeps the previous one
 * signing for 24 hours so receivers can switch without dropping a request.
 *
 *   active ── disable / 410 Gone ──► disabled ── enable ──► active
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ConflictError, NotFoundError, ValidationError } from '../core/errors.js';
import { newSubscriptionId } from '../core/ids.js';
import { generateSecret, isValidSecret, rotate } from '../core/signing.js';
import { checkTargetUrl, isOwnReceiver } from '../core/targets.js';
import { type DeliveryOptionsInput, parseDeliveryOptions } from '../core/deliveryOptions.js';
import { DEFAULT_SUBSCRIPTION_ID } from '../defaultSubscription.js';
import type { DeliveryOptions, Subscription, SubscriptionPatch } from '../core/types.js';
import type { ApiContext } from './context.js';
import { emptyBodyIsObject } from './deliveries.js';
import { refuseUnknownFields } from './unknownFields.js';
import { idParam } from './query.js';
import { commonErrors, eventFilterSchema, idParam as idParamSchema, subscriptionSchema } from './schemas.js';
import { subscription as serialize } from './serialize.js';
import { seesSecrets } from './scopes.js';

interface SubscriptionBody {
  id?: string;
  url?: string | null;
  event_types?: string[];
  secret?: string;
  description?: string | null;
  metadata?: Record<string, string>;
  status?: 'active' | 'disabled';
  rate_limit?: number | null;
  max_concurrency?: number | null;
  timeout?: string | number | null;
  headers?: Record<string, string> | null;
  retry_schedule?: string | null;
  ordered?: boolean;
}

const fields = {
  url: { type: ['string', 'null'], maxLength: 2048, description: 'http(s) URL to push to; null for a pull-only inbox.' },
  event_types: { type: 'array', minItems: 1, maxItems: 100, items: eventFilterSchema, description: 'Default `["*"]`.' },
  description: { type: ['string', 'null'], maxLength: 1000 },
  metadata: {
    type: 'object',
    maxProperties: 50,
    additionalProperties: { type: 'string', maxLength: 1000 },
    description: 'Free-form string labels.',
  },
  rate_limit: { type: ['number', 'null'], description: 'Requests per second at most (above 0); null: no limit.' },
  max_concurrency: {
    type: ['integer', 'null'],
    description: 'Requests in flight at most; null: TRIGGERS_SUBSCRIPTION_CONCURRENCY.',
  },
  timeout: {
    anyOf: [{ type: 'string', maxLength: 32 }, { type: 'number' }, { type: 'null' }],
    description: 'Per-request timeout: `5s`, `500ms`, or seconds; 100ms–5m; null: TRIGGERS_DELIVERY_TIMEOUT.',
  },
  headers: {
    type: ['object', 'null'],
    maxProperties: 20,
    additionalProperties: { type: 'string', maxLength: 1000 },
    description: 'Custom request headers (token names, printable values; not content-*, host, user-agent, webhook-*…).',
  },
  retry_schedule: {
    type: ['string', 'null'],
    maxLength: 1000,
    description: 'Delays between attempts (`1s,10s,1m`; empty: no retries); null: TRIGGERS_RETRY_SCHEDULE.',
  },
  ordered: { type: 'boolean', description: 'One delivery in flight at a time, in event order (default false).' },
} as const;

/** Delivery-control fields of a body applied on top of `base`; a 400 names the first bad one. */
function deliveryOptions(body: SubscriptionBody, base?: DeliveryOptions): DeliveryOptions | undefined {
  const input: DeliveryOptionsInput = {};
  for (const key of ['rate_limit', 'max_concurrency', 'timeout', 'headers', 'retry_schedule', 'ordered'] as const) {
    if (body[key] !== undefined) (input as Record<string, unknown>)[key] = body[key];
  }
  if (Object.keys(input).length === 0) return undefined;
  const parsed = parseDeliveryOptions(input, base);
  if (!parsed.ok) throw new ValidationError(parsed.message, undefined, `invalid_${parsed.field}`);
  return parsed.options;
}

const secretField = {
  type: 'string',
  maxLength: 200,
  description: '`whsec_` + base64 of 16 to 64 bytes; generated when absent.',
} as const;

function checkSecret(secret: string | undefined): void {
  if (secret !== undefined && !isValidSecret(secret)) {
    throw new ValidationError('secret must be whsec_ followed by base64 of 16 to 64 bytes', undefined, 'invalid_secret');
  }
}

const PATCHABLE = new Set<string>([...Object.keys(fields), 'status']);
const CREATABLE = new Set<string>(['id', ...Object.keys(fields), 'status', 'secret']);
const ROTATABLE = new Set<string>(['secret']);

/**
 * A PATCH field that changes nothing is refused rather than ignored, so no one believes they set a
 * secret or an id that did not change.
 */
const patchOnly = (key: string): string | undefined =>
  key === 'secret'
    ? 'secret cannot be set by PATCH: POST /subscriptions/{id}/rotate-secret rotates it (the previous secret keeps signing for 24 hours)'
    : key === 'id'
      ? 'a subscription id cannot be changed'
      : undefined;

/** Whether this caller's key may see signing secrets and header values (scopes.ts). */
const revealsSecrets = (request: FastifyRequest) => seesSecrets(request.principal?.scopes ?? []);

export async function subscriptionRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  const { store, clock, config } = ctx;
  const api = new URL(config.apiUrl);

  /** Refuses URLs that point inside the network, except the built-in receiver on this server. */
  async function checkUrl(url: string | null | undefined): Promise<void> {
    if (url === null || url === undefined) return;
    await checkTargetUrl(url, { allowPrivate: config.allowPrivateTargets, exempt: (parsed) => isOwnReceiver(parsed, api) });
  }

  async function load(id: string): Promise<Subscription> {
    const found = await store.getSubscription(idParam(id));
    if (!found) throw new NotFoundError('subscription', id);
    return found;
  }

  async function update(id: string, patch: SubscriptionPatch): Promise<Subscription> {
    const updated = await store.updateSubscription(idParam(id), patch);
    if (!updated) throw new NotFoundError('subscription', id);
    return updated;
  }

  const params = idParamSchema('id', 'Subscription id');
  const one = { 200: subscriptionSchema, ...commonErrors(404) };

  app.post<{ Body: SubscriptionBody }>(
    '/subscriptions',
    {
      schema: {
        tags: ['subscriptions'],
        summary: 'Create a subscription',
        body: {
          type: 'object',
          properties: {
            id: { type: 'string', description: 'Letters, digits, _ and -; generated (`sub_…`) when absent.' },
            ...fields,
            status: {
              type: 'string',
              enum: ['active', 'disabled'],
              description: 'Default `active`; `disabled` stores no deliveries until enabled.',
            },
            secret: secretField,
          },
        },
        response: { 201: subscriptionSchema, ...commonErrors(409, 415) },
      },
      preValidation: emptyBodyIsObject,
    },
    async (request, reply) => {
      const body = request.body;
      refuseUnknownFields(body, CREATABLE, 'POST /subscriptions');
      const id = body.id === undefined ? newSubscriptionId() : idParam(body.id);
      checkSecret(body.secret);
      const delivery = deliveryOptions(body);
      await checkUrl(body.url);
      const created = await store.createSubscription({
        ...(delivery === undefined ? {} : { delivery }),
        id,
        url: body.url ?? null,
        event_types: body.event_types ?? ['*'],
        secrets: [{ secret: body.secret ?? generateSecret(), expires_at: null }],
        status: body.status ?? 'active',
        description: body.description ?? null,
        disabled_reason: null,
        metadata: body.metadata ?? {},
      });
      return reply.code(201).send(serialize(created, clock()));
    },
  );

  app.get(
    '/subscriptions',
    {
      schema: {
        tags: ['subscriptions'],
        summary: 'List subscriptions',
        response: {
          200: { type: 'object', properties: { data: { type: 'array', items: subscriptionSchema } } },
          ...commonErrors(),
        },
      },
    },
    async (request) => {
      const now = clock();
      const reveal = revealsSecrets(request);
      return { data: (await store.listSubscriptions()).map((s) => serialize(s, now, reveal)) };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/subscriptions/:id',
    { schema: { tags: ['subscriptions'], summary: 'Read a subscription', params, response: one } },
    async (request) => serialize(await load(request.params.id), clock(), revealsSecrets(request)),
  );

  app.patch<{ Params: { id: string }; Body: SubscriptionBody }>(
    '/subscriptions/:id',
    {
      schema: {
        tags: ['subscriptions'],
        summary: 'Update a subscription',
        description:
          'Any of `url`, `event_types`, `status`, `description`, `metadata` and the delivery-control fields (`null` resets one ' +
          'to its default). Enabling clears `disabled_reason` and resumes pending deliveries.',
        params,
        body: { type: 'object', properties: { ...fields, status: { type: 'string', enum: ['active', 'disabled'] } } },
        response: { ...one, ...commonErrors(404, 415) },
      },
      preValidation: emptyBodyIsObject,
    },
    async (request) => {
      const body = request.body;
      refuseUnknownFields(body, PATCHABLE, 'PATCH', patchOnly);
      const patch: SubscriptionPatch = {};
      const current = await load(request.params.id);
      const delivery = deliveryOptions(body, current.delivery);
      if (delivery !== undefined) patch.delivery = delivery;
      if (body.url !== undefined) {
        await checkUrl(body.url);
        patch.url = body.url;
      }
      if (body.event_types !== undefined) patch.event_types = body.event_types;
      if (body.description !== undefined) patch.description = body.description;
      if (body.metadata !== undefined) patch.metadata = body.metadata;
      if (body.status !== undefined) {
        patch.status = body.status;
        if (body.status === 'active') patch.disabled_reason = null;
      }
      const updated = Object.keys(patch).length === 0 ? await load(request.params.id) : await update(request.params.id, patch);
      return serialize(updated, clock());
    },
  );

  app.post<{ Params: { id: string } }>(
    '/subscriptions/:id/disable',
    {
      schema: { tags: ['subscriptions'], summary: 'Disable a subscription (no new deliveries are made)', params, response: one },
    },
    async (request) => serialize(await update(request.params.id, { status: 'disabled' }), clock()),
  );

  app.post<{ Params: { id: string } }>(
    '/subscriptions/:id/enable',
    { schema: { tags: ['subscriptions'], summary: 'Enable a subscription', params, response: one } },
    async (request) => serialize(await update(request.params.id, { status: 'active', disabled_reason: null }), clock()),
  );

  app.post<{ Params: { id: string }; Body: { secret?: string } }>(
    '/subscriptions/:id/rotate-secret',
    {
      schema: {
        tags: ['subscriptions'],
        summary: 'Rotate the signing secret',
        description: 'The new secret (given, or generated) signs from now on; the previous one keeps signing for 24 hours.',
        params,
        body: { type: 'object', properties: { secret: secretField } },
        response: { ...one, ...commonErrors(404, 415) },
      },
      preValidation: emptyBodyIsObject,
    },
    async (request) => {
      refuseUnknownFields(request.body, ROTATABLE, 'rotate-secret');
      checkSecret(request.body.secret);
      const current = await load(request.params.id);
      const now = clock();
      const secrets = rotate(current.secrets, request.body.secret ?? generateSecret(), now);
      return serialize(await update(current.id, { secrets }), now);
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/subscriptions/:id',
    {
      schema: {
        tags: ['subscriptions'],
        summary: 'Delete a subscription and its pending deliveries',
        description:
          'The default subscription comes from configuration and is re-created at every start, so it cannot be deleted (409): disable it, or narrow its event_types, instead.',
        params,
        response: { 204: { type: 'null', description: 'Deleted.' }, ...commonErrors(404, 409) },
      },
    },
    async (request, reply) => {
      const id = idParam(request.params.id);
      if (id === DEFAULT_SUBSCRIPTION_ID) {
        throw new ConflictError(
          'the default subscription comes from configuration (TRIGGERS_WEBHOOK_URL) and is re-created at every start; disable it (POST /subscriptions/default/disable) or narrow its event_types instead',
          'default_subscription',
        );
      }
      if (!(await store.deleteSubscription(id))) throw new NotFoundError('subscription', id);
      return reply.code(204).send();
    },
  );
}
