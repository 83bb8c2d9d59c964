/**
 * API keys and their scopes.
 *
 *   scope    what a key may do: `ingest` (send events), `read` (list and read), `admin`
 *            (everything, including managing keys); see api/scopes.ts for the route map
 *   key      `trg_` + 32 random bytes (base64url), shown once when created; only its SHA-256
 *            digest is stored. A digest of a 256-bit random key needs no salt or slow hash:
 *            there is nothing to guess from it.
 *   prefix   the first characters of the key, stored so a listing can tell keys apart
 *   revoked  a key with `revoked_at` set opens nothing, and tokens issued for it stop working
 *
 * The configured `TRIGGERS_API_KEY` is not stored: it is the bootstrap key and holds every scope.
 */
import { randomBytes } from 'node:crypto';
import { sha256Hex } from './digest.js';
import { ulid } from './ids.js';
import type { EpochMs } from './types.js';

export const SCOPES = ['ingest', 'read', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export interface ApiKey {
  id: string;
  name: string;
  scopes: Scope[];
  /** Ingest requests per second this key may make; null: the configured default. */
  rate_limit: number | null;
  /** The first characters of the key, for telling keys apart. */
  prefix: string;
  /** Hex SHA-256 of the key. */
  hash: string;
  created_at: EpochMs;
  revoked_at: EpochMs | null;
}

export type NewApiKey = Omit<ApiKey, 'created_at' | 'revoked_at'>;

export const isScope = (value: unknown): value is Scope => typeof value === 'string' && (SCOPES as readonly string[]).includes(value);

export const hashApiKey = (key: string): string => sha256Hex(key);

export const newApiKeyId = (): string => `key_${ulid()}`;

const PREFIX_LENGTH = 8;

/** A fresh key and what is stored about it. */
export function generateApiKey(name: string, scopes: Scope[], rateLimit: number | null): { key: string; record: NewApiKey } {
  const key = `trg_${randomBytes(32).toString('base64url')}`;
  const unique = [...new Set(scopes)].sort((a, b) => SCOPES.indexOf(a) - SCOPES.indexOf(b));
  return {
    key,
    record: { id: newApiKeyId(), name, scopes: unique, rate_limit: rateLimit, prefix: key.slice(0, PREFIX_LENGTH), hash: hashApiKey(key) },
  };
}

/** `ingest,read` → ['ingest', 'read']; null when a name is not a scope or the list is empty. */
export function parseScopes(text: string): Scope[] | null {
  const names = text.split(',').map((name) => name.trim()).filter((name) => name !== '');
  if (names.length === 0 || !names.every(isScope)) return null;
  return [...new Set(names as Scope[])];
}
