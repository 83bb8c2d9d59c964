/** `triggers serve`: one process running what its role says, until SIGINT/SIGTERM. */
import { markKeyShown, resolveSecrets } from '../config/secrets.js';
import { startTriggers } from '../app.js';
import { asGiven, configFromFlags, flags, settingName } from './commands.js';
import { startFailure } from './failure.js';
import { firstStartBanner } from './firstStart.js';
import { tuneHeap } from './heap.js';

/**
 * On SIGTERM/SIGINT, how long requests still arriving are answered 503 + `Connection: close`
 * before the server closes (less when every client has gone).
 */
const DRAIN_MS = 1_000;

export async function serve(args: string[]): Promise<number> {
  const { values } = flags(args, {
    role: { type: 'string' },
    port: { type: 'string', short: 'p' },
    host: { type: 'string' },
    database: { type: 'string' },
    'data-dir': { type: 'string' },
  });
  const { config, generated, unshownKey, file } = (() => {
    try {
      return resolveSecrets(configFromFlags(values));
    } catch (error) {
      throw asGiven(error, values);
    }
  })();
  tuneHeap();
  const triggers = await startTriggers(config).catch((error: unknown) => {
    throw startFailure(error, config.database, settingName(values, 'database'), {
      host: config.host,
      port: config.port,
      hostSetting: settingName(values, 'host'),
      portSetting: settingName(values, 'port'),
    });
  });
  if (generated.length > 0 || unshownKey) {
    process.stdout.write(firstStartBanner(triggers.url, config, generated, file, unshownKey));
    if (unshownKey) markKeyShown(file);
  }

  await new Promise<void>((resolve) => {
    const shutdown = (signal: string) => {
      triggers.logger.info({ signal }, 'shutting down');
      triggers.stop({ drainMs: DRAIN_MS }).then(resolve, (error: unknown) => {
        triggers.logger.error({ err: error }, 'error while stopping');
        resolve();
      });
    };
    process.once('SIGINT', () => shutdown('SIGINT'));
    process.once('SIGTERM', () => shutdown('SIGTERM'));
  });
  return 0;
}
