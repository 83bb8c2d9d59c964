/**
 * appendEvents(client, requests, now) → one AppendResult per request, and the subscriptions woken
 *   requests[i].events        the events to store (ids and created_at filled by the caller)
 *   requests[i].idempotency   optional key + the response a repeat gets back
 *   now                       the store clock's time: every new delivery is due at it
 *
 * Stores the events of a whole group-commit batch with one multi-row INSERT per table, in the
 * caller's transaction:
 *
 *   $1..$5   unnest: event id, type, source, payload (json text), created_at
 *   $6..$9   unnest: delivery event_id, subscription_id, event_type, event_created_at
 *   $10      now (due time, created_at, updated_at of every delivery)
 *
 * Idempotency keys are claimed first (INSERT … ON CONFLICT DO NOTHING: a concurrent holder of
 * the same key in another process makes us wait for its commit, then lose); a key already taken
 * stores nothing and answers with the first response. A key seen twice within one batch: the
 * later request replays the earlier one's response, as if they had run one after the other.
 *
 * Subscriptions are read FOR KEY SHARE so a concurrent deleteSubscription waits for this commit
 * (and its own delete of the subscription's deliveries then sees ours) instead of leaving orphans.
 */
import { matchesAny } from '../../../core/filters.js';
import { type AppendRequest, type AppendResult, IDEMPOTENCY_TTL_MS, type Json } from '../../../core/types.js';
import type { Queryable } from '../pool.js';

// A key past its TTL ($5: now − IDEMPOTENCY_TTL_MS) is new again: taken over as if absent.
const CLAIM_KEYS = `INSERT INTO idempotency (key, status, body, created_at)
  SELECT * FROM unnest($1::text[], $2::int[], $3::json[], $4::bigint[])
  ON CONFLICT (key) DO UPDATE SET status = excluded.status, body = excluded.body, created_at = excluded.created_at
    WHERE idempotency.created_at <= $5
  RETURNING key`;
const SEEN_KEYS = 'SELECT key, status, body FROM idempotency WHERE key = ANY($1::text[])';
const ACTIVE = "SELECT id, event_types FROM subscriptions WHERE status = 'active' ORDER BY id FOR KEY SHARE";
const INSERT = `WITH stored AS (
    INSERT INTO events (id, type, source, payload, created_at)
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::json[], $5::bigint[])
  )
  INSERT INTO deliveries (event_id, subscription_id, event_type, event_created_at, status, next_attempt_at, created_at, updated_at)
  SELECT u.event_id, u.subscription_id, u.event_type, u.event_created_at, 'pending', $10, $10, $10
    FROM unnest($6::text[], $7::text[], $8::text[], $9::bigint[]) AS u(event_id, subscription_id, event_type, event_created_at)`;

export interface AppendBatchResult {
  results: AppendResult[];
  woken: Set<string>;
}

export async function appendEvents(
  client: Queryable,
  requests: readonly AppendRequest[],
  now: number,
): Promise<AppendBatchResult> {
  const results: (AppendResult | undefined)[] = new Array(requests.length);
  /** Index of the request that owns each key in this batch. */
  const owners = new Map<string, number>();
  const keyed: number[] = [];
  requests.forEach((request, index) => {
    const key = request.idempotency?.key;
    if (key === undefined || owners.has(key)) return;
    owners.set(key, index);
    keyed.push(index);
  });

  if (keyed.length > 0) {
    const keys = keyed.map((index) => requests[index]?.idempotency?.key as string);
    const responses = keyed.map((index) => requests[index]?.idempotency?.response);
    const claimed = await client.query<{ key: string }>(CLAIM_KEYS, [
      keys,
      responses.map((response) => response?.status),
      responses.map((response) => JSON.stringify(response?.body ?? null)),
      keys.map(() => now),
      now - IDEMPOTENCY_TTL_MS,
    ]);
    const won = new Set(claimed.rows.map((row) => row.key));
    const lost = keys.filter((key) => !won.has(key));
    if (lost.length > 0) {
      const seen = await client.query<{ key: string; status: number; body: Json }>(SEEN_KEYS, [lost]);
      for (const row of seen.rows) {
        const owner = owners.get(row.key) as number;
        results[owner] = { kind: 'replayed', response: { status: row.status, body: row.body } };
      }
    }
  }
  // Later requests with a key owned by an earlier one in this batch replay its response.
  requests.forEach((request, index) => {
    const key = request.idempotency?.key;
    if (key === undefined) return;
    const owner = owners.get(key) as number;
    if (owner === index) return;
    const first = results[owner];
    const response = first?.kind === 'replayed' ? first.response : requests[owner]?.idempotency?.response;
    if (response !== undefined) results[index] = { kind: 'replayed', response };
  });

  const subscriptions = (await client.query<{ id: string; event_types: string[] }>(ACTIVE)).rows;
  const events = {
    id: [] as string[],
    type: [] as string[],
    source: [] as string[],
    payload: [] as string[],
    created: [] as number[],
  };
  const deliveries = { event: [] as string[], subscription: [] as string[], type: [] as string[], created: [] as number[] };
  const woken = new Set<string>();
  requests.forEach((request, index) => {
    if (results[index] !== undefined) return;
    let count = 0;
    for (const event of request.events) {
      events.id.push(event.id);
      events.type.push(event.type);
      events.source.push(event.source);
      events.payload.push(JSON.stringify(event.payload));
      events.created.push(event.created_at);
      for (const subscription of subscriptions) {
        if (!matchesAny(subscription.event_types, event.type)) continue;
        deliveries.event.push(event.id);
        deliveries.subscription.push(subscription.id);
        deliveries.type.push(event.type);
        deliveries.created.push(event.created_at);
        woken.add(subscription.id);
        count++;
      }
    }
    results[index] = { kind: 'stored', deliveries: count };
  });
  if (events.id.length > 0) {
    await client.query(INSERT, [
      events.id,
      events.type,
      events.source,
      events.payload,
      events.created,
      deliveries.event,
      deliveries.subscription,
      deliveries.type,
      deliveries.created,
      now,
    ]);
  }
  return { results: results as AppendResult[], woken };
}
