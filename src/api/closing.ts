/**
 * While the server closes, requests still arriving (on keep-alive connections, or pipelined)
 * are answered `503 unavailable` with `Retry-After` and `Connection: close`, in our error shape,
 * so clients go elsewhere or retry and a busy connection cannot hold the shutdown open. Requests
 * already being handled finish normally. (Fastify's own `return503OnClosing` answers in its shape,
 * not ours, and is turned off.)
 */
import type { FastifyInstance } from 'fastify';
import { errorBody } from './errors.js';

export function installClosingAnswer(app: FastifyInstance): void {
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onRequest', (_request, reply, done) => {
    if (!closing) {
      done();
      return;
    }
    // Serialized here: the route's own 503 schema (GET /health has one) must not reshape it.
    const body = JSON.stringify(errorBody('unavailable', 'The server is shutting down; retry in a moment'));
    reply.code(503).header('connection', 'close').header('retry-after', '1').type('application/json; charset=utf-8').send(body);
  });
}
