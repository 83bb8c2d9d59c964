import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseDuration } from '../../src/core/duration.js';
import { isValidEventType, isValidFilter, matchesFilter } from '../../src/core/filters.js';
import { isValidId, newEventId } from '../../src/core/ids.js';
import { decide, parseRetryAfter } from '../../src/core/outcome.js';
import { parseSchedule, retryDelay } from '../../src/core/retry.js';
import { isPrivateAddress } from '../../src/core/targets.js';

describe('ids', () => {
  it('are unique, valid, dot-free and sort by creation time, even within one millisecond', () => {
    const ids = Array.from({ length: 5000 }, () => newEventId());
    assert.equal(new Set(ids).size, ids.length);
    assert.deepEqual([...ids].sort(), ids);
    for (const id of ids) {
      assert.ok(isValidId(id));
      assert.ok(!id.includes('.'));
    }
    assert.ok(newEventId(1_000) < newEventId(2_000_000_000_000));
  });
});

describe('event-type filters', () => {
  it('match *, exact types and prefix wildcards', () => {
    assert.ok(matchesFilter('*', 'order.created'));
    assert.ok(matchesFilter('order.created', 'order.created'));
    assert.ok(!matchesFilter('order.created', 'order.updated'));
    assert.ok(matchesFilter('order.*', 'order.created'));
    assert.ok(matchesFilter('order.*', 'order.item.added'));
    assert.ok(!matchesFilter('order.*', 'orders.created'));
    assert.ok(!matchesFilter('order.*', 'order'));
  });
  it('validate types and filters', () => {
    assert.ok(isValidEventType('test.event'));
    assert.ok(!isValidEventType(''));
    assert.ok(!isValidEventType('a..b'));
    assert.ok(!isValidEventType('a b'));
    assert.ok(isValidFilter('*'));
    assert.ok(isValidFilter('order.*'));
    assert.ok(!isValidFilter('*.created'));
  });
  it('a prefix filter matches exactly the types that extend it (property)', () => {
    const segment = fc.stringMatching(/^[a-z0-9_]{1,8}$/);
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 4 }), fc.array(segment, { minLength: 1, maxLength: 4 }), (a, b) => {
        const type = b.join('.');
        assert.equal(matchesFilter(`${a.join('.')}.*`, type), type.startsWith(`${a.join('.')}.`));
      }),
    );
  });
});

describe('durations and the retry schedule', () => {
  it('parse the written forms', () => {
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('5s'), 5000);
    assert.equal(parseDuration('5m'), 300_000);
    assert.equal(parseDuration('2h'), 7_200_000);
    assert.equal(parseDuration('3'), 3000);
    assert.equal(parseDuration('5 minutes'), null);
    assert.deepEqual(parseSchedule('1s, 2s,4s'), [1000, 2000, 4000]);
    assert.equal(parseSchedule('1s,soon'), null);
    assert.deepEqual(parseSchedule(' '), []);
    assert.equal(parseSchedule('1s,,2s'), null);
    assert.equal(parseSchedule('1s,2s,'), null);
  });
  it('jitters each delay by at most 20 % and ends when the schedule is used up', () => {
    const schedule = [1000, 2000];
    assert.equal(retryDelay(schedule, 0, () => 0), 800);
    assert.equal(retryDelay(schedule, 0, () => 1), 1200);
    assert.equal(retryDelay(schedule, 1, () => 0.5), 2000);
    assert.equal(retryDelay(schedule, 2), null);
  });
});

describe('outcome rules', () => {
  const schedule = [1000, 2000];
  const now = 1_000_000;
  const half = () => 0.5;
  it('2xx delivers; 410 dead-letters and disables; permanent 4xx dead-letters', () => {
    assert.deepEqual(decide({ status_code: 204, error: null }, 0, schedule, now).outcome, { kind: 'delivered' });
    const gone = decide({ status_code: 410, error: null }, 0, schedule, now);
    assert.equal(gone.outcome.kind, 'dead');
    assert.ok(gone.disable_subscription);
    assert.equal(decide({ status_code: 400, error: null }, 0, schedule, now).outcome.kind, 'dead');
    assert.equal(decide({ status_code: 404, error: null }, 0, schedule, now).outcome.kind, 'dead');
  });
  it('retries 5xx, 408, 425, 429, 3xx and network errors on the schedule, then dead-letters', () => {
    for (const status of [500, 503, 408, 425, 429, 301, null]) {
      assert.deepEqual(decide({ status_code: status, error: 'x' }, 0, schedule, now, half).outcome, { kind: 'retry', next_attempt_at: now + 1000 });
      assert.deepEqual(decide({ status_code: status, error: 'x' }, 1, schedule, now, half).outcome, { kind: 'retry', next_attempt_at: now + 2000 });
      assert.equal(decide({ status_code: status, error: 'x' }, 2, schedule, now).outcome.kind, 'dead');
    }
  });
  it('honours Retry-After, clamped', () => {
    assert.deepEqual(decide({ status_code: 429, error: null, retry_after_ms: 30_000 }, 0, schedule, now).outcome, { kind: 'retry', next_attempt_at: now + 30_000 });
    assert.deepEqual(decide({ status_code: 429, error: null, retry_after_ms: 0 }, 0, schedule, now).outcome, { kind: 'retry', next_attempt_at: now + 1000 });
    assert.deepEqual(decide({ status_code: 503, error: null, retry_after_ms: 1e12 }, 0, schedule, now).outcome, { kind: 'retry', next_attempt_at: now + 86_400_000 });
    assert.equal(parseRetryAfter('120', now), 120_000);
    assert.equal(parseRetryAfter(new Date(now + 5000).toUTCString(), now), 5000);
    assert.equal(parseRetryAfter('soon', now), null);
  });
});

describe('private addresses', () => {
  it('recognises loopback, private, link-local and metadata addresses', () => {
    for (const address of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '::1', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', '0.0.0.0']) {
      assert.ok(isPrivateAddress(address), address);
    }
    for (const address of ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946', '8.8.8.8']) {
      assert.ok(!isPrivateAddress(address), address);
    }
  });
});
