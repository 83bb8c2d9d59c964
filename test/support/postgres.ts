/**
 * A private schema per test file in the `test` database of a real PostgreSQL server.
 *
 * The server URL comes from TRIGGERS_TEST_POSTGRES_URL (default the CI server,
 * postgres://postgres@127.0.0.1:5432/test). When the server cannot be reached the helper throws:
 * CI guarantees PostgreSQL is up, so a missing server is a failure to see, never a silent skip.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const TEST_POSTGRES_URL = process.env.TRIGGERS_TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/test';

export interface TestSchema {
  url: string;
  schema: string;
  /** Runs SQL as an administrator, outside any store (for inspecting and setting up). */
  sql<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<R[]>;
  /** Drops the schema and everything in it. */
  drop(): Promise<void>;
}

/** A name that is new each call: `t_<12 random hex digits>`. */
export const uniqueSchemaName = (): string => `t_${randomBytes(6).toString('hex')}`;

async function connect(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL, connectionTimeoutMillis: 5_000 });
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${TEST_POSTGRES_URL} (${(error as Error).message}). ` +
        'These tests need a real server: start it, or point TRIGGERS_TEST_POSTGRES_URL at one.',
    );
  }
  return client;
}

/** Creates a fresh, empty schema; the store's migrate() fills it. */
export async function createTestSchema(): Promise<TestSchema> {
  const schema = uniqueSchemaName();
  const admin = await connect();
  await admin.query(`CREATE SCHEMA "${schema}"`);
  return {
    url: TEST_POSTGRES_URL,
    schema,
    async sql(text, values) {
      await admin.query(`SET search_path TO "${schema}"`);
      return (await admin.query(text, values)).rows;
    },
    async drop() {
      try {
        await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await admin.end();
      }
    },
  };
}
