/** /metrics of a running `triggers serve`: prom-client's process series under one `triggers_` prefix. */
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
});
