/**
 * The one typed configuration object, read once at start from (strongest first) command-line
 * flags, environment variables, a `.env` file, the seed's secrets JSON (`TRIGGERS_SECRETS_FILE`),
 * and defaults. An empty variable counts as unset. Anything invalid stops the start with a
 * ConfigError naming the setting and what is wrong with it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { formatDuration, parseDuration } from '../core/duration.js';
import { ConfigError } from '../core/errors.js';
import { DEFAULT_RETRY_SCHEDULE, parseSchedule } from '../core/retry.js';
import { parseEncryptionKey } from '../core/secretBox.js';
import { isValidSecret } from '../core/signing.js';

export type Role = 'api' | 'dispatcher' | 'all';

export type DatabaseConfig =
  | { kind: 'sqlite'; path: string; url: string }
  | { kind: 'postgres'; url: string }
  /**
   * `endpoint`: a local DynamoDB (dynalite, DynamoDB Local) from `?endpoint=` or
   * TRIGGERS_DYNAMODB_ENDPOINT; `region` from `?region=`, else AWS_REGION; `retentionDays`
   * (TRIGGERS_RETENTION_DAYS) sets the TTL attribute.
   */
  | { kind: 'dynamodb'; table: string; url: string; endpoint?: string | null; region?: string | null; retentionDays?: number };

export interface Config {
  host: string;
  port: number;
  database: DatabaseConfig;
  /** Where generated secrets (and the default SQLite file) live. */
  dataDir: string;
  /** The API key `/token` accepts; undefined only before secrets are resolved (see secrets.ts). */
  apiKey: string | undefined;
  jwtSecret: string | undefined;
  jwtTtlMs: number;
  webhookUrl: string | null;
  webhookSecret: string | undefined;
  maxEventsPerRun: number;
  retrySchedule: number[];
  allowPrivateTargets: boolean;
  receiverSecret: string | null;
  metricsAuth: boolean;
  bodyLimitBytes: number;
  maxBatch: number;
  role: Role;
  dispatch: {
    /** Requests in flight at once, over all subscriptions. */
    concurrency: number;
    /** Requests in flight at once to one subscription. */
    perSubscription: number;
    timeoutMs: number;
    leaseMs: number;
  };
  apiUrl: string;
  logLevel: string;
  retentionDays: number;
  alerts: {
    /** Where alerts are POSTed (JSON); null: they are only logged. */
    webhookUrl: string | null;
    /** More than this many dead-lettered deliveries within `windowMs` raise the alarm. */
    threshold: number;
    windowMs: number;
    /** A subscription failing with no success for this long is disabled. */
    endpointDisableAfterMs: number;
  };
  /** AES-256-GCM key for signing secrets at rest; null: secrets are stored as given. */
  encryptionKey: Buffer | null;
  /** Ingest requests per second per API key, unless the key sets its own; null: no limit. */
  ingestRateLimit: number | null;
  /** Where each variable that was set came from (one left at its default has none). */
  sources: Readonly<Record<string, SettingSource>>;
  /** AWS: the Lambda handlers (src/lambda/) and their metrics. */
  aws: {
    /** A Secrets Manager secret holding the seed's JSON (TRIGGERS_SECRET_ARN, or the seed's SECRET_ARN); null: none. */
    secretArn: string | null;
    /** How long a fetched secret is reused before it is read again. */
    secretTtlMs: number;
    /** CloudWatch namespace of the Embedded Metric Format lines. */
    metricsNamespace: string;
    /** A dispatcher invocation waits for retries due within this long rather than leaving them to the next run. */
    lambdaRetryWaitMs: number;
  };
}

export type Env = Record<string, string | undefined>;

export interface LoadOptions {
  env?: Env;
  /** Flags from the command line, by variable name (`TRIGGERS_PORT`…); they win over everything. */
  overrides?: Env;
  /** Directory to look for `.env` in; defaults to the working directory. */
  cwd?: string;
  /**
   * The seed's secrets JSON read from elsewhere (the Lambda handlers fetch it from Secrets
   * Manager), applied like TRIGGERS_SECRETS_FILE: variables win over it. `setting` names the
   * variable that pointed at it, for error messages.
   */
  secrets?: { setting: string; values: unknown };
}

