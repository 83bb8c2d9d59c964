/**
 * The console's server side: the page shell at `/` and its files under `/console/` (open:
 * the page holds no data; everything it shows comes from the API with the user's token), the
 * live feed `GET /console/stream`, and `GET /events/export` (CSV or NDJSON, streamed page by page).
 *
 * `/console/*` is open in the auth guard (PUBLIC_ROUTES), so the stream checks credentials
 * itself, with the guard's Authenticator (the `read` scope, revocation): `Authorization: Bearer
 * <token>` or `X-API-Key` (the console reads it with fetch), or `?access_token=<token>` for an
 * EventSource, which cannot send headers.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { decodeJwt } from 'jose';
import { encode, loadAssets } from '../console/server/static.js';
import { LiveHub, type LiveSource, type ReceiverFeedLike, type Summary } from '../console/server/stream.js';
import { AuthError, ForbiddenError } from '../core/errors.js';
import type { EventStatus } from '../core/types.js';
import { receiverFeed } from '../receiver/feed.js';
import type { EventQuery } from '../store/store.js';
import type { Authenticator, Principal } from './auth.js';
import type { ApiContext } from './context.js';
import { sendError } from './errors.js';
import { PAGE_HEADERS, pageCsp } from './pageHeaders.js';
import { filterParam, q, timeParam } from './query.js';
import { commonErrors } from './schemas.js';
import { allows } from './scopes.js';
import { eventSummary } from './serialize.js';

export type { ReceiverFeedLike } from '../console/server/stream.js';

export interface ConsoleOptions {
  /** The built-in receiver's feed of recorded requests, for the live receiver log. Default: the store's. */
  receiverFeed?: ReceiverFeedLike | null;
}

const PAGE = 1000;
const SECURITY_HEADERS = { 'content-security-policy': pageCsp(), ...PAGE_HEADERS };

/**
 * When the stream opened with these credentials ends: its token's expiry, or null for an API key
 * (a stream is also ended when a re-check of the same credentials fails: a key revoked since).
 * The same Authenticator as the auth guard decides, so the feed (which carries received webhook
 * bodies and headers) asks what every `read` route asks: a known key or a valid token, not
 * revoked, holding the `read` scope.
 */
async function streamCredentials(request: FastifyRequest, auth: Authenticator): Promise<number | null> {
  const apiKey = request.headers['x-api-key'];
  let principal: Principal;
  let until: number | null = null;
  if (typeof apiKey === 'string' && apiKey !== '') {
    const known = await auth.keyPrincipal(apiKey);
    if (known === null) throw new AuthError('Invalid API key', 'invalid_credentials');
    principal = known;
  } else {
    const header = request.headers.authorization;
    const fromHeader = header === undefined ? null : /^Bearer[ \t]+([^ \t]+)[ \t]*$/i.exec(header)?.[1];
    const fromQuery = (request.query as { access_token?: string }).access_token;
    const token = fromHeader ?? fromQuery;
    if (!token) throw new AuthError('Authentication required: send Authorization: Bearer <token> or ?access_token=<token>');
    // Throws AuthError for a bad, expired or revoked token; once it passes, its claims can be read.
    principal = await auth.tokenPrincipal(token);
    until = (decodeJwt(token).exp as number) * 1000;
  }
  if (!allows(principal.scopes, 'read')) throw new ForbiddenError('This key lacks the read scope needed for GET /console/stream');
  return until;
}

const CSV_HEADER = 'id,created_at,type,source,status,payload\r\n';

/** One CSV field; text a spreadsheet would run as a formula is prefixed with a quote. */
function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

type ExportFormat = 'csv' | 'ndjson';

async function* exportLines(ctx: ApiContext, query: EventQuery, format: ExportFormat): AsyncGenerator<string> {
  if (format === 'csv') yield CSV_HEADER;
  let after: string | null = null;
  do {
    const page = await ctx.store.listEvents({ ...query, limit: PAGE, after });
    let chunk = '';
    for (const item of page.items) {
      const event = eventSummary(item);
      chunk +=
        format === 'ndjson'
          ? `${JSON.stringify(event)}\n`
          : `${[event.id, event.created_at, event.type, event.source, event.status, JSON.stringify(event.payload)].map(csvField).join(',')}\r\n`;
    }
    if (chunk !== '') yield chunk;
    after = page.next_cursor;
  } while (after !== null);
}

