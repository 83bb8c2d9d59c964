/**
 * A private schema per test file in the `test` database of a real PostgreSQL server.
 *
 * The server URL comes from TRIGGERS_TEST_POSTGRES_URL (default the CI server,
 * postgres://postgres@127.0.0.1:5432/test). When the server cannot be reached the helper throws:
 * CI guarantees PostgreSQL is up, so a missing server is a failure to see, never a silent skip.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
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

// ── a private server, for faults that stop or crash PostgreSQL itself ─────────────────────────

export interface PrivatePostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string;
  port: number;
  /** `pg_ctl restart -m <mode>`: `fast` (clean shutdown) or `immediate` (a crash: recovery from the WAL at start). */
  restart(mode: 'fast' | 'immediate'): Promise<void>;
  /** Runs SQL on the private server as its superuser. */
  sql<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<R[]>;
  /** Stops the server (immediate) and deletes its directory. */
  destroy(): Promise<void>;
}

const PG_BIN = process.env.TRIGGERS_TEST_PG_BIN || '/usr/lib/postgresql/15/bin';
const run = promisify(execFile);

/**
 * Why a private server cannot be made here, or null when it can: initdb and pg_ctl must exist,
 * and since PostgreSQL refuses to run as root, this process must be root, to hand the cluster to
 * the `postgres` OS user (through runuser).
 */
export function privatePostgresUnavailable(): string | null {
  for (const tool of ['initdb', 'pg_ctl']) {
    if (!existsSync(join(PG_BIN, tool))) return `${join(PG_BIN, tool)} not found (set TRIGGERS_TEST_PG_BIN)`;
  }
  if (process.getuid?.() !== 0) return 'not root: cannot run initdb and pg_ctl as the postgres OS user';
  try {
    execFileSync('id', ['-u', 'postgres'], { stdio: 'pipe' });
  } catch {
    return 'no postgres OS user to run the private server as';
  }
  return null;
}

/**
 * initdb into a fresh temporary directory (owned by the `postgres` OS user) and start a server of
 * its own on a free loopback port, its socket in that directory: a server a test may restart or
 * crash without disturbing the shared one other tests use. fsync stays on (the default).
 */
export async function startPrivatePostgres(port: number): Promise<PrivatePostgres> {
  const asPostgres = (tool: string, args: string[]) =>
    run('runuser', ['-u', 'postgres', '--', join(PG_BIN, tool), ...args], { timeout: 30_000 });

  const { stdout: uid } = await run('id', ['-u', 'postgres']);
  const { stdout: gid } = await run('id', ['-g', 'postgres']);
  const dir = mkdtempSync(join(tmpdir(), 'triggers-pg-'));
  chownSync(dir, Number(uid.trim()), Number(gid.trim()));
  const data = join(dir, 'data');
  await asPostgres('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`;
  const pgCtl = (args: string[]) => asPostgres('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '20', ...args]);
  await pgCtl(['-o', options, 'start']);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    url,
    port,
    async restart(mode) {
      await pgCtl(['-m', mode, '-o', options, 'restart']);
    },
    async sql(text, values) {
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
      client.on('error', () => {});
      await client.connect();
      try {
        return (await client.query(text, values)).rows;
      } finally {
        await client.end();
      }
    },
    async destroy() {
      try {
        await pgCtl(['-m', 'immediate', 'stop']);
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
