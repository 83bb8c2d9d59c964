/**
 * The OpenAPI 3.1 document, built from the routes' own schemas (so it cannot drift from what
 * is validated), served at `/openapi.json` and rendered at `/docs`. Register before any route:
 * the document is collected as routes are added.
 */
import { readFileSync } from 'node:fs';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export const API_TAGS = [
  { name: 'auth', description: 'Tokens.' },
  { name: 'keys', description: 'API keys with scopes (admin).' },
  { name: 'events', description: 'Send, list, read and erase events.' },
  { name: 'inbox', description: 'Pull consumers: list, ack, claim with a lease.' },
  { name: 'deliveries', description: 'Settle leased deliveries (ack, nack, batch).' },
  { name: 'subscriptions', description: 'Where events go.' },
  { name: 'dead letters', description: 'Deliveries that failed for good, and replaying them.' },
  { name: 'operations', description: 'Health, metrics, this document.' },
];

export async function registerOpenApi(app: FastifyInstance, options: { serverUrl?: string } = {}): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Triggers API',
        version: packageVersion(),
        description:
          'Event ingestion and reliable webhook delivery. Every error is `{ "error": { "code", "message" } }`; ' +
          'times are ISO 8601 (UTC). Authenticate with `Authorization: Bearer <token from POST /token>` or `X-API-Key`.',
      },
      ...(options.serverUrl ? { servers: [{ url: options.serverUrl }] } : {}),
      tags: API_TAGS,
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A token from `POST /token`.' },
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'The API key itself.' },
        },
      },
      security: [{ bearerAuth: [] }, { apiKey: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: true } });

  app.get(
    '/openapi.json',
    {
      config: { public: true },
      schema: { tags: ['operations'], summary: 'This OpenAPI 3.1 document', security: [] },
    },
    async (_request, reply) => reply.type('application/json; charset=utf-8').send(JSON.stringify(app.swagger())),
  );
}
