/**
 * What one Lambda container sets up once and reuses across invocations: the configuration (with
 * the Secrets Manager secret), the store, metrics, a logger, and what the handler builds from
 * them (the fastify app, the dispatcher).
 *
 *   first invocation   load config → read secret → open store, migrate → resolve secrets →
 *                      default subscription → build
 *   later invocations  secret still fresh (TRIGGERS_SECRET_TTL): reuse everything
 *                      secret re-read and unchanged: reuse everything
 *                      secret changed: resolve again, rebuild, dispose the old build (the store stays);
 *                      a changed secret that cannot be applied leaves the old build serving
 *
 * A failed setup fails that invocation only; the next one tries again from where it stopped.
 */
import type { SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';
import { type Config, type Env, loadConfig } from '../config/config.js';
import { generateApiKey, type ResolvedConfig } from '../config/secrets.js';
import { ConfigError } from '../core/errors.js';
import { generateSecret } from '../core/signing.js';
import { DEFAULT_SUBSCRIPTION_ID, ensureDefaultSubscription } from '../defaultSubscription.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';
import { openStore } from '../store/index.js';
import type { Store } from '../store/store.js';
import { SecretCache, type SecretValue } from './secretsManager.js';

export interface LambdaParts {
  config: ResolvedConfig;
  store: Store;
  metrics: Metrics;
  logger: Logger;
}

/** What tests (and embedders) may hand a handler factory instead of the process's own. */
export interface HandlerOptions {
  /** Default: process.env, read at the first invocation. */
  env?: Env;
  /** Secrets Manager client settings (endpoint, region, credentials). */
  secretsClient?: SecretsManagerClientConfig;
  logger?: Logger;
}

export interface ContainerOptions<T> extends HandlerOptions {
  /** Which handler this is, for logs. */
  handler: string;
  /** The API handler needs the API key and JWT secret configured; dispatchers do not use them. */
  requireCredentials: boolean;
  build(parts: LambdaParts): Promise<T>;
  dispose?(built: T): Promise<void>;
}

interface Current<T> {
  secretText: string | null;
  parts: LambdaParts;
  built: T;
}

export class LambdaContainer<T> {
  readonly #options: ContainerOptions<T>;
  #base: Config | null = null;
  #logger: Logger | null = null;
  #secrets: SecretCache | null = null;
  #store: Store | null = null;
  #metrics: Metrics | null = null;
  #current: Current<T> | null = null;
  #pending: Promise<Current<T>> | null = null;
  /** A secret value that could not be applied: not tried again until the secret changes. */
  #rejected: string | null = null;

  constructor(options: ContainerOptions<T>) {
    this.#options = options;
  }

  get secrets(): SecretCache | null {
    return this.#secrets;
  }

  /** The current build, set up or refreshed as needed. */
  async get(): Promise<{ built: T; parts: LambdaParts }> {
    this.#pending ??= this.#refresh().finally(() => {
      this.#pending = null;
    });
    const current = await this.#pending;
    return { built: current.built, parts: current.parts };
  }

  /** The logger, once the configuration could be read (for reporting setup failures). */
  get logger(): Logger | null {
    return this.#logger;
  }

  async #refresh(): Promise<Current<T>> {
    const env = this.#options.env ?? process.env;
    if (this.#base === null) {
      const base = loadConfig({ env });
      this.#logger ??= (this.#options.logger ?? createLogger(base.logLevel, process.stdout)).child({
        handler: this.#options.handler,
      });
      if (base.aws.secretArn !== null) {
        this.#secrets = new SecretCache({
          secretId: base.aws.secretArn,
          ttlMs: base.aws.secretTtlMs,
          client: this.#options.secretsClient,
          onStale: (error) => this.#logger?.warn({ err: error }, 'could not re-read the secret; still using the last value read'),
        });
      }
      this.#base = base;
    }
    const secret: SecretValue | null = this.#secrets ? await this.#secrets.get() : null;
    const secretText = secret?.text ?? null;
    const current = this.#current;
    if (current !== null && (current.secretText === secretText || this.#rejected === secretText)) return current;
    if (current === null) return this.#setUp(env, secret);
    try {
      return await this.#setUp(env, secret);
    } catch (error) {
      // A changed secret that cannot be applied leaves the last good settings serving (as a
      // reload would), rather than failing every request until someone fixes it.
      this.#rejected = secretText;
      this.#logger?.error(
        { err: error, secret_version: secret?.versionId ?? null },
        'the changed secret could not be applied; still serving with the previous settings',
      );
      return current;
    }
  }

  async #setUp(env: Env, secret: SecretValue | null): Promise<Current<T>> {
    const secretText = secret?.text ?? null;
    const config =
      secret === null
        ? (this.#base as Config)
        : loadConfig({ env, secrets: { setting: 'TRIGGERS_SECRET_ARN', values: secret.values } });
    const logger = this.#logger as Logger;
    if (this.#store === null) {
      const store = await openStore(config.database, { encryptionKey: config.encryptionKey });
      try {
        await store.migrate();
      } catch (error) {
        await store.close().catch(() => undefined);
        throw error;
      }
      this.#store = store;
    }
    const store = this.#store;
    const resolved = await resolveLambdaSecrets(config, store, this.#options.requireCredentials);
    await ensureDefaultSubscription(store, resolved);
    this.#metrics ??= new Metrics({ defaultMetrics: false });
    const parts: LambdaParts = { config: resolved, store, metrics: this.#metrics, logger };
    const built = await this.#options.build(parts);
    const previous = this.#current;
    this.#current = { secretText, parts, built };
    this.#rejected = null;
    if (previous) {
      logger.info({ secret_version: secret?.versionId ?? null }, 'the secret changed; settings reloaded');
      await this.#options
        .dispose?.(previous.built)
        .catch((error: unknown) => logger.warn({ err: error }, 'disposing the old build failed'));
    } else {
      logger.info({ database: config.database.kind, secret: this.#secrets?.secretId ?? null }, 'container ready');
    }
    return this.#current;
  }

  /** Disposes the build and closes the store (tests; a Lambda container simply ends). */
  async close(): Promise<void> {
    await this.#pending?.catch(() => undefined);
    const current = this.#current;
    this.#current = null;
    if (current) await this.#options.dispose?.(current.built);
    await this.#store?.close();
    this.#store = null;
    this.#secrets?.close();
    this.#logger?.flush();
  }
}

/**
 * A Lambda has no disk to keep generated secrets on, and every container must agree on them:
 * the API key and JWT secret must be configured (for the API), and the default subscription's
 * signing secret, when not configured, is the one it already has in the store.
 */
export async function resolveLambdaSecrets(config: Config, store: Store, requireCredentials: boolean): Promise<ResolvedConfig> {
  if (requireCredentials) {
    const where = config.aws.secretArn ? `the secret ${config.aws.secretArn}` : 'TRIGGERS_SECRET_ARN';
    if (config.apiKey === undefined) {
      throw new ConfigError('TRIGGERS_API_KEY', `no API key: set zapier_api_key in ${where}, or TRIGGERS_API_KEY`);
    }
    if (config.jwtSecret === undefined) {
      throw new ConfigError('TRIGGERS_JWT_SECRET', `no JWT secret: set jwt_secret in ${where}, or TRIGGERS_JWT_SECRET`);
    }
  }
  let webhookSecret = config.webhookSecret;
  if (webhookSecret === undefined) {
    const existing = await store.getSubscription(DEFAULT_SUBSCRIPTION_ID);
    webhookSecret = existing?.secrets.find((entry) => entry.expires_at === null)?.secret ?? generateSecret();
  }
  return {
    ...config,
    // Unused by the dispatchers: they never answer /token.
    apiKey: config.apiKey ?? generateApiKey(),
    jwtSecret: config.jwtSecret ?? generateSecret(),
    webhookSecret,
  };
}
