/**
 * Settling leased deliveries: what a remote dispatcher or worker reports after an attempt.
 * The server, not the client, applies the retry rules (`decide()` with the subscription's own
 * schedule, else the configured one), so every consumer retries, dead-letters and disables
 * subscriptions alike. The subscription is known from the claim this server handed out, or from
 * the report's `subscription_id`; its schedule is read at most once a second per subscription.
 */
import type { FastifyInstance } from 'fastify';
import { NotFoundError } from '../core/errors.js';
import { decide } from '../core/outcome.js';
import type { EpochMs, Settlement, SettlementOutcome } from '../core/types.js';
import type { ApiContext } from './context.js';
import { cap, idParam } from './query.js';
import { commonErrors, idParam as idParamSchema } from './schemas.js';
import { isoOrNull } from './serialize.js';

const ERROR_MAX = 2_000;
const RESPONSE_MAX = 4_096;

export interface AttemptReport {
  lease_token?: string | null;
  subscription_id?: string;
  retry_index?: number;
  status_code?: number | null;
  error?: string | null;
  duration_ms?: number;
  /** The endpoint's Retry-After, in seconds. */
  retry_after?: number | null;
  response?: string | null;
}

const reportProperties = {
  lease_token: { type: ['string', 'null'], maxLength: 256, description: 'From the claim.' },
  subscription_id: {
    type: 'string',
    maxLength: 128,
    description: "From the claim: the server applies that subscription's retry schedule.",
  },
  retry_index: { type: 'integer', minimum: 0, maximum: 1000, description: 'From the claim.' },
  status_code: {
    type: ['integer', 'null'],
    minimum: 100,
    maximum: 599,
    description: 'null: no response (timeout, connection error).',
  },
  error: { type: ['string', 'null'], description: `Capped at ${ERROR_MAX} characters.` },
  duration_ms: { type: 'number', minimum: 0, maximum: 86_400_000 },
  retry_after: {
    type: ['number', 'null'],
    minimum: 0,
    description: "The endpoint's Retry-After, seconds (clamped to 1 s–24 h).",
  },
  response: { type: ['string', 'null'], description: `Response excerpt, capped at ${RESPONSE_MAX} characters.` },
} as const;

const settledSchema = {
  type: 'object',
  properties: {
    delivery_id: { type: 'string' },
    status: {
      type: ['string', 'null'],
      enum: ['pending', 'delivered', 'failed', null],
      description:
        'Applied: the status it now has. Not applied: the status it has (unchanged); null when there is no such delivery.',
    },
    next_attempt_at: { type: ['string', 'null'], format: 'date-time', description: 'Applied retries: when it is due again.' },
    applied: { type: 'boolean', description: 'false: the lease was lost or the delivery already settled; nothing changed.' },
  },
} as const;

const deliveryIdProperty = { type: 'string', minLength: 1, maxLength: 128 } as const;

/** 1 to 1000 items, each naming a delivery and the lease its claim gave. */
const leaseBatch = <P extends object>(properties: P) =>
  ({
    type: 'array',
    minItems: 1,
    maxItems: 1000,
    items: { type: 'object', required: ['delivery_id', 'lease_token'], properties },
  }) as const;

const statusOf = (outcome: SettlementOutcome) =>
  outcome.kind === 'delivered' ? 'delivered' : outcome.kind === 'retry' ? 'pending' : 'failed';

/** An attempt's `result` label, as the built-in dispatcher counts it: what the attempt led to. */
const ATTEMPT_RESULT = { delivered: 'success', retry: 'retry', dead: 'dead' } as const;

