/**
 * The dispatcher: claim → deliver (signed POST) → settle, over a local Store or a remote API.
 *
 *   const dispatcher = createDispatcher({ source: new LocalSource(store, { retrySchedule }), config, metrics, logger });
 *   dispatcher.start();            // until stop(); or
 *   await dispatcher.runOnce(100); // one bounded run, with a summary
 */

export { Deliverer, type DelivererOptions, describeError, RESPONSE_EXCERPT_BYTES, USER_AGENT } from './deliver.js';
export { createDispatcher, type Dispatcher, type DispatcherOptions } from './dispatcher.js';
export { LocalSource, type LocalSourceOptions } from './localSource.js';
export { RemoteSource } from './remoteSource.js';
export type { AttemptReport, ClaimOptions, DeliverySource, OutcomeKind, PushTarget, SettledReport } from './source.js';
export type { RunSummary } from './summary.js';
