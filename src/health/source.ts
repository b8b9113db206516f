import type { AuthState } from '../api/types.js';

export type { AuthState } from '../api/types.js';

/**
 * What the health endpoint and the metrics read from the running bridge. Every method is called
 * at request/scrape time, so it must be cheap and must not throw.
 */
export interface HealthSource {
  mqttConnected(): boolean;
  /** The connection that receives `set` and `get` is up (the main one, or `<client id>_cmd`). */
  mqttCommandsConnected(): boolean;
  authState(): AuthState;
  /** The last auth error code (`credentials_invalid`…) when `authState()` is `error`. Never a secret. */
  authLastError(): string | undefined;
  devicesTotal(): number;
  devicesOnline(): number;
  queueDepth(): number;
  /** Total time background traffic has spent paused by rate limiting, seconds (monotonic). */
  rateLimitedSeconds(): number;
  /** Epoch ms when the current rate-limit pause ends; undefined when not paused. */
  pausedUntil(): number | undefined;
  /** Why a DATA_DIR file cannot be saved (`session.json: not saved (ENOSPC)`); undefined while saves succeed. Never a secret. */
  storageError(): string | undefined;
}

export const AUTH_STATES = [
  'logging_in',
  'mfa_required',
  'verifying',
  'authenticated',
  'error',
] as const satisfies readonly AuthState[];
