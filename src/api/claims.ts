/**
 * What this server remembers about the deliveries it leased out through `POST /inbox/claim`:
 * the subscription (for metric labels), the retry index (a default when a nack omits it), and
 * the event's creation time (for the delivery-latency histogram). Bounded, oldest forgotten
 * first; a delivery settled through another process is simply not in it, and the settle still
 * works — only its metrics are left to whoever made the attempt.
 */
import type { ClaimedDelivery, EpochMs } from '../core/types.js';

export interface ClaimNote {
  subscription_id: string;
  retry_index: number;
  event_created_at: EpochMs;
}

export class ClaimMemory {
  private readonly notes = new Map<string, ClaimNote>();

  constructor(private readonly max = 100_000) {}

  remember(claims: readonly ClaimedDelivery[]): void {
    for (const claim of claims) {
      this.notes.delete(claim.delivery_id);
      this.notes.set(claim.delivery_id, {
        subscription_id: claim.subscription_id,
        retry_index: claim.retry_index,
        event_created_at: claim.event.created_at,
      });
    }
    while (this.notes.size > this.max) {
      const oldest = this.notes.keys().next().value as string;
      this.notes.delete(oldest);
    }
  }

  get(deliveryId: string): ClaimNote | undefined {
    return this.notes.get(deliveryId);
  }

  forget(deliveryId: string): void {
    this.notes.delete(deliveryId);
  }
}
