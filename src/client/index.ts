/**
 * The typed client for the Triggers HTTP API, importable as `triggers/client`:
 *
 *   const client = new TriggersClient({ baseUrl: 'http://127.0.0.1:8080', apiKey });
 *   await client.sendEvent({ type: 'order.created', source: 'shop', payload: { id: 42 } });
 *   const { items } = await client.inbox();
 */
export { type RequestOptions, TriggersClient, type TriggersClientOptions } from './client.js';
export { TriggersApiError } from './errors.js';
export type * from './types.js';
