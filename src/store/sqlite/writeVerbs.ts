/**
 * Every write the SQLite store makes, by name: `verb(tx, ...args)` runs inside a group-commit
 * transaction. Naming them (rather than passing closures) lets the writer run on another thread:
 * a caller sends `[verb, args]` and gets the verb's result back (see writer.ts).
 *
 * The active-subscription cache lives with the verbs, on the writer's connection: appends read
 * it, subscription writes (and settles that disable a subscription) drop it.
 */
import type { NewApiKey } from '../../core/apiKeys.js';
import type {
  AppendRequest,
  EpochMs,
  NewReceivedRequest,
  NewSubscription,
  Settlement,
  SubscriptionPatch,
} from '../../core/types.js';
import type { ClaimQuery, ReplayFilter } from '../store.js';
import type { Tx } from './groupCommit.js';
import { ackEvent } from './queries/ackEvent.js';
import * as apiKeys from './queries/apiKeys.js';
import { appendEvents } from './queries/appendEvents.js';
import { claimDeliveries } from './queries/claimDeliveries.js';
import { extendLeases } from './queries/extendLeases.js';
import { deleteEvent } from './queries/getEvent.js';
import { purge } from './queries/purge.js';
import * as receivers from './queries/receivers.js';
import { recordReceived } from './queries/recordReceived.js';
import { replayDeliveries } from './queries/replayDeliveries.js';
import { settleDeliveries } from './queries/settleDeliveries.js';
import * as subscriptions from './queries/subscriptions.js';
import { SubscriptionCache } from './subscriptionCache.js';

export function createWriteVerbs() {
  const active = new SubscriptionCache();
  /** Runs a subscription write and drops the cached active list, whether it commits or not. */
  const invalidating = <T>(work: () => T): T => {
    try {
      return work();
    } finally {
      active.invalidate();
    }
  };
  const verbs = {
    append: (tx: Tx, request: AppendRequest) => appendEvents(tx, request, active.get(tx.db, tx.batch)),
    deleteEvent: (tx: Tx, id: string) => deleteEvent(tx, id),
    createSubscription: (tx: Tx, subscription: NewSubscription) =>
      invalidating(() => subscriptions.createSubscription(tx, subscription)),
    updateSubscription: (tx: Tx, id: string, patch: SubscriptionPatch) =>
      invalidating(() => subscriptions.updateSubscription(tx, id, patch)),
    deleteSubscription: (tx: Tx, id: string) => invalidating(() => subscriptions.deleteSubscription(tx, id)),
    ackEvent: (tx: Tx, subscriptionId: string, eventId: string) => ackEvent(tx, subscriptionId, eventId),
    claim: (tx: Tx, query: ClaimQuery) => claimDeliveries(tx, query),
    extendLeases: (tx: Tx, leases: { delivery_id: string; lease_token: string }[], leaseMs: number) =>
      extendLeases(tx, leases, leaseMs),
    settle: (tx: Tx, settlements: Settlement[]) => {
      const { results, disabled } = settleDeliveries(tx, settlements);
      if (disabled) active.invalidate();
      return results;
    },
    replay: (tx: Tx, filter: ReplayFilter) => replayDeliveries(tx, filter),
    recordReceived: (tx: Tx, request: NewReceivedRequest) => recordReceived(tx, request),
    clearReceived: (tx: Tx, name: string) => receivers.clearReceived(tx, name),
    setReceiverSecret: (tx: Tx, name: string, secret: string | null) => receivers.setReceiverSecret(tx, name, secret),
    purge: (tx: Tx, before: EpochMs, limit: number) => purge(tx, before, limit),
    createApiKey: (tx: Tx, key: NewApiKey) => apiKeys.createApiKey(tx, key),
    revokeApiKey: (tx: Tx, id: string) => apiKeys.revokeApiKey(tx, id),
  };
  return { verbs, onRollback: () => active.invalidate() };
}

/** Roughly how many rows a write touches: how group commit and the writer thread size batches. */
export function weight(verb: Verb, args: readonly unknown[]): number {
  if (verb === 'append') return (args[0] as AppendRequest).events.length;
  if (verb === 'settle') return (args[0] as Settlement[]).length;
  return 1;
}

export type WriteVerbs = ReturnType<typeof createWriteVerbs>['verbs'];
export type Verb = keyof WriteVerbs;
export type VerbArgs<V extends Verb> = WriteVerbs[V] extends (tx: Tx, ...args: infer A) => unknown ? A : never;
export type VerbResult<V extends Verb> = ReturnType<WriteVerbs[V]>;
