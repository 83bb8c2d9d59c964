/**
 * A real HTTP webhook endpoint for tests: listens on 127.0.0.1 (a free port), records every
 * request (method, path, headers, raw body, arrival time) and answers as the test programs it —
 * a status sequence, a delay, a hang, a Retry-After, a reset connection, a slow drip.
 *
 *   const sink = await startSink();
 *   sink.respond('/hook', [{ status: 500 }, { status: 200 }]);   // then 200 forever (last repeats)
 *   … deliver to `${sink.url}/hook` …
 *   const [first, second] = await sink.waitFor(2, { path: '/hook' });
 *   await sink.close();
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface SinkRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  /** Path without the query. */
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Date.now() when the body had fully arrived. */
  at: number;
  text(): string;
  json<T = unknown>(): T;
}

export interface SinkReply {
  /** Default 200. */
  status?: number;
  headers?: Record<string, string>;
  /** Default `ok`. */
  body?: string;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Never answer (until the sink closes). */
  hang?: boolean;
  /** Destroy the connection instead of answering. */
  reset?: boolean;
  /** Send headers at once, then the body in `chunks` pieces `intervalMs` apart. */
  drip?: { chunks: number; intervalMs: number };
}

/** A fixed reply, a sequence (the last one repeats), or a function of the request and its index on that path. */
export type Responder = SinkReply | SinkReply[] | ((request: SinkRequest, index: number) => SinkReply);

export interface Sink {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** Every request so far, in arrival order. */
  requests: SinkRequest[];
  /** Programs the replies for a path (or, without one, for every path not programmed). */
  respond(path: string | null, responder: Responder): void;
  requestsTo(path: string): SinkRequest[];
  /** Resolves once `count` requests (to `path`, if given) have arrived; rejects after `timeoutMs` (default 5 s). */
  waitFor(count: number, options?: { path?: string; timeoutMs?: number }): Promise<SinkRequest[]>;
  /** Forgets the recorded requests and per-path counters (programmed replies stay). */
  reset(): void;
  close(): Promise<void>;
}

interface Waiter {
  count: number;
  path: string | undefined;
  resolve: (requests: SinkRequest[]) => void;
}

export async function startSink(): Promise<Sink> {
  const requests: SinkRequest[] = [];
  const responders = new Map<string | null, Responder>();
  const counters = new Map<string, number>();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let waiters: Waiter[] = [];

  const matching = (path: string | undefined) => (path === undefined ? requests : requests.filter((r) => r.path === path));

  const notify = () => {
    waiters = waiters.filter((waiter) => {
      const found = matching(waiter.path);
      if (found.length < waiter.count) return true;
      waiter.resolve(found.slice(0, waiter.count));
      return false;
    });
  };

  const later = (ms: number, fn: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  };

  const replyFor = (request: SinkRequest): SinkReply => {
    const index = counters.get(request.path) ?? 0;
    counters.set(request.path, index + 1);
    const responder = responders.get(request.path) ?? responders.get(null) ?? {};
    if (typeof responder === 'function') return responder(request, index);
    if (Array.isArray(responder)) return responder[Math.min(index, responder.length - 1)] ?? {};
    return responder;
  };

  const answer = (response: ServerResponse, reply: SinkReply) => {
    if (reply.hang) return;
    if (reply.reset) {
      response.socket?.destroy();
      return;
    }
    const body = reply.body ?? 'ok';
    const headers = { 'content-type': 'text/plain', ...reply.headers };
    if (reply.drip) {
      const { chunks, intervalMs } = reply.drip;
      response.writeHead(reply.status ?? 200, headers);
      const size = Math.max(1, Math.ceil(body.length / chunks));
      let offset = 0;
      const step = () => {
        if (response.destroyed) return;
        if (offset >= body.length) {
          response.end();
          return;
        }
        response.write(body.slice(offset, offset + size));
        offset += size;
        later(intervalMs, step);
      };
      step();
      return;
    }
    response.writeHead(reply.status ?? 200, { ...headers, 'content-length': String(Buffer.byteLength(body)) });
    response.end(body);
  };

  const server = createServer((req, response) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = req.url ?? '/';
      const request: SinkRequest = {
        method: req.method ?? 'GET',
        url,
        path: url.split('?')[0] as string,
        headers: req.headers,
        body,
        at: Date.now(),
        text: () => body.toString('utf8'),
        json: <T>() => JSON.parse(body.toString('utf8')) as T,
      };
      requests.push(request);
      const reply = replyFor(request);
      notify();
      if (reply.delayMs) later(reply.delayMs, () => answer(response, reply));
      else answer(response, reply);
    });
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    respond(path, responder) {
      responders.set(path, responder);
    },
    requestsTo: (path) => matching(path),
    waitFor(count, options = {}) {
      const found = matching(options.path);
      if (found.length >= count) return Promise.resolve(found.slice(0, count));
      const timeoutMs = options.timeoutMs ?? 5_000;
      return new Promise((resolve, reject) => {
        const waiter: Waiter = { count, path: options.path, resolve: () => undefined };
        const timer = setTimeout(() => {
          waiters = waiters.filter((w) => w !== waiter);
          reject(
            new Error(
              `sink: ${matching(options.path).length} of ${count} requests${options.path ? ` to ${options.path}` : ''} after ${timeoutMs}ms`,
            ),
          );
        }, timeoutMs);
        waiter.resolve = (result) => {
          clearTimeout(timer);
          resolve(result);
        };
        waiters.push(waiter);
      });
    },
    reset() {
      requests.length = 0;
      counters.clear();
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
