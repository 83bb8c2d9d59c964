/**
 * Who may call what. `POST /token` trades the API key for an HS256 JWT (the seed's OAuth2
 * password grant, or JSON); every route not listed as public then needs either
 * `Authorization: Bearer <JWT>` or `X-API-Key: <key>`.
 *
 * Keys: the configured `TRIGGERS_API_KEY` (the bootstrap key, every scope) and keys created
 * through `/keys` or `triggers keys create`, each with its scopes, stored as SHA-256 digests. A
 * token carries its key's id (`sub`) and scopes; a revoked key's tokens stop working. Which
 * scope a route needs is in scopes.ts; ingest routes are also rate limited per key.
 *
 * All of it sits on the ingest hot path, so it is cheap: keys are compared as SHA-256 digests
 * in constant time, a verified token is remembered (until it expires, at most a minute) so most
 * requests skip the HMAC and the promise jose needs, and stored keys are remembered for a few
 * seconds (dropped at once when revoked through this process; other processes of a fleet see a
 * revocation within KEY_CACHE_MS).
 */
import { timingSafeEqual } from 'node:crypto';
import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import { type ApiKey, hashApiKey, isScope, SCOPES, type Scope } from '../core/apiKeys.js';
import { sha256 as digest } from '../core/digest.js';
import { AuthError, ForbiddenError, TriggersError, ValidationError } from '../core/errors.js';
import type { ApiContext } from './context.js';
import { RateLimiter } from './rateLimit.js';
import { allows, describeRule, ruleFor } from './scopes.js';
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
const KEY_CACHE_MAX = 10_000;
export const KEY_CACHE_MS = 5_000;
/** The `sub` of tokens issued for the bootstrap key (and of every token issued before scopes existed). */
const BOOTSTRAP_SUBJECT = 'api';

/** Who is calling, once authenticated. */
export interface Principal {
  /** The key id, or `api` for the bootstrap key. */
  id: string;
  scopes: readonly Scope[];
  /** Ingest requests per second; null: the configured default. */
  rateLimit: number | null;
}

const BOOTSTRAP: Principal = { id: BOOTSTRAP_SUBJECT, scopes: SCOPES, rateLimit: null };

interface Verified {
  until: number;
  subject: string;
  scopes: readonly Scope[];
}

export class Authenticator {
  private readonly keyDigest: Buffer;
  private readonly jwtKey: Uint8Array;
  /** token → what it says, and the time until which it is known valid. */
  private readonly verified = new Map<string, Verified>();
  /** Stored keys by digest and by id (null: no such key), each with the time it was read. */
  private readonly byHash = new Map<string, { key: ApiKey | null; at: number }>();
  private readonly byId = new Map<string, { key: ApiKey | null; at: number }>();
  readonly limiter: RateLimiter;

  constructor(private readonly ctx: ApiContext) {
    this.keyDigest = digest(ctx.config.apiKey);
    this.jwtKey = new TextEncoder().encode(ctx.config.jwtSecret);
    this.limiter = new RateLimiter(ctx.clock);
  }

  isApiKey(candidate: string): boolean {
    return timingSafeEqual(digest(candidate), this.keyDigest);
  }

  /** The principal of a presented key, or null when the key is unknown or revoked. */
  keyPrincipal(candidate: string): Principal | null | Promise<Principal | null> {
    if (this.isApiKey(candidate)) return BOOTSTRAP;
    const hash = hashApiKey(candidate);
    const toPrincipal = (key: ApiKey | null): Principal | null => {
      // The row was found by its digest; compare once more in constant time all the same.
      if (key === null || key.revoked_at !== null || !timingSafeEqual(Buffer.from(key.hash), Buffer.from(hash))) return null;
      return { id: key.id, scopes: key.scopes, rateLimit: key.rate_limit };
    };
    const cached = this.fresh(this.byHash, hash);
    if (cached !== undefined) return toPrincipal(cached);
    return this.ctx.store.getApiKeyByHash(hash).then((key) => {
      this.remember(this.byHash, hash, key);
      if (key !== null) this.remember(this.byId, key.id, key);
      return toPrincipal(key);
    });
  }

  /** Drops what this process remembers about a key (after revoking it). */
  forget(key: ApiKey): void {
    this.byId.delete(key.id);
    this.byHash.delete(key.hash);
  }

