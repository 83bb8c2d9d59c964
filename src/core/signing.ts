/**
 * Standard Webhooks signatures: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, keyed by the
 * base64 part of a `whsec_…` secret. Several secrets (during a rotation) give several
 * space-separated signatures. Also the seed's legacy `X-Webhook-Signature`: hex HMAC-SHA256 of
 * the raw body.
 */
import { createHmac, createSecretKey, type KeyObject, randomBytes, timingSafeEqual } from 'node:crypto';
import type { EpochMs, SigningSecret } from './types.js';

const PREFIX = 'whsec_';

export function generateSecret(): string {
  return PREFIX + randomBytes(24).toString('base64');
}

export function isValidSecret(secret: string): boolean {
  if (!secret.startsWith(PREFIX)) return false;
  const key = secret.slice(PREFIX.length);
  return /^[A-Za-z0-9+/]+={0,2}$/.test(key) && Buffer.from(key, 'base64').length >= 16 && Buffer.from(key, 'base64').length <= 64;
}

const keyCache = new Map<string, Buffer>();

/** The HMAC key of a `whsec_` secret (the base64-decoded part); any other string is used as is. */
export function secretKey(secret: string): Buffer {
  let key = keyCache.get(secret);
  if (!key) {
    key = secret.startsWith(PREFIX) ? Buffer.from(secret.slice(PREFIX.length), 'base64') : Buffer.from(secret, 'utf8');
    if (keyCache.size > 10_000) keyCache.clear();
    keyCache.set(secret, key);
  }
  return key;
}

// KeyObjects skip re-importing the key on every HMAC (a quarter of the cost of signing a small body).
const keyObjects = new Map<string, KeyObject>();

function hmacKey(secret: string): KeyObject {
  let key = keyObjects.get(secret);
  if (!key) {
    key = createSecretKey(secretKey(secret));
    if (keyObjects.size > 10_000) keyObjects.clear();
    keyObjects.set(secret, key);
  }
  return key;
}

export function sign(secret: string, id: string, timestampSeconds: number, body: string | Buffer): string {
  const hmac = createHmac('sha256', hmacKey(secret));
  hmac.update(`${id}.${timestampSeconds}.`);
  hmac.update(body);
  return `v1,${hmac.digest('base64')}`;
}

/** The three Standard Webhooks headers for one request. */
export function signatureHeaders(
  secrets: readonly string[],
  id: string,
  timestampSeconds: number,
  body: string | Buffer,
): { 'webhook-id': string; 'webhook-timestamp': string; 'webhook-signature': string } {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': secrets.map((secret) => sign(secret, id, timestampSeconds, body)).join(' '),
  };
}

export type Verdict = 'verified' | 'invalid_signature' | 'stale_timestamp' | 'missing_headers';

/** Verifies Standard Webhooks headers against any of `secrets`, with a timestamp tolerance. */
export function verify(
  secrets: readonly string[],
  headers: { id?: string; timestamp?: string; signature?: string },
  body: string | Buffer,
  nowSeconds: number = Math.floor(Date.now() / 1000),
  toleranceSeconds = 300,
): Verdict {
  const { id, timestamp, signature } = headers;
  if (!id || !timestamp || !signature) return 'missing_headers';
  const ts = Number(timestamp);
  if (!/^\d+$/.test(timestamp) || Math.abs(nowSeconds - ts) > toleranceSeconds) return 'stale_timestamp';
  const offered = signature
    .split(' ')
    .filter((part) => part.startsWith('v1,'))
    .map((part) => Buffer.from(part.slice(3), 'base64'));
  for (const secret of secrets) {
    const expected = Buffer.from(sign(secret, id, ts, body).slice(3), 'base64');
    for (const candidate of offered) {
      if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) return 'verified';
    }
  }
  return 'invalid_signature';
}

/** The seed's legacy signature: hex HMAC-SHA256 of the raw body, keyed by the secret's text as is. */
export function legacySignature(secret: string, body: string | Buffer): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

export function verifyLegacy(secrets: readonly string[], signature: string, body: string | Buffer): boolean {
  const offered = Buffer.from(signature.replace(/^sha256=/, ''), 'hex');
  return secrets.some((secret) => {
    const expected = Buffer.from(legacySignature(secret, body), 'hex');
    return offered.length === expected.length && timingSafeEqual(offered, expected);
  });
}

/** How long a secret replaced by a rotation keeps signing beside the new one. */
export const PREVIOUS_SECRET_TTL_MS = 24 * 3_600_000;
/** Secrets kept on a subscription at once (the current one and recent rotations). */
const MAX_SECRETS = 5;

/**
 * A rotation to `next`: it comes first and signs from now on; the outgoing current secret keeps
 * signing for PREVIOUS_SECRET_TTL_MS; expired ones, and `next` if it was among them, are dropped.
 */
export function rotate(secrets: readonly SigningSecret[], next: string, now: EpochMs): SigningSecret[] {
  const kept = secrets
    .map((s) => (s.expires_at === null ? { secret: s.secret, expires_at: now + PREVIOUS_SECRET_TTL_MS } : s))
    .filter((s) => (s.expires_at as number) > now && s.secret !== next);
  return [{ secret: next, expires_at: null }, ...kept].slice(0, MAX_SECRETS);
}
