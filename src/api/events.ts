/**
 * Events: ingest (one, or a batch all-or-nothing), list, read with deliveries and attempts,
 * erase. `POST /events` is the hot path: validation and serialization are compiled schemas,
 * and the only async work is the one `store.append` that commits the event to disk.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { NotFoundError, ValidationError } from '../core/errors.js';
import { newEventId } from '../core/ids.js';
import type { AppendResult, Event, EventStatus, IdempotentResponse, JsonObject } from '../core/types.js';
import type { Counter } from 'prom-client';
import { endIngestSpan, failSpan, startIngestSpan } from '../observability/tracing.js';
import type { ApiContext } from './context.js';
import { filterParam, idParam, limitParam, q, timeParam } from './query.js';
import {
  acceptedEventSchema,
  commonErrors,
  eventDetailSchema,
  eventSummarySchema,
  idParam as idParamSchema,
  idempotencyHeader,
  newEventSchema,
  pageOf,
} from './schemas.js';
import { eventDetail, eventSummary, iso } from './serialize.js';

interface NewEventBody {
  type: string;
  source: string;
  payload: JsonObject;
}

const IDEMPOTENCY_KEY = /^[\x20-\x7E]{1,255}$/;

/**
 * The stored idempotency key: the caller's `Idempotency-Key`, scoped to the API key that sent it
 * (the bootstrap key, or one made with POST /keys; a token counts as its key), so two producers
 * that both use simple keys like "1" never get each other's response instead of storing, and to
 * the route, so a key reused on the other route never answers with a body of the wrong shape.
 */
function idempotencyKey(request: FastifyRequest, route: 'events' | 'batch'): string | undefined {
  const header = request.headers['idempotency-key'];
  if (header === undefined) return undefined;
  const key = Array.isArray(header) ? header.join(', ') : header;
  if (!IDEMPOTENCY_KEY.test(key)) throw new ValidationError('Idempotency-Key must be 1 to 255 printable ASCII characters');
  return `${request.principal?.id ?? ''}:${route}:${key}`;
}

/** Per-type ingest counters, with the label set capped so arbitrary types cannot blow up the registry. */
class TypeCounters {
  private readonly children = new Map<string, { inc(n?: number): void }>();
  constructor(
    private readonly counter: Counter<'type'>,
    private readonly max = 500,
  ) {}
  inc(type: string, n = 1): void {
    let child = this.children.get(type);
    if (!child) {
      const label = this.children.size < this.max ? type : 'other';
      child = this.counter.labels({ type: label });
      if (label === type) this.children.set(type, child);
    }
    child.inc(n);
  }
}

const accepted = (event: Event) => ({
  id: event.id,
  type: event.type,
  source: event.source,
  created_at: iso(event.created_at),
  status: 'pending' as const,
});

/** Sends a stored idempotent response exactly as it was first sent. */
function replay(reply: FastifyReply, response: IdempotentResponse): FastifyReply {
  return reply
    .code(response.status)
    .header('idempotent-replayed', 'true')
    .type('application/json; charset=utf-8')
    .send(JSON.stringify(response.body));
}

