const WINDOW_MS = 60_000;

/** Sliding 60 s window of request times per account. Every request counts, throttled ones too. */
export class RateLimiter {
  private readonly hits = new Map<string, number[]>();

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number,
  ) {}

  /** Records a request by `key` and says whether it exceeds the limit. */
  exceeded(key: string): boolean {
    if (!Number.isFinite(this.perMinute)) return false;
    const now = this.now();
    const recent = (this.hits.get(key) ?? []).filter((t) => t > now - WINDOW_MS);
    recent.push(now);
    this.hits.set(key, recent);
    return recent.length > this.perMinute;
  }
}
