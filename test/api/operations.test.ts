import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildApi } from '../../src/api/index.js';
import { addOperationIds, derivedId } from '../../src/api/openapi.js';
import { UnavailableError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/observability/logger.js';
import { Metrics } from '../../src/observability/metrics.js';
import type { Store } from '../../src/store/store.js';
import { errorCode, sendEvent, startTestServer, type TestServer } from './helpers.js';

describe('operations', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it('reports health with storage readiness', async () => {
    const res = await server.request('GET', '/health', { auth: false });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { status: 'ok', storage: 'ok', role: 'all' });
  });

  it('serves Prometheus text', async () => {
    await sendEvent(server);
    const res = await server.request('GET', '/metrics', { auth: false });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    assert.match(res.text, /# TYPE triggers_events_ingested_total counter/);
    assert.match(res.text, /triggers_events_ingested_total\{type="order.created"\} \d+/);
    assert.match(res.text, /triggers_queue_depth\{subscription="default"\} \d+/);
  });

  it('serves a JSON summary for the console', async () => {
    await sendEvent(server);
    const res = await server.request('GET', '/metrics/summary');
    assert.equal(res.status, 200);
    const summary = res.json;
    assert.ok(summary.counts.events >= 1);
    assert.ok(summary.counts.pending >= 1);
    assert.equal(typeof summary.throughput.events_per_second, 'number');
    assert.equal(typeof summary.throughput.deliveries_per_second, 'number');
    assert.ok('p50' in summary.latency_ms && 'p95' in summary.latency_ms && 'p99' in summary.latency_ms);
    assert.ok(summary.totals.events_ingested >= 2);
    assert.ok(Array.isArray(summary.subscriptions));
  });

  it('publishes a valid OpenAPI 3.1 document listing every route', async () => {
    const res = await server.request('GET', '/openapi.json', { auth: false });
    assert.equal(res.status, 200);
    const doc = res.json;
    assert.match(doc.openapi, /^3\.1/);
    assert.equal(doc.components.securitySchemes.bearerAuth.scheme, 'bearer');
    assert.equal(doc.components.securitySchemes.apiKey.name, 'X-API-Key');
    const expected: [string, string][] = [
      ['post', '/token'],
      ['post', '/events'],
      ['post', '/events/batch'],
      ['get', '/events'],
      ['get', '/events/{id}'],
      ['delete', '/events/{id}'],
      ['get', '/inbox'],
      ['post', '/inbox/{id}/ack'],
      ['post', '/inbox/claim'],
      ['post', '/deliveries/{delivery_id}/ack'],
      ['post', '/deliveries/{delivery_id}/nack'],
      ['post', '/deliveries/settle'],
      ['post', '/deliveries/{delivery_id}/replay'],
      ['post', '/subscriptions'],
      ['get', '/subscriptions'],
      ['get', '/subscriptions/{id}'],
      ['patch', '/subscriptions/{id}'],
      ['delete', '/subscriptions/{id}'],
      ['post', '/subscriptions/{id}/disable'],
      ['post', '/subscriptions/{id}/enable'],
      ['post', '/subscriptions/{id}/rotate-secret'],
      ['get', '/dead-letters'],
      ['post', '/dead-letters/replay'],
      ['get', '/health'],
      ['get', '/metrics'],
      ['get', '/metrics/summary'],
    ];
    for (const [method, path] of expected) {
      const operation = doc.paths[path]?.[method];
      assert.ok(operation, `${method.toUpperCase()} ${path} missing`);
      assert.ok(operation.tags?.length > 0, `${method} ${path} has no tag`);
      assert.ok(operation.summary, `${method} ${path} has no summary`);
      assert.ok(operation.responses, `${method} ${path} has no responses`);
    }
    assert.deepEqual(doc.paths['/health'].get.security, []);
    assert.deepEqual(doc.paths['/token'].post.security, []);
    assert.ok(doc.paths['/events'].post.requestBody.content['application/json'].schema.properties.payload);
    const docs = await server.request('GET', '/docs', { auth: false });
    assert.equal(docs.status, 200);
  });

  it('marks as not required the bodies that may be left out, and those routes answer without one', async () => {
    const doc = (await server.request('GET', '/openapi.json', { auth: false })).json;
    const optional: [string, string][] = [];
    for (const [path, item] of Object.entries<Record<string, { requestBody?: { required?: boolean } }>>(doc.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        if (operation.requestBody?.required === false) optional.push([method.toUpperCase(), path]);
      }
    }
    assert.equal(optional.length, 6, JSON.stringify(optional));
    const concrete = (path: string) => path.replace('{delivery_id}', '99999999').replace('{id}', 'default');
    for (const [method, path] of optional) {
      const res = await server.request(method, concrete(path));
      assert.ok(res.status < 300 || res.status === 404, `${method} ${path} without a body: ${res.status} ${res.text}`);
    }
  });

  it('names the API URL in the OpenAPI document only when TRIGGERS_API_URL is set', async () => {
    // Without it the document has no servers entry: clients use the origin they fetched it from.
    assert.equal((await server.request('GET', '/openapi.json', { auth: false })).json.servers, undefined);
    const configured = await startTestServer({ TRIGGERS_API_URL: 'https://hooks.example.com' });
    try {
      const doc = (await configured.request('GET', '/openapi.json', { auth: false })).json;
      assert.deepEqual(doc.servers, [{ url: 'https://hooks.example.com' }]);
    } finally {
      await configured.close();
    }
  });

  it('serves the reference page (/docs) with its own scripts only and never inside a frame', async () => {
    for (const path of ['/docs', '/docs/static/index.html', '/docs/static/swagger-initializer.js']) {
      const res = await server.request('GET', path, { auth: false });
      assert.equal(res.status, 200, path);
      const csp = String(res.headers.get('content-security-policy'));
      assert.match(csp, /script-src 'self';/, path);
      assert.match(csp, /frame-ancestors 'none'/, path);
      assert.equal(res.headers.get('x-frame-options'), 'DENY', path);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path);
    }
  });

  it('gives every operation a unique, stable camelCase operationId', async () => {
    const doc = (await server.request('GET', '/openapi.json', { auth: false })).json;
    const ids = new Map<string, string>();
    for (const [path, item] of Object.entries<Record<string, { operationId?: string }>>(doc.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        const id = operation.operationId;
        assert.ok(id, `${method.toUpperCase()} ${path} has no operationId`);
        assert.match(id, /^[a-z][A-Za-z0-9]*$/, `${method} ${path}: ${id}`);
        assert.ok(!ids.has(id), `${id} names both ${ids.get(id)} and ${method} ${path}`);
        ids.set(id, `${method} ${path}`);
      }
    }
    assert.ok(ids.size >= 26);
    // Client method names: fixed, readable, the same in every build.
    assert.equal(doc.paths['/events'].post.operationId, 'createEvent');
    assert.equal(doc.paths['/events'].get.operationId, 'listEvents');
    assert.equal(doc.paths['/events/{id}'].get.operationId, 'getEvent');
    assert.equal(doc.paths['/inbox'].get.operationId, 'listInbox');
    assert.equal(doc.paths['/inbox/{id}/ack'].post.operationId, 'ackInboxEvent');
    assert.equal(doc.paths['/subscriptions/{id}/rotate-secret'].post.operationId, 'rotateSubscriptionSecret');
    assert.equal(doc.paths['/token'].post.operationId, 'createToken');
  });

  it('derives an operationId for a route without a given one', () => {
    assert.equal(derivedId('post', '/foo-bar/{item_id}/baz'), 'postFooBarByItemIdBaz');
    assert.equal(derivedId('GET', '/things'), 'getThings');
    const doc = addOperationIds({
      paths: { '/things': { get: {}, post: { operationId: 'makeThing' } }, '/events': { post: {} } },
    });
    assert.deepEqual(doc.paths, {
      '/things': { get: { operationId: 'getThings' }, post: { operationId: 'makeThing' } },
      '/events': { post: { operationId: 'createEvent' } },
    });
  });

  it('answers unknown routes with 404 JSON and wrong methods with 405', async () => {
    const unknown = await server.request('GET', '/no/such/route', { auth: false });
    assert.equal(unknown.status, 404);
    assert.equal(errorCode(unknown), 'route_not_found');
    const authed = await server.request('POST', '/nothing-here');
    assert.equal(authed.status, 404);
    const wrong = await server.request('PUT', '/subscriptions/default');
    assert.equal(wrong.status, 405);
    assert.equal(errorCode(wrong), 'method_not_allowed');
    assert.match(wrong.headers.get('allow') ?? '', /PATCH/);
  });
});

