/**
 * Listeners told that something changed (no details: they re-read what they need). Each store
 * keeps one set for `onSubscriptionsChanged` and calls it after a subscription write commits.
 */
export class ChangeListeners {
  readonly #listeners = new Set<() => void>();

  add(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Calls every listener; one that throws does not stop the others, nor the write that changed. */
  emit(): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener();
      } catch {
        // The listener's failure is its own: the change is committed either way.
      }
    }
  }

  clear(): void {
    this.#listeners.clear();
  }
}
