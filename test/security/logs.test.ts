/**
 * What the logs must never hold: tokens. The console's live feed takes its token in the query
 * string (`?access_token=`, EventSource cannot send headers), and a failed request is logged with
 * its URL, so a storage outage while consoles reconnect must not write their tokens to the log.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../../src/api/index.js';
import { UnavailableError } from '../../src/core/errors.js';
import { createLogger } from '../../src/observability/logger.js';
import { Metrics } from '../../src/observability/metrics.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/store.js';
import { TEST_API_KEY, testConfig } from '../api/helpers.js';

describe('security: logs', () => {
  const lines: string[] = [];
  let now = Date.now();
  let dir: string;
  let store: Store;
  let app: FastifyInstance;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'triggers-logs-'));
    const config = testConfig({}, dir);
    store = await openSqliteStore(join(dir, 'triggers.db'), { clock: () => now });
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    app = await buildApi({
      config,
      store,
      metrics: new Metrics({ defaultMetrics: false }),
      logger: createLogger('info', sink),
      clock: () => now,
    });
  });
  after(async () => {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a failed request with ?access_token= is logged without the token', async () => {
    const created = await app.inject({
      method: 'POST',
      url: '/keys',
      headers: { 'x-api-key': TEST_API_KEY },
      payload: { name: 'console', scopes: ['read'] },
    });
    assert.equal(created.statusCode, 201, created.body);
    const issued = await app.inject({ method: 'POST', url: '/token', payload: { api_key: created.json().key } });
    const token = issued.json().access_token as string;
    // Past what the API remembers about the key, so the stream asks the store, which is down.
    now += 10_000;
    const original = store.getApiKey.bind(store);
    const failures: Error[] = [new UnavailableError('database is down'), new Error('driver bug')];
    try {
      for (const failure of failures) {
        store.getApiKey = async () => {
          throw failure;
        };
        const res = await app.inject({ method: 'GET', url: `/console/stream?access_token=${token}&x=1` });
        assert.ok(res.statusCode >= 500, `${res.statusCode} ${res.body}`);
        now += 10_000;
      }
    } finally {
      store.getApiKey = original;
    }
    const logged = lines.join('');
    assert.match(logged, /storage unavailable/);
    assert.match(logged, /request failed/);
    assert.match(logged, /\/console\/stream\?access_token=\[redacted\]&x=1/, 'the URL is still there, the token blanked');
    assert.ok(!logged.includes(token), 'no token in the logs');
    assert.ok(!logged.includes(token.split('.')[2] as string), 'not even its signature');
  });
});
