/**
 * `triggers dispatch [--once] [--api URL]`: the dispatcher as its own process, speaking only
 * HTTP to a Triggers API with the API key (as the seed's dispatcher Lambda did). `--once` makes
 * one run of at most TRIGGERS_MAX_EVENTS_PER_RUN deliveries and prints a JSON summary line;
 * without it, it keeps going (long-polling) until SIGINT/SIGTERM, then drains and exits.
 */

import { TriggersClient } from '../client/client.js';
import { TriggersApiError } from '../client/errors.js';
import type { Config } from '../config/config.js';
import { createDispatcher } from '../dispatcher/dispatcher.js';
import { RemoteSource } from '../dispatcher/remoteSource.js';
import { createLogger } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';

export interface DispatchCommandOptions {
  once: boolean;
  apiUrl?: string;
  /** Where the summary line goes (default stdout); logs go to stderr. */
  out?: NodeJS.WritableStream;
  err?: NodeJS.WritableStream;
}

export async function runDispatchCommand(config: Config, options: DispatchCommandOptions): Promise<number> {
  const out = options.out ?? process.stdout;
  const err = options.err ?? process.stderr;
  const apiUrl = (options.apiUrl ?? config.apiUrl).replace(/\/+$/, '');
  if (!config.apiKey) {
    err.write(
      `triggers dispatch: TRIGGERS_API_KEY is not set. The dispatcher talks to the API at ${apiUrl} and needs its API key ` +
        '(set TRIGGERS_API_KEY, or TRIGGERS_SECRETS_FILE with zapier_api_key).\n',
    );
    return 2;
  }
  try {
    new URL(apiUrl);
  } catch {
    err.write(`triggers dispatch: --api must be a URL, got ${JSON.stringify(apiUrl)}\n`);
    return 2;
  }

  const logger = createLogger(config.logLevel, err);
  const client = new TriggersClient({ baseUrl: apiUrl, apiKey: config.apiKey });
  const dispatcher = createDispatcher({
    source: new RemoteSource(client),
    // The API's own receiver is reached at the API's origin.
    config: { ...config, apiUrl },
    metrics: new Metrics({ defaultMetrics: false }),
    logger,
  });
  try {
    // Fail fast and clearly on a wrong URL or key.
    await client.token();
    if (options.once) {
      const summary = await dispatcher.runOnce(config.maxEventsPerRun);
      out.write(`${JSON.stringify(summary)}\n`);
      return 0;
    }
    logger.info({ api: apiUrl }, 'dispatcher started');
    dispatcher.start();
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      const onSignal = (name: NodeJS.Signals) => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        resolve(name);
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    });
    logger.info({ signal }, 'stopping: finishing requests in flight');
    await dispatcher.stop();
    logger.info('dispatcher stopped');
    return 0;
  } catch (error) {
    err.write(`triggers dispatch: ${describe(error, apiUrl)}\n`);
    return 1;
  } finally {
    await dispatcher.stop().catch(() => undefined);
    await client.close().catch(() => undefined);
    logger.flush();
  }
}

function describe(error: unknown, apiUrl: string): string {
  if (error instanceof TriggersApiError) {
    if (error.status === 0) return `cannot reach the API at ${apiUrl} (${error.message})`;
    if (error.status === 401) return `the API at ${apiUrl} refused the API key (${error.code}: ${error.message})`;
    return `the API answered ${error.status} ${error.code}: ${error.message}`;
  }
  return error instanceof Error ? error.message : String(error);
}
