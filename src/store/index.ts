/**
 * Opens the configured backend. Callers branch on `store.capabilities`, never on a backend's
 * name; this factory is the one place that knows the names.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { DatabaseConfig } from '../config/config.js';
import { ConfigError } from '../core/errors.js';
import { withEncryptedSecrets } from './encryptedSecrets.js';
import { openSqliteStore } from './sqlite/index.js';
import type { Store, StoreOptions } from './store.js';

export type { Store, StoreOptions } from './store.js';

/** The PostgreSQL module's entry point, typed structurally so this file compiles without it. */
interface PostgresModule {
  openPostgresStore(url: string, options?: StoreOptions): Promise<Store>;
}

export interface OpenStoreOptions extends StoreOptions {
  /** TRIGGERS_ENCRYPTION_KEY: signing secrets are encrypted at rest with it (see encryptedSecrets.ts). */
  encryptionKey?: Buffer | null;
}

export async function openStore(database: DatabaseConfig, options: OpenStoreOptions = {}): Promise<Store> {
  const { encryptionKey, ...storeOptions } = options;
  const store = await openBackend(database, storeOptions);
  return encryptionKey ? withEncryptedSecrets(store, encryptionKey) : store;
}

async function openBackend(database: DatabaseConfig, options: StoreOptions): Promise<Store> {
  switch (database.kind) {
    case 'sqlite':
      if (database.path !== ':memory:') await mkdir(dirname(database.path), { recursive: true });
      return openSqliteStore(database.path, options);
    case 'postgres': {
      // Loaded on demand: SQLite users never load the pg driver.
      const modulePath = './postgres/index.js';
      const postgres = (await import(modulePath)) as PostgresModule;
      return postgres.openPostgresStore(database.url, options);
    }
    case 'dynamodb':
      throw new ConfigError('TRIGGERS_DATABASE_URL', 'the DynamoDB store is not available yet');
  }
}
