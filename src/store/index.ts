/**
 * Opens the configured backend. Callers branch on `store.capabilities`, never on a backend's
 * name; this factory is the one place that knows the names.
 */
import { dirname } from 'node:path';
import type { DatabaseConfig } from '../config/config.js';
import { makeDirectory } from '../core/directories.js';
import { withEncryptedSecrets } from './encryptedSecrets.js';
import { openSqliteStore } from './sqlite/index.js';
import type { Store, StoreOptions } from './store.js';

export type { Store, StoreOptions } from './store.js';

/** The PostgreSQL module's entry point, typed structurally so this file compiles without it. */
interface PostgresModule {
  openPostgresStore(url: string, options?: StoreOptions): Promise<Store>;
}

/** The DynamoDB module's entry point, likewise (only DynamoDB users load the AWS SDK). */
interface DynamoModule {
  openDynamoStore(
    options: StoreOptions & { table: string; endpoint?: string | null; region?: string; retentionDays?: number },
  ): Promise<Store>;
}

export interface OpenStoreOptions extends StoreOptions {
  /** TRIGGERS_ENCRYPTION_KEY: signing secrets and custom header values are encrypted at rest with it (see encryptedSecrets.ts). */
  encryptionKey?: Buffer | null;
  /** TRIGGERS_RETENTION_DAYS: DynamoDB sets its TTL attribute a day past it (90 days when not given). */
  retentionDays?: number;
}

export async function openStore(database: DatabaseConfig, options: OpenStoreOptions = {}): Promise<Store> {
  const { encryptionKey, retentionDays, ...storeOptions } = options;
  const store = await openBackend(database, storeOptions, retentionDays);
  // Wrapped with or without a key: without one, a value stored encrypted is refused, not used.
  return withEncryptedSecrets(store, encryptionKey ?? null);
}

async function openBackend(database: DatabaseConfig, options: StoreOptions, retentionDays: number | undefined): Promise<Store> {
  switch (database.kind) {
    case 'sqlite':
      if (database.path !== ':memory:') makeDirectory(dirname(database.path));
      return openSqliteStore(database.path, options);
    case 'postgres': {
      // Loaded on demand: SQLite users never load the pg driver.
      const modulePath = './postgres/index.js';
      const postgres = (await import(modulePath)) as PostgresModule;
      return postgres.openPostgresStore(database.url, options);
    }
    case 'dynamodb': {
      // Loaded on demand: SQLite and PostgreSQL users never load the AWS SDK.
      const modulePath = './dynamodb/index.js';
      const dynamodb = (await import(modulePath)) as DynamoModule;
      return dynamodb.openDynamoStore({
        ...options,
        table: database.table,
        endpoint: database.endpoint ?? null,
        ...(database.region ? { region: database.region } : {}),
        ...((database.retentionDays ?? retentionDays) !== undefined
          ? { retentionDays: database.retentionDays ?? retentionDays }
          : {}),
      });
    }
  }
}
