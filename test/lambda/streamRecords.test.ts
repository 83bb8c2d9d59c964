/** What each kind of DynamoDB Streams record asks of the stream dispatcher (src/lambda/streamRecords.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readRecord } from '../../src/lambda/streamRecords.js';
import { deliveryImage, eventImage, insertRecord } from './events.js';

describe('readRecord', () => {
  it('an INSERT of a pending delivery names its subscription', () => {
    assert.deepEqual(readRecord(insertRecord(deliveryImage('evt_1', 'orders'))), {
      kind: 'delivery',
      eventId: 'evt_1',
      subscriptionId: 'orders',
    });
  });

  it('an INSERT of an event asks for its deliveries, unless it lists none', () => {
    assert.deepEqual(readRecord(insertRecord(eventImage('evt_2'))), { kind: 'event', eventId: 'evt_2' });
    assert.deepEqual(readRecord(insertRecord({ ...eventImage('evt_3'), deliveries: { L: [] } })), { kind: 'skip' });
    assert.deepEqual(
      readRecord(insertRecord({ ...eventImage('evt_4'), deliveries: { L: [{ S: 'DLV#0123456789abcdef0123' }] } })),
      {
        kind: 'event',
        eventId: 'evt_4',
      },
    );
  });

  it('a keys-only delivery record falls back to its event', () => {
    const record = insertRecord(deliveryImage('evt_5', 'orders'));
    if (record.dynamodb) record.dynamodb.NewImage = undefined;
    assert.deepEqual(readRecord(record), { kind: 'event', eventId: 'evt_5' });
  });

  it('skips MODIFY and REMOVE, deliveries no longer pending, and other items', () => {
    assert.deepEqual(readRecord(insertRecord(deliveryImage('evt_6', 'orders'), 'MODIFY')), { kind: 'skip' });
    assert.deepEqual(readRecord(insertRecord(deliveryImage('evt_6', 'orders'), 'REMOVE')), { kind: 'skip' });
    assert.deepEqual(readRecord(insertRecord({ ...deliveryImage('evt_6', 'orders'), status: { S: 'delivered' } })), {
      kind: 'skip',
    });
    for (const [pk, sk] of [
      ['SUB', 'orders'],
      ['IDEM#k', 'IDEM'],
      ['COUNT#1', 'events'],
      ['RCV#demo', '000000000000001'],
    ] as const) {
      assert.deepEqual(readRecord(insertRecord({ pk: { S: pk }, sk: { S: sk } })), { kind: 'skip' }, pk);
    }
  });

  it('malformed: no stream section, no string keys, a delivery without its subscription', () => {
    const bare = insertRecord(eventImage('evt_7'));
    assert.equal(readRecord({ ...bare, dynamodb: undefined }).kind, 'malformed');
    assert.equal(readRecord(insertRecord({ pk: { N: '1' }, sk: { S: 'EVT' } })).kind, 'malformed');
    assert.equal(readRecord(insertRecord({ pk: { S: 'EVT#' }, sk: { S: 'EVT' } })).kind, 'malformed');
    const noSubscription = deliveryImage('evt_8', 'orders');
    delete noSubscription.subscription_id;
    assert.equal(readRecord(insertRecord(noSubscription)).kind, 'malformed');
    assert.equal(readRecord(insertRecord({ ...deliveryImage('evt_9', 'orders'), subscription_id: { S: '' } })).kind, 'malformed');
  });
});
