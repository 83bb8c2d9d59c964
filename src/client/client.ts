/**
 * A typed client for the Triggers HTTP API (docs/http-api.md), built on undici with one
 * keep-alive agent. Given an API key it trades it for a JWT at `POST /token`, reuses the token
 * and fetches a new one shortly before it expires, or at once when the API answers 401.
 */
import { Agent, type Dispatcher } from 'undici';
import { TriggersApiError } from './errors.js';
import type {
  AttemptReportInput,
  ClaimedDeliveryInfo,
  ClaimRequest,
  DeadLetterInfo,
  DeadLetterQuery,
  EventAccepted,
  EventDetail,
  EventInput,
  EventQuery,
  EventSummary,
  HealthInfo,
  InboxAck,
  InboxPage,
  InboxQuery,
  Page,
  ReplayFilter,
  ReplayResult,
  SendOptions,
  SettledDelivery,
  SettleInput,
  SubscriptionInfo,
  SubscriptionInput,
  SubscriptionUpdate,
  TokenResponse,
} from './types.js';

export interface TriggersClientOptions {
  /** The API's base URL, e.g. `http://127.0.0.1:8080`. */
  baseUrl: string;
  /** Traded for a JWT at `/token`, refreshed as needed. */
  apiKey?: string;
  /** A ready-made bearer token. Alone, it is used as is; with `apiKey`, it is used until it expires or is refused. */
  token?: string;
  /** Per-request timeout for everything but long polls, ms. Default 30 s. */
  timeoutMs?: number;
  /** An undici dispatcher to send through instead of the client's own agent. */
  dispatcher?: Dispatcher;
}

export interface RequestOptions {
  signal?: AbortSignal;
}

type Query = Record<string, string | number | boolean | undefined | null>;

interface Call {
  query?: Query;
  body?: unknown;
  headers?: Record<string, string>;
  /** Send credentials (default true). */
  auth?: boolean;
  signal?: AbortSignal;
  /** Extra time a long poll may hold the request, ms. */
  extraTimeoutMs?: number;
  /** Statuses answered with a body instead of an error (health's 503). */
  accept?: number[];
}

interface Answer<T> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  data: T;
}

/** Seconds before expiry at which a token is replaced. */
const REFRESH_MARGIN_S = 60;

const pathId = (id: string): string => encodeURIComponent(id);

export class TriggersClient {
  readonly baseUrl: string;
  readonly #origin: string;
  readonly #basePath: string;
  readonly #apiKey: string | undefined;
  readonly #fixedToken: string | undefined;
  readonly #timeoutMs: number;
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;
  #token: { value: string; refreshAt: number } | null = null;
  #fetching: Promise<string> | null = null;

  constructor(options: TriggersClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    const base = new URL(this.baseUrl);
    this.#origin = base.origin;
    this.#basePath = base.pathname.replace(/\/+$/, '');
    this.#apiKey = options.apiKey;
    this.#fixedToken = options.token;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#ownsDispatcher = options.dispatcher === undefined;
    // No cap on sockets: a remote dispatcher holds one long poll open per subscription, and its
    // claims and settles must never queue behind them.
    this.#dispatcher = options.dispatcher ?? new Agent({ keepAliveTimeout: 10_000 });
    if (options.apiKey !== undefined && options.token !== undefined) {
      this.#token = { value: options.token, refreshAt: Number.POSITIVE_INFINITY };
    }
  }

