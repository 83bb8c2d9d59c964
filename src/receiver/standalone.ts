/**
 * The receiver alone: a small fastify server with only `POST /receiver/{name}` (and `GET
 * /health`), for `triggers receive` — testing someone else's sender without running Triggers.
 * It has no API key and so no management API: what arrives is reported through the feed
 * (`onReceived`), which the command prints. Errors have the API's JSON shape.
 */
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import { installErrorHandling, RouteTable } from '../api/errors.js';
import type { EpochMs } from '../core/types.js';
import type { Logger } from '../observability/logger.js';
import type { Store } from '../store/store.js';
import { receiverEndpoint } from './endpoint.js';
import { type ReceivedListener, receiverFeed } from './feed.js';

export interface StandaloneReceiverOptions {
  store: Store;
  logger: Logger;
  /** Verifies every name with this secret; null: every request is accepted as `unsigned`. */
  secret: string | null;
  bodyLimitBytes?: number;
  clock?: () => EpochMs;
  /** Called after each request is stored. */
  onReceived?: ReceivedListener;
}

export async function buildStandaloneReceiver(options: StandaloneReceiverOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger,
    // The command prints every request itself; fastify's per-request lines would repeat it.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimitBytes ?? 1024 * 1024,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 256 },
  }) as unknown as FastifyInstance;
  installErrorHandling(app, options.logger, new RouteTable());
  const deps = { store: options.store, clock: options.clock ?? Date.now, config: { receiverSecret: options.secret } };
  await app.register(async (scope) => receiverEndpoint(scope, deps));
  app.get('/health', async () => ({ status: 'ok' }));
  const { onReceived } = options;
  if (onReceived) {
    const stop = receiverFeed(options.store).onReceived(onReceived);
    app.addHook('onClose', async () => stop());
  }
  return app;
}
