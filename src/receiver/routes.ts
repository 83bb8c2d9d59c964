/**
 * The receiver as a fastify plugin: the public webhook endpoint (endpoint.ts) plus its
 * management API, authenticated like the rest of the API (the server's guard covers every path
 * here but `/receiver/…`):
 *
 *   GET    /receivers                          names with counts, last arrival, has_secret, verifies_with
 *   GET    /receivers/{name}/requests          one receiver's log, newest first (limit, cursor, verdict)
 *   GET    /receiver-requests                  every receiver's log, newest first (limit, cursor, name, verdict)
 *   GET    /receivers/{name}/requests/{id}     one stored request
 *   DELETE /receivers/{name}/requests          clear the log → { deleted }
 *   PUT    /receivers/{name}/secret            { secret } → 204; overrides TRIGGERS_RECEIVER_SECRET
 *   DELETE /receivers/{name}/secret            → 204
 *   POST   /receivers/verify                   check an HMAC by hand → { verdict, expected_signature, … }
 *
 * Live views: `receiverFeed(store).onReceived(listener)` (feed.ts) is called after each request
 * is stored.
 */
import type { FastifyInstance } from 'fastify';
import { limitParam, q } from '../api/query.js';
import { commonErrors, pageOf } from '../api/schemas.js';
import { NotFoundError, ValidationError } from '../core/errors.js';
import { legacySignature, sign, verify } from '../core/signing.js';
import type { ReceiverVerdict } from '../core/types.js';
import { type ReceiverDeps, receiverEndpoint } from './endpoint.js';
import {
  nameParams,
  receivedRequestSchema,
  receiverName,
  receiverSummarySchema,
  serializeReceived,
  serializeReceiver,
  verdictSchema,
} from './schemas.js';
import { judge } from './verify.js';

export type { ReceiverDeps } from './endpoint.js';
export { type ReceivedListener, ReceiverFeed, receiverFeed } from './feed.js';

/** Registers the endpoint and the management API, each in its own scope. */
export async function receiverRoutes(app: FastifyInstance, deps: ReceiverDeps): Promise<void> {
  await app.register(async (scope) => receiverEndpoint(scope, deps));
  await app.register(async (scope) => receiverManagementRoutes(scope, deps));
}

interface ListQuery {
  limit?: string;
  cursor?: string;
  verdict?: ReceiverVerdict;
  name?: string;
}

interface VerifyBody {
  secret: string;
  body: string;
  headers?: { 'webhook-id'?: string; 'webhook-timestamp'?: string; 'webhook-signature'?: string };
  legacy_signature?: string;
}

const MAX_SECRET_LENGTH = 256;