  /** Closes the client's own connections. */
  async close(): Promise<void> {
    if (this.#ownsDispatcher) await this.#dispatcher.close();
  }

  // ── authentication ───────────────────────────────────────────────────────────────────────

  /** Trades the API key for a fresh token (and keeps it for later calls). */
  async token(): Promise<TokenResponse> {
    if (this.#apiKey === undefined) throw new TriggersApiError(0, 'no_credentials', 'token() needs the client to have an apiKey');
    const answer = await this.#send<TokenResponse>('POST', '/token', { body: { api_key: this.#apiKey }, auth: false });
    const token = answer.data;
    if (typeof token?.access_token !== 'string')
      throw new TriggersApiError(answer.status, 'invalid_response', '/token answered without an access_token');
    const lifetime = Number(token.expires_in) || 3600;
    const margin = Math.min(REFRESH_MARGIN_S, lifetime / 10);
    this.#token = { value: token.access_token, refreshAt: Date.now() + (lifetime - margin) * 1000 };
    return token;
  }

  async #authorization(): Promise<string | null> {
    if (this.#apiKey === undefined) return this.#fixedToken === undefined ? null : `Bearer ${this.#fixedToken}`;
    if (this.#token && Date.now() < this.#token.refreshAt) return `Bearer ${this.#token.value}`;
    this.#fetching ??= this.token()
      .then((token) => token.access_token)
      .finally(() => {
        this.#fetching = null;
      });
    return `Bearer ${await this.#fetching}`;
  }

  // ── transport ────────────────────────────────────────────────────────────────────────────

  async #call<T>(method: Dispatcher.HttpMethod, path: string, call: Call = {}): Promise<Answer<T>> {
    const useAuth = call.auth !== false;
    const authorization = useAuth ? await this.#authorization() : null;
    try {
      return await this.#send<T>(method, path, call, authorization);
    } catch (error) {
      // A token the server no longer accepts (restarted with a new secret, expired early): renew once.
      if (error instanceof TriggersApiError && error.status === 401 && useAuth && this.#apiKey !== undefined) {
        this.#token = null;
        return this.#send<T>(method, path, call, await this.#authorization());
      }
      throw error;
    }
  }

  async #send<T>(
    method: Dispatcher.HttpMethod,
    path: string,
    call: Call,
    authorization: string | null = null,
  ): Promise<Answer<T>> {
    let url = this.#basePath + path;
    if (call.query) {
      const params = new URLSearchParams();
      for (const [key, value] of Object.entries(call.query))
        if (value !== undefined && value !== null) params.set(key, String(value));
      const text = params.toString();
      if (text) url += `?${text}`;
    }
    const headers: Record<string, string> = { accept: 'application/json', ...call.headers };
    if (authorization) headers.authorization = authorization;
    let body: string | undefined;
    if (call.body !== undefined) {
      body = JSON.stringify(call.body);
      headers['content-type'] = 'application/json';
    }
    const timeout = this.#timeoutMs + (call.extraTimeoutMs ?? 0);
    let response: Dispatcher.ResponseData;
    try {
      response = await this.#dispatcher.request({
        origin: this.#origin,
        path: url,
        method,
        headers,
        body,
        signal: call.signal,
        headersTimeout: timeout,
        bodyTimeout: timeout,
      });
    } catch (error) {
      const err = error as { code?: string; message?: string; name?: string };
      if (err.name === 'AbortError' || call.signal?.aborted) throw error;
      if (err.code === 'UND_ERR_HEADERS_TIMEOUT' || err.code === 'UND_ERR_BODY_TIMEOUT') {
        // Reached, but no complete answer in time: not the same trouble as an unreachable API.
        throw new TriggersApiError(
          0,
          'timeout',
          `${method} ${path}: no complete answer from ${this.baseUrl} within ${timeout} ms`,
          null,
          {
            cause: error,
          },
        );
      }
      throw new TriggersApiError(
        0,
        'network_error',
        `cannot reach ${this.baseUrl}: ${err.code ?? ''} ${err.message ?? String(error)}`.trim(),
        null,
        {
          cause: error,
        },
      );
    }
    const { statusCode, headers: responseHeaders } = response;
    const text = await response.body.text();
    let data: unknown = null;
    if (text !== '') {
      try {
        data = JSON.parse(text);
      } catch {
        if (statusCode < 400) throw new TriggersApiError(statusCode, 'invalid_response', `${method} ${path} answered non-JSON`);
      }
    }
    if (statusCode >= 400 && !call.accept?.includes(statusCode)) {
      const detail = (data as { error?: { code?: unknown; message?: unknown } } | null)?.error;
      const retryAfter = Number(responseHeaders['retry-after']);
      throw new TriggersApiError(
        statusCode,
        typeof detail?.code === 'string' ? detail.code : `http_${statusCode}`,
        typeof detail?.message === 'string' ? detail.message : `${method} ${path} answered ${statusCode}`,
        Number.isFinite(retryAfter) && responseHeaders['retry-after'] !== undefined ? retryAfter : null,
      );
    }
    return { status: statusCode, headers: responseHeaders, data: data as T };
  }

  // ── events ───────────────────────────────────────────────────────────────────────────────

  async sendEvent(event: EventInput, options: SendOptions = {}): Promise<EventAccepted> {
    const headers = options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : undefined;
    const response = await this.#call<Omit<EventAccepted, 'replayed'>>('POST', '/events', { body: event, headers });
    return { ...response.data, replayed: response.headers['idempotent-replayed'] === 'true' };
  }

  async sendEvents(events: EventInput[], options: SendOptions = {}): Promise<EventAccepted[]> {
    const headers = options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : undefined;
    const response = await this.#call<{ events: Omit<EventAccepted, 'replayed'>[] }>('POST', '/events/batch', {
      body: { events },
      headers,
    });
    const replayed = response.headers['idempotent-replayed'] === 'true';
    return response.data.events.map((accepted) => ({ ...accepted, replayed }));
  }

  async getEvent(id: string): Promise<EventDetail> {
    return (await this.#call<EventDetail>('GET', `/events/${pathId(id)}`)).data;
  }

  async listEvents(query: EventQuery = {}): Promise<Page<EventSummary>> {
    return (await this.#call<Page<EventSummary>>('GET', '/events', { query: { ...query } })).data;
  }

  async deleteEvent(id: string): Promise<void> {
    await this.#call('DELETE', `/events/${pathId(id)}`);
  }

  // ── inbox ────────────────────────────────────────────────────────────────────────────────

  async inbox(query: InboxQuery = {}): Promise<InboxPage> {
    const answer = await this.#call<InboxPage['items']>('GET', '/inbox', { query: { ...query } });
    const cursor = answer.headers['x-next-cursor'];
    return { items: answer.data, next_cursor: (Array.isArray(cursor) ? cursor[0] : cursor) ?? null };
  }

  async ack(eventId: string, options: { subscription?: string } = {}): Promise<InboxAck> {
    return (
      await this.#call<InboxAck>('POST', `/inbox/${pathId(eventId)}/ack`, { query: { subscription: options.subscription } })
    ).data;
  }

  /** Leases due deliveries; with `wait` the request is held open until one is due. */
  async claim(request: ClaimRequest = {}, options: RequestOptions = {}): Promise<ClaimedDeliveryInfo[]> {
    const answer = await this.#call<{ deliveries: ClaimedDeliveryInfo[] }>('POST', '/inbox/claim', {
      body: request,
      signal: options.signal,
      extraTimeoutMs: waitMs(request.wait),
    });
    return answer.data.deliveries;
  }

  async ackDelivery(deliveryId: string, report: Partial<AttemptReportInput> = {}): Promise<SettledDelivery> {
    return (await this.#call<SettledDelivery>('POST', `/deliveries/${pathId(deliveryId)}/ack`, { body: report })).data;
  }

  async nackDelivery(deliveryId: string, report: AttemptReportInput): Promise<SettledDelivery> {
    return (await this.#call<SettledDelivery>('POST', `/deliveries/${pathId(deliveryId)}/nack`, { body: report })).data;
  }

  /** Many acks and nacks in one commit (1–1000 results); a 2xx `status_code` is an ack. */
  async settle(results: SettleInput[]): Promise<SettledDelivery[]> {
    return (await this.#call<{ results: SettledDelivery[] }>('POST', '/deliveries/settle', { body: { results } })).data.results;
  }

  /**
   * Gives leased deliveries back without an attempt (1–1000): due again at once for the next
   * claim. Returns the ids released; a lost lease or a settled delivery is left alone.
   */
  async release(leases: { delivery_id: string; lease_token: string }[]): Promise<string[]> {
    return (await this.#call<{ released: string[] }>('POST', '/deliveries/release', { body: { leases } })).data.released;
  }

  // ── subscriptions ────────────────────────────────────────────────────────────────────────

  async createSubscription(input: SubscriptionInput): Promise<SubscriptionInfo> {
    return (await this.#call<SubscriptionInfo>('POST', '/subscriptions', { body: input })).data;
  }

  async listSubscriptions(): Promise<SubscriptionInfo[]> {
    return (await this.#call<{ data: SubscriptionInfo[] }>('GET', '/subscriptions')).data.data;
  }

  async getSubscription(id: string): Promise<SubscriptionInfo> {
    return (await this.#call<SubscriptionInfo>('GET', `/subscriptions/${pathId(id)}`)).data;
  }

  async updateSubscription(id: string, update: SubscriptionUpdate): Promise<SubscriptionInfo> {
    return (await this.#call<SubscriptionInfo>('PATCH', `/subscriptions/${pathId(id)}`, { body: update })).data;
  }

  async disableSubscription(id: string): Promise<SubscriptionInfo> {
    return (await this.#call<SubscriptionInfo>('POST', `/subscriptions/${pathId(id)}/disable`)).data;
  }

  async enableSubscription(id: string): Promise<SubscriptionInfo> {
    return (await this.#call<SubscriptionInfo>('POST', `/subscriptions/${pathId(id)}/enable`)).data;
  }

  /** A new signing secret (generated unless given); the previous one keeps signing for 24 h. */
  async rotateSecret(id: string, secret?: string): Promise<SubscriptionInfo> {
    const body = secret === undefined ? {} : { secret };
    return (await this.#call<SubscriptionInfo>('POST', `/subscriptions/${pathId(id)}/rotate-secret`, { body })).data;
  }

  async deleteSubscription(id: string): Promise<void> {
    await this.#call('DELETE', `/subscriptions/${pathId(id)}`);
  }

  // ── dead letters ─────────────────────────────────────────────────────────────────────────

  async listDeadLetters(query: DeadLetterQuery = {}): Promise<Page<DeadLetterInfo>> {
    return (await this.#call<Page<DeadLetterInfo>>('GET', '/dead-letters', { query: { ...query } })).data;
  }

  async replayDelivery(deliveryId: string): Promise<ReplayResult> {
    return (await this.#call<ReplayResult>('POST', `/deliveries/${pathId(deliveryId)}/replay`)).data;
  }

  async replayDeadLetters(filter: ReplayFilter = {}): Promise<ReplayResult> {
    return (await this.#call<ReplayResult>('POST', '/dead-letters/replay', { body: filter })).data;
  }

  // ── operations ───────────────────────────────────────────────────────────────────────────

  /** Liveness and storage readiness; a 503 answer is returned, not thrown. */
  async health(): Promise<HealthInfo> {
    return (await this.#call<HealthInfo>('GET', '/health', { auth: false, accept: [503] })).data;
  }
}

/** A long poll's wait in ms, to extend the request timeout by. */
function waitMs(wait: ClaimRequest['wait']): number {
  if (wait === undefined) return 0;
  if (typeof wait === 'number') return wait * 1000;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(wait.trim());
  if (!match) return 0;
  const unit = match[2] === 'ms' ? 1 : match[2] === 'm' ? 60_000 : 1000;
  return Number(match[1]) * unit;
}
