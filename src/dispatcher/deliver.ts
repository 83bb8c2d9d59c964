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

import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { Agent, buildConnector, type Dispatcher } from 'undici';
import { MAX_TIMEOUT_MS, reservedHeader } from '../core/deliveryOptions.js';
import { envelopeJson } from '../core/envelope.js';
import { parseRetryAfter } from '../core/outcome.js';
import { signatureHeaders } from '../core/signing.js';
import { isOwnReceiver, isPrivateAddress } from '../core/targets.js';
import type { ClaimedDelivery } from '../core/types.js';
import { endDeliverSpan, startDeliverSpan } from '../observability/tracing.js';
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
  /**
   * Sockets per origin. At least the global concurrency: several subscriptions may share an
   * origin, and one of them hanging must not leave the others queued behind its sockets (the
   * dispatcher's own limits already bound what is in flight per subscription).
   */
  connectionsPerOrigin: number;
  allowPrivateTargets: boolean;
  /** The API's own origin (config.apiUrl): its `/receiver/` paths are always allowed. */
  receiverOrigin?: string | null;
  /**
   * URLs the operator configured (TRIGGERS_WEBHOOK_URL): trusted like the built-in receiver,
   * since the private-address guard protects against API users, not against the operator.
   */
  trustedUrls?: readonly string[];
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

/**
 * One request, driven through undici's low-level dispatch handler: no response stream, no
 * AbortSignal, no promise per phase. It keeps the status, a Retry-After and the first bytes of
 * the body; the rest of the body is read and dropped by undici, so the socket stays reusable.
 */
class Attempt implements Dispatcher.DispatchHandler {
  status: number | null = null;
  retryAfter: string | null = null;
  excerpt: Buffer | null = null;
  received = 0;
  settled = false;
  deadline: number;
  readonly timeoutMs: number;
  #abort: ((error?: Error) => void) | null = null;
  #reason: Error | null = null;

  constructor(
    deadline: number,
    timeoutMs: number,
    private readonly finish: (attempt: Attempt, error: Error | null) => void,
  ) {
    this.deadline = deadline;
    this.timeoutMs = timeoutMs;
  }

  abort(reason: Error): void {
    if (this.#abort) this.#abort(reason);
    else this.#reason = reason;
  }

  onConnect(abort: (error?: Error) => void): void {
    if (this.#reason) abort(this.#reason);
    else this.#abort = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    if (statusCode < 200) return true;
    this.status = statusCode;
    if (statusCode >= 300) {
      for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
        const name = rawHeaders[i] as Buffer;
        if (name.length === 11 && name.toString('latin1').toLowerCase() === 'retry-after') {
          this.retryAfter = (rawHeaders[i + 1] as Buffer).toString('latin1');
        }
      }
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.received < RESPONSE_EXCERPT_BYTES) {
      const take = chunk.subarray(0, RESPONSE_EXCERPT_BYTES - this.received);
      this.excerpt = this.excerpt === null ? Buffer.from(take) : Buffer.concat([this.excerpt, take]);
    }
    this.received += chunk.length;
    // Past the drain limit, dropping the connection is cheaper than reading the rest.
    if (this.received > DRAIN_LIMIT_BYTES) this.abort(new ResponseTooLarge());
    return true;
  }

  onComplete(): void {
    this.finish(this, null);
  }

  onError(error: Error): void {
    this.finish(this, error);
  }
}

/** Ends a response body past DRAIN_LIMIT_BYTES; not an attempt error. */
class ResponseTooLarge extends Error {}

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

export class Deliverer {
  readonly #timeoutMs: number;
  readonly #guarded: Agent;
  readonly #open: Agent;
  readonly #receiver: URL | null;
  readonly #trusted: ReadonlySet<string>;
  readonly #routes = new Map<string, Route>();
  readonly #inFlight = new Set<Attempt>();
  readonly #sweeper: NodeJS.Timeout;
  readonly #sweepEvery: number;

  constructor(options: DelivererOptions) {
    this.#timeoutMs = options.timeoutMs;
    const common = {
      connections: options.connectionsPerOrigin,
      pipelining: 1,
      keepAliveTimeout: 4_000,
      keepAliveMaxTimeout: 60_000,
      // A subscription may set its own timeout: the sweeper enforces each attempt's deadline,
      // undici's own timers only the longest allowed.
      headersTimeout: Math.max(options.timeoutMs, MAX_TIMEOUT_MS),
      bodyTimeout: Math.max(options.timeoutMs, MAX_TIMEOUT_MS),
    };
    this.#open = new Agent({ ...common, connect: { timeout: options.timeoutMs } });
    this.#guarded = options.allowPrivateTargets
      ? this.#open
      : new Agent({ ...common, connect: guardedConnector(options.timeoutMs) });
    this.#receiver = options.receiverOrigin ? new URL(options.receiverOrigin) : null;
    this.#trusted = new Set((options.trustedUrls ?? []).map((url) => new URL(url).toString()));
    const every = Math.max(10, Math.min(100, Math.floor(options.timeoutMs / 4)));
    this.#sweepEvery = every;
    this.#sweeper = setInterval(() => this.#sweep(), every);
    this.#sweeper.unref();
  }

