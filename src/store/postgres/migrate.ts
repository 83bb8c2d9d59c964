/**
 * Applies the numbered migrations that `schema_migrations` does not list yet, each in its own
 * transaction. Every transaction first takes a transaction-scoped advisory lock keyed on the
 * schema, so any number of processes may call `migrate()` at once: one applies a migration,
 * the others wait on the lock, then see it recorded and skip it.
 */

import { migrations } from './migrations/index.js';
import type { Database, Queryable } from './pool.js';
import { quoteIdent } from './pool.js';

const LOCK = `SELECT pg_advisory_xact_lock(hashtext('triggers.migrate:' || $1::text))`;

async function lock(client: Queryable, schema: string): Promise<void> {
  // A big table's CREATE INDEX may outlast the usual statement timeout.
  await client.query('SET LOCAL statement_timeout = 0');
  await client.query(LOCK, [schema]);
}

export async function migrate(db: Database): Promise<void> {
  const schema = db.schema;
  await db.transaction(async (client) => {
    await lock(client, schema);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${quoteIdent(schema)}.schema_migrations (
         version    integer PRIMARY KEY,
         name       text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
  });
  for (const migration of migrations) {
    await db.transaction(async (client) => {
      await lock(client, schema);
      const done = await client.query('SELECT 1 FROM schema_migrations WHERE version = $1', [migration.version]);
      if (done.rowCount !== 0) return;
      await client.query(migration.sql);
      await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
    });
  }
}
