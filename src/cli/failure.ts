/**
 * Failures a user can act on — the API refused a request or cannot be reached, the database
 * cannot be opened, the address cannot be listened on — become one line that names the setting
 * involved (first, as configuration errors do) and what failed. main.ts prints it and exits 1; the stack trace, which tells a user
 * nothing, is printed only at TRIGGERS_LOG_LEVEL=debug or trace.
 */
import { TriggersApiError } from '../client/errors.js';
import type { DatabaseConfig } from '../config/config.js';
import { TriggersError } from '../core/errors.js';

export class CommandFailure extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CommandFailure';
  }
}

interface SystemError {
  code?: unknown;
  syscall?: unknown;
  hostname?: unknown;
  message?: unknown;
}

const fields = (error: unknown): SystemError => (typeof error === 'object' && error !== null ? (error as SystemError) : {});

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** A URL with its password masked, fit for a message or a log. */
export function redactUrl(text: string): string {
  try {
    const url = new URL(text);
    if (url.password === '') return text;
    url.password = '***';
    return url.toString();
  } catch {
    return text;
  }
}

/** The API's error code and message, or why it could not be reached, in one line. */
export function describeApiError(error: TriggersApiError, apiUrl: string): string {
  if (error.status === 0) {
    const cause = fields(error.cause);
    const reason =
      typeof cause.code === 'string' && !cause.code.startsWith('UND_ERR') ? cause.code : messageOf(error.cause ?? error);
    return `cannot reach the API at ${apiUrl}: ${reason}`;
  }
  if (error.status === 401) {
    return `the API at ${apiUrl} refused the API key (${error.code}: ${error.message}); check TRIGGERS_API_KEY`;
  }
  return `the API answered ${error.status} ${error.code}: ${error.message}`;
}

/** Turns a client error into a CommandFailure; anything else passes through. */
export function apiFailure(error: unknown, apiUrl: string): unknown {
  return error instanceof TriggersApiError ? new CommandFailure(describeApiError(error, apiUrl), { cause: error }) : error;
}

/** True for what a store throws when its database cannot be used: our own errors, SQLite's, PostgreSQL's, AWS's. */
function isDatabaseError(error: unknown): boolean {
  if (error instanceof TriggersError) return true;
  const fault = fields(error);
  if (typeof fault.code === 'string' && fault.code.startsWith('SQLITE_')) return true;
  if (typeof (error as { severity?: unknown }).severity === 'string') return true; // pg's DatabaseError
  return (
    typeof error === 'object' && error !== null && ('$metadata' in error || (error as Error).name === 'CredentialsProviderError')
  );
}

/** A database that cannot be opened or migrated, named by the setting that chose it. */
export function databaseFailure(error: unknown, database: DatabaseConfig, setting: string, doing = 'open'): CommandFailure {
  return new CommandFailure(`${setting}: cannot ${doing} the database ${redactUrl(database.url)}: ${messageOf(error)}`, {
    cause: error,
  });
}

export interface ListenSettings {
  host: string;
  port: number;
  /** What the user set the host and the port with, e.g. `TRIGGERS_HOST` or `--port (TRIGGERS_PORT)`. */
  hostSetting: string;
  portSetting: string;
}

/** The address cannot be listened on: which setting to change, and why. Null when `error` is not such a failure. */
export function listenFailure(error: unknown, listen: ListenSettings): CommandFailure | null {
  const fault = fields(error);
  const address = `${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${listen.port}`;
  const fail = (setting: string, why: string) =>
    new CommandFailure(`${setting}: cannot listen on ${address}: ${why}`, { cause: error });
  if (fault.syscall === 'getaddrinfo' && fault.hostname === listen.host) {
    return fail(
      listen.hostSetting,
      `${fault.code === 'ENOTFOUND' ? 'no such host' : 'cannot resolve the host name'} (${messageOf(error)})`,
    );
  }
  if (fault.syscall !== 'listen' && fault.syscall !== 'bind') return null;
  switch (fault.code) {
    case 'EADDRINUSE':
      return fail(listen.portSetting, 'the port is in use (is another Triggers running?)');
    case 'EACCES':
      return fail(listen.portSetting, 'permission denied (ports below 1024 need privileges)');
    case 'EADDRNOTAVAIL':
      return fail(listen.hostSetting, 'this machine has no such address');
    default:
      return fail(listen.hostSetting, messageOf(error));
  }
}

/** A start-up failure (`serve`): the listen address, else the database, else the error unchanged. */
export function startFailure(error: unknown, database: DatabaseConfig, databaseSetting: string, listen: ListenSettings): unknown {
  const listening = listenFailure(error, listen);
  if (listening !== null) return listening;
  if (isDatabaseError(error)) return databaseFailure(error, database, databaseSetting);
  return error;
}

/** A store failure (`migrate`, `keys`, `receive`): the database, else the error unchanged. */
export function storeFailure(error: unknown, database: DatabaseConfig, setting: string, doing?: string): unknown {
  return isDatabaseError(error) ? databaseFailure(error, database, setting, doing) : error;
}
