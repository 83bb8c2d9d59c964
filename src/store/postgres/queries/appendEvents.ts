/**
 * appendEvents(db, requests, now, wake) → one AppendResult per request, and the subscriptions woken
 *   requests[i].events        the events to store (ids and created_at filled by the caller)
 *   requests[i].idempotency   optional key + the response a repeat gets back
 *   now                       the store clock's time: every new delivery is due at it
 *   wake                      the NOTIFY channel and this process's origin tag (see notify.ts)
 *
 * A whole group-commit batch is one statement, STORE below, so a batch without idempotency keys
 * costs one round trip and one implicit transaction (its commit, synchronous_commit on, comes
 * before the answer): no BEGIN, no COMMIT, no separate read of the subscriptions or NOTIFY.
 * Inside it:
 *
 *   active    the active subscriptions, FOR KEY SHARE, so a concurrent deleteSubscription waits
 *             for this commit (and its delete of the subscription's deliveries then sees ours)
 *             instead of leaving orphans
 *   input     the events, from arrays ($1..$5: id, type, source, payload json text, created_at)
 *   stored    INSERT INTO events
 *   queued    INSERT INTO deliveries: one per (event, active subscription whose filters match),
 *             due at $6; the filter test is core/filters.ts's, in SQL
 *   notified  one NOTIFY ($7 channel) per 50 woken subscriptions, tagged with $8, this process's
 *             origin; queued in the transaction, so sent only on commit
 *
 * The statement answers one row per delivery (event id, subscription id). It is prepared once per
 * connection (a named statement), so PostgreSQL parses and plans it once.
 *
 * Requests with an Idempotency-Key need their key claimed first, in the same transaction
 * (INSERT … ON CONFLICT DO NOTHING: a concurrent holder of the same key in another process makes
 * us wait for its commit, then lose); a key already taken stores nothing and answers with the
 * first response. A key seen twice within one batch: the later request replays the earlier one's
 * response, as if they had run one after the other. A batch holding any key therefore runs as
 * BEGIN, key claims, STORE, COMMIT.
 */
import { type AppendRequest, type AppendResult, IDEMPOTENCY_TTL_MS, type Json } from '../../../core/types.js';
import type { Queryable } from '../pool.js';

// A key past its TTL ($5: now − IDEMPOTENCY_TTL_MS) is new again: taken over as if absent.
const CLAIM_KEYS = `INSERT INTO idempotency (key, status, body, created_at)
  SELECT * FROM unnest($1::text[], $2::int[], $3::json[], $4::bigint[])
  ON CONFLICT (key) DO UPDATE SET status = excluded.status, body = excluded.body, created_at = excluded.created_at
    WHERE idempotency.created_at <= $5
  RETURNING key`;
const SEEN_KEYS = 'SELECT key, status, body FROM idempotency WHERE key = ANY($1::text[])';

/** Subscription ids are at most 128 characters: 50 of them stay under NOTIFY's 8,000 bytes. */
const IDS_PER_NOTIFY = 50;

// The final SELECT reads `notified` in a one-time filter: a plain SELECT in WITH runs only when
// something reads it, and this way it runs once, before the deliveries are returned.
export const STORE = {
  name: 'triggers_append_events',
  text: `WITH active AS (
    SELECT id, event_types FROM subscriptions WHERE status = 'active' FOR KEY SHARE
  ), input AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::json[], $5::bigint[]) AS e(id, type, source, payload, created_at)
  ), stored AS (
    INSERT INTO events (id, type, source, payload, created_at) SELECT id, type, source, payload, created_at FROM input
  ), queued AS (
    INSERT INTO deliveries (event_id, subscription_id, event_type, event_created_at, status, next_attempt_at, created_at, updated_at)
    SELECT e.id, s.id, e.type, e.created_at, 'pending', $6, $6, $6
      FROM input e JOIN active s ON EXISTS (
        SELECT 1 FROM unnest(s.event_types) AS f(filter)
         WHERE CASE WHEN f.filter = '*' THEN true
                    WHEN right(f.filter, 2) = '.*' THEN starts_with(e.type, left(f.filter, -1))
                    ELSE f.filter = e.type END)
    RETURNING event_id, subscription_id
  ), notified AS (
    SELECT pg_notify($7, json_build_object('o', $8::text, 's', json_agg(subscription_id))::text)
      FROM (SELECT subscription_id, (row_number() OVER () - 1) / ${IDS_PER_NOTIFY} AS chunk
              FROM (SELECT DISTINCT subscription_id FROM queued) AS woken) AS numbered
     GROUP BY chunk
  )
  SELECT event_id, subscription_id FROM queued WHERE (SELECT count(*) FROM notified) >= 0`,
};

