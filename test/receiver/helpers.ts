/**
 * Senders for receiver tests: requests signed by the `standardwebhooks` package (an independent
 * implementation, so the receiver is checked against the spec, not against our own signer), and
 * the legacy hex HMAC by hand.
 */
import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

export const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
export const OTHER_SECRET = 'whsec_dGhpcyBpcyBhbm90aGVyIHNlY3JldCBrZXk=';

let counter = 0;
export const messageId = (): string => `msg_${Date.now()}_${++counter}`;

/** Standard Webhooks headers for `body`, signed by the standardwebhooks package. */
export function signedHeaders(
  secret: string,
  body: string | Buffer,
  options: { id?: string; at?: Date } = {},
): { 'webhook-id': string; 'webhook-timestamp': string; 'webhook-signature': string } {
  const id = options.id ?? messageId();
  const at = options.at ?? new Date();
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(id, at, body),
  };
}

/** The seed's X-Webhook-Signature: hex HMAC-SHA256 of the raw body, keyed by the secret's text. */
export const legacyHeader = (secret: string, body: string | Buffer): string =>
  createHmac('sha256', secret).update(body).digest('hex');

export interface Posted {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies loosely
  json: any;
}

/** POSTs a raw body to `/receiver/{name}` with no credentials. */
export async function post(
  baseUrl: string,
  name: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
): Promise<Posted> {
  const response = await fetch(`${baseUrl}/receiver/${name}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : new Uint8Array(body),
  });
  const text = await response.text();
  return { status: response.status, json: text === '' ? undefined : JSON.parse(text) };
}
