/**
 * What a DynamoDB Streams record asks the stream dispatcher to do. The table's stream carries
 * NEW_IMAGE records of every write; only INSERTs of pending deliveries and of events matter (new
 * work). Items are laid out as in src/store/dynamodb/keys.ts:
 *
 *   event     pk EVT#<event id>   sk EVT                       → its pending deliveries (read from the store),
 *                                                                unless its `deliveries` list is empty
 *   delivery  pk EVT#<event id>   sk DLV#<subscription digest> → its subscription (`subscription_id`)
 *
 * Any other item, and any MODIFY or REMOVE, is not work: skipped. A record that cannot be read
 * (no stream section, no keys, a delivery without its subscription) is malformed: reported back
 * to Lambda as a batch item failure.
 */
import type { AttributeValue, DynamoDBRecord } from 'aws-lambda';

export type RecordWork =
  | { kind: 'delivery'; eventId: string; subscriptionId: string }
  | { kind: 'event'; eventId: string }
  | { kind: 'skip' }
  | { kind: 'malformed'; reason: string };

const EVENT_PK_PREFIX = 'EVT#';
const EVENT_SK = 'EVT';
const DELIVERY_SK_PREFIX = 'DLV#';

const text = (value: AttributeValue | undefined): string | null => (typeof value?.S === 'string' ? value.S : null);

export function readRecord(record: DynamoDBRecord): RecordWork {
  if (record.eventName !== 'INSERT') return { kind: 'skip' };
  const stream = record.dynamodb;
  if (!stream) return { kind: 'malformed', reason: 'the record has no dynamodb section' };
  const image = stream.NewImage;
  const pk = text(image?.pk) ?? text(stream.Keys?.pk);
  const sk = text(image?.sk) ?? text(stream.Keys?.sk);
  if (pk === null || sk === null) return { kind: 'malformed', reason: 'the item has no pk/sk string keys' };
  if (!pk.startsWith(EVENT_PK_PREFIX)) return { kind: 'skip' };
  const eventId = pk.slice(EVENT_PK_PREFIX.length);
  if (eventId === '') return { kind: 'malformed', reason: `no event id in ${pk}` };
  // An event item lists its deliveries' keys: none means no subscription matched it.
  if (sk === EVENT_SK) return image?.deliveries?.L?.length === 0 ? { kind: 'skip' } : { kind: 'event', eventId };
  if (!sk.startsWith(DELIVERY_SK_PREFIX)) return { kind: 'skip' };
  // A keys-only stream names the delivery by digest only: its event's deliveries are read instead.
  if (!image) return { kind: 'event', eventId };
  const status = text(image.status);
  if (status !== null && status !== 'pending') return { kind: 'skip' };
  const subscriptionId = text(image.subscription_id);
  if (subscriptionId === null || subscriptionId === '') {
    return { kind: 'malformed', reason: `the delivery ${pk} ${sk} has no subscription_id` };
  }
  return { kind: 'delivery', eventId, subscriptionId };
}
