/**
 * A real Triggers API for client and remote-dispatcher tests: SQLite in a fresh folder, the
 * API from buildApi listening on a free port, and a pull-only `default` subscription as `serve`
 * creates it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApi } from '../../src/api/index.js';
import { type Env, loadConfig } from '../../src/config/config.js';
import { type ResolvedConfig, resolveSecrets } from '../../src/config/secrets.js';
import { silentLogger } from '../../src/observability/logger.js';
import { Metrics } from '../../src/observability/metrics.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/store.js';

export const API_KEY = 'client-test-api-key-0123456789';

export interface TestApi {
  url: string;
  config: ResolvedConfig;
  store: Store;
  close(): Promise<void>;
}

export async function startApi(env: Env = {}): Promise<TestApi> {
  const dir = mkdtempSync(join(tmpdir(), 'triggers-client-'));
  const config = resolveSecrets(
    loadConfig({
      cwd: dir,
      env: {
        TRIGGERS_DATA_DIR: dir,
        TRIGGERS_DATABASE_URL: `sqlite:${join(dir, 'triggers.db')}`,
        TRIGGERS_API_KEY: API_KEY,
        TRIGGERS_JWT_SECRET: 'client-test-jwt-secret-0123456789abcdef',
        TRIGGERS_ALLOW_PRIVATE_TARGETS: 'true',
        TRIGGERS_RETRY_SCHEDULE: '1s',
        TRIGGERS_PORT: '0',
        TRIGGERS_LOG_LEVEL: 'silent',
        ...env,
      },
    }),
  ).config;
  const store = await openSqliteStore(join(dir, 'triggers.db'));
  await store.createSubscription({
    id: 'default',
    url: null,
    event_types: ['*'],
    secrets: [{ secret: config.webhookSecret, expires_at: null }],
    status: 'active',
    description: 'Default subscription',
    disabled_reason: null,
    metadata: {},
  });
  const app = await buildApi({ config, store, metrics: new Metrics({ defaultMetrics: false }), logger: silentLogger() });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const url = address.replace('localhost', '127.0.0.1');
  config.apiUrl = url;
  return {
    url,
    config,
    store,
    async close() {
      await app.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
