/**
 * The PostgreSQL backend, for a fleet: `openPostgresStore(url)` connects a pool, applies pending
 * migrations (safe from many processes at once) and returns a Store. Every table lives in
 * `schema` (default `public`), created if missing.
 *
 *   index.ts          options, wiring
 *   postgresStore.ts  the Store verbs → queries/
 *   queries/*.ts      one hot query per file, parameters named in its header
 *   migrations/       numbered, append-only SQL, each in its own transaction
 *   groupCommit.ts    concurrent appends / settlements → one transaction
 *   notify.ts         LISTEN/NOTIFY wake-ups across processes
 *   pool.ts           the pool, timeouts, outage → UnavailableError
 */
import type { StoreOptions } from '../store.js';
import { channelFor, Notifier } from './notify.js';
import { connectionConfig, Database, SCHEMA_PATTERN } from './pool.js';
import { PostgresStore } from './postgresStore.js';
import { activeSubscriptionIds } from './queries/subscriptions.js';
import { typeParsers } from './rows.js';

export interface PostgresStoreOptions extends StoreOptions {
  /** Where the tables live; created if missing. Lowercase letters, digits and `_`. */
  schema?: string;
  /** Connections in this process's pool (the LISTEN connection comes on top). Default 10. */
  poolSize?: number;
  /** Give up connecting after this long (→ UnavailableError). Default 3,000 ms. */
  connectTimeoutMs?: number;
  /** Cancel any statement running longer than this (→ UnavailableError). Default 30,000 ms. */
  statementTimeoutMs?: number;
  /** application_name of every connection, as pg_stat_activity shows it. Default `triggers`. */
  applicationName?: string;
  /** Apply pending migrations on open. Default true. */
  migrate?: boolean;
  /** Told about connection trouble the store recovers from by itself (idle client lost…). */
  onError?: (error: Error) => void;
}

/**
 * `schema` and `pool_size` may also ride in the URL's query string, so one
 * TRIGGERS_DATABASE_URL (`postgres://…/triggers?schema=prod&pool_size=20`) configures a whole
 * fleet; explicit options win. They are removed before the URL reaches the driver.
 */
function fromUrl(url: string): { url: string; schema?: string; poolSize?: number } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { url };
  }
  const schema = parsed.searchParams.get('schema') ?? undefined;
  const poolSize = parsed.searchParams.get('pool_size');
  parsed.searchParams.delete('schema');
  parsed.searchParams.delete('pool_size');
  const size = poolSize !== null && /^\d+$/.test(poolSize) && Number(poolSize) > 0 ? Number(poolSize) : undefined;
  return {
    url: schema === undefined && size === undefined ? url : parsed.toString(),
    ...(schema !== undefined ? { schema } : {}),
    ...(size !== undefined ? { poolSize: size } : {}),
  };
}

export async function openPostgresStore(connectionUrl: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
  const fromQuery = fromUrl(connectionUrl);
  const url = fromQuery.url;
  const schema = options.schema ?? fromQuery.schema ?? 'public';
  if (!SCHEMA_PATTERN.test(schema)) {
    throw new TypeError(`schema ${JSON.stringify(schema)}: use lowercase letters, digits and _, starting with a letter or _`);
  }
  const onError = options.onError ?? (() => {});
  const settings = {
    url,
    schema,
    connectTimeoutMs: options.connectTimeoutMs ?? 3_000,
    statementTimeoutMs: options.statementTimeoutMs ?? 30_000,
    applicationName: options.applicationName ?? 'triggers',
  };
  const db = new Database({ ...settings, size: options.poolSize ?? fromQuery.poolSize ?? 10, onError, types: typeParsers });
  const notifier = new Notifier({
    channel: channelFor(schema),
    connection: { ...connectionConfig(settings), types: typeParsers },
    activeSubscriptions: () => activeSubscriptionIds(db),
    onError,
  });
  const store = new PostgresStore(db, notifier, options.clock ?? Date.now, {
    maxEventsPerCommit: 2_000,
    maxSettlementsPerCommit: 2_000,
    maxAppendsInFlight: 1,
    maxSettlesInFlight: 3,
    foldCountersEveryMs: 10_000,
  });
  if (options.migrate ?? true) {
    try {
      await store.migrate();
    } catch (error) {
      await store.close();
      throw error;
    }
  }
  return store;
}

export { PostgresStore };