interface SeedSecrets {
  zapier_api_key?: string;
  zapier_webhook_url?: string;
  jwt_secret?: string;
  webhook_secret?: string;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * Where a variable's value came from, so that messages can say so without printing it: a flag,
 * the environment, a `.env` file, or a key of the seed's secrets JSON (a file named by
 * TRIGGERS_SECRETS_FILE, or the Lambda handlers' secret).
 */
export type SettingSource =
  | { from: 'command line' }
  | { from: 'environment' }
  | { from: '.env'; file: string }
  | { from: 'secrets'; key: string; setting: string; file: string | null };

type Sources = Record<string, SettingSource>;

/** Merges the sources into one flat map of variables, empty strings dropped, noting where each came from. */
function gatherEnv(options: LoadOptions): { env: Env; sources: Sources } {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const merged: Env = {};
  const sources: Sources = {};
  // An empty value counts as unset, so it neither hides a .env value nor overrides it.
  const layer = (values: Env, source: SettingSource) => {
    for (const [key, value] of Object.entries(values)) {
      if (value === undefined || value === '') continue;
      merged[key] = value;
      sources[key] = source;
    }
  };
  const dotenvPath = resolve(cwd, '.env');
  if (existsSync(dotenvPath)) layer(parseDotenv(readFileSync(dotenvPath)), { from: '.env', file: dotenvPath });
  layer(env, { from: 'environment' });
  layer(options.overrides ?? {}, { from: 'command line' });

  if (options.secrets) applySeedSecrets(merged, sources, options.secrets.values, options.secrets.setting, null);
  const secretsFile = merged.TRIGGERS_SECRETS_FILE;
  if (secretsFile) {
    const path = resolve(cwd, secretsFile);
    let seed: unknown;
    try {
      seed = JSON.parse(readFileSync(path, 'utf8'));
    } catch (error) {
      throw new ConfigError('TRIGGERS_SECRETS_FILE', `cannot read ${secretsFile} as JSON (${(error as Error).message})`);
    }
    applySeedSecrets(merged, sources, seed, 'TRIGGERS_SECRETS_FILE', path);
  }
  return { env: merged, sources };
}

/** Fills the variables the seed's secrets JSON sets, where they are not set already. */
function applySeedSecrets(merged: Env, sources: Sources, values: unknown, setting: string, file: string | null): void {
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    throw new ConfigError(setting, 'must hold a JSON object');
  }
  const seed = values as SeedSecrets;
  const fromSeed: [string, keyof SeedSecrets][] = [
    ['TRIGGERS_API_KEY', 'zapier_api_key'],
    ['TRIGGERS_WEBHOOK_URL', 'zapier_webhook_url'],
    ['TRIGGERS_JWT_SECRET', 'jwt_secret'],
    ['TRIGGERS_WEBHOOK_SECRET', 'webhook_secret'],
  ];
  for (const [variable, key] of fromSeed) {
    const value: unknown = seed[key];
    if (value === undefined || value === null || value === '') continue;
    if (typeof value !== 'string') throw new ConfigError(setting, `${key} must be a string`);
    if (merged[variable] !== undefined) continue;
    merged[variable] = value;
    sources[variable] = { from: 'secrets', key, setting, file };
  }
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const text = env[name];
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text.trim())) throw new ConfigError(name, `expected a whole number, got ${JSON.stringify(text)}`);
  const value = Number(text);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

function duration(env: Env, name: string, fallback: string, minMs = 1): number {
  const text = env[name] ?? fallback;
  const ms = parseDuration(text);
  if (ms === null) throw new ConfigError(name, `expected a duration like 250ms, 5s, 5m or 2h, got ${JSON.stringify(text)}`);
  if (ms < minMs) throw new ConfigError(name, `must be at least ${formatDuration(minMs)}`);
  return ms;
}

function flag(env: Env, name: string): boolean {
  const text = env[name]?.trim().toLowerCase();
  if (text === undefined) return false;
  if (['1', 'true', 'yes', 'on'].includes(text)) return true;
  if (['0', 'false', 'no', 'off'].includes(text)) return false;
  throw new ConfigError(name, `expected true or false, got ${JSON.stringify(env[name])}`);
}

