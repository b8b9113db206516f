/**
 * The admission gate: the scheduler's p-queues order the waiting requests and bound how many of
 * each kind are handed out, and the gate says when the first one handed out may start. p-queue's
 * own rate limit cannot express the limits below, so they live here.
 *
 * Measured with p-queue 9.3.5 (time scaled 1:100, concurrency 8, 10 or 80 jobs added at once):
 * `strict: true` with `intervalCap` = the burst (5 per 50 ms) started 5 jobs at 1 ms and the next
 * 5 at 51 ms, a burst every window where a token bucket starts 5 and then one per refill period
 * (10 ms); `intervalCap: 1` per refill period started one every 10 ms, no burst (a command would
 * wait behind a poll that just started); `intervalCap` = the limit per 61 s window started all 60
 * at once. A window also counts jobs of one queue: not a login's three requests, not the reserve
 * kept for commands, not the interactive and background queues together. So the gate keeps both
 * limits, and the p-queues run without `intervalCap`.
 *
 * Rate guarantee. `KASA_RATE_LIMIT` is a hard ceiling: in ANY 60 s window at most
 * `ratePerMinute` requests start. A token bucket alone (capacity B, refill R/min) allows up to
 * R + B in a window (a full bucket plus a minute of refill), so two limits apply together:
 *
 * 1. a token bucket, capacity `burst`, refilling `ratePerMinute / 60` per second — shapes bursts
 *    and lets an isolated request start at once;
 * 2. a sliding-window guard — a request starts only if fewer than `ratePerMinute` started in the
 *    last 60 s plus a margin (a start at time s counts until s + 61 000 ms, exclusive). The margin
 *    is for the cloud, which counts arrivals: two requests started exactly 60 s apart can arrive
 *    less than 60 s apart when the first one's connection was slower.
 *
 * Background requests leave a reserve of tokens (and the same share of the window) and of
 * concurrency slots to commands, so an isolated command starts at once even while polls saturate
 * the scheduler.
 */
export const RATE_WINDOW_MS = 60_000;
/** Arrival-time slack on top of the 60 s window (see above). */
export const RATE_WINDOW_MARGIN_MS = 1_000;

/** Tolerance for floating-point refill arithmetic (tokens). */
const EPSILON = 1e-9;

export interface GateOptions {
  ratePerMinute: number;
  burst: number;
  concurrency: number;
  /** Tokens and slots background requests leave free (default 1 each; clamped so they can always run). */
  interactiveReserve?: { tokens?: number; slots?: number };
}

export class AdmissionGate {
  readonly #bucket: TokenBucket;
  readonly #window = new SlidingWindow(RATE_WINDOW_MS + RATE_WINDOW_MARGIN_MS);
  readonly #ratePerMinute: number;
  readonly #burst: number;
  readonly #concurrency: number;
  /** Most starts in any RATE_WINDOW_MS. */
  readonly #windowLimit: number;
  readonly #reservedTokens: number;
  readonly #reservedSlots: number;

  constructor(options: GateOptions, now: number) {
    const { ratePerMinute, burst, concurrency } = options;
    this.#ratePerMinute = ratePerMinute;
    this.#burst = burst;
    this.#concurrency = concurrency;
    this.#windowLimit = Math.max(1, Math.floor(ratePerMinute));
    const reserve = options.interactiveReserve ?? {};
    this.#reservedTokens = clamp(reserve.tokens ?? 1, 0, Math.min(burst - 1, this.#windowLimit - 1));
    this.#reservedSlots = clamp(reserve.slots ?? 1, 0, concurrency - 1);
    this.#bucket = new TokenBucket(burst, ratePerMinute, now);
  }

  /** Concurrency slots background requests may use: all but the reserve. */
  get backgroundSlots(): number {
    return this.#concurrency - this.#reservedSlots;
  }

  /**
   * 0 if a request may start now; Infinity while it waits for one of the `inFlight` to finish;
   * otherwise ms until the bucket and the window have room for its `cost`.
   */
  msUntilStart(interactive: boolean, cost: number, inFlight: number, now: number): number {
    const slots = this.#concurrency - (interactive ? 0 : this.#reservedSlots);
    if (inFlight >= slots) return Infinity;
    // A request costing more than the bucket or window can ever hold still starts once they are full.
    const extra = Math.min(cost, this.#burst, this.#windowLimit) - 1;
    const reserve = interactive ? 0 : this.#reservedTokens;
    return Math.max(this.#bucket.msUntil(1 + extra + reserve, now), this.#window.msUntilRoomFor(this.#windowLimit - extra - reserve, now));
  }

  /** Records a start of `cost` requests. */
  admit(cost: number, now: number): void {
    this.#bucket.take(now, cost);
    for (let i = 0; i < cost; i++) this.#window.record(now);
  }

  /** Refill at `factor` × the configured rate from `now` on (tokens already earned are kept). */
  setRateFactor(factor: number, now: number): void {
    this.#bucket.setRate(this.#ratePerMinute * factor, now);
  }

  /** Requests started in the last 60 s (plus the margin). */
  startsInWindow(now: number): number {
    return this.#window.count(now);
  }
}

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

function clamp(value: number, min: number, max: number): number {
  return Math.max(min, Math.min(max, Math.floor(value)));
}
