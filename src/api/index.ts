/**
 * The HTTP API: `buildApi` assembles a fastify server (not listening; the caller listens) from
 * one module per resource. Order matters in three places: the OpenAPI collector is registered
 * before any route, the error handling and the auth guard before the routes they cover, and
 * the request-body parsers are set once here (JSON everywhere, forms only on `/token`).
 *
 * Other parts of Triggers add their own routes to the returned instance (the console at `/`,
 * the receiver at `/receiver/*`); the auth guard already treats those paths as open (see
 * `PUBLIC_ROUTES` in auth.ts, or mark a route `config: { public: true }`).
 */
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import { receiverRoutes } from '../receiver/routes.js';
import { Authenticator, authGuard, tokenRoutes } from './auth.js';
import { ClaimMemory } from './claims.js';
import { consoleRoutes } from './console.js';
import { type ApiContext, type ApiDeps, REQUEST_TIMEOUT_MS } from './context.js';
import { deadLetterRoutes } from './deadLetters.js';
import { deliveryRoutes } from './deliveries.js';
import { clientErrorHandler, frameworkErrors, installErrorHandling, installProtocolErrors, RouteTable } from './errors.js';
import { eventRoutes } from './events.js';
import { healthRoutes } from './health.js';
import { inboxRoutes } from './inbox.js';
import { jsonBodyParser } from './jsonBody.js';
import { keyRoutes } from './keys.js';
import { metricsRoutes } from './metrics.js';
import { registerOpenApi } from './openapi.js';
import { subscriptionRoutes } from './subscriptions.js';

export { isPublicRoute, PUBLIC_ROUTES } from './auth.js';
export type { ApiContext, ApiDeps } from './context.js';
export { errorBody, sendError } from './errors.js';

export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const { config, logger } = deps;
  const ctx: ApiContext = {
    config,
    store: deps.store,
    metrics: deps.metrics,
    logger,
    role: deps.role ?? config.role,
    clock: deps.clock ?? Date.now,
    claims: new ClaimMemory(),
  };

  const requestTimeout = deps.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  const app = Fastify({
    loggerInstance: logger,
    // Per-request log lines would cost more than the ingest itself; errors are logged in errors.ts.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.bodyLimitBytes,
    // While closing, requests still arriving are answered 503 in our shape (installProtocolErrors).
    return503OnClosing: false,
    // A client that stalls mid-request (a slow upload) holds its connection and a graceful stop
    // at most this long; fastify's default is no limit.
    requestTimeout,
    // Errors raised before routing, and requests Node's parser refuses, answer in our shape too.
    frameworkErrors,
    clientErrorHandler: clientErrorHandler(logger),
    // A request without Host is refused in our shape by installProtocolErrors, not by Node. The
    // request timeout is given to Node's server too: one set only after it is created (as fastify
    // does) is never enforced. Node checks request timeouts every connectionsCheckingInterval.
    http: {
      requireHostHeader: false,
      requestTimeout,
      connectionsCheckingInterval: Math.min(5_000, Math.max(50, Math.floor(requestTimeout / 12))),
    },
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 256 },
    // No type coercion: a number is never silently accepted as a string (query values are
    // converted explicitly, see query.ts).
    ajv: { customOptions: { coerceTypes: false, allowUnionTypes: true } },
  }) as unknown as FastifyInstance;

  // JSON only (forms on /token are added in its own scope); what the JSON parser refuses, and
  // why, is in jsonBody.ts.
  app.removeContentTypeParser('text/plain');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, jsonBodyParser(app));

  installErrorHandling(app, logger, new RouteTable());
  installProtocolErrors(app);
  // The document names the API's URL only when it is configured: otherwise (a guess from the
  // listening address, 0.0.0.0 or the Lambda default) it is left out, and clients use the
  // origin they fetched the document from.
  await registerOpenApi(app, { serverUrl: config.sources.TRIGGERS_API_URL === undefined ? undefined : config.apiUrl });

  const auth = new Authenticator(ctx);
  app.addHook('onRequest', authGuard(ctx, auth));

  await app.register(async (scope) => healthRoutes(scope, ctx));
  await app.register(async (scope) => metricsRoutes(scope, ctx));
  if (ctx.role !== 'dispatcher') {
    await tokenRoutes(app, auth);
    await app.register(async (scope) => eventRoutes(scope, ctx));
    await app.register(async (scope) => inboxRoutes(scope, ctx));
    await app.register(async (scope) => deliveryRoutes(scope, ctx));
    await app.register(async (scope) => subscriptionRoutes(scope, ctx));
    await app.register(async (scope) => deadLetterRoutes(scope, ctx));
    await app.register(async (scope) => receiverRoutes(scope, ctx));
    await app.register(async (scope) => consoleRoutes(scope, ctx, auth));
    await app.register(async (scope) => keyRoutes(scope, ctx, auth));
  }
  return app;
}
