/**
 * /metrics of a running `triggers serve`: prom-client's process series under one `triggers_` prefix,
 * and the disk syncs behind every accepted event.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { freshDir, type Server, startServe } from '../support/process.js';

describe('triggers serve /metrics', () => {
  let server: Server | undefined;
  after(async () => {
    await server?.kill();
  });

  it('names the process series triggers_process_* and triggers_nodejs_*, never triggers_process_process_*', async () => {
    server = await startServe(freshDir());
    const text = await (await fetch(`${server.url}/metrics`)).text();
    for (const name of [
      'triggers_process_cpu_seconds_total',
      'triggers_process_resident_memory_bytes',
      'triggers_nodejs_heap_size_used_bytes',
      'triggers_nodejs_eventloop_lag_seconds',
      'triggers_events_ingested_total',
    ]) {
      assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), name);
    }
    assert.doesNotMatch(text, /triggers_process_process_|triggers_process_nodejs_/);
  });

  it('times the disk sync behind each accepted event (triggers_store_sync_seconds)', async () => {
    await server?.kill();
    const apiKey = 'metrics-test-key-0123456789';
    server = await startServe(freshDir(), { TRIGGERS_API_KEY: apiKey });
    const syncs = async () => {
      const text = await (await fetch(`${server?.url}/metrics`)).text();
      return Number(/^triggers_store_sync_seconds_count (\d+)$/m.exec(text)?.[1] ?? Number.NaN);
    };
    const before = await syncs();
    const response = await fetch(`${server.url}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
      body: JSON.stringify({ type: 'order.created', source: 'test', payload: {} }),
    });
    assert.equal(response.status, 201);
    assert.ok((await syncs()) > before, 'the 201 came after at least one more fdatasync');
  });
});
