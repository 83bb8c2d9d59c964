/**
 * The embedded SQLite backend: `openSqliteStore(path)` opens (or creates) the file, applies
 * pending migrations, and returns a Store. One process owns the file (`capabilities.multiProcess`
 * is false); durability and throughput come from WAL + synchronous=FULL + group commit.
 */
import type { Store, StoreOptions } from '../store.js';
import { openDatabase } from './connection.js';
import { mapSqliteError } from './errors.js';
import { SqliteStore } from './sqliteStore.js';

export async function openSqliteStore(path: string, options: StoreOptions = {}): Promise<Store> {
  let store: SqliteStore;
  try {
    store = new SqliteStore(openDatabase(path), options.clock ?? Date.now, options.onDiskSync);
  } catch (error) {
    throw mapSqliteError(error);
  }
  // SQLite is embedded: there is no separate deploy step that could migrate it, so opening does.
  await store.migrate();
  return store;
}

export { SqliteStore };
