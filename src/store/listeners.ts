/**
 * A store's listeners of one kind — deliveries ready (`onDeliveriesReady`), subscriptions changed
 * (`onSubscriptionsChanged`) — called after the write that concerns them committed. One that
 * throws does not stop the others, nor undo or hide the write: its error goes to `onError`
 * when there is one, else nowhere (the failure is the listener's own).
 */
export class Listeners<T = void> {
  readonly #listeners = new Set<(value: T) => void>();

  constructor(private readonly onError?: (error: Error) => void) {}

  /** Returns the function that removes it. */
  add(listener: (value: T) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  emit(value: T): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(value);
      } catch (error) {
        this.onError?.(error as Error);
      }
    }
  }

  clear(): void {
    this.#listeners.clear();
  }
}
