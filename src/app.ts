/**
 * Wires one Triggers process: store → API (+ receiver, console) → in-process dispatcher,
 * according to the role. `serve` calls this; tests and embedders can too.
 */
import type { FastifyInstance } from 'fastify';
import { createAlertMonitor, Retention } from './alerts/index.js';
import { drain } from './api/errors.js';
import { buildApi } from './api/index.js';
import type { ResolvedConfig } from './config/secrets.js';
import { ensureDefaultSubscription } from './defaultSubscription.js';
import { createDispatcher, LocalSource } from './dispatcher/index.js';
import { createLogger, type Logger } from './observability/logger.js';
import { Metrics } from './observability/metrics.js';
import { openStore } from './store/index.js';
import type { Store } from './store/store.js';

export interface Triggers {
  config: ResolvedConfig;
  store: Store;
  metrics: Metrics;
  logger: Logger;
  api: FastifyInstance;
  /** The address the HTTP server listens on, e.g. http://127.0.0.1:8080. */
  url: string;
  /**
   * Stops everything. With `drainMs`, requests are first answered 503 + `Connection: close` until
   * no connection is left or `drainMs` passes (serve on SIGTERM: see api/errors.ts `drain`).
   */
  stop(options?: { drainMs?: number }): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  metrics?: Metrics;
}

export async function startTriggers(config: ResolvedConfig, options: StartOptions = {}): Promise<Triggers> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const metrics = options.metrics ?? new Metrics();
  const store = await openStore(config.database, {
    encryptionKey: config.encryptionKey,
    onDiskSync: (seconds) => metrics.storeSync.observe(seconds),
  });
  try {
    await store.migrate();
    await ensureDefaultSubscription(store, config);
  } catch (error) {
    await store.close();
    throw error;
  }

  // Every role answers HTTP so /health and /metrics can be scraped; a dispatcher-only process
  // serves just those (the API decides what to mount from the role).
  const api = await buildApi({ config, store, metrics, logger, role: config.role });
  const dispatcher =
    config.role === 'api'
      ? null
      : createDispatcher({ source: new LocalSource(store, { retrySchedule: config.retrySchedule }), config, metrics, logger });

  let address: string;
  try {
    address = await api.listen({ host: config.host, port: config.port });
  } catch (error) {
    await api.close();
    await store.close();
    throw error;
  }
  dispatcher?.start();
  // Alerts (the failure alarm, endpoint health) and retention run in every role; see src/alerts/.
  const monitor = createAlertMonitor({ config, store, logger });
  const retention = new Retention({ store, log: logger.child({ component: 'retention' }), retentionDays: config.retentionDays });
  monitor.start();
  retention.start();
  logger.info({ url: address, role: config.role, database: config.database.kind }, 'triggers started');

  let stopping: Promise<void> | null = null;
  const stop = (options: { drainMs?: number } = {}): Promise<void> => {
    stopping ??= (async () => {
      if (options.drainMs) await drain(api, options.drainMs);
      await api.close();
      await dispatcher?.stop();
      await Promise.all([monitor.stop(), retention.stop()]);
      await store.close();
      logger.info('triggers stopped');
    })();
    return stopping;
  };
  return { config, store, metrics, logger, api, url: address, stop };
}
