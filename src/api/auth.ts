/**
 * Who may call what. `POST /token` trades the API key for an HS256 JWT (the seed's OAuth2
 * password grant, or JSON); every route not listed as public then needs either
 * `Authorization: Bearer <JWT>` or `X-API-Key: <key>`.
 *
 * Both checks sit on the ingest hot path, so both are cheap: the key is compared as SHA-256
 * digests in constant time, and a verified token is remembered (until it expires, at most a
 * minute) so most requests skip the HMAC and the promise jose needs.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import { AuthError, ValidationError } from '../core/errors.js';
import type { ApiContext } from './context.js';
import { errorResponses } from './schemas.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** true: the route needs no credentials. */
    public?: boolean;
  }
}

/**
 * Routes open without credentials, by registered route path. Other modules that add open
 * routes to the server (the console's page shell, the receiver) are covered here, or can mark
 * a route `config: { public: true }`.
 */
export const PUBLIC_ROUTES = {
  exact: ['/', '/health', '/openapi.json'] as readonly string[],
  prefixes: ['/docs', '/receiver/', '/console/'] as readonly string[],
};

export function isPublicRoute(url: string, options: { metricsAuth: boolean }): boolean {
  if (url === '/metrics') return !options.metricsAuth;
  if (PUBLIC_ROUTES.exact.includes(url)) return true;
  return PUBLIC_ROUTES.prefixes.some((prefix) => url.startsWith(prefix));
}

const TOKEN_CACHE_MAX = 10_000;
const TOKEN_CACHE_MS = 60_000;

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

export class Authenticator {
  private readonly keyDigest: Buffer;
  private readonly jwtKey: Uint8Array;
  /** token → time until which it is known valid. */
  private readonly verified = new Map<string, number>();

  constructor(private readonly ctx: ApiContext) {
    this.keyDigest = digest(ctx.config.apiKey);
    this.jwtKey = new TextEncoder().encode(ctx.config.jwtSecret);
  }

  isApiKey(candidate: string): boolean {
    return timingSafeEqual(digest(candidate), this.keyDigest);
  }

  async issueToken(): Promise<{ access_token: string; token_type: 'bearer'; expires_in: number }> {
    const now = this.ctx.clock();
    const expiresIn = Math.max(1, Math.floor(this.ctx.config.jwtTtlMs / 1000));
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject('api')
      .setIssuedAt(Math.floor(now / 1000))
      .setExpirationTime(Math.floor(now / 1000) + expiresIn)
      .sign(this.jwtKey);
    return { access_token: token, token_type: 'bearer', expires_in: expiresIn };
  }

  /** Resolves when the token is valid; throws AuthError otherwise. */
  async verifyToken(token: string): Promise<void> {
    const now = this.ctx.clock();
    const until = this.verified.get(token);
    if (until !== undefined) {
      if (now < until) return;
      this.verified.delete(token);
    }
    let exp: number | undefined;
    try {
      const { payload } = await jwtVerify(token, this.jwtKey, {
        algorithms: ['HS256'],
        currentDate: new Date(now),
        requiredClaims: ['exp'],
      });
      exp = payload.exp;
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw new AuthError('Token expired; get a new one from POST /token', 'token_expired');
      throw new AuthError('Invalid token', 'invalid_token');
    }
    if (this.verified.size >= TOKEN_CACHE_MAX) this.verified.clear();
    this.verified.set(token, Math.min((exp ?? 0) * 1000, now + TOKEN_CACHE_MS));
  }

  /** True when the cached verdict alone accepts the token (no promise needed). */
  knownValid(token: string): boolean {
    const until = this.verified.get(token);
    return until !== undefined && this.ctx.clock() < until;
  }
}

const BEARER = /^Bearer[ \t]+([^ \t]+)[ \t]*$/i;

