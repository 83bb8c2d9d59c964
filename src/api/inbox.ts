/**
 * The inbox: what pull consumers (the seed's `/inbox`, Zapier-style polling) and remote
 * dispatchers read. `GET /inbox` lists a subscription's pending events as a bare JSON array;
 * `POST /inbox/{id}/ack` marks one delivered; `POST /inbox/claim` leases due deliveries, and
 * with `wait` holds the request open until one is due (long poll):
 *
 *   claim ─ got some ──────────────────────────────► answer
 *     │ none
 *     ▼
 *   sleep until: a wake-up for this subscription │ the next due time │ the deadline │
 *                the client hangs up │ the server closes
 *     └──► claim again (until the deadline, then answer, possibly empty)
 */
import type { FastifyInstance } from 'fastify';
import { NotFoundError } from '../core/errors.js';
import type { ClaimedDelivery, EpochMs } from '../core/types.js';
import type { Store } from '../store/store.js';
import type { ApiContext } from './context.js';
import { durationParam, filterParam, idParam, limitParam, q } from './query.js';
import { claimedDeliverySchema, commonErrors, idParam as idParamSchema, inboxItemSchema, subscriptionIdSchema } from './schemas.js';
import { claimed, inboxItem } from './serialize.js';

const DEFAULT_SUBSCRIPTION = 'default';
const LEASE_MIN_MS = 1_000;
const LEASE_MAX_MS = 12 * 3_600_000;
const WAIT_MAX_MS = 30_000;

/** One long poll's registration: woken by new deliveries for its subscription, or by close. */
interface Sleeper {
  subscriptionId: string;
  /** A wake-up arrived while not sleeping: the next sleep returns at once. */
  pending: boolean;
  resolve: (() => void) | null;
}

/** Wakes sleeping long polls when their subscription gets due deliveries, or when the server closes. */
class Waiters {
  private readonly sleepers = new Set<Sleeper>();
  private unsubscribe: (() => void) | null = null;
  closed = false;

  constructor(private readonly store: Store) {}

  /**
   * Registers interest before the claim that may come back empty, so a wake-up that lands
   * between that claim and the sleep is not lost.
   */
  watch(subscriptionId: string): Sleeper {
    if (!this.unsubscribe && !this.closed) {
      this.unsubscribe = this.store.onDeliveriesReady((ids) => {
        for (const sleeper of this.sleepers) if (ids.includes(sleeper.subscriptionId)) Waiters.wake(sleeper);
      });
    }
    const sleeper: Sleeper = { subscriptionId, pending: false, resolve: null };
    this.sleepers.add(sleeper);
    return sleeper;
  }

  static wake(sleeper: Sleeper): void {
    const resolve = sleeper.resolve;
    if (resolve) {
      sleeper.resolve = null;
      resolve();
    } else {
      sleeper.pending = true;
    }
  }

  /** Sleeps until woken or `ms` pass; returns at once when a wake-up already came. */
  sleep(sleeper: Sleeper, ms: number): Promise<void> {
    if (sleeper.pending || this.closed || ms <= 0) {
      sleeper.pending = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        sleeper.resolve = null;
        resolve();
      }, ms);
      sleeper.resolve = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  release(sleeper: Sleeper): void {
    this.sleepers.delete(sleeper);
    if (this.sleepers.size === 0 && this.unsubscribe) {
      this.unsubscribe();
      this.unsubscribe = null;
    }
  }

  close(): void {
    this.closed = true;
    for (const sleeper of this.sleepers) Waiters.wake(sleeper);
    this.unsubscribe?.();
    this.unsubscribe = null;
  }
}

interface ClaimBody {
  subscription?: string;
  limit?: number;
  lease?: number | string;
  wait?: number | string;
}

/**
 * Where the inbox's `Link` header points: TRIGGERS_API_URL when it was set, else nowhere but the
 * path (a relative reference, which RFC 8288 allows). Never the request's `Host` header: a client
 * that follows the link would carry its API key to whatever host the request named.
 * (`config.apiUrl` is always filled in; unset, it is only the listen address, no public origin.)
 */
