/**
 * `triggers dispatch [--once] [--api URL]`: the dispatcher as its own process, speaking only
 * HTTP to a Triggers API with the API key (as the seed's dispatcher Lambda did). `--once` makes
 * one run of at most TRIGGERS_MAX_EVENTS_PER_RUN deliveries and prints a JSON summary line;
 * without it, it keeps going (long-polling) until SIGINT/SIGTERM, then drains and exits.
 *
 * A long-running dispatcher may well start before its API (a reboot, a deploy): while the API
 * cannot be reached it keeps trying, a warning each time, waiting twice as long after each try
 * up to 30 s. A refusal (a wrong key, a wrong URL) ends it at once, as any failure ends --once:
 * trying again would not help.
 */

import { TriggersClient } from '../client/client.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { TriggersApiError } from '../client/errors.js';
import type { Config } from '../config/config.js';
import { createDispatcher } from '../dispatcher/dispatcher.js';
import { RemoteSource } from '../dispatcher/remoteSource.js';
import type { AttemptReport, SettledReport } from '../dispatcher/source.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';
import { describeApiError } from './failure.js';

export interface DispatchCommandOptions {
  once: boolean;
  apiUrl?: string;
  /** Where the summary line goes (default stdout); logs go to stderr. */
  out?: NodeJS.WritableStream;
  err?: NodeJS.WritableStream;
  /** Waits between tries to reach the API at start: the first, and the most (tests shorten them). */
  reconnect?: { firstMs: number; maxMs: number };
}

const RECONNECT = { firstMs: 1_000, maxMs: 30_000 };

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
    source: new WatchedRemoteSource(client, err),
    // The API's own receiver is reached at the API's origin.
    config: { ...config, apiUrl },
    metrics: new Metrics({ defaultMetrics: false }),
    logger,
  });
  try {
    if (options.once) {
      // Fail fast and clearly on a wrong URL or key.
      await client.token();
      const summary = await dispatcher.runOnce(config.maxEventsPerRun);
      out.write(`${JSON.stringify(summary)}\n`);
      return 0;
    }
    // --once keeps Node's own SIGINT/SIGTERM handling (exit at once); a long run stops gracefully.
    const stop = stopSignal();
    try {
      const early = await reachApi(client, apiUrl, logger, stop, options.reconnect ?? RECONNECT);
      if (early !== null) {
        logger.info({ signal: early }, 'stopped before reaching the API');
        return 0;
      }
      logger.info({ api: apiUrl }, 'dispatcher started');
      dispatcher.start();
      const signal = await stop.received;
      logger.info({ signal }, 'stopping: finishing requests in flight');
      await dispatcher.stop();
      logger.info('dispatcher stopped');
      return 0;
    } finally {
      stop.dispose();
    }
  } catch (error) {
    err.write(`triggers dispatch: ${describe(error, apiUrl)}\n`);
    return 1;
  } finally {
    await dispatcher.stop().catch(() => undefined);
    await client.close().catch(() => undefined);
    logger.flush();
  }
}

interface StopSignal {
  /** The first SIGINT or SIGTERM. */
  received: Promise<NodeJS.Signals>;
  /** Aborted when it arrives, to cut waits short. */
  abort: AbortSignal;
  dispose(): void;
}

function stopSignal(): StopSignal {
  const controller = new AbortController();
  let onSignal: (name: NodeJS.Signals) => void = () => undefined;
  const received = new Promise<NodeJS.Signals>((resolve) => {
    onSignal = (name) => {
      controller.abort();
      resolve(name);
    };
  });
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    received,
    abort: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** No answer, or one that says the API is not ready yet: worth trying again. */
const unreachable = (error: unknown): boolean =>
  error instanceof TriggersApiError && (error.status === 0 || error.status === 429 || error.status >= 500);

/**
 * Gets a first token, trying again with doubling waits while the API cannot be reached. Returns
 * null once it has one, or the signal that stopped it first; a refusal throws.
 */
async function reachApi(
  client: TriggersClient,
  apiUrl: string,
  logger: Logger,
  stop: StopSignal,
  wait: { firstMs: number; maxMs: number },
): Promise<NodeJS.Signals | null> {
  let delay = wait.firstMs;
  for (let attempt = 1; ; attempt++) {
    const tried = client.token().then(
      () => ({ error: null }),
      (error: unknown) => ({ error }),
    );
    const first = await Promise.race([tried, stop.received]);
    if (typeof first === 'string') return first;
    if (first.error === null) {
      if (attempt > 1) logger.info({ api: apiUrl, attempts: attempt }, 'reached the API');
      return null;
    }
    if (!unreachable(first.error)) throw first.error;
    logger.warn(
      { api: apiUrl, attempt, retry_in_ms: delay, reason: describe(first.error, apiUrl) },
      'cannot reach the API yet; trying again',
    );
    try {
      await sleep(delay, undefined, { signal: stop.abort });
    } catch {
      return stop.received;
    }
    delay = Math.min(delay * 2, wait.maxMs);
  }
}

/**
 * The remote source, watching attempts for one the private-address guard refused. This process
 * checks targets against its own settings, not the API server's, so a loopback or private
 * TRIGGERS_WEBHOOK_URL set only on the server is refused here: say so, once, in words.
 */
class WatchedRemoteSource extends RemoteSource {
  #warned = false;

  constructor(
    client: TriggersClient,
    private readonly err: NodeJS.WritableStream,
  ) {
    super(client);
  }

  override settle(reports: AttemptReport[]): Promise<SettledReport[]> {
    if (!this.#warned) {
      const refused = reports.find((report) => report.status_code === null && report.error?.includes(PRIVATE_REFUSAL));
      if (refused) {
        this.#warned = true;
        this.err.write(
          `triggers dispatch: ${refused.error} (subscription ${refused.claim.subscription_id}). ` +
            'This dispatcher allows a private or loopback target only when its own environment has ' +
            'TRIGGERS_WEBHOOK_URL set to that URL, or TRIGGERS_ALLOW_PRIVATE_TARGETS=true — what the API server has does not count here. ' +
            'Such deliveries are retried, then dead-lettered. (Shown once.)\n',
        );
      }
    }
    return super.settle(reports);
  }
}

/** What deliver.ts says when its guard refuses an address. */
const PRIVATE_REFUSAL = 'a private or loopback address';

function describe(error: unknown, apiUrl: string): string {
  if (error instanceof TriggersApiError) return describeApiError(error, apiUrl);
  return error instanceof Error ? error.message : String(error);
}