export async function consoleRoutes(
  app: FastifyInstance,
  ctx: ApiContext,
  auth: Authenticator,
  options: ConsoleOptions = {},
): Promise<void> {
  const assets = loadAssets();

  function serveAsset(request: FastifyRequest, reply: FastifyReply, path: string): FastifyReply {
    const item = assets.get(path);
    if (!item || path === '/console/index.html')
      return sendError(reply, 404, 'route_not_found', `No route GET ${path.slice(0, 200)}`);
    reply
      .headers(SECURITY_HEADERS)
      .header('cache-control', 'no-cache')
      .header('etag', item.etag)
      .header('vary', 'accept-encoding');
    if (request.headers['if-none-match'] === item.etag) return reply.code(304).send();
    const { body, encoding } = encode(item, request.headers['accept-encoding']);
    if (encoding) reply.header('content-encoding', encoding);
    return reply.type(item.type).send(body);
  }

  app.get('/', { config: { public: true }, schema: { hide: true } }, (request, reply) => serveAsset(request, reply, '/'));
  app.get<{ Params: { '*': string } }>('/console/*', { config: { public: true }, schema: { hide: true } }, (request, reply) =>
    serveAsset(request, reply, `/console/${request.params['*']}`),
  );

  // ── live feed ──────────────────────────────────────────────────────────────────────────
  const source: LiveSource = {
    apiUrl: ctx.config.apiUrl,
    clock: ctx.clock,
    feed: options.receiverFeed === undefined ? receiverFeed(ctx.store) : options.receiverFeed,
    // The same numbers as GET /metrics/summary, computed by that route (its per-minute window lives there).
    summary: async () => {
      const res = await app.inject({ method: 'GET', url: '/metrics/summary', headers: { 'x-api-key': ctx.config.apiKey } });
      if (res.statusCode !== 200) throw new Error(`summary answered ${res.statusCode}`);
      return res.json() as Summary;
    },
    newest: async () => {
      const page = await ctx.store.listEvents({ limit: 1, order: 'desc' });
      const event = page.items[0];
      if (!event) return null;
      const { payload: _payload, ...rest } = eventSummary(event);
      return rest;
    },
  };
  const hub = new LiveHub(source);
  app.addHook('preClose', (done) => {
    hub.close();
    done();
  });

  app.get<{ Querystring: { access_token?: string } }>(
    '/console/stream',
    {
      config: { public: true },
      schema: {
        tags: ['operations'],
        summary: "The console's live feed (server-sent events)",
        description:
          'Events `hello`, `summary` (every second, the `/metrics/summary` JSON), `event`, `delivery` and `received`. ' +
          'Authenticate with `Authorization: Bearer`, `X-API-Key`, or `?access_token=<token>` (for EventSource). ' +
          'A stream opened with a token ends when the token expires.',
        querystring: { type: 'object', properties: { access_token: { type: 'string', maxLength: 4096 } } },
        response: { 200: { type: 'string', description: '`text/event-stream`' }, ...commonErrors() },
      },
    },
    async (request, reply) => {
      let until: number | null;
      try {
        until = await streamCredentials(request, auth);
      } catch (error) {
        reply.header('www-authenticate', 'Bearer realm="triggers"');
        throw error;
      }
      reply.hijack();
      // Asked again every few seconds; only a refusal ends the stream (a storage hiccup does not).
      const allowed = () =>
        streamCredentials(request, auth).then(
          () => true,
          (error: unknown) => !(error instanceof AuthError || error instanceof ForbiddenError),
        );
      hub.add(reply.raw, until, allowed);
    },
  );

  // ── export ─────────────────────────────────────────────────────────────────────────────
  app.get<{
    Querystring: {
      format?: ExportFormat;
      order?: 'asc' | 'desc';
      type?: string;
      source?: string;
      status?: EventStatus;
      since?: string;
      until?: string;
    };
  }>(
    '/events/export',
    {
      schema: {
        tags: ['events'],
        summary: 'Export events as CSV or NDJSON',
        description:
          'Streams every event matching the filters (the same as `GET /events`), page by page, without loading them all. ' +
          'CSV columns: `id,created_at,type,source,status,payload` (payload as JSON); NDJSON: one `GET /events` item per line.',
        querystring: {
          type: 'object',
          properties: {
            format: { type: 'string', enum: ['csv', 'ndjson'], description: 'Default csv.' },
            order: q.order('desc'),
            type: q.text('Event type or filter (`order.*`).'),
            source: q.text('Exact source.'),
            status: { type: 'string', enum: ['pending', 'delivered', 'failed'] },
            since: q.time('Created at or after'),
            until: q.time('Created before'),
          },
        },
        response: {
          200: { type: 'string', description: '`text/csv` or `application/x-ndjson`, as an attachment.' },
          ...commonErrors(),
        },
      },
    },
    async (request, reply) => {
      const query = request.query;
      const format = query.format ?? 'csv';
      const filters: EventQuery = {
        limit: PAGE,
        order: query.order ?? 'desc',
        type: filterParam(query.type),
        source: query.source || undefined,
        status: query.status,
        since: timeParam(query.since, 'since'),
        until: timeParam(query.until, 'until'),
      };
      const stamp = new Date(ctx.clock()).toISOString().replace(/[:.]/g, '-');
      return reply
        .type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
        .header('content-disposition', `attachment; filename="events-${stamp}.${format === 'csv' ? 'csv' : 'ndjson'}"`)
        .header('cache-control', 'no-store')
        .send(Readable.from(exportLines(ctx, filters, format)));
    },
  );
}