export function inboxLinkBase(config: Pick<ApiContext['config'], 'apiUrl' | 'sources'>): string {
  return config.sources.TRIGGERS_API_URL === undefined ? '' : config.apiUrl;
}

export async function inboxRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  const { store, metrics, clock, claims } = ctx;
  const linkBase = inboxLinkBase(ctx.config);
  const waiters = new Waiters(store);
  app.addHook('preClose', (done) => {
    waiters.close();
    done();
  });

  async function requireSubscription(id: string) {
    const subscription = await store.getSubscription(idParam(id, 'subscription'));
    if (!subscription) throw new NotFoundError('subscription', id);
    return subscription;
  }

  app.get<{ Querystring: { subscription?: string; limit?: string; type?: string; order?: 'asc' | 'desc'; cursor?: string } }>(
    '/inbox',
    {
      schema: {
        tags: ['inbox'],
        summary: "List a subscription's pending events",
        description:
          'A JSON array (as the seed, and as polling triggers expect), oldest first by default. ' +
          'The next page: `X-Next-Cursor` header, and a `Link: <…>; rel="next"` header.',
        querystring: {
          type: 'object',
          properties: {
            subscription: q.text('Subscription id, default `default`.'),
            limit: q.limit(1000, 100),
            type: q.text('Event-type filter: exact, `order.*` or `*`.'),
            order: q.order('asc'),
            cursor: q.cursor,
          },
        },
        response: {
          200: {
            type: 'array',
            items: inboxItemSchema,
            headers: {
              'x-next-cursor': { type: 'string', description: 'Cursor of the next page, when there is one.' },
              link: { type: 'string', description: '`<url>; rel="next"` when there is a next page.' },
            },
          },
          ...commonErrors(404),
        },
      },
    },
    async (request, reply) => {
      const query = request.query;
      const subscriptionId = query.subscription || DEFAULT_SUBSCRIPTION;
      await requireSubscription(subscriptionId);
      const limit = limitParam(query.limit, 100, 1000);
      const order = query.order ?? 'asc';
      const type = filterParam(query.type);
      const page = await store.listInbox({ subscription_id: subscriptionId, limit, after: query.cursor || null, order, type });
      if (page.next_cursor !== null) {
        const next = new URLSearchParams({ subscription: subscriptionId, limit: String(limit), order });
        if (type) next.set('type', type);
        next.set('cursor', page.next_cursor);
        reply.header('x-next-cursor', page.next_cursor);
        reply.header('link', `<${linkBase}/inbox?${next.toString()}>; rel="next"`);
      }
      return page.items.map(inboxItem);
    },
  );

  app.post<{ Params: { id: string }; Querystring: { subscription?: string } }>(
    '/inbox/:id/ack',
    {
      schema: {
        tags: ['inbox'],
        summary: 'Mark an event delivered for a subscription',
        description: 'Acking twice is harmless (`already_acked: true`). Unknown event or subscription: 404.',
        params: idParamSchema('id', 'Event id'),
        querystring: { type: 'object', properties: { subscription: q.text('Subscription id, default `default`.') } },
        response: {
          200: {
            type: 'object',
            properties: {
              id: { type: 'string' },
              subscription_id: { type: 'string' },
              status: { type: 'string', enum: ['delivered'] },
              already_acked: { type: 'boolean' },
            },
          },
          ...commonErrors(404),
        },
      },
    },
    async (request) => {
      const eventId = idParam(request.params.id);
      const subscriptionId = idParam(request.query.subscription || DEFAULT_SUBSCRIPTION, 'subscription');
      const result = await store.ackEvent(subscriptionId, eventId);
      if (result === 'not_found') throw new NotFoundError(`pending or delivered event for subscription ${subscriptionId}:`, eventId);
      if (result === 'acked') metrics.succeeded.inc({ subscription: subscriptionId });
      return { id: eventId, subscription_id: subscriptionId, status: 'delivered', already_acked: result === 'already_acked' };
    },
  );

  app.post<{ Body: ClaimBody }>(
    '/inbox/claim',
    {
      preValidation: (request, _reply, done) => {
        if (request.body === undefined || request.body === null) request.body = {};
        done();
      },
      schema: {
        tags: ['inbox'],
        summary: 'Lease due deliveries (optionally long-polling)',
        description:
          'While a lease holds, no other consumer is handed the delivery. Settle each with ack/nack (or `/deliveries/settle`) ' +
          'before `lease_expires_at`, or it is handed out again. `wait` holds the request open until a delivery is due.',
        body: {
          type: 'object',
          properties: {
            subscription: { ...subscriptionIdSchema, description: 'Default `default`.' },
            limit: { type: 'integer', minimum: 1, maximum: 1000, description: 'Default 10.' },
            lease: { anyOf: [{ type: 'number' }, { type: 'string', maxLength: 32 }], description: 'Seconds or `30s`; 1s–12h, default 30s.' },
            wait: { anyOf: [{ type: 'number' }, { type: 'string', maxLength: 32 }], description: 'Long-poll seconds or `10s`; 0–30s, default 0.' },
          },
        },
        response: {
          200: { type: 'object', required: ['deliveries'], properties: { deliveries: { type: 'array', items: claimedDeliverySchema } } },
          ...commonErrors(404, 415),
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const subscriptionId = body.subscription ?? DEFAULT_SUBSCRIPTION;
      const limit = body.limit ?? 10;
      const leaseMs = durationParam(body.lease, 'lease', 30_000, LEASE_MIN_MS, LEASE_MAX_MS);
      const waitMs = durationParam(body.wait, 'wait', 0, 0, WAIT_MAX_MS);
      const subscription = await requireSubscription(subscriptionId);
      const claimQuery = { subscription_id: subscriptionId, limit, lease_ms: leaseMs };
      const take = async (): Promise<ClaimedDelivery[]> =>
        subscription.status === 'active' ? store.claim(claimQuery) : [];

      let result: ClaimedDelivery[];
      if (waitMs === 0) {
        result = await take();
      } else {
        let gone = false;
        result = await longPoll(store, waiters, subscriptionId, take, waitMs, clock, (abort) => {
          reply.raw.once('close', () => {
            gone = true;
            abort();
          });
        });
        if (gone) {
          // The client hung up: nobody is left to answer, and a half-closed socket would
          // otherwise linger until it times out (holding up a shutdown). Anything leased in
          // the meantime is handed out again when its lease expires.
          reply.hijack();
          request.raw.socket.destroy();
          return reply;
        }
      }
      // Closing: let this connection go with the answer instead of idling in keep-alive.
      if (waiters.closed) reply.header('connection', 'close');
      claims.remember(result);
      return { deliveries: result.map(claimed) };
    },
  );
}

/** Claims until something comes back, the wait is over, the client hangs up or the server closes. */
async function longPoll(
  store: Store,
  waiters: Waiters,
  subscriptionId: string,
  take: () => Promise<ClaimedDelivery[]>,
  waitMs: number,
  clock: () => EpochMs,
  onAbort: (abort: () => void) => void,
): Promise<ClaimedDelivery[]> {
  // The wait is measured in real time; due times are in the store's clock.
  const deadline = performance.now() + waitMs;
  const sleeper = waiters.watch(subscriptionId);
  let aborted = false;
  onAbort(() => {
    aborted = true;
    Waiters.wake(sleeper);
  });
  try {
    for (;;) {
      const result = await take();
      const remaining = deadline - performance.now();
      if (result.length > 0 || aborted || waiters.closed || remaining <= 0) return result;
      const due = await store.nextDueAt(subscriptionId);
      const untilDue = due === null ? remaining : Math.max(5, due - clock());
      await waiters.sleep(sleeper, Math.min(remaining, untilDue));
      if (aborted) return [];
    }
  } finally {
    waiters.release(sleeper);
  }
}
