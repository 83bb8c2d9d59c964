/**
 * The entry points the CDK stack names (docs/lambda.md): `handler` in lambda/api, and
 * `scheduledHandler` / `streamHandler` in lambda/dispatcher, working from process.env alone as
 * they do on Lambda.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { deliveryImage, functionUrlEvent, insertRecord, lambdaContext, parsed, streamEvent } from './events.js';
import { API_KEY, JWT_SECRET, lambdaEnv } from './support.js';

const testEnv = lambdaEnv({ TRIGGERS_API_KEY: API_KEY, TRIGGERS_JWT_SECRET: JWT_SECRET, TRIGGERS_LOG_LEVEL: 'silent' });
Object.assign(process.env, testEnv.env);

describe('exported handlers', () => {
  after(() => testEnv.cleanup());

  it('lambda/api exports handler, configured from process.env', async () => {
    const api = await import('../../src/lambda/api.js');
    assert.equal(typeof api.handler, 'function');
    const health = parsed(await api.handler(functionUrlEvent('GET', '/health'), lambdaContext()));
    assert.equal(health.status, 200);
    const token = parsed(await api.handler(functionUrlEvent('POST', '/token', { body: { api_key: API_KEY } }), lambdaContext()));
    assert.equal(token.status, 200);
    await api.handler.close();
  });

  it('lambda/dispatcher exports scheduledHandler and streamHandler', async () => {
    const dispatcher = await import('../../src/lambda/dispatcher.js');
    assert.equal(typeof dispatcher.scheduledHandler, 'function');
    assert.equal(typeof dispatcher.streamHandler, 'function');
    // MODIFY records are not new work: no run, nothing printed.
    const answer = await dispatcher.streamHandler(
      streamEvent([insertRecord(deliveryImage('evt_1', 'default'), 'MODIFY')]),
      lambdaContext(),
    );
    assert.deepEqual(answer, { batchItemFailures: [] });
  });
});