export async function deliveryRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  const { store, metrics, clock, config, claims } = ctx;

  /** Subscriptions' own retry schedules (null: the configured one), briefly cached. */
  const schedules = new Map<string, { schedule: readonly number[] | null; at: number }>();
  const subscriptionOf = (deliveryId: string, report: AttemptReport): string | undefined =>
    claims.get(deliveryId)?.subscription_id ?? report.subscription_id;

  async function loadSchedules(ids: Iterable<string | undefined>): Promise<void> {
    const now = Date.now();
    for (const id of new Set(ids)) {
      if (id === undefined) continue;
      const cached = schedules.get(id);
      if (cached !== undefined && now - cached.at < 1_000) continue;
      const subscription = await store.getSubscription(id);
      if (schedules.size > 10_000) schedules.clear();
      schedules.set(id, { schedule: subscription?.delivery.retry_schedule ?? null, at: now });
    }
  }

  const scheduleFor = (subscriptionId: string | undefined): readonly number[] =>
    (subscriptionId === undefined ? null : schedules.get(subscriptionId)?.schedule) ?? config.retrySchedule;

  /** Turns a report into a settlement; `forceDelivered` for explicit acks. Call loadSchedules first. */
  function settlementFor(deliveryId: string, report: AttemptReport, forceDelivered: boolean, now: EpochMs): Settlement {
    const made = report.status_code !== undefined || report.error !== undefined || report.duration_ms !== undefined;
    const attempt = {
      at: now,
      duration_ms: report.duration_ms ?? 0,
      status_code: report.status_code ?? null,
      error: cap(report.error, ERROR_MAX),
      response: cap(report.response, RESPONSE_MAX),
    };
    if (forceDelivered) {
      return {
        delivery_id: deliveryId,
        lease_token: report.lease_token ?? null,
        attempt: made ? attempt : null,
        outcome: { kind: 'delivered' },
      };
    }
    const retryIndex = report.retry_index ?? claims.get(deliveryId)?.retry_index ?? 0;
    const retryAfterMs = report.retry_after === null || report.retry_after === undefined ? null : report.retry_after * 1000;
    const decision = decide(
      { status_code: attempt.status_code, error: attempt.error, retry_after_ms: retryAfterMs },
      retryIndex,
      scheduleFor(subscriptionOf(deliveryId, report)),
      now,
    );
    const settlement: Settlement = {
      delivery_id: deliveryId,
      lease_token: report.lease_token ?? null,
      attempt,
      outcome: decision.outcome,
    };
    if (decision.disable_subscription) settlement.disable_subscription = decision.disable_subscription;
    return settlement;
  }

  /** Counts applied settlements in the delivery metrics, when this server handed out the lease. */
  function count(settlement: Settlement, now: EpochMs): void {
    const note = claims.get(settlement.delivery_id);
    if (!note) return;
    claims.forget(settlement.delivery_id);
    const subscription = note.subscription_id;
    if (settlement.attempt) metrics.attempts.inc({ subscription, result: ATTEMPT_RESULT[settlement.outcome.kind] });
    if (settlement.attempt && settlement.attempt.duration_ms > 0) {
      metrics.requestDuration.observe({ subscription }, settlement.attempt.duration_ms / 1000);
    }
    const kind = settlement.outcome.kind;
    if (kind === 'delivered') {
      metrics.succeeded.inc({ subscription });
      metrics.latency.observe({ subscription }, Math.max(0, now - note.event_created_at) / 1000);
    } else if (kind === 'retry') {
      metrics.retries.inc({ subscription });
    } else {
      metrics.failed.inc({ subscription });
    }
  }

  /** Settles, and reports each delivery's state: as changed when applied, as found when not. */
  async function apply(settlements: Settlement[], now: EpochMs) {
    const results = await store.settle(settlements);
    return settlements.map((settlement, i) => {
      const result = results[i];
      const outcome = settlement.outcome;
      if (result?.applied) {
        count(settlement, now);
        return {
          delivery_id: settlement.delivery_id,
          status: statusOf(outcome),
          next_attempt_at: outcome.kind === 'retry' ? isoOrNull(outcome.next_attempt_at) : null,
          applied: true,
        };
      }
      return { delivery_id: settlement.delivery_id, status: result?.found ?? null, next_attempt_at: null, applied: false };
    });
  }

  /** One settlement through the single-delivery routes: 404 when there is no such delivery. */
  async function applyOne(settlement: Settlement, now: EpochMs) {
    const [result] = await apply([settlement], now);
    if (result?.status === null) throw new NotFoundError('delivery', settlement.delivery_id);
    return result;
  }

  const deliveryParams = idParamSchema('delivery_id', 'Delivery id (from the claim)');

  app.post<{ Params: { delivery_id: string }; Body: AttemptReport }>(
    '/deliveries/:delivery_id/ack',
    {
      preValidation: emptyBodyIsObject,
      schema: {
        tags: ['deliveries'],
        summary: 'Report a delivered attempt',
        description:
          'Marks the delivery delivered. With a lost lease the report is ignored (`applied: false`), ' +
          'except that a still-pending delivery is marked delivered all the same.',
        params: deliveryParams,
        body: { type: 'object', properties: reportProperties },
        response: { 200: settledSchema, ...commonErrors(404, 415) },
      },
    },
    async (request) => {
      const id = idParam(request.params.delivery_id, 'delivery_id');
      const now = clock();
      return applyOne(settlementFor(id, request.body, true, now), now);
    },
  );

  app.post<{ Params: { delivery_id: string }; Body: AttemptReport }>(
    '/deliveries/:delivery_id/nack',
    {
      schema: {
        tags: ['deliveries'],
        summary: 'Report a failed attempt',
        description:
          'The server applies the retry rules: 410 dead-letters and disables the subscription; other 4xx except ' +
          '408/425/429 dead-letter; anything else retries after the next scheduled delay (or `retry_after`), ' +
          'until the schedule is used up. A 2xx `status_code` counts as delivered.',
        params: deliveryParams,
        body: { type: 'object', required: ['lease_token'], properties: reportProperties },
        response: { 200: settledSchema, ...commonErrors(404, 415) },
      },
    },
    async (request) => {
      const id = idParam(request.params.delivery_id, 'delivery_id');
      await loadSchedules([subscriptionOf(id, request.body)]);
      const now = clock();
      return applyOne(settlementFor(id, request.body, false, now), now);
    },
  );

  app.post<{ Body: { results: (AttemptReport & { delivery_id: string })[] } }>(
    '/deliveries/settle',
    {
      schema: {
        tags: ['deliveries'],
        summary: 'Settle many deliveries in one commit',
        description: 'A result with a 2xx `status_code` is an ack; anything else a nack (same rules as `/nack`).',
        body: {
          type: 'object',
          required: ['results'],
          properties: {
            results: leaseBatch({ delivery_id: deliveryIdProperty, ...reportProperties }),
          },
        },
        response: {
          200: { type: 'object', properties: { results: { type: 'array', items: settledSchema } } },
          ...commonErrors(415),
        },
      },
    },
    async (request) => {
      await loadSchedules(request.body.results.map((report) => subscriptionOf(report.delivery_id, report)));
      const now = clock();
      const settlements = request.body.results.map((report) =>
        settlementFor(idParam(report.delivery_id, 'delivery_id'), report, false, now),
      );
      return { results: await apply(settlements, now) };
    },
  );

  app.post<{ Body: { leases: { delivery_id: string; lease_token: string }[] } }>(
    '/deliveries/release',
    {
      schema: {
        tags: ['deliveries'],
        summary: 'Give leased deliveries back without an attempt',
        description:
          'For a consumer that claimed more than it will work on (it is stopping, or its target went away): each ' +
          'delivery whose lease it still holds is due again at once and handed to the next claim, instead of waiting ' +
          'for the lease to run out. No attempt is recorded and the retry schedule does not move. `released` lists ' +
          'the ids given back; a lost lease or a settled delivery is left as it is.',
        body: {
          type: 'object',
          required: ['leases'],
          additionalProperties: false,
          properties: {
            leases: leaseBatch({
              delivery_id: deliveryIdProperty,
              lease_token: { type: 'string', minLength: 1, maxLength: 256, description: 'From the claim.' },
            }),
          },
        },
        response: {
          200: { type: 'object', properties: { released: { type: 'array', items: { type: 'string' } } } },
          ...commonErrors(415),
        },
      },
    },
    async (request) => {
      const leases = request.body.leases.map((lease) => ({
        delivery_id: idParam(lease.delivery_id, 'delivery_id'),
        lease_token: lease.lease_token,
      }));
      const released = await store.releaseLeases(leases);
      for (const id of released) claims.forget(id);
      return { released };
    },
  );

  app.post<{ Params: { delivery_id: string } }>(
    '/deliveries/:delivery_id/replay',
    {
      schema: {
        tags: ['dead letters'],
        summary: 'Replay one dead-lettered delivery',
        description: 'Sets it back to pending, due now, with a fresh retry schedule. 404 when no failed delivery has that id.',
        params: deliveryParams,
        response: { 200: { type: 'object', properties: { replayed: { type: 'integer' } } }, ...commonErrors(404) },
      },
    },
    async (request) => {
      const id = idParam(request.params.delivery_id, 'delivery_id');
      const replayed = await store.replay({ delivery_id: id });
      if (replayed === 0) throw new NotFoundError('failed delivery', id);
      return { replayed };
    },
  );
}

/** For routes whose body is optional: no body reads as `{}` (a JSON `null` is a body, and not an object). */
export function emptyBodyIsObject(request: { body: unknown }, _reply: unknown, done: () => void): void {
  if (request.body === undefined) request.body = {};
  done();
}
