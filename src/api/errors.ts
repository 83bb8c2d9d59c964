/**
 * The one place errors become responses. Whatever goes wrong — a TriggersError thrown on
 * purpose, fastify rejecting a body, a route nobody registered, a request that never reached
 * the router (`frameworkErrors`) or that Node's HTTP parser refused (`clientErrorHandler`) — the
 * client gets `{ "error": { "code", "message" } }` with a 4xx/5xx status. Bad input is always a 4xx; only a
 * bug or a storage failure is a 5xx, and storage failures say when to retry.
 */
import { STATUS_CODES as HTTP_REASONS, type IncomingMessage, maxHeaderSize, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TriggersError, UnavailableError } from '../core/errors.js';
import type { Logger } from '../observability/logger.js';

export interface ErrorBody {
  error: { code: string; message: string };
}

export const errorBody = (code: string, message: string): ErrorBody => ({ error: { code, message } });

/** Fastify's own error codes for bad input, and what we call them. */
const FASTIFY_CODES: Record<string, { status: number; code: string; message?: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'payload_too_large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    code: 'unsupported_media_type',
    message: 'Unsupported content-type; send application/json',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'invalid_request' },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    status: 400,
    code: 'invalid_json',
    message: 'Body is empty but content-type is application/json',
  },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'invalid_json', message: 'Body is not valid JSON' },
  FST_ERR_BAD_URL: {
    status: 400,
    code: 'invalid_url',
    message: 'Malformed URL: the path has a % not followed by two hex digits, or escapes that are not UTF-8',
  },
  FST_ERR_MAX_PARAM_LENGTH: { status: 414, code: 'uri_too_long', message: 'A path segment is longer than 256 characters' },
  FST_ERR_ASYNC_CONSTRAINT: { status: 400, code: 'invalid_request' },
};

const STATUS_CODES: Record<number, string> = {
  400: 'invalid_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  408: 'request_timeout',
  409: 'conflict',
  411: 'length_required',
  413: 'payload_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type',
  417: 'expectation_failed',
  429: 'too_many_requests',
  431: 'headers_too_large',
  503: 'unavailable',
};

interface Mapped {
  status: number;
  code: string;
  message: string;
  retryAfter?: number;
}

/**
 * Schema errors whose default text is a regular expression (`must match pattern "^(\\*|…"`),
 * said in words instead. The rest read well as they are (`body/type must be string`).
 */
const READABLE: { path: RegExp; keyword: string; says: string }[] = [
  {
    path: /^\/event_types\/\d+$/,
    keyword: 'pattern',
    says: 'must be *, an event type (words of letters, digits, _ - : / joined by dots) or a prefix filter like order.*',
  },
  { path: /^\/event_types$/, keyword: 'minItems', says: 'must list at least one filter (* for every event)' },
  {
    path: /^(?:\/events\/\d+)?\/type$/,
    keyword: 'pattern',
    says: 'must be an event type: words of letters, digits, _ - : / joined by dots, like order.created',
  },
];

function readable(validation: unknown): string | null {
  const first = Array.isArray(validation) ? (validation[0] as { instancePath?: string; keyword?: string }) : undefined;
  if (!first?.instancePath || !first.keyword) return null;
  const rule = READABLE.find((r) => r.keyword === first.keyword && r.path.test(first.instancePath as string));
  return rule ? `body${first.instancePath} ${rule.says}` : null;
}

function classify(error: unknown): Mapped {
  if (error instanceof UnavailableError) {
    return { status: 503, code: error.code, message: error.message, retryAfter: error.retryAfterSeconds };
  }
  if (error instanceof TriggersError) return { status: error.status, code: error.code, message: error.message };
  const fastifyError = error as Partial<FastifyError> & { validation?: unknown };
  if (fastifyError.validation) {
    const message = readable(fastifyError.validation) ?? fastifyError.message ?? 'Invalid request';
    return { status: 400, code: 'invalid_request', message };
  }
  const known = fastifyError.code ? FASTIFY_CODES[fastifyError.code] : undefined;
  if (known) return { status: known.status, code: known.code, message: known.message ?? fastifyError.message ?? known.code };
  // JSON parse errors surface as SyntaxError with a 400 status (proto poisoning and the like).
  if (error instanceof SyntaxError) return { status: 400, code: 'invalid_json', message: 'Body is not valid JSON' };
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { status, code: STATUS_CODES[status] ?? 'invalid_request', message: fastifyError.message ?? 'Bad request' };
  }
  return { status: 500, code: 'internal_error', message: 'Internal server error' };
}

export function sendError(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply.code(status).type('application/json; charset=utf-8').send(errorBody(code, message));
}

