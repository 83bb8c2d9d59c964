/**
 * The package's public entry: run Triggers embedded, talk to it, or reuse its signing.
 *   import { startTriggers, loadConfig, resolveSecrets } from 'triggers';
 *   import { TriggersClient } from 'triggers/client';
 */
export { startTriggers, type StartOptions, type Triggers } from './app.js';
export { loadConfig, type Config, type LoadOptions } from './config/config.js';
export { resolveSecrets, type ResolvedConfig } from './config/secrets.js';
export { TriggersClient, TriggersApiError } from './client/index.js';
export { generateSecret, sign, signatureHeaders, verify, legacySignature, verifyLegacy } from './core/signing.js';
export { openStore } from './store/index.js';
export type { Store } from './store/store.js';
export type * from './core/types.js';