describe('operations when storage fails', () => {
  it('reports 503 from /health and 503 with Retry-After from routes', async () => {
    const server = await startTestServer();
    try {
      const failing = Object.create(server.store) as Store;
      failing.ping = async () => {
        throw new Error('disk gone');
      };
      failing.append = async () => {
        throw new UnavailableError('storage is busy', 3);
      };
      failing.listEvents = async () => {
        throw new Error('unexpected bug');
      };
      const app = await buildApi({ config: server.config, store: failing, metrics: new Metrics({ defaultMetrics: false }), logger: silentLogger() });
      try {
        const health = await app.inject({ method: 'GET', url: '/health' });
        assert.equal(health.statusCode, 503);
        assert.equal(health.json().storage, 'unavailable');
        const busy = await app.inject({
          method: 'POST',
          url: '/events',
          headers: { 'x-api-key': server.apiKey },
          payload: { type: 'a', source: 'b', payload: {} },
        });
        assert.equal(busy.statusCode, 503);
        assert.equal(busy.headers['retry-after'], '3');
        assert.equal(busy.json().error.code, 'unavailable');
        const bug = await app.inject({ method: 'GET', url: '/events', headers: { 'x-api-key': server.apiKey } });
        assert.equal(bug.statusCode, 500);
        assert.deepEqual(bug.json(), { error: { code: 'internal_error', message: 'Internal server error' } });
      } finally {
        await app.close();
      }
    } finally {
      await server.close();
    }
  });

  it('serves only operational routes in the dispatcher role', async () => {
    const server = await startTestServer();
    try {
      const app = await buildApi({ config: server.config, store: server.store, metrics: new Metrics({ defaultMetrics: false }), logger: silentLogger(), role: 'dispatcher' });
      try {
        const health = await app.inject({ method: 'GET', url: '/health' });
        assert.equal(health.json().role, 'dispatcher');
        assert.equal((await app.inject({ method: 'GET', url: '/metrics' })).statusCode, 200);
        assert.equal((await app.inject({ method: 'GET', url: '/events', headers: { 'x-api-key': server.apiKey } })).statusCode, 404);
      } finally {
        await app.close();
      }
    } finally {
      await server.close();
    }
  });
});
