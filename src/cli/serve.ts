/** `triggers serve`: one process running what its role says, until SIGINT/SIGTERM. */
import { resolveSecrets } from '../config/secrets.js';
import { startTriggers } from '../app.js';
import { asGiven, configFromFlags, flags, settingName } from './commands.js';
import { startFailure } from './failure.js';
import { tuneHeap } from './heap.js';

export async function serve(args: string[]): Promise<number> {
  const { values } = flags(args, {
    role: { type: 'string' },
    port: { type: 'string', short: 'p' },
    host: { type: 'string' },
    database: { type: 'string' },
    'data-dir': { type: 'string' },
  });
  const { config, generated, file } = (() => {
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
  if (generated.length > 0) printFirstStart(triggers.url, config.apiKey, generated, file);

  await new Promise<void>((resolve) => {
    const shutdown = (signal: string) => {
      triggers.logger.info({ signal }, 'shutting down');
      triggers.stop().then(resolve, (error: unknown) => {
        triggers.logger.error({ err: error }, 'error while stopping');
        resolve();
      });
    };
    process.once('SIGINT', () => shutdown('SIGINT'));
    process.once('SIGTERM', () => shutdown('SIGTERM'));
  });
  return 0;
}

function printFirstStart(url: string, apiKey: string, generated: string[], file: string): void {
  const lines = [
    '',
    `Triggers generated ${generated.join(', ')} and saved them in ${file}.`,
    generated.includes('api_key') ? `Your API key: ${apiKey}` : `Your API key is in ${file}.`,
    '',
    'Try it:',
    `  TOKEN=$(curl -s -X POST ${url}/token -d "username=api&password=${apiKey}" | jq -r .access_token)`,
    `  curl -s -X POST ${url}/events -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \\`,
    `       -d '{"type":"test.event","source":"manual","payload":{"message":"hello"}}'`,
    `  curl -s ${url}/inbox -H "Authorization: Bearer $TOKEN"`,
    '',
    `API reference: ${url}/docs`,
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
