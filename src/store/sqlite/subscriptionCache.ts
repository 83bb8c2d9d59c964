/**
 * The active subscriptions' filters, which every append batch needs. Read once and reused until
 * a subscription write in this process invalidates it, or until another connection commits
 * (PRAGMA data_version moves; e.g. a `triggers` CLI command working on the same file).
 */
import { prepared, type Db } from './prepared.js';

export interface ActiveSubscription {
  id: string;
  event_types: string[];
}

export class SubscriptionCache {
  private active: ActiveSubscription[] | null = null;
  private dataVersion = -1;
  private checkedIn = -1;

  invalidate(): void {
    this.active = null;
  }

  /**
   * Call inside the write transaction so the list matches what the transaction sees. Another
   * connection cannot commit while this one holds the write lock, so data_version is checked
   * once per transaction (`batch`), not once per job.
   */
  get(db: Db, batch: number): ActiveSubscription[] {
    if (this.active !== null && this.checkedIn === batch) return this.active;
    this.checkedIn = batch;
    const version = prepared(db, 'PRAGMA data_version').pluck().get() as number;
    if (this.active === null || version !== this.dataVersion) {
      const rows = prepared(db, "SELECT id, event_types FROM subscriptions WHERE status = 'active' ORDER BY id").all() as {
        id: string;
        event_types: string;
      }[];
      this.active = rows.map((row) => ({ id: row.id, event_types: JSON.parse(row.event_types) as string[] }));
      this.dataVersion = version;
    }
    return this.active;
  }
}
