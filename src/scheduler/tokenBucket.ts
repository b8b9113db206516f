/** Tolerance for floating-point refill arithmetic (tokens). */
const EPSILON = 1e-9;

/**
 * Classic token bucket: holds at most `capacity` tokens, refills continuously at
 * `ratePerMinute / 60` tokens per second, starts full. Time is passed in (ms) so it stays pure.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;
  private ratePerMs: number;

  constructor(
    readonly capacity: number,
    ratePerMinute: number,
    now: number,
  ) {
    this.tokens = capacity;
    this.updatedAt = now;
    this.ratePerMs = ratePerMinute / 60_000;
  }

  available(now: number): number {
    this.refill(now);
    return this.tokens;
  }

  /** Milliseconds (possibly fractional) until `amount` tokens are available; 0 if they are now. */
  msUntil(amount: number, now: number): number {
    if (amount > this.capacity + EPSILON) return Infinity;
    this.refill(now);
    const deficit = amount - this.tokens;
    if (deficit <= EPSILON) return 0;
    return this.ratePerMs > 0 ? deficit / this.ratePerMs : Infinity;
  }

  take(now: number, amount = 1): void {
    this.refill(now);
    this.tokens = Math.max(0, this.tokens - amount);
  }

  /** Change the refill rate from `now` on (tokens earned so far are kept). */
  setRate(ratePerMinute: number, now: number): void {
    this.refill(now);
    this.ratePerMs = ratePerMinute / 60_000;
  }

  private refill(now: number): void {
    if (now > this.updatedAt) {
      this.tokens = Math.min(this.capacity, this.tokens + (now - this.updatedAt) * this.ratePerMs);
    }
    this.updatedAt = Math.max(this.updatedAt, now);
  }
}