export async function receiverManagementRoutes(app: FastifyInstance, deps: ReceiverDeps): Promise<void> {
  const { store, clock } = deps;
  const tags = ['receiver'];
  const listQuery = { limit: q.limit(1000, 50), cursor: q.cursor, verdict: verdictSchema };
  const page = pageOf(receivedRequestSchema);

  app.get(
    '/receivers',
    {
      schema: {
        tags,
        summary: 'List receivers: every name that received a request or has a secret',
        response: {
          200: { type: 'object', required: ['data'], properties: { data: { type: 'array', items: receiverSummarySchema } } },
          ...commonErrors(),
        },
      },
    },
    async () => ({ data: (await store.listReceivers()).map((r) => serializeReceiver(r, deps.config.receiverSecret !== null)) }),
  );

  app.get<{ Params: { name: string }; Querystring: ListQuery }>(
    '/receivers/:name/requests',
    {
      schema: {
        tags,
        summary: 'One receiver’s stored requests, newest first',
        params: nameParams,
        querystring: { type: 'object', properties: listQuery },
        response: { 200: page, ...commonErrors() },
      },
    },
    async (request) => {
      const { limit, cursor, verdict } = request.query;
      const name = receiverName(request.params.name);
      const found = await store.listReceived({ name, limit: limitParam(limit, 50, 1000), after: cursor || null, verdict });
      return { data: found.items.map(serializeReceived), next_cursor: found.next_cursor };
    },
  );

  app.get<{ Querystring: ListQuery }>(
    '/receiver-requests',
    {
      schema: {
        tags,
        summary: 'Every receiver’s stored requests, newest first',
        querystring: {
          type: 'object',
          properties: { ...listQuery, name: { type: 'string', maxLength: 64, description: 'One receiver.' } },
        },
        response: { 200: page, ...commonErrors() },
      },
    },
    async (request) => {
      const { limit, cursor, verdict, name } = request.query;
      const found = await store.listReceived({
        name: name ? receiverName(name, 'name') : undefined,
        limit: limitParam(limit, 50, 1000),
        after: cursor || null,
        verdict,
      });
      return { data: found.items.map(serializeReceived), next_cursor: found.next_cursor };
    },
  );

  app.get<{ Params: { name: string; id: string } }>(
    '/receivers/:name/requests/:id',
    {
      schema: {
        tags,
        summary: 'One stored request',
        params: { type: 'object', required: ['name', 'id'], properties: { ...nameParams.properties, id: { type: 'string' } } },
        response: { 200: receivedRequestSchema, ...commonErrors(404) },
      },
    },
    async (request) => {
      const name = receiverName(request.params.name);
      const found = await store.getReceived(request.params.id);
      if (found === null || found.name !== name)
        throw new NotFoundError(`request of receiver ${JSON.stringify(name)}`, request.params.id);
      return serializeReceived(found);
    },
  );

  app.delete<{ Params: { name: string } }>(
    '/receivers/:name/requests',
    {
      schema: {
        tags,
        summary: 'Clear a receiver’s log (dedupe forgets its webhook-ids too)',
        params: nameParams,
        response: {
          200: { type: 'object', required: ['deleted'], properties: { deleted: { type: 'integer' } } },
          ...commonErrors(),
        },
      },
    },
    async (request) => ({ deleted: await store.clearReceived(receiverName(request.params.name)) }),
  );

  app.put<{ Params: { name: string }; Body: { secret: string } }>(
    '/receivers/:name/secret',
    {
      schema: {
        tags,
        summary: 'Set the secret a receiver verifies with',
        description:
          'Overrides `TRIGGERS_RECEIVER_SECRET` for this name. Any text up to 256 characters; a `whsec_…` secret (a ' +
          'subscription’s) is recommended: its base64 part is the Standard Webhooks key, and the legacy header is ' +
          'checked with the text as is.',
        params: nameParams,
        body: {
          type: 'object',
          required: ['secret'],
          properties: { secret: { type: 'string', minLength: 1, maxLength: MAX_SECRET_LENGTH } },
        },
        response: { 204: { type: 'null', description: 'Set.' }, ...commonErrors(415) },
      },
    },
    async (request, reply) => {
      await store.setReceiverSecret(receiverName(request.params.name), request.body.secret);
      return reply.code(204).send();
    },
  );

  app.delete<{ Params: { name: string } }>(
    '/receivers/:name/secret',
    {
      schema: {
        tags,
        summary: 'Remove a receiver’s own secret (TRIGGERS_RECEIVER_SECRET applies again, if set)',
        params: nameParams,
        response: { 204: { type: 'null', description: 'Removed (or there was none).' }, ...commonErrors() },
      },
    },
    async (request, reply) => {
      await store.setReceiverSecret(receiverName(request.params.name), null);
      return reply.code(204).send();
    },
  );

  app.post<{ Body: VerifyBody }>(
    '/receivers/verify',
    {
      schema: {
        tags,
        summary: 'Check a signature by hand',
        description:
          'Judges `body` with `secret` as the receiver would now, and gives the signatures it expected: ' +
          '`expected_signature` (Standard Webhooks, when `webhook-id` and `webhook-timestamp` are given) and ' +
          '`expected_legacy_signature` (hex HMAC-SHA256 of the body). `signature_matches` ignores the timestamp tolerance.',
        body: {
          type: 'object',
          required: ['secret', 'body'],
          properties: {
            secret: { type: 'string', minLength: 1, maxLength: MAX_SECRET_LENGTH },
            body: { type: 'string', description: 'The raw body, exactly as sent.' },
            headers: {
              type: 'object',
              properties: {
                'webhook-id': { type: 'string', maxLength: 1024 },
                'webhook-timestamp': { type: 'string', maxLength: 64 },
                'webhook-signature': { type: 'string', maxLength: 8192 },
              },
            },
            legacy_signature: { type: 'string', maxLength: 1024, description: 'An `X-Webhook-Signature` value.' },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['verdict', 'legacy', 'signature_matches', 'expected_signature', 'expected_legacy_signature'],
            properties: {
              verdict: verdictSchema,
              legacy: { type: 'boolean', description: 'Verified through the legacy signature.' },
              signature_matches: { type: 'boolean', description: 'A signature matches, whatever the timestamp.' },
              expected_signature: { type: ['string', 'null'], description: '`v1,<base64>` for the given id and timestamp.' },
              expected_legacy_signature: { type: 'string', description: 'Hex HMAC-SHA256 of the body.' },
            },
          },
          ...commonErrors(415),
        },
      },
    },
    async (request) => {
      const { secret, body, headers = {}, legacy_signature } = request.body;
      const id = headers['webhook-id'] || undefined;
      const timestamp = headers['webhook-timestamp'] || undefined;
      const signature = headers['webhook-signature'] || undefined;
      if (timestamp !== undefined && !/^\d{1,12}$/.test(timestamp)) {
        throw new ValidationError('headers.webhook-timestamp must be seconds since the epoch');
      }
      const all = {
        'webhook-id': id,
        'webhook-timestamp': timestamp,
        'webhook-signature': signature,
        'x-webhook-signature': legacy_signature,
      };
      const { verdict, legacy } = judge([secret], all, body, Math.floor(clock() / 1000));
      const standardMatches =
        timestamp !== undefined && verify([secret], { id, timestamp, signature }, body, Number(timestamp)) === 'verified';
      return {
        verdict,
        legacy,
        signature_matches: standardMatches || legacy,
        expected_signature: id !== undefined && timestamp !== undefined ? sign(secret, id, Number(timestamp), body) : null,
        expected_legacy_signature: legacySignature(secret, body),
      };
    },
  );
}