/**
 * Routes registered so far, as (method, path regex) pairs, so a request for a known path with
 * the wrong method can be answered 405 with an `Allow` header instead of a bare 404.
 */
export class RouteTable {
  private readonly routes: { method: string; regex: RegExp }[] = [];

  add(methods: string | string[], url: string): void {
    const pattern = url
      .split('/')
      .map((segment) => {
        if (segment === '*') return '.*';
        if (segment.startsWith(':')) return '[^/]+';
        return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      })
      .join('/');
    const regex = new RegExp(`^${pattern}/?$`);
    for (const method of Array.isArray(methods) ? methods : [methods]) this.routes.push({ method, regex });
  }

  allowed(path: string): string[] {
    const methods = new Set<string>();
    for (const route of this.routes) if (route.regex.test(path)) methods.add(route.method);
    return [...methods];
  }
}

/**
 * Fastify's `frameworkErrors` option: what goes wrong before routing (a path that does not
 * percent-decode, an over-long path segment), answered in our shape instead of fastify's.
 */
export function frameworkErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const mapped = classify(error);
  sendError(reply, mapped.status, mapped.code, mapped.message);
}

/** What Node's HTTP parser refuses, by its error code. */
function classifyClientError(error: Error & { code?: string; reason?: string }): Mapped {
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    return {
      status: 431,
      code: 'headers_too_large',
      message: `The request line and headers (the query string included) exceed ${maxHeaderSize} bytes`,
    };
  }
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return { status: 408, code: 'request_timeout', message: 'The request did not arrive in time' };
  }
  const reason = typeof error.reason === 'string' && error.reason !== '' ? ` (${error.reason})` : '';
  return { status: 400, code: 'invalid_request', message: `Malformed HTTP request${reason}` };
}

type HttpSocket = Socket & { _httpMessage?: ServerResponse | null };

/** Sockets already being answered by `answerOnSocket` (a broken parser may report twice). */
const answering = new WeakSet<Socket>();

/**
 * Writes a complete HTTP/1.1 response with our JSON error body on a raw socket and closes it —
 * after the responses to the requests pipelined before this one have gone out, so each request
 * gets its own answer, in order: a `POST /events` followed on the same connection by a
 * malformed request gets its 201, then the 400 (answering at once, as Node does, would hand the
 * stored event's client that 400).
 */
function answerOnSocket(socket: Socket, mapped: Mapped, about: 'next request' | 'request in flight' = 'next request'): void {
  if (answering.has(socket)) return;
  answering.add(socket);
  const answer = (): void => {
    if (socket.destroyed) return;
    // Node hands the socket to the next pipelined response as each one finishes.
    const inFlight = (socket as HttpSocket)._httpMessage;
    if (inFlight && !inFlight.writableFinished) {
      // A request in flight whose body has not arrived in full is the one the parser broke off
      // in (a malformed chunk): it can never complete, so this is its answer, not the next one's.
      if (about === 'next request' && inFlight.req?.complete !== false) {
        inFlight.once('finish', answer);
        return;
      }
      // The request whose body stopped arriving, or broke off, is the one in flight: this is its
      // answer, unless it has begun answering already (then only closing is left).
      if (inFlight.headersSent) {
        socket.destroy();
        return;
      }
    }
    if (socket.writable) {
      const body = JSON.stringify(errorBody(mapped.code, mapped.message));
      socket.write(
        `HTTP/1.1 ${mapped.status} ${HTTP_REASONS[mapped.status] ?? ''}\r\n` +
          'Content-Type: application/json; charset=utf-8\r\n' +
          `Content-Length: ${Buffer.byteLength(body)}\r\n` +
          'Connection: close\r\n\r\n' +
          body,
      );
    }
    socket.destroy();
  };
  answer();
}

/**
 * Fastify's `clientErrorHandler` option: a request Node's HTTP parser refuses (a malformed
 * request line, headers too large, Content-Length with Transfer-Encoding) never reaches fastify,
 * so the answer is written on the raw socket — a complete HTTP/1.1 response with our JSON error
 * body — and the connection closed, since the parser cannot find where the next request starts.
 */
export function clientErrorHandler(logger: Logger): (error: Error & { code?: string }, socket: Socket) => void {
  return (error, socket) => {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    logger.trace({ err: error }, 'client error');
    // A request timeout can strike while the request's own body is arriving (a stalled upload).
    answerOnSocket(
      socket,
      classifyClientError(error),
      error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'request in flight' : 'next request',
    );
  };
}

/** Servers that answer every new request `503` + `Connection: close`: draining, then closing. */
const shuttingDown = new WeakSet<FastifyInstance>();

