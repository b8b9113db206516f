/**
 * Remembers when requests started and answers "how long until fewer than `limit` starts lie in the
 * last `windowMs`". A start at time s counts for the window (t - windowMs, t], so it stops counting
 * at exactly s + windowMs.
 */
export class SlidingWindow {
  private starts: number[] = [];
  private head = 0;

  constructor(readonly windowMs: number) {}

  record(now: number): void {
    this.starts.push(now);
  }

  count(now: number): number {
    this.prune(now);
    return this.starts.length - this.head;
  }

  /** Milliseconds until one more start keeps the window at or under `limit`; 0 if it does now. */
  msUntilRoomFor(limit: number, now: number): number {
    if (limit < 1) return Infinity;
    const inWindow = this.count(now);
    if (inWindow < limit) return 0;
    // The (inWindow - limit)-th oldest start must leave the window before one more may start.
    const blocking = this.starts[this.head + inWindow - limit];
    return blocking === undefined ? 0 : blocking + this.windowMs - now;
  }

  private prune(now: number): void {
    const horizon = now - this.windowMs;
    while (this.head < this.starts.length && (this.starts[this.head] ?? Infinity) <= horizon) this.head++;
    if (this.head > 256 && this.head * 2 > this.starts.length) {
      this.starts = this.starts.slice(this.head);
      this.head = 0;
    }
  }
}