/** `1mb`, `512kb`, `1048576`. */
function bytes(env: Env, name: string, fallback: number): number {
  const text = env[name]?.trim().toLowerCase();
  if (text === undefined) return fallback;
  const match = /^(\d+)\s*(b|kb|kib|mb|mib)?$/.exec(text);
  if (!match) throw new ConfigError(name, `expected a size like 1mb or 512kb, got ${JSON.stringify(env[name])}`);
  const unit = match[2] ?? 'b';
  const size = Number(match[1]) * (unit.startsWith('k') ? 1024 : unit.startsWith('m') ? 1024 * 1024 : 1);
  if (size < 1024 || size > 100 * 1024 * 1024) throw new ConfigError(name, 'must be between 1kb and 100mb');
  return size;
}

function webhookUrl(env: Env, name: string): string | null {
  const text = env[name];
  if (text === undefined) return null;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(name, `not a URL: ${JSON.stringify(text)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(name, 'must be an http:// or https:// URL');
  return url.toString();
}

/** The seed's namespace, so its dashboard and alarm find the metrics unchanged. */
export const DEFAULT_METRICS_NAMESPACE = 'Triggers';

function metricsNamespace(env: Env): string {
  const text = env.TRIGGERS_METRICS_NAMESPACE ?? DEFAULT_METRICS_NAMESPACE;
  // CloudWatch allows 1 to 255 of these characters and keeps AWS/ for its own namespaces.
  if (!/^[A-Za-z0-9 ._\-/#:]{1,255}$/.test(text) || text.startsWith('AWS/')) {
    throw new ConfigError(
      'TRIGGERS_METRICS_NAMESPACE',
      `expected 1 to 255 letters, digits, spaces or . - _ / # :, not starting with AWS/, got ${JSON.stringify(text)}`,
    );
  }
  return text;
}

/**
 * An IP address, or a name of letters, digits, dots and hyphens that a URL can carry (which
 * rules out dotted numbers that are no IPv4 address, like 999.1.1.1).
 */
function validHost(host: string): boolean {
  if (isIP(host) !== 0) return true;
  if (!/^[A-Za-z0-9.-]+$/.test(host)) return false;
  try {
    new URL(`http://${host}/`);
    return true;
  } catch {
    return false;
  }
}

