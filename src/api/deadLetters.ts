/**
 * Dead letters: deliveries that failed for good (schedule used up, permanent 4xx, 410).
 * They are kept until replayed — one by one (`/deliveries/{id}/replay`) or in bulk here —
 * which puts them back to pending, due now, with a fresh retry schedule.
 */
import type { FastifyInstance } from 'fastify';
import { ValidationError } from '../core/errors.js';
import type { ApiContext } from './context.js';
import { emptyBodyIsObject } from './deliveries.js';
import { filterParam, idParam, limitParam, q, timeParam } from './query.js';
import { commonErrors, deadLetterSchema, pageOf, subscriptionIdSchema } from './schemas.js';
import { deadLetter } from './serialize.js';
import { refuseUnknownFields } from './unknownFields.js';

/** `subscription_id`, the name dead letters carry it under, is taken for `subscription` too. */
const REPLAY_FILTERS = new Set(['subscription', 'subscription_id', 'type', 'since', 'until']);

interface DeadLetterFilter {
  subscription?: string;
  subscription_id?: string;
  type?: string;
  since?: string | number;
  until?: string | number;
}

export async function deadLetterRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  const { store, logger } = ctx;

  app.get<{ Querystring: DeadLetterFilter & { limit?: string; cursor?: string } }>(
    '/dead-letters',
    {
      schema: {
        tags: ['dead letters'],
        summary: 'List dead-lettered deliveries with their events',
        querystring: {
          type: 'object',
          properties: {
            subscription: q.text('Subscription id.'),
            type: q.text('Event-type filter.'),
            since: q.time('Failed at or after'),
            until: q.time('Failed before'),
            limit: q.limit(1000, 50),
            cursor: q.cursor,
          },
        },
        response: { 200: pageOf(deadLetterSchema), ...commonErrors() },
      },
    },
    async (request) => {
      const query = request.query;
      const page = await store.listDeadLetters({
        limit: limitParam(query.limit, 50, 1000),
        after: query.cursor || null,
        subscription_id: query.subscription ? idParam(query.subscription, 'subscription') : undefined,
        type: filterParam(query.type),
        since: timeParam(query.since, 'since'),
        until: timeParam(query.until, 'until'),
      });
      return { data: page.items.map(deadLetter), next_cursor: page.next_cursor };
    },
  );

  app.post<{ Body: DeadLetterFilter }>(
    '/dead-letters/replay',
    {
      preValidation: emptyBodyIsObject,
      schema: {
        tags: ['dead letters'],
        summary: 'Replay dead letters in bulk',
        description: 'Every failed delivery matching all the given filters (none: all of them).',
        body: {
          type: 'object',
          properties: {
            subscription: subscriptionIdSchema,
            subscription_id: { ...subscriptionIdSchema, description: 'The same as `subscription`.' },
            type: { type: 'string', maxLength: 200, description: 'Event-type filter.' },
            since: { type: ['string', 'number'], description: 'ISO 8601 time or milliseconds since the epoch.' },
            until: { type: ['string', 'number'], description: 'ISO 8601 time or milliseconds since the epoch.' },
          },
        },
        response: { 200: { type: 'object', properties: { replayed: { type: 'integer' } } }, ...commonErrors(415) },
      },
    },
    async (request) => {
      const body = request.body;
      refuseUnknownFields(body, REPLAY_FILTERS, 'POST /dead-letters/replay');
      if (body.subscription !== undefined && body.subscription_id !== undefined && body.subscription !== body.subscription_id) {
        throw new ValidationError('subscription and subscription_id name different subscriptions; give one');
      }
      const subscription = body.subscription ?? body.subscription_id;
      const replayed = await store.replay({
        subscription_id: subscription,
        type: filterParam(body.type),
        since: timeParam(body.since, 'since'),
        until: timeParam(body.until, 'until'),
      });
      if (replayed > 0) logger.info({ replayed, subscription }, 'dead letters replayed');
      return { replayed };
    },
  );
}
