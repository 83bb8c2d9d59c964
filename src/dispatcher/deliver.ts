/**
 * One HTTP attempt at one delivery. Everything per request is kept small: the envelope is
 * serialized once, each secret's HMAC is computed once, the URL is parsed once per target, and
 * timeouts are enforced by one shared sweeper rather than a timer per request.
 *
 * Never followed: redirects (a 3xx is just a failed attempt). Never reached, unless private
 * targets are allowed: loopback/private/link-local addresses, checked when the socket connects
 * (so a DNS answer that changes after the subscription was created gains nothing). The built-in
 * receiver (`/receiver/…` on the API's own origin) is always reachable.
 */
import { isIP } from 'node:net';
import { readFileSync } from 'node:fs';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { Agent, buildConnector, type Dispatcher } from 'undici';
import { isSuccess, parseRetryAfter } from '../core/outcome.js';
import { signatureHeaders } from '../core/signing.js';
import { isPrivateAddress } from '../core/targets.js';
import type { ClaimedDelivery } from '../core/types.js';
import type { AttemptReport, PushTarget } from './source.js';

/** How much of a response body an attempt keeps. */
export const RESPONSE_EXCERPT_BYTES = 1024;
/** Past this, a response body is not drained for keep-alive: the connection is dropped instead. */
const DRAIN_LIMIT_BYTES = 64 * 1024;

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export const USER_AGENT = `Triggers/${packageVersion()}`;

export interface DelivererOptions {
  timeoutMs: number;
  /** Sockets kept per origin: the per-subscription concurrency. */
  connectionsPerOrigin: number;
  allowPrivateTargets: boolean;
  /** The API's own origin (config.apiUrl): its `/receiver/` paths are always allowed. */
  receiverOrigin?: string | null;
}

/** The reason a request was cut short by the deadline sweeper. */
class DeliveryTimeout extends Error {
  readonly code = 'ETIMEDOUT';
}

/** A connection refused by the SSRF guard. */
class BlockedTarget extends Error {
  readonly code = 'ETARGETBLOCKED';
  constructor(host: string, address: string) {
    super(
      `refused to connect to ${host === address ? address : `${host} (${address})`}: a private or loopback address; set TRIGGERS_ALLOW_PRIVATE_TARGETS=true to allow it`,
    );
  }
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A dns.lookup that refuses names resolving to any private address. */
function guardedLookup(hostname: string, options: { all?: boolean; family?: number }, callback: LookupCallback): void {
  dnsLookup(hostname, { family: options.family ?? 0, all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    const blocked = addresses.find((entry) => isPrivateAddress(entry.address));
    if (blocked) return callback(new BlockedTarget(hostname, blocked.address), []);
    if (options.all) return callback(null, addresses);
    const first = addresses[0];
    if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), []);
    callback(null, first.address, first.family);
  });
}

function guardedConnector(timeoutMs: number): buildConnector.connector {
  const base = buildConnector({ timeout: timeoutMs, lookup: guardedLookup } as buildConnector.BuildOptions);
  return (options, callback) => {
    const host = options.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) !== 0 && isPrivateAddress(host)) {
      callback(new BlockedTarget(host, host), null);
      return;
    }
    base(options, callback);
  };
}

interface Route {
  agent: Agent;
  origin: string;
  path: string;
}

interface InFlight {
  controller: AbortController;
  deadline: number;
}

type ResponseBody = Dispatcher.ResponseData['body'];

/** Describes a failed request in a few words: what an operator wants in `last_error`. */
export function describeError(error: unknown, timeoutMs: number): string {
  const err = error as { code?: string; message?: string; errors?: { code?: string }[] } | null;
  let code = err?.code;
  if (!code && Array.isArray(err?.errors)) code = err.errors.find((inner) => inner.code)?.code;
  switch (code) {
    case 'ETIMEDOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return `timeout: no complete response within ${timeoutMs}ms`;
    case 'UND_ERR_CONNECT_TIMEOUT':
      return `connect timeout: no connection within ${timeoutMs}ms`;
    case 'ECONNREFUSED':
      return 'ECONNREFUSED: connection refused';
    case 'ECONNRESET':
      return 'ECONNRESET: connection reset by peer';
    case 'UND_ERR_SOCKET':
      return `connection closed: ${err?.message ?? 'other side closed'}`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `${code}: host not found`;
    case 'ETARGETBLOCKED':
      return err?.message ?? 'refused: private address';
    default: {
      const message = (err?.message ?? String(error)).slice(0, 300);
      return code ? `${code}: ${message}` : message;
    }
  }
}

/**
 * Reads at most RESPONSE_EXCERPT_BYTES of the body; the rest is drained in the background so the
 * connection can be reused. `done` is called once the body is fully consumed or destroyed.
 */
