/**
 * Liveness and storage readiness, open to load balancers and orchestrators: 200 when the
 * store answers a ping within two seconds, 503 (with `Retry-After`) when it does not.
 */
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from './context.js';

const PING_TIMEOUT_MS = 2_000;

async function pingWithin(ping: () => Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([ping().then(() => true, () => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function healthRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  const healthSchema = {
    type: 'object',
    properties: {
      status: { type: 'string', enum: ['ok', 'unavailable'] },
      storage: { type: 'string', enum: ['ok', 'unavailable'] },
      role: { type: 'string', enum: ['api', 'dispatcher', 'all'] },
    },
  } as const;

  app.get(
    '/health',
    {
      config: { public: true },
      schema: {
        tags: ['operations'],
        summary: 'Liveness and storage readiness',
        security: [],
        response: { 200: healthSchema, 503: healthSchema },
      },
    },
    async (_request, reply) => {
      const ok = await pingWithin(() => ctx.store.ping(), PING_TIMEOUT_MS);
      if (ok) return { status: 'ok', storage: 'ok', role: ctx.role };
      reply.header('retry-after', '1');
      return reply.code(503).send({ status: 'unavailable', storage: 'unavailable', role: ctx.role });
    },
  );
}
