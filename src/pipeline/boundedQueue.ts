/**
 * A bounded hand-over between two stages of a pipeline (listing -> describing
 * -> writing): producers wait while it holds `capacity` items (backpressure,
 * so a slow stage bounds the memory of the ones before it), consumers wait for
 * a full batch unless the producers are done. One failure aborts it: every
 * waiting or later call rejects with that error, so all stages stop.
 */
export class BoundedQueue<T> {
  private items: T[] = [];
  private head = 0;
  private closed = false;
  private failure: { error: unknown } | null = null;
  private waiters: (() => void)[] = [];

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.items.length - this.head;
  }

  /** Adds items (all of them: a page may overshoot the capacity), then waits while the queue is full. */
  async push(items: readonly T[]): Promise<void> {
    this.throwIfFailed();
    if (this.closed) throw new Error('push after close');
    for (const item of items) this.items.push(item);
    this.wake();
    while (this.size >= this.capacity) {
      await this.changed();
      this.throwIfFailed();
    }
  }

  /**
   * Up to `max` items once `max` are there or the producers are done (so calls
   * downstream carry full batches); null when closed and drained.
   */
  async take(max: number): Promise<T[] | null> {
    for (;;) {
      this.throwIfFailed();
      if (this.size >= max || (this.closed && this.size > 0)) {
        const out = this.items.slice(this.head, this.head + max);
        this.head += out.length;
        // Drop the consumed prefix now and then, not on every take.
        if (this.head > 4096 && this.head * 2 > this.items.length) {
          this.items = this.items.slice(this.head);
          this.head = 0;
        }
        this.wake();
        return out;
      }
      if (this.closed) return null;
      await this.changed();
    }
  }

  /** The producers are done: consumers take what is left, then get null. */
  close(): void {
    this.closed = true;
    this.wake();
  }

  /** Stops every stage: pending and later push/take reject with `error` (the first one given wins). */
  abort(error: unknown): void {
    if (!this.failure) this.failure = { error };
    this.items = [];
    this.head = 0;
    this.wake();
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }

  private changed(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}
