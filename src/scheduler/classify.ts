/** What a failed cloud call says about throttling. */
export type FailureClass = 'rate_limited' | 'blacklisted' | 'server_error' | 'other';

export type FailureClassifier = (err: unknown) => FailureClass;

const RATE_LIMIT_CODE = -20004;

/**
 * Default classifier for the Kasa cloud client's errors, by shape rather than by import so the
 * scheduler stays independent of src/kasa: `KasaRateLimitError` (`blacklisted` flag), any error
 * with cloud `code` -20004, a "blackList" message, and `KasaNetworkError`-like errors with an HTTP
 * `status` ≥ 500. Timeouts and everything else are `other` (they do not pause polling).
 */
export function classifyKasaFailure(err: unknown): FailureClass {
  if (typeof err !== 'object' || err === null) return 'other';
  const e = err as { name?: unknown; blacklisted?: unknown; code?: unknown; status?: unknown; message?: unknown };
  const message = typeof e.message === 'string' ? e.message : '';
  if (e.blacklisted === true) return 'blacklisted';
  if (e.name === 'KasaRateLimitError' || e.code === RATE_LIMIT_CODE) return 'rate_limited';
  if (/blacklist/i.test(message)) return 'blacklisted';
  if (typeof e.status === 'number' && e.status >= 500 && e.status <= 599) return 'server_error';
  return 'other';
}
