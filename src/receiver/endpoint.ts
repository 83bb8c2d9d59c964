/**
 * `POST /receiver/{name}`: the webhook endpoint itself. Public — signatures are its guard.
 *
 * The body is read raw, whatever its content-type (a signature is over the exact bytes), by a
 * catch-all parser set for this scope only; the server's body limit applies. Every request is
 * stored, its verdict with it, before it is answered:
 *
 *   verified, or unsigned (no secret set) ─► 200 { received, id, verdict, duplicate }
 *   anything else (a secret is set)        ─► 401 { error: { code: <verdict>, message } }
 *
 * A `webhook-id` this receiver accepted before is stored as a duplicate and still answered 200:
 * the sender retried something that had arrived, and must stop retrying it.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errorResponses } from '../api/schemas.js';
import type { EpochMs, ReceivedRequest } from '../core/types.js';
import type { Store } from '../store/store.js';
import { receiverFeed } from './feed.js';
import { nameParams, receiverName, verdictSchema } from './schemas.js';
import { headerValue, judge } from './verify.js';

/** What the receiver needs; the API context has all of it. */
export interface ReceiverDeps {
  store: Store;
  clock: () => EpochMs;
  /** `receiverSecret`: TRIGGERS_RECEIVER_SECRET, used for every name that has no secret of its own. */
  config: { receiverSecret: string | null };
}

/** Stored bodies are capped; `body_size` keeps the full length. */
export const MAX_STORED_BODY_BYTES = 256 * 1024;
/** Longer `webhook-id` values are cut to this before they are stored and compared. */
export const MAX_WEBHOOK_ID_LENGTH = 256;

const REJECTIONS: Record<string, string> = {
  invalid_signature: 'No signature matches the receiver’s secret',
  stale_timestamp: 'webhook-timestamp is more than 5 minutes from now',
  missing_signature: 'The receiver has a secret but the request carries no signature',
};

/** The raw body as text: UTF-8, capped, NUL characters replaced (text columns refuse them). */
export function bodyText(raw: Buffer): string {
  return raw.subarray(0, MAX_STORED_BODY_BYTES).toString('utf8').replaceAll('\u0000', '\uFFFD');
}

/** Headers as sent, names lower-cased, repeated headers joined with `, `. */
export function headerRecord(rawHeaders: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    const value = rawHeaders[i + 1] as string;
    out[name] = Object.hasOwn(out, name) ? `${out[name]}, ${value}` : value;
  }
  return out;
}

export async function receiverEndpoint(app: FastifyInstance, deps: ReceiverDeps): Promise<void> {
  const { store, clock, config } = deps;
  const feed = receiverFeed(store);

  // Every body is read as bytes. The content-type is set to one the catch-all parser takes
  // before fastify looks at it, so a malformed one (`foo`, `;;;`) is stored, not refused with a
  // 415; the stored headers come from the raw header list, as sent.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  app.addHook('onRequest', (request, _reply, done) => {
    request.headers['content-type'] = 'application/octet-stream';
    done();
  });

  app.post<{ Params: { name: string } }>(
    '/receiver/:name',
    {
      config: { public: true },
      schema: {
        tags: ['receiver'],
        summary: 'Receive a webhook (any content-type), verify its signature and store it',
        description:
          'Public: the signature is the guard. Verifies Standard Webhooks headers (`webhook-id`, `webhook-timestamp`, ' +
          '`webhook-signature`; every `v1,` signature is tried, timestamps within 5 minutes) or the legacy ' +
          '`X-Webhook-Signature` (hex HMAC-SHA256 of the raw body) against the secret set for the name, else ' +
          '`TRIGGERS_RECEIVER_SECRET`. Without a secret every request is accepted as `unsigned`. Every request is stored; ' +
          'a bad signature is answered 401 with the verdict as the error code.',
        security: [],
        params: nameParams,
        response: {
          200: {
            type: 'object',
            required: ['received', 'id', 'verdict', 'duplicate'],
            properties: {
              received: { type: 'boolean', enum: [true] },
              id: { type: 'string', description: 'The stored request.' },
              verdict: verdictSchema,
              duplicate: { type: 'boolean', description: 'This `webhook-id` had been accepted before.' },
            },
          },
          ...errorResponses(400, 401, 413, 503),
        },
      },
    },
    async (request: FastifyRequest<{ Params: { name: string } }>, reply: FastifyReply) => {
      const name = receiverName(request.params.name);
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const secret = (await store.getReceiverSecret(name)) ?? config.receiverSecret;
      const { verdict, legacy } = judge(secret ? [secret] : [], request.headers, raw, Math.floor(clock() / 1000));
      const stored: ReceivedRequest = await store.recordReceived({
        name,
        method: request.method,
        path: request.url,
        headers: headerRecord(request.raw.rawHeaders),
        body: bodyText(raw),
        body_size: raw.length,
        webhook_id: headerValue(request.headers, 'webhook-id')?.slice(0, MAX_WEBHOOK_ID_LENGTH) ?? null,
        verdict,
        legacy,
      });
      feed.emit(stored);
      if (verdict === 'verified' || verdict === 'unsigned') {
        return reply.code(200).send({ received: true, id: stored.id, verdict, duplicate: stored.duplicate });
      }
      return reply
        .code(401)
        .type('application/json; charset=utf-8')
        .send({ error: { code: verdict, message: `${REJECTIONS[verdict]} (stored as request ${stored.id})` } });
    },
  );
}