  async issueToken(principal: Principal): Promise<{ access_token: string; token_type: 'bearer'; expires_in: number; scopes: Scope[] }> {
    const now = this.ctx.clock();
    const expiresIn = Math.max(1, Math.floor(this.ctx.config.jwtTtlMs / 1000));
    const scopes = [...principal.scopes];
    const token = await new SignJWT({ scopes })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(principal.id)
      .setIssuedAt(Math.floor(now / 1000))
      .setExpirationTime(Math.floor(now / 1000) + expiresIn)
      .sign(this.jwtKey);
    return { access_token: token, token_type: 'bearer', expires_in: expiresIn, scopes };
  }

  /** Resolves to what a valid token says; throws AuthError otherwise. */
  async verifyToken(token: string): Promise<Verified> {
    const now = this.ctx.clock();
    const known = this.verified.get(token);
    if (known !== undefined) {
      if (now < known.until) return known;
      this.verified.delete(token);
    }
    let verified: Verified;
    try {
      const { payload } = await jwtVerify(token, this.jwtKey, {
        algorithms: ['HS256'],
        currentDate: new Date(now),
        requiredClaims: ['exp'],
      });
      const subject = payload.sub ?? BOOTSTRAP_SUBJECT;
      const claimed = payload.scopes;
      let scopes: readonly Scope[];
      if (claimed === undefined && subject === BOOTSTRAP_SUBJECT) scopes = SCOPES;
      else if (Array.isArray(claimed) && claimed.every(isScope)) scopes = claimed;
      else throw new Error('bad scopes claim');
      verified = { until: Math.min((payload.exp ?? 0) * 1000, now + TOKEN_CACHE_MS), subject, scopes };
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw new AuthError('Token expired; get a new one from POST /token', 'token_expired');
      throw new AuthError('Invalid token', 'invalid_token');
    }
    if (this.verified.size >= TOKEN_CACHE_MAX) this.verified.clear();
    this.verified.set(token, verified);
    return verified;
  }

  /** A token's principal, synchronously when the token and its key are remembered. */
  tokenPrincipal(token: string): Principal | Promise<Principal> {
    const known = this.verified.get(token);
    if (known !== undefined && this.ctx.clock() < known.until) {
      const principal = this.principalOf(known);
      if (principal !== undefined) return principal;
    }
    return this.verifyToken(token).then(async (verified) => {
      const principal = this.principalOf(verified);
      if (principal !== undefined) return principal;
      this.remember(this.byId, verified.subject, await this.ctx.store.getApiKey(verified.subject));
      return this.principalOf(verified) as Principal;
    });
  }

  /** undefined: the key behind the token is not remembered; throws when it is revoked or gone. */
  private principalOf(verified: Verified): Principal | undefined {
    if (verified.subject === BOOTSTRAP_SUBJECT) return { ...BOOTSTRAP, scopes: verified.scopes };
    const key = this.fresh(this.byId, verified.subject);
    if (key === undefined) return undefined;
    if (key === null || key.revoked_at !== null) throw new AuthError('The API key of this token has been revoked', 'key_revoked');
    return { id: key.id, scopes: verified.scopes, rateLimit: key.rate_limit };
  }

  private fresh(cache: Map<string, { key: ApiKey | null; at: number }>, id: string): ApiKey | null | undefined {
    const entry = cache.get(id);
    if (entry === undefined) return undefined;
    if (this.ctx.clock() - entry.at < KEY_CACHE_MS) return entry.key;
    cache.delete(id);
    return undefined;
  }

  private remember(cache: Map<string, { key: ApiKey | null; at: number }>, id: string, key: ApiKey | null): void {
    if (cache.size >= KEY_CACHE_MAX) cache.clear();
    cache.set(id, { key, at: this.ctx.clock() });
  }
}

const BEARER = /^Bearer[ \t]+([^ \t]+)[ \t]*$/i;

declare module 'fastify' {
  interface FastifyRequest {
    /** Who called; set by the auth guard on every route that is not public. */
    principal?: Principal;
  }
}

/**
 * The onRequest guard: public routes pass; everything else needs a key or a token holding the
 * route's scope (scopes.ts), and ingest routes take a token from the key's bucket.
 */
