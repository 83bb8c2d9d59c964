/**
 * The receiver's verdict on one request, from its headers, its raw body and the secrets it may
 * be signed with (see the Verdict glossary in core/types.ts):
 *
 *   no secret ─────────────────────────────────────────────► unsigned
 *   Standard Webhooks headers ── every `v1,` signature, every secret, ±5 min ─► verified
 *                              └─ otherwise, unless the legacy header verifies ─► invalid_signature
 *                                                                                 stale_timestamp
 *                                                                                 missing_signature
 *   only `X-Webhook-Signature` (hex HMAC-SHA256 of the body) ── matches ───► verified (legacy)
 *                                                            └─ otherwise ─► invalid_signature
 *   neither ──────────────────────────────────────────────────────────────► missing_signature
 *
 * The HMACs themselves are core/signing.ts's; this module only decides which check applies.
 */
import { verify, verifyLegacy } from '../core/signing.js';
import type { ReceiverVerdict } from '../core/types.js';

/** How far `webhook-timestamp` may be from now, either way. */
export const TIMESTAMP_TOLERANCE_SECONDS = 300;

/** Header values as node gives them (lower-case names). */
export type IncomingHeaders = Record<string, string | string[] | undefined>;

export interface Judgement {
  verdict: ReceiverVerdict;
  /** Verified through `X-Webhook-Signature` rather than the Standard Webhooks headers. */
  legacy: boolean;
}

/** A header's single value: the first of repeated ones; empty text reads as absent. */
export function headerValue(headers: IncomingHeaders, name: string): string | undefined {
  const value = headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined || first === '' ? undefined : first;
}

export function judge(
  secrets: readonly string[],
  headers: IncomingHeaders,
  body: Buffer | string,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): Judgement {
  if (secrets.length === 0) return { verdict: 'unsigned', legacy: false };
  const legacySignature = headerValue(headers, 'x-webhook-signature');
  const legacyMatches = () => legacySignature !== undefined && verifyLegacy(secrets, legacySignature, body);
  const id = headerValue(headers, 'webhook-id');
  const timestamp = headerValue(headers, 'webhook-timestamp');
  const signature = headerValue(headers, 'webhook-signature');
  if (signature !== undefined || (legacySignature === undefined && (id !== undefined || timestamp !== undefined))) {
    const standard = verify(secrets, { id, timestamp, signature }, body, nowSeconds, TIMESTAMP_TOLERANCE_SECONDS);
    if (standard === 'verified') return { verdict: 'verified', legacy: false };
    if (legacyMatches()) return { verdict: 'verified', legacy: true };
    return { verdict: standard === 'missing_headers' ? 'missing_signature' : standard, legacy: false };
  }
  if (legacySignature !== undefined) {
    return legacyMatches() ? { verdict: 'verified', legacy: true } : { verdict: 'invalid_signature', legacy: false };
  }
  return { verdict: 'missing_signature', legacy: false };
}