function readExcerpt(body: ResponseBody, contentLength: string | undefined, done: () => void): Promise<string | null> {
  if (contentLength !== undefined && Number(contentLength) <= RESPONSE_EXCERPT_BYTES) {
    return body.text().then(
      (text) => {
        done();
        return text === '' ? null : text;
      },
      (error: unknown) => {
        done();
        throw error;
      },
    );
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const detach = () => {
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
    };
    const excerpt = () => (size === 0 ? null : Buffer.concat(chunks, size).toString('utf8', 0, Math.min(size, RESPONSE_EXCERPT_BYTES)));
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size < RESPONSE_EXCERPT_BYTES) return;
      detach();
      resolve(excerpt());
      body.dump({ limit: DRAIN_LIMIT_BYTES }).then(done, done);
    };
    const onEnd = () => {
      detach();
      done();
      resolve(excerpt());
    };
    const onError = (error: Error) => {
      detach();
      done();
      reject(error);
    };
    body.on('data', onData);
    body.on('end', onEnd);
    body.on('error', onError);
  });
}

export class Deliverer {
  readonly #timeoutMs: number;
  readonly #guarded: Agent;
  readonly #open: Agent;
  readonly #receiverOrigin: string | null;
  readonly #routes = new Map<string, Route>();
  readonly #inFlight = new Set<InFlight>();
  readonly #sweeper: NodeJS.Timeout;

  constructor(options: DelivererOptions) {
    this.#timeoutMs = options.timeoutMs;
    const common = {
      connections: options.connectionsPerOrigin,
      pipelining: 1,
      keepAliveTimeout: 4_000,
      keepAliveMaxTimeout: 60_000,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    };
    this.#open = new Agent({ ...common, connect: { timeout: options.timeoutMs } });
    this.#guarded = options.allowPrivateTargets ? this.#open : new Agent({ ...common, connect: guardedConnector(options.timeoutMs) });
    this.#receiverOrigin = options.receiverOrigin ? new URL(options.receiverOrigin).origin : null;
    const every = Math.max(10, Math.min(250, Math.floor(options.timeoutMs / 4)));
    this.#sweeper = setInterval(() => this.#sweep(), every);
    this.#sweeper.unref();
  }

  #route(url: string): Route {
    let route = this.#routes.get(url);
    if (!route) {
      const parsed = new URL(url);
      const receiver = parsed.origin === this.#receiverOrigin && parsed.pathname.startsWith('/receiver/');
      route = { agent: receiver ? this.#open : this.#guarded, origin: parsed.origin, path: parsed.pathname + parsed.search };
      if (this.#routes.size > 10_000) this.#routes.clear();
      this.#routes.set(url, route);
    }
    return route;
  }

  #sweep(): void {
    if (this.#inFlight.size === 0) return;
    const now = Date.now();
    for (const entry of this.#inFlight) {
      if (entry.deadline <= now) {
        this.#inFlight.delete(entry);
        entry.controller.abort(new DeliveryTimeout(`timeout after ${this.#timeoutMs}ms`));
      }
    }
  }

  /** Makes one signed POST of the claimed delivery's event to the target. Never throws. */
  async deliver(claim: ClaimedDelivery, target: PushTarget): Promise<AttemptReport> {
    const event = claim.event;
    const body = JSON.stringify({
      id: event.id,
      type: event.type,
      source: event.source,
      created_at: new Date(event.created_at).toISOString(),
      payload: event.payload,
    });
    const at = Date.now();
    const signed = signatureHeaders(target.secrets, event.id, Math.floor(at / 1000), body);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      'webhook-id': signed['webhook-id'],
      'webhook-timestamp': signed['webhook-timestamp'],
    };
    if (target.secrets.length > 0) headers['webhook-signature'] = signed['webhook-signature'];

    const entry: InFlight = { controller: new AbortController(), deadline: at + this.#timeoutMs };
    this.#inFlight.add(entry);
    const done = () => this.#inFlight.delete(entry);
    const started = performance.now();
    let statusCode: number | null = null;
    let retryAfter: number | null = null;
    try {
      const route = this.#route(target.url);
      const response = await route.agent.request({
        origin: route.origin,
        path: route.path,
        method: 'POST',
        headers,
        body,
        signal: entry.controller.signal,
      });
      statusCode = response.statusCode;
      if (!isSuccess(statusCode)) retryAfter = parseRetryAfter(response.headers['retry-after'], Date.now());
      const contentLength = response.headers['content-length'];
      const excerpt = await readExcerpt(response.body, Array.isArray(contentLength) ? contentLength[0] : contentLength, done);
      return report(claim, at, started, statusCode, null, retryAfter, excerpt);
    } catch (error) {
      done();
      return report(claim, at, started, statusCode, describeError(error, this.#timeoutMs), retryAfter, null);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    for (const entry of this.#inFlight) entry.controller.abort(new DeliveryTimeout('dispatcher closing'));
    this.#inFlight.clear();
    await Promise.all([this.#open.close(), this.#guarded === this.#open ? null : this.#guarded.close()]);
  }
}

function report(
  claim: ClaimedDelivery,
  at: number,
  started: number,
  statusCode: number | null,
  error: string | null,
  retryAfter: number | null,
  response: string | null,
): AttemptReport {
  return {
    claim,
    at,
    duration_ms: Math.round((performance.now() - started) * 100) / 100,
    status_code: statusCode,
    error,
    retry_after_ms: retryAfter,
    response,
  };
}
