/**
 * Subscription CRUD. Writes run in the caller's (group-commit) transaction; the caller
 * invalidates the active-subscription cache after each. JSON columns: event_types, secrets,
 * metadata.
 *
 * Subscription status: active ⇄ disabled (by a user, or by Triggers on 410 Gone, with a
 * `disabled_reason`). A disabled subscription gets no new deliveries and hands out no claims;
 * its pending deliveries wait until it is enabled again.
 */
import { ConflictError } from '../../../core/errors.js';
import { DEFAULT_DELIVERY_OPTIONS, type NewSubscription, type Subscription, type SubscriptionPatch } from '../../../core/types.js';
import { isConstraintError } from '../errors.js';
import type { Tx } from '../groupCommit.js';
import { type Db, prepared } from '../prepared.js';
import { type SubscriptionRow, toSubscription } from '../rows.js';

const COLUMNS = 'id, url, event_types, secrets, status, description, disabled_reason, metadata, delivery, first_failure_at, last_success_at, created_at, updated_at';
const GET = `SELECT ${COLUMNS} FROM subscriptions WHERE id = ?`;
const LIST = `SELECT ${COLUMNS} FROM subscriptions ORDER BY created_at, id`;
const INSERT = `INSERT INTO subscriptions (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
const UPDATE = `UPDATE subscriptions SET url = ?, event_types = ?, secrets = ?, status = ?, description = ?,
  disabled_reason = ?, metadata = ?, delivery = ?, first_failure_at = ?, last_success_at = ?, updated_at = ? WHERE id = ?`;

export function getSubscription(db: Db, id: string): Subscription | null {
  const row = prepared(db, GET).get(id) as SubscriptionRow | undefined;
  return row === undefined ? null : toSubscription(row);
}

export const listSubscriptions = (db: Db): Subscription[] => (prepared(db, LIST).all() as SubscriptionRow[]).map(toSubscription);

function write(db: Db, sql: string, s: Subscription, idLast: boolean): void {
  const values = [
    s.url,
    JSON.stringify(s.event_types),
    JSON.stringify(s.secrets),
    s.status,
    s.description,
    s.disabled_reason,
    JSON.stringify(s.metadata),
    JSON.stringify(s.delivery),
    s.first_failure_at,
    s.last_success_at,
  ];
  if (idLast) prepared(db, sql).run(...values, s.updated_at, s.id);
  else prepared(db, sql).run(s.id, ...values, s.created_at, s.updated_at);
}

export function createSubscription(tx: Tx, subscription: NewSubscription): Subscription {
  const created: Subscription = {
    ...subscription,
    delivery: subscription.delivery ?? DEFAULT_DELIVERY_OPTIONS,
    first_failure_at: null,
    last_success_at: null,
    created_at: tx.now,
    updated_at: tx.now,
  };
  try {
    write(tx.db, INSERT, created, false);
  } catch (error) {
    if (isConstraintError(error)) throw new ConflictError(`subscription ${JSON.stringify(subscription.id)} already exists`);
    throw error;
  }
  return created;
}

export function updateSubscription(tx: Tx, id: string, patch: SubscriptionPatch): Subscription | null {
  const current = getSubscription(tx.db, id);
  if (current === null) return null;
  const defined = Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined)) as SubscriptionPatch;
  const updated: Subscription = { ...current, ...defined, id, updated_at: tx.now };
  // Enabling starts the health clock afresh, or the endpoint would be disabled again at once.
  if (current.status === 'disabled' && updated.status === 'active') {
    updated.first_failure_at = null;
    // Its pending deliveries are due again: wake dispatchers as for new ones.
    tx.notify([id]);
  }
  write(tx.db, UPDATE, updated, true);
  return updated;
}

const DELETE_ATTEMPTS = 'DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE subscription_id = ?)';
const DELETE_DELIVERIES = 'DELETE FROM deliveries WHERE subscription_id = ?';
const DELETE = 'DELETE FROM subscriptions WHERE id = ?';

/** Deletes the subscription with its deliveries and their attempts. */
export function deleteSubscription(tx: Tx, id: string): boolean {
  prepared(tx.db, DELETE_ATTEMPTS).run(id);
  prepared(tx.db, DELETE_DELIVERIES).run(id);
  return prepared(tx.db, DELETE).run(id).changes > 0;
}