  #route(url: string): Route {
    let route = this.#routes.get(url);
    if (!route) {
      const parsed = new URL(url);
      const receiver = this.#receiver !== null && isOwnReceiver(parsed, this.#receiver);
      const trusted = receiver || this.#trusted.has(parsed.toString());
      route = { agent: trusted ? this.#open : this.#guarded, origin: parsed.origin, path: parsed.pathname + parsed.search };
      if (this.#routes.size > 10_000) this.#routes.clear();
      this.#routes.set(url, route);
    }
    return route;
  }

  /** Cuts requests past their deadline: the whole attempt (queue, connect, headers, body) gets `timeoutMs`. */
  #sweep(): void {
    if (this.#inFlight.size === 0) return;
    const now = Date.now();
    for (const attempt of this.#inFlight) {
      if (attempt.deadline <= now) {
        this.#inFlight.delete(attempt);
        attempt.abort(new DeliveryTimeout(`timeout after ${attempt.timeoutMs}ms`));
      }
    }
  }

  /** Makes one signed POST of the claimed delivery's event to the target. Never rejects. */
  deliver(claim: ClaimedDelivery, target: PushTarget): Promise<AttemptReport> {
    const event = claim.event;
    const body = claim.body ?? envelopeJson(event);
    const at = Date.now();
    const signed = signatureHeaders(target.secrets, event.id, Math.floor(at / 1000), body);
    const headers = [
      'content-type',
      'application/json',
      'user-agent',
      USER_AGENT,
      'webhook-id',
      signed['webhook-id'],
      'webhook-timestamp',
      signed['webhook-timestamp'],
    ];
    if (target.secrets.length > 0) headers.push('webhook-signature', signed['webhook-signature']);
    const custom = target.delivery?.headers;
    if (custom !== undefined) {
      // Validated when set (core/deliveryOptions.ts); reserved names are skipped here all the same.
      for (const name in custom) if (!reservedHeader(name)) headers.push(name, custom[name] as string);
    }
    const timeoutMs = target.delivery?.timeout_ms ?? this.#timeoutMs;
    const started = performance.now();
    const span = startDeliverSpan();
    return new Promise((resolve) => {
      // A subscription's timeout short beside the sweeper's period gets a timer of its own, so a
      // 500 ms timeout cuts at 500 ms, not up to a period later.
      const own =
        timeoutMs < this.#sweepEvery * 20
          ? setTimeout(() => attempt.abort(new DeliveryTimeout(`timeout after ${timeoutMs}ms`)), timeoutMs)
          : null;
      const attempt = new Attempt(at + timeoutMs, timeoutMs, (done, error) => {
        if (done.settled) return;
        done.settled = true;
        if (own !== null) clearTimeout(own);
        this.#inFlight.delete(done);
        const status = done.status;
        // A 2xx status line is the receiver's answer: the attempt succeeded, whatever then
        // happened to the rest of its body (cut by the timeout, a reset, too large).
        const accepted = status !== null && status >= 200 && status < 300;
        const failed = error !== null && !(error instanceof ResponseTooLarge) && !accepted;
        const report: AttemptReport = {
          claim,
          at,
          duration_ms: Math.round((performance.now() - started) * 100) / 100,
          status_code: status,
          error: failed ? describeError(error, timeoutMs) : null,
          retry_after_ms: done.retryAfter === null ? null : parseRetryAfter(done.retryAfter, Date.now()),
          response: done.excerpt === null ? null : done.excerpt.toString('utf8'),
        };
        endDeliverSpan(span, report);
        resolve(report);
      });
      this.#inFlight.add(attempt);
      try {
        const route = this.#route(target.url);
        route.agent.dispatch({ origin: route.origin, path: route.path, method: 'POST', headers, body }, attempt);
      } catch (error) {
        attempt.onError(error as Error);
      }
    });
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    for (const attempt of this.#inFlight) attempt.abort(new DeliveryTimeout('dispatcher closing'));
    this.#inFlight.clear();
    await Promise.all([this.#open.close(), this.#guarded === this.#open ? null : this.#guarded.close()]);
  }
}