export function parseDatabaseUrl(text: string, dataDir: string, cwd: string): DatabaseConfig {
  if (text.startsWith('sqlite:')) {
    const rest = text.slice('sqlite:'.length).replace(/^\/\//, '');
    if (rest === '') throw new ConfigError('TRIGGERS_DATABASE_URL', 'sqlite: needs a file path, e.g. sqlite:./data/triggers.db');
    const path = rest === ':memory:' ? rest : resolve(cwd, rest);
    return { kind: 'sqlite', path, url: `sqlite:${path}` };
  }
  if (text.startsWith('postgres://') || text.startsWith('postgresql://')) {
    try {
      new URL(text);
    } catch {
      throw new ConfigError('TRIGGERS_DATABASE_URL', 'not a valid postgres:// URL');
    }
    return { kind: 'postgres', url: text };
  }
  if (text.startsWith('dynamodb://')) {
    const table = text.slice('dynamodb://'.length).split(/[/?]/)[0] ?? '';
    if (!/^[A-Za-z0-9_.-]{3,255}$/.test(table)) throw new ConfigError('TRIGGERS_DATABASE_URL', 'dynamodb:// needs a table name');
    const query = new URLSearchParams(text.includes('?') ? text.slice(text.indexOf('?') + 1) : '');
    const endpoint = query.get('endpoint') || null;
    if (endpoint !== null && !/^https?:\/\/[^\s/]+/.test(endpoint)) {
      throw new ConfigError('TRIGGERS_DATABASE_URL', `?endpoint= must be an http(s) URL, got ${JSON.stringify(endpoint)}`);
    }
    return { kind: 'dynamodb', table, url: text, endpoint, region: query.get('region') || null };
  }
  void dataDir;
  throw new ConfigError(
    'TRIGGERS_DATABASE_URL',
    `expected sqlite:<path>, postgres://… or dynamodb://<table>, got ${JSON.stringify(text)}`,
  );
}

/**
 * What the three secrets must be, as variables and as saved in `<data dir>/secrets.json`
 * (secrets.ts): the problem with a value, or null.
 */
export const SECRET_RULES = {
  TRIGGERS_API_KEY: (value: string) => (value.length < 8 ? 'must be at least 8 characters' : null),
  TRIGGERS_JWT_SECRET: (value: string) => (value.length < 16 ? 'must be at least 16 characters' : null),
  TRIGGERS_WEBHOOK_SECRET: (value: string) =>
    isValidSecret(value) ? null : 'expected whsec_ followed by base64 of 16 to 64 bytes',
} as const;

export function loadConfig(options: LoadOptions = {}): Config {
  const { env, sources } = gatherEnv(options);
  try {
    return buildConfig(options, env, sources);
  } catch (error) {
    throw namingSource(error, sources);
  }
}

/**
 * A bad value that came from a file is blamed on the file's entry, not only on a variable the
 * user never set: `TRIGGERS_WEBHOOK_SECRET (webhook_secret in seed.json, TRIGGERS_SECRETS_FILE)`.
 */
function namingSource(error: unknown, sources: Sources): unknown {
  if (!(error instanceof ConfigError)) return error;
  const source = sources[error.setting];
  if (source?.from === 'secrets') {
    const where = source.file === null ? `the secret ${source.setting} names` : `${source.file}, ${source.setting}`;
    return new ConfigError(`${error.setting} (${source.key} in ${where})`, error.detail);
  }
  if (source?.from === '.env') return new ConfigError(`${error.setting} (in ${source.file})`, error.detail);
  return error;
}

function buildConfig(options: LoadOptions, env: Env, sources: Sources): Config {
  const cwd = options.cwd ?? process.cwd();

  const host = env.TRIGGERS_HOST ?? '127.0.0.1';
  if (!validHost(host)) throw new ConfigError('TRIGGERS_HOST', `not a host name or address: ${JSON.stringify(host)}`);
  const dataDir = resolve(cwd, env.TRIGGERS_DATA_DIR ?? './data');
  let database = parseDatabaseUrl(env.TRIGGERS_DATABASE_URL ?? `sqlite:${resolve(dataDir, 'triggers.db')}`, dataDir, cwd);
  const dynamoEndpoint = env.TRIGGERS_DYNAMODB_ENDPOINT;
  if (database.kind === 'dynamodb' && !database.endpoint && dynamoEndpoint !== undefined) {
    if (!/^https?:\/\/[^\s/]+/.test(dynamoEndpoint)) {
      throw new ConfigError('TRIGGERS_DYNAMODB_ENDPOINT', `expected an http(s) URL, got ${JSON.stringify(dynamoEndpoint)}`);
    }
    database = { ...database, endpoint: dynamoEndpoint };
  }
  if (database.kind === 'dynamodb')
    database = { ...database, retentionDays: integer(env, 'TRIGGERS_RETENTION_DAYS', 90, 1, 36_500) };

  const scheduleText = env.TRIGGERS_RETRY_SCHEDULE ?? DEFAULT_RETRY_SCHEDULE;
  // parseSchedule refuses an empty entry too; this says which one.
  const emptyEntry = scheduleText.split(',').findIndex((entry) => entry.trim() === '');
  if (emptyEntry !== -1) {
    throw new ConfigError(
      'TRIGGERS_RETRY_SCHEDULE',
      `entry ${emptyEntry + 1} is empty in ${JSON.stringify(scheduleText)}; expected comma-separated durations like 1s,2s,4s,5m`,
    );
  }
  const schedule = parseSchedule(scheduleText);
  if (schedule === null) {
    throw new ConfigError(
      'TRIGGERS_RETRY_SCHEDULE',
      `expected comma-separated durations like 1s,2s,4s,5m, got ${JSON.stringify(scheduleText)}`,
    );
  }
  if (schedule.length > 50) throw new ConfigError('TRIGGERS_RETRY_SCHEDULE', 'at most 50 retries');

  const webhookSecret = env.TRIGGERS_WEBHOOK_SECRET;
  const apiKey = env.TRIGGERS_API_KEY;
  const jwtSecret = env.TRIGGERS_JWT_SECRET;
  for (const [variable, value] of [
    ['TRIGGERS_WEBHOOK_SECRET', webhookSecret],
    ['TRIGGERS_API_KEY', apiKey],
    ['TRIGGERS_JWT_SECRET', jwtSecret],
  ] as const) {
    const problem = value === undefined ? null : SECRET_RULES[variable](value);
    if (problem !== null) throw new ConfigError(variable, problem);
  }

  const role = (env.TRIGGERS_ROLE ?? 'all') as Role;
  if (!['api', 'dispatcher', 'all'].includes(role)) {
    throw new ConfigError('TRIGGERS_ROLE', `expected api, dispatcher or all, got ${JSON.stringify(role)}`);
  }

  const logLevel = env.TRIGGERS_LOG_LEVEL ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError('TRIGGERS_LOG_LEVEL', `expected one of ${LOG_LEVELS.join(', ')}`);

  const port = integer(env, 'TRIGGERS_PORT', 8080, 0, 65535);
  const apiUrl = env.TRIGGERS_API_URL ?? `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  try {
    new URL(apiUrl);
  } catch {
    throw new ConfigError('TRIGGERS_API_URL', `not a URL: ${JSON.stringify(apiUrl)}`);
  }

  const encryptionText = env.TRIGGERS_ENCRYPTION_KEY;
  const encryptionKey = encryptionText === undefined ? null : parseEncryptionKey(encryptionText);
  if (encryptionText !== undefined && encryptionKey === null) {
    throw new ConfigError(
      'TRIGGERS_ENCRYPTION_KEY',
      'expected 32 bytes as 64 hex digits or base64 (e.g. `openssl rand -base64 32`)',
    );
  }

  return {
    host,
    port,
    database,
    dataDir,
    apiKey,
    jwtSecret,
    jwtTtlMs: duration(env, 'TRIGGERS_JWT_TTL', '1h', 1000),
    webhookUrl: webhookUrl(env, 'TRIGGERS_WEBHOOK_URL'),
    webhookSecret,
    maxEventsPerRun: integer(env, 'TRIGGERS_MAX_EVENTS_PER_RUN', 100, 1, 1_000_000),
    retrySchedule: schedule,
    allowPrivateTargets: flag(env, 'TRIGGERS_ALLOW_PRIVATE_TARGETS'),
    receiverSecret: env.TRIGGERS_RECEIVER_SECRET ?? null,
    metricsAuth: flag(env, 'TRIGGERS_METRICS_AUTH'),
    bodyLimitBytes: bytes(env, 'TRIGGERS_BODY_LIMIT', 1024 * 1024),
    maxBatch: integer(env, 'TRIGGERS_MAX_BATCH', 1000, 1, 10_000),
    role,
    dispatch: {
      concurrency: integer(env, 'TRIGGERS_DISPATCH_CONCURRENCY', 256, 1, 10_000),
      perSubscription: integer(env, 'TRIGGERS_SUBSCRIPTION_CONCURRENCY', 32, 1, 10_000),
      timeoutMs: duration(env, 'TRIGGERS_DELIVERY_TIMEOUT', '10s', 100),
      leaseMs: duration(env, 'TRIGGERS_LEASE', '60s', 1000),
    },
    apiUrl: apiUrl.replace(/\/$/, ''),
    logLevel,
    retentionDays: integer(env, 'TRIGGERS_RETENTION_DAYS', 90, 1, 36_500),
    alerts: {
      webhookUrl: webhookUrl(env, 'TRIGGERS_ALERT_WEBHOOK_URL'),
      threshold: integer(env, 'TRIGGERS_ALERT_THRESHOLD', 3, 0, 1_000_000),
      windowMs: duration(env, 'TRIGGERS_ALERT_WINDOW', '5m', 1000),
      endpointDisableAfterMs: duration(env, 'TRIGGERS_ENDPOINT_DISABLE_AFTER', '5d', 1000),
    },
    encryptionKey,
    sources,
    ingestRateLimit:
      env.TRIGGERS_INGEST_RATE_LIMIT === undefined ? null : integer(env, 'TRIGGERS_INGEST_RATE_LIMIT', 0, 1, 1_000_000),
    aws: {
      secretArn: env.TRIGGERS_SECRET_ARN ?? env.SECRET_ARN ?? null,
      secretTtlMs: duration(env, 'TRIGGERS_SECRET_TTL', '5m', 0),
      metricsNamespace: metricsNamespace(env),
      lambdaRetryWaitMs: duration(env, 'TRIGGERS_LAMBDA_RETRY_WAIT', '5s', 0),
    },
  };
}