/**
 * The graceful half of a stop, before the server closes: every request from now on is answered
 * `503` with `Connection: close` (as while closing), so clients sending on keep-alive connections
 * learn to go elsewhere from an answer instead of losing the connection mid-request when the
 * server closes its idle ones. Resolves once no connection is left, or after `ms`.
 */
export async function drain(app: FastifyInstance, ms: number): Promise<void> {
  shuttingDown.add(app);
  const deadline = Date.now() + ms;
  const open = () => new Promise<number>((resolve) => app.server.getConnections((error, count) => resolve(error ? 0 : count)));
  while (Date.now() < deadline && (await open()) > 0) await new Promise((resolve) => setTimeout(resolve, 25));
}

/**
 * What Node's HTTP server would answer itself, without our JSON body, before fastify sees the
 * request: `CONNECT` (Node drops the connection without a word), an `Expect` other than
 * `100-continue` (an empty 417), an HTTP/1.1 request without `Host` (an empty 400; Node's own
 * check is turned off with `http: { requireHostHeader: false }` in the fastify options so this
 * one answers instead). And, while the server closes, requests still arriving (on keep-alive
 * connections, or pipelined) get `503 unavailable` with `Retry-After` and `Connection: close`,
 * so clients go elsewhere and a busy connection cannot hold the shutdown open; requests already
 * being handled finish normally (fastify's own `return503OnClosing` answers in its shape, not
 * ours, and is off). Both checks are one synchronous hook: it runs on every request.
 */
export function installProtocolErrors(app: FastifyInstance): void {
  app.server.on('connect', (request: IncomingMessage, socket: Socket) => {
    answerOnSocket(socket, {
      status: 405,
      code: 'method_not_allowed',
      message: `CONNECT is not allowed on ${(request.url ?? '/').slice(0, 200)}: this server is not a proxy`,
    });
  });
  app.server.on('checkExpectation', (request: IncomingMessage, response: ServerResponse) => {
    const body = JSON.stringify(
      errorBody(
        'expectation_failed',
        `Expect: ${String(request.headers.expect).slice(0, 100)} is not supported; only 100-continue is`,
      ),
    );
    response.writeHead(417, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    response.end(body);
  });
  app.addHook('preClose', (done) => {
    shuttingDown.add(app);
    done();
  });
  app.addHook('onRequest', (request, reply, done) => {
    if (shuttingDown.has(app)) {
      // Serialized here: a route's own 503 schema (GET /health has one) must not reshape it.
      const body = JSON.stringify(errorBody('unavailable', 'The server is shutting down; retry in a moment'));
      reply.code(503).header('connection', 'close').header('retry-after', '1').type('application/json; charset=utf-8').send(body);
    } else if (request.headers.host === undefined && request.raw.httpVersion === '1.1') {
      reply.header('connection', 'close');
      sendError(reply, 400, 'invalid_request', 'An HTTP/1.1 request needs a Host header');
    } else done();
  });
}

/**
 * A request's URL as it may be logged: a token in the query string (the console's live feed
 * takes `?access_token=`, since EventSource cannot send headers) is blanked, so a failure while
 * consoles reconnect does not write working tokens to the log.
 */
function loggableUrl(url: string): string {
  return url.replace(/([?&]access_token=)[^&#]*/gi, '$1[redacted]');
}

export function installErrorHandling(app: FastifyInstance, logger: Logger, routes: RouteTable): void {
  app.addHook('onRoute', (route) => {
    routes.add(route.method as string | string[], route.url);
  });

  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const mapped = classify(error);
    if (mapped.status >= 500) {
      const url = loggableUrl(request.url);
      if (mapped.status === 503) logger.warn({ err: error, url }, 'storage unavailable');
      else logger.error({ err: error, method: request.method, url }, 'request failed');
    }
    if (mapped.retryAfter !== undefined) reply.header('retry-after', String(Math.max(1, Math.ceil(mapped.retryAfter))));
    return sendError(reply, mapped.status, mapped.code, mapped.message);
  });

  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    const path = (request.url.split('?')[0] ?? '/').slice(0, 200);
    const methods = routes.allowed(path);
    // The route exists for this method and its handler found nothing (a missing static file).
    if (methods.includes(request.method)) return sendError(reply, 404, 'not_found', `Nothing at ${path}`);
    const allowed = methods.filter((method) => method !== request.method);
    if (allowed.length > 0) {
      reply.header('allow', allowed.join(', '));
      return sendError(
        reply,
        405,
        'method_not_allowed',
        `${request.method} is not allowed on ${path}; use ${allowed.join(', ')}`,
      );
    }
    return sendError(reply, 404, 'route_not_found', `No route ${request.method} ${path}`);
  });
}
