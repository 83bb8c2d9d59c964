/** The receiver's verbs: record, list and page, dedupe, clear, secrets, the list of receivers. */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import type { NewReceivedRequest, ReceiverVerdict } from '../../core/types.js';
import { collect, type OpenStore, storeTest, withCode } from './harness.js';

function received(name: string, overrides: Partial<NewReceivedRequest> = {}): NewReceivedRequest {
  const body = overrides.body ?? '{"n":1}';
  return {
    name,
    method: 'POST',
    path: `/receiver/${name}`,
    headers: { 'content-type': 'application/json', 'webhook-id': 'msg_1' },
    body,
    body_size: Buffer.byteLength(body),
    webhook_id: null,
    verdict: 'unsigned',
    legacy: false,
    ...overrides,
  };
}

export function receiverTests(open: OpenStore): void {
  const test = storeTest(open);

  describe('receiver', () => {
    test('records a request as given, stamped with the store clock and a new id', async ({ store, clock }) => {
      const input = received('demo', {
        headers: { 'content-type': 'text/plain; charset=utf-8', 'x-thing': 'a, b' },
        body: 'héllo\nworld',
        body_size: 12,
        webhook_id: 'msg_1',
        verdict: 'verified',
        legacy: true,
      });
      const stored = await store.recordReceived(input);
      assert.deepEqual(stored, { ...input, id: stored.id, received_at: clock.now, duplicate: false });
      assert.deepEqual(await store.getReceived(stored.id), stored);
      assert.equal(await store.getReceived('999999'), null);
      assert.equal(await store.getReceived('nonsense'), null);
      assert.equal(await store.getReceived(''), null);
    });

    test('lists newest first, per name or across names, with a verdict filter and cursors', async ({ store, clock }) => {
      const verdicts: ReceiverVerdict[] = ['verified', 'invalid_signature', 'unsigned', 'stale_timestamp', 'missing_signature'];
      const ids: string[] = [];
      for (let i = 0; i < 10; i++) {
        const name = i % 2 === 0 ? 'a' : 'b';
        ids.push((await store.recordReceived(received(name, { verdict: verdicts[i % 5] as ReceiverVerdict, body: `#${i}` }))).id);
        clock.advance(1);
      }
      const newestFirst = [...ids].reverse();
      const list = async (query: Parameters<typeof store.listReceived>[0]) =>
        (await store.listReceived(query)).items.map((r) => r.id);
      assert.deepEqual(await list({ limit: 100 }), newestFirst);
      assert.deepEqual(
        await list({ limit: 100, name: 'a' }),
        newestFirst.filter((_, i) => i % 2 === 1),
      );
      assert.deepEqual(await list({ limit: 100, name: 'nobody' }), []);
      assert.deepEqual(await list({ limit: 100, verdict: 'verified' }), [ids[5], ids[0]]);
      assert.deepEqual(await list({ limit: 100, name: 'b', verdict: 'verified' }), [ids[5]]);
      const paged = await collect((after) => store.listReceived({ limit: 3, after }));
      assert.deepEqual(
        paged.map((r) => r.id),
        newestFirst,
      );
      const pagedA = await collect((after) => store.listReceived({ limit: 2, after, name: 'a' }));
      assert.deepEqual(
        pagedA.map((r) => r.body),
        ['#8', '#6', '#4', '#2', '#0'],
      );
      const last = await store.listReceived({ limit: 10 });
      assert.equal(last.next_cursor, null);
      await assert.rejects(store.listReceived({ limit: 10, after: 'garbage!' }), withCode('invalid_cursor'));
    });

    test('an accepted webhook-id seen before is a duplicate, per receiver name', async ({ store }) => {
      const first = await store.recordReceived(received('a', { webhook_id: 'msg_1', verdict: 'verified' }));
      assert.equal(first.duplicate, false);
      const again = await store.recordReceived(received('a', { webhook_id: 'msg_1', verdict: 'verified' }));
      assert.equal(again.duplicate, true);
      assert.notEqual(again.id, first.id, 'a duplicate is still stored');
      assert.equal((await store.getReceived(again.id))?.duplicate, true);
      // Another receiver, another webhook-id, no webhook-id: not duplicates.
      assert.equal((await store.recordReceived(received('b', { webhook_id: 'msg_1', verdict: 'verified' }))).duplicate, false);
      assert.equal((await store.recordReceived(received('a', { webhook_id: 'msg_2', verdict: 'verified' }))).duplicate, false);
      assert.equal((await store.recordReceived(received('a', { webhook_id: null }))).duplicate, false);
      assert.equal((await store.recordReceived(received('a', { webhook_id: null }))).duplicate, false);
      // A rejected request neither is a duplicate nor makes the next one a duplicate.
      assert.equal(
        (await store.recordReceived(received('a', { webhook_id: 'msg_3', verdict: 'invalid_signature' }))).duplicate,
        false,
      );
      assert.equal((await store.recordReceived(received('a', { webhook_id: 'msg_3', verdict: 'verified' }))).duplicate, false);
      assert.equal(
        (await store.recordReceived(received('a', { webhook_id: 'msg_3', verdict: 'stale_timestamp' }))).duplicate,
        false,
      );
      // Unsigned requests are accepted, so they dedupe too.
      assert.equal((await store.recordReceived(received('c', { webhook_id: 'msg_1' }))).duplicate, false);
      assert.equal((await store.recordReceived(received('c', { webhook_id: 'msg_1' }))).duplicate, true);
    });

    test('copies of one webhook recorded concurrently: exactly one is not a duplicate', async ({ store }) => {
      const results = await Promise.all(
        Array.from({ length: 8 }, () => store.recordReceived(received('a', { webhook_id: 'msg_same', verdict: 'verified' }))),
      );
      assert.equal(results.filter((r) => !r.duplicate).length, 1);
      assert.equal(new Set(results.map((r) => r.id)).size, 8);
    });

    test('clear erases one receiver’s log and what dedupe remembers of it', async ({ store }) => {
      await store.recordReceived(received('a', { webhook_id: 'msg_1' }));
      await store.recordReceived(received('a'));
      const kept = await store.recordReceived(received('b'));
      assert.equal(await store.clearReceived('a'), 2);
      assert.equal(await store.clearReceived('a'), 0);
      assert.equal(await store.clearReceived('nobody'), 0);
      assert.deepEqual(
        (await store.listReceived({ limit: 10 })).items.map((r) => r.id),
        [kept.id],
      );
      assert.equal((await store.recordReceived(received('a', { webhook_id: 'msg_1' }))).duplicate, false);
      const next = await store.recordReceived(received('b'));
      assert.ok(Number(next.id) > Number(kept.id), 'ids keep increasing');
    });

    test('secrets: set, read, replace, remove', async ({ store }) => {
      assert.equal(await store.getReceiverSecret('a'), null);
      await store.setReceiverSecret('a', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
      assert.equal(await store.getReceiverSecret('a'), 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
      await store.setReceiverSecret('a', 'plain text secret');
      assert.equal(await store.getReceiverSecret('a'), 'plain text secret');
      assert.equal(await store.getReceiverSecret('b'), null);
      await store.setReceiverSecret('a', null);
      assert.equal(await store.getReceiverSecret('a'), null);
      await store.setReceiverSecret('nobody', null);
      assert.equal(await store.getReceiverSecret('nobody'), null);
    });

    test('listReceivers: names with counts, last arrival and whether a secret is set', async ({ store, clock }) => {
      assert.deepEqual(await store.listReceivers(), []);
      const t0 = clock.now;
      await store.recordReceived(received('b'));
      clock.advance(1000);
      await store.recordReceived(received('b', { verdict: 'invalid_signature' }));
      await store.recordReceived(received('a'));
      await store.setReceiverSecret('c', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
      await store.setReceiverSecret('b', 'secret');
      assert.deepEqual(await store.listReceivers(), [
        { name: 'a', count: 1, last_received_at: t0 + 1000, has_secret: false },
        { name: 'b', count: 2, last_received_at: t0 + 1000, has_secret: true },
        { name: 'c', count: 0, last_received_at: null, has_secret: true },
      ]);
      await store.clearReceived('b');
      await store.setReceiverSecret('c', null);
      assert.deepEqual(await store.listReceivers(), [
        { name: 'a', count: 1, last_received_at: t0 + 1000, has_secret: false },
        { name: 'b', count: 0, last_received_at: null, has_secret: true },
        { name: 'c', count: 0, last_received_at: null, has_secret: false },
      ]);
    });
  });
}
