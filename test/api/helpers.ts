/**
 * Test servers for the HTTP API: a real SQLite file in a fresh temporary folder, a real
 * configuration built the way `serve` builds it, and the API listening on a free port.
 *
 *   const server = await startTestServer({ TRIGGERS_ALLOW_PRIVATE_TARGETS: 'true' });
 *   const res = await server.request('POST', '/events', { body: {...} });   // X-API-Key sent
 *   await server.close();
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../../src/api/index.js';
import { type Env, loadConfig } from '../../src/config/config.js';
import { type ResolvedConfig, resolveSecrets } from '../../src/config/secrets.js';
import type { EpochMs } from '../../src/core/types.js';
import { silentLogger } from '../../src/observability/logger.js';
import { Metrics } from '../../src/observability/metrics.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/store.js';

export const TEST_API_KEY = 'test-api-key-0123456789';
export const TEST_JWT_SECRET = 'test-jwt-secret-0123456789abcdef';

export interface TestServer {
  app: FastifyInstance;
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  apiKey: string;
  config: ResolvedConfig;
  store: Store;
  metrics: Metrics;
  dir: string;
  /** A fetch against the server; JSON bodies are encoded, the API key is sent unless `auth: false`. */
  request(method: string, path: string, options?: RequestOptions): Promise<TestResponse>;
  close(): Promise<void>;
}

export interface RequestOptions {
  body?: unknown;
  /** Sent as is (no JSON encoding); bytes for bodies that are not UTF-8. */
  raw?: string | Uint8Array;
  headers?: Record<string, string>;
  /** false: send no credentials. Default: X-API-Key. */
  auth?: boolean;
}

export interface TestResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed body, or undefined when it is not JSON. */
  // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies loosely
  json: any;
}

export interface TestServerOptions {
  /** The time source for the API and the store. */
  clock?: () => EpochMs;
  /** Create the `default` subscription (pull-only), as `serve` does. Default true. */
  defaultSubscription?: boolean;
  /** How long a request may take to arrive (the API's default: 60 s). */
  requestTimeoutMs?: number;
}

export function testConfig(env: Env = {}, dir = mkdtempSync(join(tmpdir(), 'triggers-api-'))): ResolvedConfig {
  const config = loadConfig({
    cwd: dir,
    env: {
      TRIGGERS_DATA_DIR: dir,
      TRIGGERS_DATABASE_URL: `sqlite:${join(dir, 'triggers.db')}`,
      TRIGGERS_API_KEY: TEST_API_KEY,
      TRIGGERS_JWT_SECRET: TEST_JWT_SECRET,
      TRIGGERS_RETRY_SCHEDULE: '1s,2s,4s',
      TRIGGERS_PORT: '0',
      TRIGGERS_LOG_LEVEL: 'silent',
      ...env,
    },
  });
  return resolveSecrets(config).config;
}

export async function startTestServer(env: Env = {}, options: TestServerOptions = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'triggers-api-'));
  const config = testConfig(env, dir);
  const path = config.database.kind === 'sqlite' ? config.database.path : join(dir, 'triggers.db');
  const store = await openSqliteStore(path, { clock: options.clock });
  if (options.defaultSubscription ?? true) {
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
  }
  const metrics = new Metrics({ defaultMetrics: false });
  const app = await buildApi({
    config,
    store,
    metrics,
    logger: silentLogger(),
    clock: options.clock,
    requestTimeoutMs: options.requestTimeoutMs,
  });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const url = address.replace('localhost', '127.0.0.1');

  async function request(method: string, path: string, opts: RequestOptions = {}): Promise<TestResponse> {
    const headers: Record<string, string> = {};
    if (opts.auth ?? true) headers['x-api-key'] = TEST_API_KEY;
    let body: string | Blob | undefined;
    if (typeof opts.raw === 'string') body = opts.raw;
    else if (opts.raw !== undefined) body = new Blob([Buffer.from(opts.raw)]);
    else if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] = 'application/json';
    }
    Object.assign(headers, opts.headers ?? {});
    const response = await fetch(url + path, { method, headers, body });
    const text = await response.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, headers: response.headers, text, json };
  }

  let closed = false;
  return {
    app,
    url,
    apiKey: TEST_API_KEY,
    config,
    store,
    metrics,
    dir,
    request,
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Sends one event and returns its id. */
export async function sendEvent(
  server: TestServer,
  event: { type?: string; source?: string; payload?: Record<string, unknown> } = {},
): Promise<string> {
  const res = await server.request('POST', '/events', {
    body: { type: event.type ?? 'order.created', source: event.source ?? 'test', payload: event.payload ?? { n: 1 } },
  });
  if (res.status !== 201) throw new Error(`POST /events answered ${res.status}: ${res.text}`);
  return res.json.id as string;
}

/** Asserts the `{ error: { code, message } }` shape and returns the code. */
export function errorCode(res: TestResponse): string {
  const error = res.json?.error;
  if (typeof error?.code !== 'string' || typeof error?.message !== 'string') {
    throw new Error(`not an error body (${res.status}): ${res.text.slice(0, 300)}`);
  }
  return error.code;
}