export function authGuard(ctx: ApiContext, auth: Authenticator) {
  const options = { metricsAuth: ctx.config.metricsAuth };

  function admit(request: FastifyRequest, reply: FastifyReply, principal: Principal, url: string): void {
    const rule = ruleFor(request.method, url);
    if (!allows(principal.scopes, rule)) {
      throw new ForbiddenError(`This key lacks ${describeRule(rule)} needed for ${request.method} ${url}`);
    }
    request.principal = principal;
    if (rule !== 'ingest') return;
    const limit = principal.rateLimit ?? ctx.config.ingestRateLimit;
    if (limit === null) return;
    const wait = auth.limiter.take(principal.id, limit);
    if (wait > 0) {
      reply.header('retry-after', String(wait));
      throw new TriggersError(429, 'rate_limited', `Ingest rate limit of ${limit} requests per second exceeded; retry after ${wait}s`);
    }
  }

  /** The caller's principal, synchronously when everything needed is remembered; throws AuthError. */
  function authenticate(request: FastifyRequest, reply: FastifyReply): Principal | Promise<Principal> {
    const apiKey = request.headers['x-api-key'];
    const header = request.headers.authorization;
    const match = header === undefined ? null : BEARER.exec(header);
    const viaToken = (): Principal | Promise<Principal> => {
      if (!match) {
        reply.header('www-authenticate', 'Bearer realm="triggers"');
        if (apiKey !== undefined && header === undefined) throw new AuthError('Invalid API key', 'invalid_credentials');
        if (header !== undefined) throw new AuthError('Authorization header must be "Bearer <token>"', 'invalid_token');
        throw new AuthError('Authentication required: send Authorization: Bearer <token> or X-API-Key');
      }
      const challenge = (error: unknown): never => {
        if (error instanceof AuthError) reply.header('www-authenticate', 'Bearer realm="triggers", error="invalid_token"');
        throw error;
      };
      try {
        const principal = auth.tokenPrincipal(match[1] as string);
        return principal instanceof Promise ? principal.catch(challenge) : principal;
      } catch (error) {
        return challenge(error);
      }
    };
    if (typeof apiKey === 'string' && apiKey !== '') {
      // A valid key wins; an unknown one falls back to the bearer token when there is one.
      const orToken = (principal: Principal | null): Principal | Promise<Principal> => principal ?? viaToken();
      const principal = auth.keyPrincipal(apiKey);
      return principal instanceof Promise ? principal.then(orToken) : orToken(principal);
    }
    return viaToken();
  }

  return function guard(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    const url = request.routeOptions.url;
    // Unknown routes answer 404 whoever asks; public routes need nothing.
    if (url === undefined || request.routeOptions.config.public === true || isPublicRoute(url, options)) {
      done();
      return;
    }
    let principal: Principal | Promise<Principal>;
    try {
      principal = authenticate(request, reply);
      if (!(principal instanceof Promise)) admit(request, reply, principal, url);
    } catch (error) {
      done(error as Error);
      return;
    }
    if (!(principal instanceof Promise)) {
      done();
      return;
    }
    principal.then(
      (resolved) => {
        try {
          admit(request, reply, resolved, url);
        } catch (error) {
          done(error as Error);
          return;
        }
        done();
      },
      (error: Error) => done(error),
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
    // Any other content type: a 415 that names both forms this route takes.
    scope.addContentTypeParser('*', (_request, _payload, done) => {
      done(
        new TriggersError(
          415,
          'unsupported_media_type',
          'Unsupported content-type; send application/x-www-form-urlencoded (username=api&password=<API key>) or application/json ({"api_key": …})',
        ),
      );
    });
    scope.post<{ Body: TokenBody | undefined }>(
      '/token',
      {
        config: { public: true },
        schema: {
          tags: ['auth'],
          summary: 'Trade the API key for a bearer token',
          description:
            'Form `username=api&password=<API key>` (OAuth2 password grant, as the seed) or JSON `{ "api_key": "<key>" }` ' +
            '(JSON `{ "username", "password" }` works too). The token is an HS256 JWT valid for `TRIGGERS_JWT_TTL`, carrying the key\'s scopes.',
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
                scopes: { type: 'array', items: { type: 'string', enum: [...SCOPES] }, description: "The key's scopes, carried by the token." },
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
        const principal = await auth.keyPrincipal(key);
        if (principal === null) throw new AuthError('Wrong API key', 'invalid_credentials');
        reply.header('cache-control', 'no-store');
        return auth.issueToken(principal);
      },
    );
  });
}
