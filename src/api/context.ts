/**
 * What every route module is handed: the dependencies `buildApi` received, plus the little
 * per-server state the routes share (the clock, and what this server remembers about the
 * deliveries it leased out).
 */
import type { Role } from '../config/config.js';
import type { ResolvedConfig } from '../config/secrets.js';
import type { EpochMs } from '../core/types.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { Store } from '../store/store.js';
import type { ClaimMemory } from './claims.js';

export interface ApiDeps {
  config: ResolvedConfig;
  store: Store;
  metrics: Metrics;
  logger: Logger;
  /** Which role this process plays; `dispatcher` serves only the operational routes. Default: config.role. */
  role?: Role;
  /** The time source; tests pass a controllable clock. */
  clock?: () => EpochMs;
  /** How long a request may take to arrive in full (headers and body). Default REQUEST_TIMEOUT_MS. */
  requestTimeoutMs?: number;
}

/** A request (headers and body) still arriving after this long is answered 408 and closed. */
export const REQUEST_TIMEOUT_MS = 60_000;

export interface ApiContext {
  config: ResolvedConfig;
  store: Store;
  metrics: Metrics;
  logger: Logger;
  role: Role;
  clock: () => EpochMs;
  claims: ClaimMemory;
}