export async function eventRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  const { store, metrics, clock, config, logger } = ctx;
  const ingested = new TypeCounters(metrics.eventsIngested);
  const stored = metrics.ingestRequests.labels({ outcome: 'stored' });
  const replayed = metrics.ingestRequests.labels({ outcome: 'replayed' });
  const rejected = metrics.ingestRequests.labels({ outcome: 'rejected' });

  app.addHook('onError', async (request) => {
    if (request.method === 'POST') rejected.inc();
  });

  app.post<{ Body: NewEventBody; Headers: { 'idempotency-key'?: string } }>(
    '/events',
    {
      schema: {
        tags: ['events'],
        summary: 'Send an event',
        description:
          'Stores the event durably (on disk before the answer) and queues one delivery per matching active subscription. ' +
          'A repeated `Idempotency-Key` answers with the first response (header `Idempotent-Replayed: true`) and stores nothing.',
        headers: idempotencyHeader,
        body: newEventSchema,
        response: { 201: acceptedEventSchema, ...commonErrors(413, 415) },
      },
    },
    async (request, reply) => {
      const key = idempotencyKey(request, 'events');
      const { type, source, payload } = request.body;
      const now = clock();
      const event: Event = { id: newEventId(now), type, source, payload, created_at: now };
      const body = accepted(event);
      const span = startIngestSpan(false);
      let result: AppendResult;
      try {
        result = await store.append({
          events: [event],
          idempotency: key === undefined ? undefined : { key, response: { status: 201, body } },
        });
      } catch (error) {
        failSpan(span, error);
        throw error;
      }
      if (result.kind === 'replayed') {
        endIngestSpan(span, event.id, 'replayed');
        replayed.inc();
        return replay(reply, result.response);
      }
      endIngestSpan(span, event.id, 'stored');
      stored.inc();
      ingested.inc(type);
      if (logger.isLevelEnabled('debug'))
        logger.debug({ event_id: event.id, type, deliveries: result.deliveries }, 'event stored');
      return reply.code(201).send(body);
    },
  );

  app.post<{ Body: { events: NewEventBody[] }; Headers: { 'idempotency-key'?: string } }>(
    '/events/batch',
    {
      schema: {
        tags: ['events'],
        summary: 'Send many events at once',
        description: `1 to ${config.maxBatch} events (\`TRIGGERS_MAX_BATCH\`), stored all or nothing in one commit.`,
        headers: idempotencyHeader,
        body: {
          type: 'object',
          required: ['events'],
          properties: { events: { type: 'array', minItems: 1, maxItems: config.maxBatch, items: newEventSchema } },
        },
        response: {
          201: { type: 'object', required: ['events'], properties: { events: { type: 'array', items: acceptedEventSchema } } },
          ...commonErrors(413, 415),
        },
      },
    },
    async (request, reply) => {
      const key = idempotencyKey(request, 'batch');
      const now = clock();
      const events: Event[] = request.body.events.map(({ type, source, payload }) => ({
        id: newEventId(now),
        type,
        source,
        payload,
        created_at: now,
      }));
      const body = { events: events.map(accepted) };
      const span = startIngestSpan(true);
      let result: AppendResult;
      try {
        result = await store.append({
          events,
          idempotency: key === undefined ? undefined : { key, response: { status: 201, body } },
        });
      } catch (error) {
        failSpan(span, error);
        throw error;
      }
      const ids = span.isRecording() ? events.map((e) => e.id) : [];
      if (result.kind === 'replayed') {
        endIngestSpan(span, ids, 'replayed');
        replayed.inc();
        return replay(reply, result.response);
      }
      endIngestSpan(span, ids, 'stored');
      stored.inc();
      for (const event of events) ingested.inc(event.type);
      if (logger.isLevelEnabled('debug')) logger.debug({ event_ids: events.map((e) => e.id) }, 'event batch stored');
      return reply.code(201).send(body);
    },
  );

  app.get<{
    Querystring: {
      limit?: string;
      cursor?: string;
      order?: 'asc' | 'desc';
      type?: string;
      source?: string;
      status?: EventStatus;
      since?: string;
      until?: string;
    };
  }>(
    '/events',
    {
      schema: {
        tags: ['events'],
        summary: 'List events',
        description: 'Newest first by default. Each event carries its overall status.',
        querystring: {
          type: 'object',
          properties: {
            limit: q.limit(1000, 50),
            cursor: q.cursor,
            order: q.order('desc'),
            type: q.text('Event type or filter (`order.*`).'),
            source: q.text('Exact source.'),
            status: { type: 'string', enum: ['pending', 'delivered', 'failed'] },
            since: q.time('Created at or after'),
            until: q.time('Created before'),
          },
        },
        response: { 200: pageOf(eventSummarySchema), ...commonErrors() },
      },
    },
    async (request) => {
      const query = request.query;
      const page = await store.listEvents({
        limit: limitParam(query.limit, 50, 1000),
        after: query.cursor || null,
        order: query.order ?? 'desc',
        type: filterParam(query.type),
        source: query.source || undefined,
        status: query.status,
        since: timeParam(query.since, 'since'),
        until: timeParam(query.until, 'until'),
      });
      return { data: page.items.map(eventSummary), next_cursor: page.next_cursor };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/events/:id',
    {
      schema: {
        tags: ['events'],
        summary: 'Read an event with its deliveries and attempts',
        params: idParamSchema('id', 'Event id'),
        response: { 200: eventDetailSchema, ...commonErrors(404) },
      },
    },
    async (request) => {
      const id = idParam(request.params.id);
      const event = await store.getEvent(id);
      if (!event) throw new NotFoundError('event', id);
      return eventDetail(event);
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/events/:id',
    {
      schema: {
        tags: ['events'],
        summary: 'Erase an event (GDPR)',
        description: 'Erases the event, its payload, deliveries and attempts.',
        params: idParamSchema('id', 'Event id'),
        response: { 204: { type: 'null', description: 'Erased.' }, ...commonErrors(404) },
      },
    },
    async (request, reply) => {
      const id = idParam(request.params.id);
      if (!(await store.deleteEvent(id))) throw new NotFoundError('event', id);
      logger.info({ event_id: id }, 'event erased');
      return reply.code(204).send();
    },
  );
}