export interface Wake {
  channel: string;
  origin: string;
}

export interface AppendBatchResult {
  results: AppendResult[];
  woken: Set<string>;
}

/** Whether the batch can run as the single STORE statement (no keys to claim first). */
export const needsTransaction = (requests: readonly AppendRequest[]): boolean =>
  requests.some((request) => request.idempotency !== undefined);

export async function appendEvents(
  db: Queryable,
  requests: readonly AppendRequest[],
  now: number,
  wake: Wake,
): Promise<AppendBatchResult> {
  const results: (AppendResult | undefined)[] = new Array(requests.length);
  if (needsTransaction(requests)) await claimKeys(db, requests, results, now);

  const events = {
    id: [] as string[],
    type: [] as string[],
    source: [] as string[],
    payload: [] as string[],
    created: [] as number[],
  };
  /** The request each stored event came from. */
  const origin = new Map<string, number>();
  requests.forEach((request, index) => {
    if (results[index] !== undefined) return;
    for (const event of request.events) {
      events.id.push(event.id);
      events.type.push(event.type);
      events.source.push(event.source);
      events.payload.push(JSON.stringify(event.payload));
      events.created.push(event.created_at);
      origin.set(event.id, index);
    }
    results[index] = { kind: 'stored', deliveries: 0 };
  });
  const woken = new Set<string>();
  if (events.id.length > 0) {
    const { rows } = await db.query<{ event_id: string; subscription_id: string }>(STORE, [
      events.id,
      events.type,
      events.source,
      events.payload,
      events.created,
      now,
      wake.channel,
      wake.origin,
    ]);
    for (const row of rows) {
      woken.add(row.subscription_id);
      const result = results[origin.get(row.event_id) as number];
      if (result?.kind === 'stored') result.deliveries++;
    }
  }
  return { results: results as AppendResult[], woken };
}

/** Claims the batch's idempotency keys; fills `results` for the requests that replay instead. */
async function claimKeys(
  db: Queryable,
  requests: readonly AppendRequest[],
  results: (AppendResult | undefined)[],
  now: number,
): Promise<void> {
  /** Index of the request that owns each key in this batch. */
  const owners = new Map<string, number>();
  const keyed: number[] = [];
  requests.forEach((request, index) => {
    const key = request.idempotency?.key;
    if (key === undefined || owners.has(key)) return;
    owners.set(key, index);
    keyed.push(index);
  });

  const keys = keyed.map((index) => requests[index]?.idempotency?.key as string);
  const responses = keyed.map((index) => requests[index]?.idempotency?.response);
  const claimed = await db.query<{ key: string }>(CLAIM_KEYS, [
    keys,
    responses.map((response) => response?.status),
    responses.map((response) => JSON.stringify(response?.body ?? null)),
    keys.map(() => now),
    now - IDEMPOTENCY_TTL_MS,
  ]);
  const won = new Set(claimed.rows.map((row) => row.key));
  const lost = keys.filter((key) => !won.has(key));
  if (lost.length > 0) {
    const seen = await db.query<{ key: string; status: number; body: Json }>(SEEN_KEYS, [lost]);
    for (const row of seen.rows) {
      const owner = owners.get(row.key) as number;
      results[owner] = { kind: 'replayed', response: { status: row.status, body: row.body } };
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
}
