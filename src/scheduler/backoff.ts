export interface BackoffOptions {
  /** First pause after `-20004` (or after `serverErrorThreshold` consecutive 5xx), ms. */
  initialMs: number;
  /** Longest pause for rate limits and server errors, ms. */
  maxMs: number;
  /** First pause after a "blackList" answer, ms: far longer, the cloud has banned us for a while. */
  blacklistInitialMs: number;
  /** Longest pause after "blackList", ms. */
  blacklistMaxMs: number;
  /** Consecutive server errors (HTTP 5xx) that count as throttling. */
  serverErrorThreshold: number;
  /** Relative jitter, 0.2 = ±20 %. */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = {
  initialMs: 60_000,
  maxMs: 30 * 60_000,
  blacklistInitialMs: 10 * 60_000,
  blacklistMaxMs: 2 * 60 * 60_000,
  serverErrorThreshold: 3,
  jitter: 0.2,
};

/**
 * Exponential backoff with jitter: `baseMs × 2^(attempt-1)`, capped at `maxMs`, then multiplied by
 * a uniform factor in [1 - jitter, 1 + jitter] and capped at `maxMs` again (so the cap is a hard
 * ceiling). `attempt` starts at 1. `random` returns [0, 1) like Math.random.
 */
export function backoffDelayMs(
  attempt: number,
  baseMs: number,
  maxMs: number,
  jitter: number,
  random: () => number,
): number {
  const exponential = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  const factor = 1 + jitter * (2 * random() - 1);
  return Math.max(0, Math.round(Math.min(maxMs, exponential * factor)));
}
