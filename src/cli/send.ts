/** `triggers send --type T --source S --payload JSON`: post one event to a running API. */
import { join } from 'node:path';
import { TriggersClient } from '../client/index.js';
import { ConfigError } from '../core/errors.js';
import { withSavedApiKey } from '../config/secrets.js';
import { configFromFlags, flags, text } from './commands.js';
import { apiFailure } from './failure.js';

export async function send(args: string[]): Promise<number> {
  const { values } = flags(args, {
    type: { type: 'string', short: 't' },
    source: { type: 'string', short: 's', default: 'cli' },
    payload: { type: 'string', short: 'd', default: '{}' },
    api: { type: 'string' },
    'idempotency-key': { type: 'string' },
  });
  const config = withSavedApiKey(configFromFlags(values));
  const type = text(values.type);
  const idempotencyKey = text(values['idempotency-key']);
  if (!type) throw new ConfigError('--type', 'the event type is required, e.g. --type order.created');
  if (!config.apiKey) {
    throw new ConfigError(
      'TRIGGERS_API_KEY',
      `not set, and none saved in ${join(config.dataDir, 'secrets.json')}; needed to talk to the API at ${config.apiUrl} ` +
        '(or TRIGGERS_SECRETS_FILE with zapier_api_key)',
    );
  }
  let payload: unknown;
  try {
    payload = JSON.parse(text(values.payload) ?? '{}');
  } catch (error) {
    throw new ConfigError('--payload', `not valid JSON (${(error as Error).message})`);
  }
  const client = new TriggersClient({ baseUrl: config.apiUrl, apiKey: config.apiKey });
  try {
    const created = await client.sendEvent(
      { type, source: text(values.source) ?? 'cli', payload: payload as Record<string, never> },
      idempotencyKey ? { idempotencyKey } : undefined,
    );
    process.stdout.write(`${JSON.stringify(created)}\n`);
    return 0;
  } catch (error) {
    throw apiFailure(error, config.apiUrl);
  } finally {
    await client.close().catch(() => undefined);
  }
}
