/**
 * One timer for many per-target wake-up times (retries coming due, claim back-offs): it fires at
 * the earliest, wakes every target that is due, and re-arms for the next. No busy polling.
 */
export interface Wakeable {
  wakeAt: number | null;
}

/** Longer sleeps are cut short; the safety poll would look anyway. */
const MAX_SLEEP_MS = 60_000;

export class WakeTimer<T extends Wakeable> {
  #timer: NodeJS.Timeout | null = null;
  #at = Number.POSITIVE_INFINITY;

  constructor(
    private readonly items: () => Iterable<T>,
    private readonly wake: (item: T) => void,
  ) {}

  /** Wakes `item` at `at`, unless it is already due to wake earlier. */
  set(item: T, at: number): void {
    if (item.wakeAt !== null && item.wakeAt <= at) return;
    item.wakeAt = at;
    if (at < this.#at) this.#arm(at);
  }

  clear(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#at = Number.POSITIVE_INFINITY;
  }

  #arm(at: number): void {
    this.clear();
    this.#at = at;
    this.#timer = setTimeout(() => this.#fire(), Math.min(Math.max(0, at - Date.now()), MAX_SLEEP_MS));
  }

  #fire(): void {
    this.#timer = null;
    this.#at = Number.POSITIVE_INFINITY;
    const now = Date.now();
    let next = Number.POSITIVE_INFINITY;
    for (const item of this.items()) {
      if (item.wakeAt === null) continue;
      if (item.wakeAt <= now + 1) {
        item.wakeAt = null;
        this.wake(item);
      } else if (item.wakeAt < next) next = item.wakeAt;
    }
    if (next !== Number.POSITIVE_INFINITY) this.#arm(next);
  }
}
