/**
 * The seed's settings secret (`zapier_api_key`, `zapier_webhook_url`, `jwt_secret`,
 * `webhook_secret`) read from AWS Secrets Manager, once per container and again after the TTL.
 *
 *   cold ──get()──► fetching ──► fresh ──(TTL passes)──► stale ──get()──► fetching ──► fresh
 *                      │                                                    │
 *                      └─ fails: get() rejects (the invocation fails)       └─ fails: the stale
 *                                                                              value is kept, and
 *                                                                              read again after
 *                                                                              min(TTL, 30 s)
 *
 * Concurrent get()s share one request. A secret that was read once is never dropped because
 * Secrets Manager is briefly unreachable: the last good value keeps the container serving.
 */
import { GetSecretValueCommand, SecretsManagerClient, type SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';
import { ConfigError } from '../core/errors.js';

export interface SecretValue {
  /** The parsed JSON object. */
  values: Record<string, unknown>;
  /** The secret's text as stored: equal text, equal settings. */
  text: string;
  /** The version Secrets Manager answered with. */
  versionId: string | null;
}

export interface SecretCacheOptions {
  /** ARN or name of the secret (TRIGGERS_SECRET_ARN). */
  secretId: string;
  /** How long a fetched value is used before it is read again (TRIGGERS_SECRET_TTL). */
  ttlMs: number;
  /** SDK client settings (endpoint, region, credentials); the environment's defaults otherwise. */
  client?: SecretsManagerClientConfig;
  clock?: () => number;
  /** Told when a refresh fails and the stale value is kept. */
  onStale?: (error: unknown) => void;
}

/** After a failed re-read, the stale value is used this long (at most the TTL) before trying again. */
const STALE_RETRY_MS = 30_000;

export class SecretCache {
  readonly secretId: string;
  readonly #ttlMs: number;
  readonly #client: SecretsManagerClient;
  readonly #clock: () => number;
  readonly #onStale: (error: unknown) => void;
  #value: SecretValue | null = null;
  /** The value is used without a read until then. */
  #freshUntil = 0;
  #fetching: Promise<SecretValue> | null = null;
  /** GetSecretValue requests made (for tests and logs). */
  fetches = 0;

  constructor(options: SecretCacheOptions) {
    this.secretId = options.secretId;
    this.#ttlMs = options.ttlMs;
    this.#client = new SecretsManagerClient(options.client ?? {});
    this.#clock = options.clock ?? Date.now;
    this.#onStale = options.onStale ?? (() => undefined);
  }

  /** The cached value while fresh; otherwise reads the secret (sharing a read already under way). */
  async get(): Promise<SecretValue> {
    if (this.#value !== null && this.#clock() < this.#freshUntil) return this.#value;
    this.#fetching ??= this.#fetch().finally(() => {
      this.#fetching = null;
    });
    if (this.#value === null) return this.#fetching;
    try {
      return await this.#fetching;
    } catch (error) {
      // Secrets Manager is not asked again by every invocation while it fails.
      this.#freshUntil = this.#clock() + Math.min(this.#ttlMs, STALE_RETRY_MS);
      this.#onStale(error);
      return this.#value;
    }
  }

  async #fetch(): Promise<SecretValue> {
    this.fetches++;
    let answer: { SecretString?: string; SecretBinary?: Uint8Array; VersionId?: string };
    try {
      answer = await this.#client.send(new GetSecretValueCommand({ SecretId: this.secretId }));
    } catch (error) {
      const name = (error as { name?: string }).name ?? 'Error';
      throw new ConfigError(
        'TRIGGERS_SECRET_ARN',
        `cannot read the secret ${this.secretId} (${name}: ${(error as Error).message})`,
      );
    }
    const text = answer.SecretString ?? (answer.SecretBinary ? Buffer.from(answer.SecretBinary).toString('utf8') : undefined);
    if (text === undefined) throw new ConfigError('TRIGGERS_SECRET_ARN', `the secret ${this.secretId} has no value`);
    const value = parseSecret(this.secretId, text, answer.VersionId ?? null);
    this.#value = value;
    this.#freshUntil = this.#clock() + this.#ttlMs;
    return value;
  }

  close(): void {
    this.#client.destroy();
  }
}

function parseSecret(secretId: string, text: string, versionId: string | null): SecretValue {
  let values: unknown;
  try {
    values = JSON.parse(text);
  } catch {
    throw new ConfigError(
      'TRIGGERS_SECRET_ARN',
      `the secret ${secretId} is not JSON; expected the keys zapier_api_key, zapier_webhook_url, jwt_secret, webhook_secret`,
    );
  }
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    throw new ConfigError('TRIGGERS_SECRET_ARN', `the secret ${secretId} must hold a JSON object`);
  }
  return { values: values as Record<string, unknown>, text, versionId };
}
