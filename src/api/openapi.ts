/**
 * The OpenAPI 3.1 document, built from the routes' own schemas (so it cannot drift from what
 * is validated), served at `/openapi.json` and rendered at `/docs`. Register before any route:
 * the document is collected as routes are added.
 */
import { readFileSync } from 'node:fs';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { PAGE_HEADERS, pageCsp } from './pageHeaders.js';

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

/**
 * Each operation's `operationId` (what generated clients name their methods), by method and
 * OpenAPI path. Stable: a client's method names must not change when routes are reordered. A
 * route missing here (or setting `schema.operationId` itself) still gets one from `derivedId`.
 */
const OPERATION_IDS: Record<string, string> = {
  'GET /openapi.json': 'getOpenApiDocument',
  'GET /health': 'getHealth',
  'GET /metrics': 'getMetrics',
  'GET /metrics/summary': 'getMetricsSummary',
  'POST /token': 'createToken',
  'POST /keys': 'createApiKey',
  'GET /keys': 'listApiKeys',
  'DELETE /keys/{id}': 'revokeApiKey',
  'POST /events': 'createEvent',
  'POST /events/batch': 'createEventBatch',
  'GET /events': 'listEvents',
  'GET /events/export': 'exportEvents',
  'GET /events/{id}': 'getEvent',
  'DELETE /events/{id}': 'deleteEvent',
  'GET /inbox': 'listInbox',
  'POST /inbox/{id}/ack': 'ackInboxEvent',
  'POST /inbox/claim': 'claimDeliveries',
  'POST /deliveries/{delivery_id}/ack': 'ackDelivery',
  'POST /deliveries/{delivery_id}/nack': 'nackDelivery',
  'POST /deliveries/settle': 'settleDeliveries',
  'POST /deliveries/release': 'releaseDeliveries',
  'POST /deliveries/{delivery_id}/replay': 'replayDelivery',
  'POST /subscriptions': 'createSubscription',
  'GET /subscriptions': 'listSubscriptions',
  'GET /subscriptions/{id}': 'getSubscription',
  'PATCH /subscriptions/{id}': 'updateSubscription',
  'DELETE /subscriptions/{id}': 'deleteSubscription',
  'POST /subscriptions/{id}/disable': 'disableSubscription',
  'POST /subscriptions/{id}/enable': 'enableSubscription',
  'POST /subscriptions/{id}/rotate-secret': 'rotateSubscriptionSecret',
  'GET /dead-letters': 'listDeadLetters',
  'POST /dead-letters/replay': 'replayDeadLetters',
  'POST /receiver/{name}': 'receiveWebhook',
  'GET /receivers': 'listReceivers',
  'GET /receivers/{name}/requests': 'listReceiverRequests',
  'DELETE /receivers/{name}/requests': 'clearReceiverRequests',
  'GET /receivers/{name}/requests/{id}': 'getReceiverRequest',
  'GET /receiver-requests': 'listAllReceiverRequests',
  'PUT /receivers/{name}/secret': 'setReceiverSecret',
  'DELETE /receivers/{name}/secret': 'deleteReceiverSecret',
  'POST /receivers/verify': 'verifyReceiverSignature',
  'GET /console/stream': 'streamConsoleFeed',
};

/** Operations whose body may be left out (no body reads as `{}`); the document says so. */
const OPTIONAL_BODIES = new Set([
  'POST /inbox/claim',
  'POST /deliveries/{delivery_id}/ack',
  'POST /subscriptions',
  'PATCH /subscriptions/{id}',
  'POST /subscriptions/{id}/rotate-secret',
  'POST /dead-letters/replay',
]);

const pascal = (word: string): string => word.charAt(0).toUpperCase() + word.slice(1);

/** `POST /foo-bar/{id}/baz` → `postFooBarByIdBaz`: readable enough, and unique per method and path. */
export function derivedId(method: string, path: string): string {
  const words = path
    .split('/')
    .filter((segment) => segment !== '')
    .flatMap((segment) => {
      const param = /^\{(.+)\}$/.exec(segment);
      const parts = (param ? (param[1] as string) : segment).split(/[^A-Za-z0-9]+/).filter((part) => part !== '');
      return param ? ['by', ...parts] : parts;
    });
  return method.toLowerCase() + words.map((word) => pascal(word.toLowerCase())).join('');
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/**
 * Gives every operation of the document an `operationId` (ids already set are kept), and marks
 * the bodies that may be left out as not required.
 */
export function addOperationIds<T extends { paths?: Record<string, Record<string, unknown> | undefined> }>(document: T): T {
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const method of METHODS) {
      const operation = item?.[method] as { operationId?: string; requestBody?: { required?: boolean } } | undefined;
      if (!operation) continue;
      const key = `${method.toUpperCase()} ${path}`;
      if (!operation.operationId) operation.operationId = OPERATION_IDS[key] ?? derivedId(method, path);
      if (operation.requestBody && OPTIONAL_BODIES.has(key)) operation.requestBody.required = false;
    }
  }
  return document;
}

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
    transformObject: (document) =>
      'openapiObject' in document
        ? addOperationIds(document.openapiObject as Parameters<typeof addOperationIds>[0])
        : document.swaggerObject,
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { deepLinking: true },
    // The console's policy (pageHeaders.ts), with inline styles for Swagger UI.
    staticCSP: pageCsp({ inlineStyles: true }),
    uiHooks: {
      onRequest: (_request, reply, done) => {
        reply.headers(PAGE_HEADERS);
        done();
      },
    },
  });

  app.get(
    '/openapi.json',
    {
      config: { public: true },
      schema: { tags: ['operations'], summary: 'This OpenAPI 3.1 document', security: [] },
    },
    async (_request, reply) => reply.type('application/json; charset=utf-8').send(JSON.stringify(app.swagger())),
  );
}
