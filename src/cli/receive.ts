/**
 * `triggers receive [--port N] [--host H] [--secret S] [--database URL]`: the receiver alone, for
 * testing someone else's sender. Prints each request as one JSON line on stdout, verdict
 * included. The secret is --secret, else TRIGGERS_RECEIVER_SECRET, else none (every request is
 * `unsigned`). Requests are kept in memory unless --database names a store (sqlite:… or
 * postgres://…); in memory is what a throwaway test wants and never collides with a running
 * `triggers serve` over the same SQLite file.
 */
import { loadConfig, parseDatabaseUrl } from '../config/config.js';
import { ConfigError } from '../core/errors.js';
import { createLogger } from '../observability/logger.js';
import { MAX_STORED_BODY_BYTES } from '../receiver/endpoint.js';
import { serializeReceived } from '../receiver/schemas.js';
import { buildStandaloneReceiver } from '../receiver/standalone.js';
import { openStore } from '../store/index.js';
import { flags, text } from './commands.js';
import { listenFailure, storeFailure } from './failure.js';

export const DEFAULT_RECEIVE_PORT = 8081;

export async function receive(args: string[]): Promise<number> {
  const { values } = flags(args, {
    port: { type: 'string', short: 'p' },
    host: { type: 'string' },
    secret: { type: 'string' },
    database: { type: 'string' },
  });
  const config = loadConfig();
  const portText = text(values.port) ?? String(DEFAULT_RECEIVE_PORT);
  const port = Number(portText);
  if (!/^\d{1,5}$/.test(portText) || port > 65535)
    throw new ConfigError('--port', `expected a port number, got ${JSON.stringify(portText)}`);
  const host = text(values.host) ?? '127.0.0.1';
  const secret = text(values.secret) ?? config.receiverSecret;
  if (secret === '') throw new ConfigError('--secret', 'must not be empty');
  const database = parseDatabaseUrl(text(values.database) ?? 'sqlite::memory:', config.dataDir, process.cwd());
  const logger = createLogger(config.logLevel, process.stderr);
  const store = await openStore(database, { encryptionKey: config.encryptionKey }).catch((error: unknown) => {
    throw storeFailure(error, database, '--database');
  });
  const app = await buildStandaloneReceiver({
    store,
    logger,
    secret,
    bodyLimitBytes: Math.max(config.bodyLimitBytes, MAX_STORED_BODY_BYTES),
    onReceived: (request) => process.stdout.write(`${JSON.stringify(serializeReceived(request))}\n`),
  });
  let address: string;
  try {
    address = await app.listen({ host, port });
  } catch (error) {
    await store.close();
    throw listenFailure(error, { host, port, hostSetting: '--host', portSetting: '--port' }) ?? error;
  }
  process.stderr.write(
    `triggers receive: listening on ${address}/receiver/{name} (${secret ? 'verifying signatures' : 'no secret: every request is accepted unsigned'})\n`,
  );

  await new Promise<void>((resolve) => {
    const shutdown = () => {
      app
        .close()
        .then(() => store.close())
        .then(resolve, resolve);
    };
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
  });
  return 0;
}
