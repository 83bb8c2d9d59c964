/**
 * Subscription CRUD. Not hot: a handful of rows, read by appends in their own transaction.
 *
 *   GET      $1 id
 *   INSERT   $1..$13 the columns
 *   UPDATE   $1..$11 the columns but created_at, $12 id
 *
 * Subscription status: active ⇄ disabled (by a user, or by Triggers on 410 Gone, with a
 * `disabled_reason`). A disabled subscription gets no new deliveries and hands out no claims;
 * its pending deliveries wait until it is enabled again.
 */
import { ConflictError } from '../../../core/errors.js';
import { DEFAULT_DELIVERY_OPTIONS, type NewSubscription, type Subscription, type SubscriptionPatch } from '../../../core/types.js';
import type { Queryable } from '../pool.js';
import { SUBSCRIPTION_COLUMNS, type SubscriptionRow, toSubscription } from '../rows.js';

const GET = `SELECT ${SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE id = $1`;
const GET_FOR_UPDATE = `${GET} FOR NO KEY UPDATE`;
const LIST = `SELECT ${SUBSCRIPTION_COLUMNS} FROM subscriptions ORDER BY created_at, id`;
const ACTIVE_IDS = "SELECT id FROM subscriptions WHERE status = 'active' ORDER BY id";
const INSERT = `INSERT INTO subscriptions (${SUBSCRIPTION_COLUMNS})
  VALUES ($1, $2, $3::text[], $4::jsonb, $5, $6, $7, $8::jsonb, $9::jsonb, $10, $11, $12, $13) ON CONFLICT (id) DO NOTHING`;
const UPDATE = `UPDATE subscriptions SET url = $1, event_types = $2::text[], secrets = $3::jsonb, status = $4, description = $5,
  disabled_reason = $6, metadata = $7::jsonb, delivery = $8::jsonb, first_failure_at = $9, last_success_at = $10,
  updated_at = $11 WHERE id = $12`;

export async function getSubscription(db: Queryable, id: string): Promise<Subscription | null> {
  const { rows } = await db.query<SubscriptionRow>(GET, [id]);
  return rows[0] === undefined ? null : toSubscription(rows[0]);
}

export async function listSubscriptions(db: Queryable): Promise<Subscription[]> {
  return (await db.query<SubscriptionRow>(LIST)).rows.map(toSubscription);
}

export async function activeSubscriptionIds(db: Queryable): Promise<string[]> {
  return (await db.query<{ id: string }>(ACTIVE_IDS)).rows.map((row) => row.id);
}

export async function createSubscription(db: Queryable, subscription: NewSubscription, now: number): Promise<Subscription> {
  const s: Subscription = {
    ...subscription,
    delivery: subscription.delivery ?? DEFAULT_DELIVERY_OPTIONS,
    first_failure_at: null,
    last_success_at: null,
    created_at: now,
    updated_at: now,
  };
  const inserted = await db.query(INSERT, [
    s.id,
    s.url,
    s.event_types,
    JSON.stringify(s.secrets),
    s.status,
    s.description,
    s.disabled_reason,
    JSON.stringify(s.metadata),
    JSON.stringify(s.delivery),
    s.first_failure_at,
    s.last_success_at,
    s.created_at,
    s.updated_at,
  ]);
  if (inserted.rowCount === 0) throw new ConflictError(`subscription ${JSON.stringify(s.id)} already exists`);
  return s;
}

/**
 * Read-modify-write under a row lock, so concurrent patches from other processes do not
 * interleave. `enabled`: it went from disabled to active (the caller wakes dispatchers).
 */
export async function updateSubscription(
  db: Queryable,
  id: string,
  patch: SubscriptionPatch,
  now: number,
): Promise<{ subscription: Subscription; enabled: boolean } | null> {
  const { rows } = await db.query<SubscriptionRow>(GET_FOR_UPDATE, [id]);
  if (rows[0] === undefined) return null;
  const current = toSubscription(rows[0]);
  const defined = Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined)) as SubscriptionPatch;
  const s: Subscription = { ...current, ...defined, id, updated_at: now };
  // Enabling starts the health clock afresh, or the endpoint would be disabled again at once.
  const enabled = current.status === 'disabled' && s.status === 'active';
  if (enabled) s.first_failure_at = null;
  await db.query(UPDATE, [
    s.url,
    s.event_types,
    JSON.stringify(s.secrets),
    s.status,
    s.description,
    s.disabled_reason,
    JSON.stringify(s.metadata),
    JSON.stringify(s.delivery),
    s.first_failure_at,
    s.last_success_at,
    s.updated_at,
    id,
  ]);
  return { subscription: s, enabled };
}

const DELETE = 'DELETE FROM subscriptions WHERE id = $1';
const DELETE_DELIVERIES = `WITH gone AS (DELETE FROM deliveries WHERE subscription_id = $1 RETURNING id)
  DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM gone)`;

/**
 * Deletes the subscription, then its deliveries and their attempts. In that order: deleting the
 * row waits for appends holding it FOR KEY SHARE, and the next statement's fresh snapshot then
 * sees (and deletes) the deliveries they committed.
 */
export async function deleteSubscription(db: Queryable, id: string): Promise<boolean> {
  const deleted = await db.query(DELETE, [id]);
  await db.query(DELETE_DELIVERIES, [id]);
  return deleted.rowCount !== 0;
}
