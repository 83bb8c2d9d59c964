/**
 * OpenTelemetry spans, recorded by a hand-made TracerProvider (recordingTracer.ts): POST /events
 * and /events/batch produce an ingest span; each delivery attempt a deliver span with the event,
 * subscription, attempt number, status code and outcome.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createDispatcherHandlers } from '../../src/lambda/dispatcher.js';
import { DELIVER_SPAN, DISPATCH_SPAN, INGEST_BATCH_SPAN, INGEST_SPAN } from '../../src/observability/tracing.js';
import { startTestServer, type TestServer } from '../api/helpers.js';
import { addSubscription, appendEvents, harness } from '../dispatcher/helpers.js';
import { type Sink, startSink } from '../support/sink.js';
import { lambdaContext, scheduledEvent } from './events.js';
import { type RecordingTracerProvider, recordSpans } from './recordingTracer.js';
import { captureLogger, captureOutput, lambdaEnv } from './support.js';

let spans: RecordingTracerProvider;
before(() => {
  spans = recordSpans();
});

describe('ingest spans', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it('POST /events records one ended span with the event id', async () => {
    const res = await server.request('POST', '/events', { body: { type: 'order.created', source: 'shop', payload: { n: 1 } } });
    assert.equal(res.status, 201);
    const span = spans.named(INGEST_SPAN).find((s) => s.attributes['triggers.event_id'] === res.json.id);
    assert.ok(span, 'an ingest span for the event');
    assert.equal(span.scope, 'triggers');
    assert.equal(span.ended, true);
    assert.equal(span.attributes['triggers.ingest.outcome'], 'stored');
  });

  it('a replayed Idempotency-Key is traced as replayed', async () => {
    const body = { type: 'order.created', source: 'shop', payload: { n: 2 } };
    const first = await server.request('POST', '/events', { body, headers: { 'idempotency-key': 'k-1' } });
    const second = await server.request('POST', '/events', { body, headers: { 'idempotency-key': 'k-1' } });
    assert.equal(second.json.id, first.json.id);
    const outcomes = spans
      .named(INGEST_SPAN)
      .filter((s) => s.attributes['triggers.event_id'] !== undefined && s.ended)
      .map((s) => s.attributes['triggers.ingest.outcome']);
    assert.ok(outcomes.includes('replayed'));
  });

  it('POST /events/batch records one span with the count', async () => {
    const res = await server.request('POST', '/events/batch', {
      body: { events: [1, 2, 3].map((n) => ({ type: 'order.created', source: 'shop', payload: { n } })) },
    });
    assert.equal(res.status, 201);
    const span = spans.named(INGEST_BATCH_SPAN).at(-1);
    assert.ok(span);
    assert.equal(span.attributes['triggers.event_count'], 3);
    assert.equal(span.attributes['triggers.event_id'], res.json.events[0].id);
    assert.equal(span.ended, true);
  });

  it('a rejected body starts no ingest span', async () => {
    const before = spans.spans.length;
    const res = await server.request('POST', '/events', { body: { type: 'x' } });
    assert.equal(res.status, 400);
    assert.equal(spans.spans.length, before);
  });
});

describe('delivery spans', () => {
  let sink: Sink;
  before(async () => {
    sink = await startSink();
  });
  after(() => sink.close());

  it('each attempt records event, subscription, attempt, status code and outcome', async () => {
    const h = await harness({ TRIGGERS_RETRY_SCHEDULE: '10ms' });
    try {
      sink.respond('/traced', [{ status: 500 }, { status: 200 }]);
      await addSubscription(h.store, 'traced', `${sink.url}/traced`);
      const [eventId] = await appendEvents(h.store, 1);
      const first = await h.dispatcher.runOnce(10);
      assert.equal(first.retries, 1);
      await new Promise((resolve) => setTimeout(resolve, 30));
      const second = await h.dispatcher.runOnce(10);
      assert.equal(second.succeeded, 1);

      const attempts = spans.named(DELIVER_SPAN).filter((s) => s.attributes['triggers.event_id'] === eventId);
      assert.equal(attempts.length, 2);
      const [failed, delivered] = attempts as [(typeof attempts)[0], (typeof attempts)[0]];
      assert.deepEqual(
        [
          failed.attributes['triggers.subscription_id'],
          failed.attributes['triggers.attempt'],
          failed.attributes['http.response.status_code'],
        ],
        ['traced', 1, 500],
      );
      assert.equal(failed.attributes['triggers.attempt.outcome'], 'retryable');
      assert.equal(failed.status?.code, 2 /* SpanStatusCode.ERROR */);
      assert.equal(delivered.attributes['triggers.attempt'], 2);
      assert.equal(delivered.attributes['http.response.status_code'], 200);
      assert.equal(delivered.attributes['triggers.attempt.outcome'], 'delivered');
      assert.ok(attempts.every((s) => s.ended));
    } finally {
      await h.close();
    }
  });

  it('a connection error is recorded with its error type and no status code', async () => {
    const h = await harness({ TRIGGERS_RETRY_SCHEDULE: '10ms' });
    try {
      const closed = await startSink();
      const url = `${closed.url}/gone`;
      await closed.close();
      await addSubscription(h.store, 'down', url);
      const [eventId] = await appendEvents(h.store, 1);
      await h.dispatcher.runOnce(10);
      const span = spans.named(DELIVER_SPAN).find((s) => s.attributes['triggers.event_id'] === eventId);
      assert.ok(span);
      assert.equal(span.attributes['http.response.status_code'], undefined);
      assert.equal(span.attributes['error.type'], 'ECONNREFUSED');
      assert.equal(span.attributes['triggers.attempt.outcome'], 'retryable');
    } finally {
      await h.close();
    }
  });
});

describe('Lambda dispatcher span', () => {
  it('each invocation is one triggers.dispatch span with its counts', async () => {
    const testEnv = lambdaEnv();
    const handlers = createDispatcherHandlers({
      env: testEnv.env,
      logger: captureLogger().logger,
      writeMetrics: captureOutput().write,
    });
    try {
      const result = await handlers.scheduledHandler(scheduledEvent(), lambdaContext());
      const span = spans.named(DISPATCH_SPAN).at(-1);
      assert.ok(span);
      assert.equal(span.ended, true);
      assert.deepEqual(
        [span.attributes['triggers.handler'], span.attributes['triggers.processed'], span.attributes['triggers.failed']],
        ['scheduled', result.processed, result.failed],
      );
    } finally {
      await handlers.close();
      testEnv.cleanup();
    }
  });
});