/** The onRequest guard: public routes pass, everything else needs a key or a token. */
export function authGuard(ctx: ApiContext, auth: Authenticator) {
  const options = { metricsAuth: ctx.config.metricsAuth };
  return function guard(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    const url = request.routeOptions.url;
    // Unknown routes answer 404 whoever asks; public routes need nothing.
    if (url === undefined || request.routeOptions.config.public === true || isPublicRoute(url, options)) {
      done();
      return;
    }
    const apiKey = request.headers['x-api-key'];
    if (typeof apiKey === 'string' && apiKey !== '' && auth.isApiKey(apiKey)) {
      done();
      return;
    }
    const header = request.headers.authorization;
    const match = header === undefined ? null : BEARER.exec(header);
    if (!match) {
      reply.header('www-authenticate', 'Bearer realm="triggers"');
      if (apiKey !== undefined) done(new AuthError('Invalid API key', 'invalid_credentials'));
      else if (header !== undefined) done(new AuthError('Authorization header must be "Bearer <token>"', 'invalid_token'));
      else done(new AuthError('Authentication required: send Authorization: Bearer <token> or X-API-Key'));
      return;
    }
    const token = match[1] as string;
    if (auth.knownValid(token)) {
      done();
      return;
    }
    auth.verifyToken(token).then(
      () => done(),
      (error: Error) => {
        reply.header('www-authenticate', 'Bearer realm="triggers", error="invalid_token"');
        done(error);
      },
    );
  };
}

interface TokenBody {
  username?: unknown;
  password?: unknown;
  api_key?: unknown;
  grant_type?: unknown;
}

const tokenFields = {
  type: 'object',
  properties: {
    grant_type: { type: 'string', description: 'Optional; `password` when given.' },
    username: { type: 'string', description: 'Conventionally `api`; not checked.' },
    password: { type: 'string', description: 'The API key.' },
    api_key: { type: 'string', description: 'The API key (JSON form).' },
  },
} as const;

/** `POST /token`, in its own scope so only it parses form bodies. */
export async function tokenRoutes(app: FastifyInstance, auth: Authenticator): Promise<void> {
  await app.register(async (scope) => {
    await scope.register(formbody, { bodyLimit: 16 * 1024 });
    scope.post<{ Body: TokenBody | undefined }>(
      '/token',
      {
        config: { public: true },
        schema: {
          tags: ['auth'],
          summary: 'Trade the API key for a bearer token',
          description:
            'Form `username=api&password=<API key>` (OAuth2 password grant, as the seed) or JSON `{ "api_key": "<key>" }` ' +
            '(JSON `{ "username", "password" }` works too). The token is an HS256 JWT valid for `TRIGGERS_JWT_TTL`.',
          security: [],
          body: {
            content: {
              'application/x-www-form-urlencoded': { schema: tokenFields },
              'application/json': { schema: tokenFields },
            },
          },
          response: {
            200: {
              type: 'object',
              required: ['access_token', 'token_type', 'expires_in'],
              properties: {
                access_token: { type: 'string' },
                token_type: { type: 'string', enum: ['bearer'] },
                expires_in: { type: 'integer', description: 'Seconds until the token expires.' },
              },
            },
            ...errorResponses(400, 401, 415),
          },
        },
      },
      async (request, reply) => {
        const body = request.body;
        if (typeof body !== 'object' || body === null || Array.isArray(body)) {
          throw new ValidationError('Send form username=api&password=<API key> or JSON {"api_key": "<key>"}');
        }
        if (body.grant_type !== undefined && body.grant_type !== 'password') {
          throw new ValidationError('grant_type must be "password"', undefined, 'unsupported_grant_type');
        }
        const key = body.api_key ?? body.password;
        if (typeof key !== 'string' || key === '') {
          throw new ValidationError('Missing API key: send password (form) or api_key (JSON)');
        }
        if (!auth.isApiKey(key)) throw new AuthError('Wrong API key', 'invalid_credentials');
        reply.header('cache-control', 'no-store');
        return auth.issueToken();
      },
    );
  });
}
