/**
 * In-process notification of stored requests, for live views (the console's server-sent
 * events, `triggers receive` printing each request). One feed per Store instance, reached with
 * `receiverFeed(store)`: the receiver routes and a live view built on the same `ctx.store` meet
 * there without the API context having to carry anything new.
 *
 *   const stop = receiverFeed(ctx.store).onReceived((request) => send(request));
 *   …
 *   stop();
 *
 * Only requests received by this process are seen: with several API processes on one
 * PostgreSQL database, each process's feed shows its own arrivals (the stored log has them all).
 */
import type { ReceivedRequest } from '../core/types.js';
import type { Store } from '../store/store.js';

export type ReceivedListener = (request: ReceivedRequest) => void;

export class ReceiverFeed {
  private readonly listeners = new Set<ReceivedListener>();

  /** Calls `listener` after each request is stored. Returns the function that stops it. */
  onReceived(listener: ReceivedListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  emit(request: ReceivedRequest): void {
    for (const listener of this.listeners) {
      try {
        listener(request);
      } catch {
        // A live view's failure must not fail the sender's request, which is already stored.
      }
    }
  }
}

const feeds = new WeakMap<Store, ReceiverFeed>();

/** The feed of requests stored through `store` by this process's receiver routes. */
export function receiverFeed(store: Store): ReceiverFeed {
  let feed = feeds.get(store);
  if (feed === undefined) {
    feed = new ReceiverFeed();
    feeds.set(store, feed);
  }
  return feed;
}
