/**
 * The connection pool and the two ways verbs reach it: `query` (one statement, its own
 * transaction) and `transaction` (several statements, one commit).
 *
 * Outages are turned into `UnavailableError` here and nowhere else, so a verb either answers or
 * fails fast with a 503-shaped error: connecting gives up after `connectTimeoutMs`, a statement
 * after `statementTimeoutMs` (server side) or a little later (client side, for a dead socket),
 * and no socket error can crash the process: every client carries an 'error' listener for its
 * whole life. When the server comes back, new connections simply succeed again.
 */
import pg from 'pg';
import { ConflictError, TriggersError, UnavailableError } from '../../core/errors.js';

export interface PoolSettings {
  url: string;
  /** Where every table lives; each pooled connection gets it as its search_path. */
  schema: string;
  size: number;
  connectTimeoutMs: number;
  statementTimeoutMs: number;
  /** Shown in pg_stat_activity; lets an operator (or a test) find this store's connections. */
  applicationName: string;
  onError: (error: Error) => void;
  types?: pg.CustomTypesConfig;
}

/**
 * A statement PostgreSQL prepares once per connection and reuses (parse and plan skipped): for
 * the hot paths. The name must be unique to its text across the store.
 */
export interface NamedStatement {
  name: string;
  text: string;
}

/** The pooled connection, as the verbs see it: something to run parameterised SQL on. */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    statement: string | NamedStatement,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>>;
}

const toConfig = (statement: string | NamedStatement, values: unknown[] | undefined): pg.QueryConfig =>
  typeof statement === 'string' ? { text: statement, values } : { name: statement.name, text: statement.text, values };

/** Double-quotes an identifier already known to match SCHEMA_PATTERN. */
export const quoteIdent = (name: string): string => `"${name}"`;
export const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

export function connectionConfig(settings: Omit<PoolSettings, 'size' | 'onError'>): pg.ClientConfig {
  return {
    connectionString: settings.url,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    // Server side: a statement never runs past this; client side: a socket that died silently
    // (no RST) still releases the caller shortly after.
    statement_timeout: settings.statementTimeoutMs,
    query_timeout: settings.statementTimeoutMs + 2_000,
    idle_in_transaction_session_timeout: settings.statementTimeoutMs * 2,
    keepAlive: true,
    application_name: settings.applicationName,
    // A startup parameter, so setting the search_path costs no round trip per connection.
    options: `-c search_path=${settings.schema}`,
  };
}

const noop = (): void => {};

export class Database {
  readonly pool: pg.Pool;
  private closed = false;

  constructor(private readonly settings: PoolSettings) {
    this.pool = new pg.Pool({
      ...connectionConfig(settings),
      max: settings.size,
      idleTimeoutMillis: 30_000,
      ...(settings.types !== undefined ? { types: settings.types } : {}),
    });
    // Idle clients whose server went away: the pool drops them; we only report.
    this.pool.on('error', (error) => settings.onError(error));
    // Checked-out clients lose the pool's listener; this one stays for the client's life.
    this.pool.on('connect', (client) => client.on('error', noop));
  }

  get schema(): string {
    return this.settings.schema;
  }

  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    statement: string | NamedStatement,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>> {
    this.assertOpen();
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.pool.query<R>(toConfig(statement, values));
      } catch (error) {
        // A single statement that lost a deadlock was rolled back whole: running it again is safe.
        if (attempt < 5 && isRetryable(error)) continue;
        throw translateError(error);
      }
    }
  }

  /**
   * Runs `work` inside BEGIN … COMMIT on one connection. A deadlock or serialization failure
   * (another process touched the same rows in another order) is retried a few times.
   */
  async transaction<T>(work: (client: Queryable) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.transactionOnce(work);
      } catch (error) {
        if (attempt < 5 && isRetryable(error)) continue;
        throw translateError(error);
      }
    }
  }

  private async transactionOnce<T>(work: (client: Queryable) => Promise<T>): Promise<T> {
    this.assertOpen();
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true;
      }
      throw error;
    } finally {
      // A client whose ROLLBACK failed is in an unknown state: destroy it, never reuse it.
      client.release(broken ? true : undefined);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  private assertOpen(): void {
    if (this.closed) throw new UnavailableError('the PostgreSQL store is closed');
  }
}

/** deadlock_detected, serialization_failure: another transaction won; trying again is the fix. */
function isRetryable(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === '40P01' || code === '40001';
}

/** SQLSTATE classes and socket errors that mean "the database cannot serve now", not "bug". */
const UNAVAILABLE_CODES = new Set([
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, shutting down)
  '53300', // too_many_connections
  '53100', // disk_full
  '57014', // query_canceled (statement_timeout)
  '55P03', // lock_not_available
]);
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

export function isUnavailable(error: unknown): boolean {
  if (error instanceof UnavailableError) return true;
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: string }).code;
  if (code !== undefined && (UNAVAILABLE_CODES.has(code) || code.startsWith('08') || SOCKET_CODES.has(code))) return true;
  return /Connection terminated|timeout exceeded when trying to connect|Query read timeout|connect ECONNREFUSED|Client has encountered a connection error|Connection ended|the database system is (starting up|shutting down)/i.test(
    error.message,
  );
}

/** Maps what pg throws onto Triggers' error classes; anything unexpected passes through. */
export function translateError(error: unknown): unknown {
  if (error instanceof TriggersError) return error;
  if (isUnavailable(error)) {
    return new UnavailableError(`PostgreSQL is unavailable: ${(error as Error).message}`, 1);
  }
  const code = (error as { code?: string }).code;
  if (code === '23505') {
    const detail = (error as { detail?: string }).detail ?? (error as Error).message;
    return new ConflictError(`already exists: ${detail}`);
  }
  return error;
}
