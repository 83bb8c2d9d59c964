/**
 * `/keys`: API keys with scopes (admin scope only, see scopes.ts). The plaintext key is in the
 * 201 answer to POST and nowhere else, ever: only its SHA-256 digest is stored. Revoking is
 * immediate in this process (its cache entry is dropped) and takes at most KEY_CACHE_MS in
 * the others; tokens issued for a revoked key stop working with it.
 */
import type { FastifyInstance } from 'fastify';
import { type ApiKey, generateApiKey, SCOPES, type Scope } from '../core/apiKeys.js';
import { NotFoundError } from '../core/errors.js';
import type { Authenticator } from './auth.js';
import type { ApiContext } from './context.js';
import { idParam } from './query.js';
import { commonErrors, idParam as idParamSchema } from './schemas.js';

const keySchema = {
  type: 'object',
  required: ['id', 'name', 'scopes', 'rate_limit', 'prefix', 'created_at', 'revoked_at'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    scopes: { type: 'array', items: { type: 'string', enum: [...SCOPES] } },
    rate_limit: { type: ['integer', 'null'], description: 'Ingest requests per second; null: TRIGGERS_INGEST_RATE_LIMIT.' },
    prefix: { type: 'string', description: 'The first characters of the key, to tell keys apart.' },
    created_at: { type: 'string', format: 'date-time' },
    revoked_at: { type: ['string', 'null'], format: 'date-time' },
  },
} as const;

const serialize = (key: ApiKey) => ({
  id: key.id,
  name: key.name,
  scopes: key.scopes,
  rate_limit: key.rate_limit,
  prefix: key.prefix,
  created_at: new Date(key.created_at).toISOString(),
  revoked_at: key.revoked_at === null ? null : new Date(key.revoked_at).toISOString(),
});

interface CreateBody {
  name: string;
  scopes: Scope[];
  rate_limit?: number | null;
}

export async function keyRoutes(app: FastifyInstance, ctx: ApiContext, auth: Authenticator): Promise<void> {
  const { store, logger } = ctx;
  const tags = ['keys'];

  app.post<{ Body: CreateBody }>(
    '/keys',
    {
      schema: {
        tags,
        summary: 'Create an API key (admin)',
        description: 'The answer holds the key itself, shown this once; only its SHA-256 digest is stored.',
        body: {
          type: 'object',
          required: ['name', 'scopes'],
          additionalProperties: false,
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 200, pattern: '^[^\\u0000-\\u001f\\u007f]*$' },
            scopes: { type: 'array', minItems: 1, maxItems: 3, uniqueItems: true, items: { type: 'string', enum: [...SCOPES] } },
            rate_limit: { type: ['integer', 'null'], minimum: 1, maximum: 1_000_000, description: 'Ingest requests per second.' },
          },
        },
        response: {
          201: { ...keySchema, required: [...keySchema.required, 'key'], properties: { ...keySchema.properties, key: { type: 'string' } } },
          ...commonErrors(403, 415),
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const { key, record } = generateApiKey(body.name, body.scopes, body.rate_limit ?? null);
      const created = await store.createApiKey(record);
      logger.info({ key_id: created.id, scopes: created.scopes, by: request.principal?.id }, 'API key created');
      reply.header('cache-control', 'no-store');
      return reply.code(201).send({ ...serialize(created), key });
    },
  );

  app.get(
    '/keys',
    {
      schema: {
        tags,
        summary: 'List API keys (admin), revoked ones too',
        response: { 200: { type: 'object', properties: { data: { type: 'array', items: keySchema } } }, ...commonErrors(403) },
      },
    },
    async () => ({ data: (await store.listApiKeys()).map(serialize) }),
  );

  app.delete<{ Params: { id: string } }>(
    '/keys/:id',
    {
      schema: {
        tags,
        summary: 'Revoke an API key (admin); its tokens stop working too',
        params: idParamSchema('id', 'Key id'),
        response: { 200: keySchema, ...commonErrors(403, 404) },
      },
    },
    async (request) => {
      const id = idParam(request.params.id);
      const revoked = await store.revokeApiKey(id);
      if (revoked === null) throw new NotFoundError('API key', id);
      auth.forget(revoked);
      logger.info({ key_id: id, by: request.principal?.id }, 'API key revoked');
      return serialize(revoked);
    },
  );
}
