/**
 * `triggers keys create|list|revoke`: manage API keys straight in the configured database (like
 * `triggers migrate`), so the first scoped keys can be made before any server runs.
 *
 *   triggers keys create --name ci --scopes ingest,read [--rate-limit 100]   prints the key once
 *   triggers keys list                                                       one line per key
 *   triggers keys revoke key_…
 *
 * A revocation made here reaches running servers within a few seconds (their key cache).
 */
import { type ApiKey, generateApiKey, parseScopes, SCOPES } from '../core/apiKeys.js';
import { ConfigError } from '../core/errors.js';
import { openStore } from '../store/index.js';
import type { Store } from '../store/store.js';
import { configFromFlags, flags, settingName, text } from './commands.js';
import { storeFailure } from './failure.js';
import { HELP } from './help.js';

const line = (key: ApiKey): string =>
  [
    key.id,
    key.name,
    key.scopes.join(','),
    `${key.prefix}…`,
    key.rate_limit === null ? '-' : `${key.rate_limit}/s`,
    key.revoked_at === null ? 'active' : `revoked ${new Date(key.revoked_at).toISOString()}`,
  ].join('\t');

export async function keys(args: string[]): Promise<number> {
  const { values, positionals } = flags(
    args,
    {
      name: { type: 'string' },
      scopes: { type: 'string' },
      'rate-limit': { type: 'string' },
      database: { type: 'string' },
      'data-dir': { type: 'string' },
    },
    { positionals: true },
  );
  const [action, ...rest] = positionals;
  if (action !== 'create' && action !== 'list' && action !== 'revoke') {
    process.stderr.write(HELP.keys);
    return 2;
  }
  const config = configFromFlags(values);
  const run = async (work: (store: Store) => Promise<number>): Promise<number> => {
    let store: Store;
    try {
      store = await openStore(config.database);
    } catch (error) {
      throw storeFailure(error, config.database, settingName(values, 'database'));
    }
    try {
      return await work(store);
    } finally {
      await store.close();
    }
  };

  if (action === 'create') {
    const name = text(values.name);
    if (name === undefined || name.trim() === '' || name.length > 200)
      throw new ConfigError('--name', 'give the key a name (1 to 200 characters)');
    const scopes = parseScopes(text(values.scopes) ?? '');
    if (scopes === null) throw new ConfigError('--scopes', `expected a comma-separated list of ${SCOPES.join(', ')}`);
    const limitText = text(values['rate-limit']);
    if (limitText !== undefined && !/^[1-9]\d{0,6}$/.test(limitText))
      throw new ConfigError('--rate-limit', 'expected requests per second, 1 to 1000000');
    const { key, record } = generateApiKey(name, scopes, limitText === undefined ? null : Number(limitText));
    return run(async (store) => {
      const created = await store.createApiKey(record);
      process.stdout.write(`${line(created)}\n\nAPI key (shown this once; only its digest is stored):\n${key}\n`);
      return 0;
    });
  }
  if (action === 'list') {
    return run(async (store) => {
      for (const key of await store.listApiKeys()) process.stdout.write(`${line(key)}\n`);
      return 0;
    });
  }
  const id = rest[0];
  if (id === undefined) throw new ConfigError('keys revoke', 'give the id of the key to revoke (see `triggers keys list`)');
  return run(async (store) => {
    const revoked = await store.revokeApiKey(id);
    if (revoked === null) {
      process.stderr.write(`no API key ${JSON.stringify(id)}\n`);
      return 1;
    }
    process.stdout.write(`${line(revoked)}\n`);
    return 0;
  });
}
