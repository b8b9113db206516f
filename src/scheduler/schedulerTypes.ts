import type { Logger } from '../logger.js';
import type { BackoffOptions } from './backoff.js';
import type { FailureClassifier } from './classify.js';
import type { Clock } from './clock.js';
import type { Priority } from './priority.js';
import type { PauseReason, TaskOutcome } from './throttle.js';

export interface SchedulerOptions {
  /** KASA_RATE_LIMIT: most requests started in any 60 s window, and the token refill rate per minute. */
  ratePerMinute: number;
  /** KASA_RATE_BURST: token bucket capacity. */
  burst: number;
  /** KASA_CONCURRENCY: requests in flight at once. */
  concurrency: number;
  logger: Logger;
  /** Maps a task's rejection to a throttling signal; defaults to `classifyKasaFailure`. */
  classifyFailure?: FailureClassifier;
  backoff?: Partial<BackoffOptions>;
  /** Rate multiplier for commands and read-backs while background traffic is paused (default 0.5). */
  commandRateFactorWhenLimited?: number;
  /**
   * Headroom kept for commands and read-backs: background lanes leave this many tokens (and the
   * same share of the 60 s window) and this many concurrency slots unused, so an isolated command
   * starts at once even while polls saturate the scheduler. Clamped so background work can
   * always run (at most burst - 1 tokens, concurrency - 1 slots). Default 1 each.
   */
  interactiveReserve?: { tokens?: number; slots?: number };
  /** After `stop()` has aborted in-flight tasks, how long to wait for them before giving up (default 1000 ms). */
  abandonAfterAbortMs?: number;
  /** Called once per settled task, for metrics. Must not throw (a throw is logged and ignored). */
  onTaskDone?: (priority: Priority, durationMs: number, outcome: TaskOutcome, info: TaskInfo) => void;
  clock?: Clock;
  /** [0, 1) random source for backoff jitter (default Math.random). */
  random?: () => number;
}

export interface TaskInfo {
  /** Time spent queued before the task started, ms. */
  queuedMs: number;
  label?: string;
}

export interface RunOptions {
  /** Aborting removes a queued task (rejecting with the signal's reason) or aborts a running one's signal. */
  signal?: AbortSignal;
  /** Short description for logs (no secrets). */
  label?: string;
  /**
   * HTTP requests the task makes (default 1): a login is a region lookup plus the login, and both
   * count against the rate limit. The task starts when the bucket and the window have room for all.
   */
  cost?: number;
}

export interface RateLimitedEvent {
  /** Epoch ms when background traffic resumes (may be extended later; see `pausedUntil`). */
  until: number;
  reason: PauseReason;
  delayMs: number;
  attempt: number;
}

export interface ResumedEvent {
  at: number;
  pausedMs: number;
}

export interface SchedulerEvents {
  rate_limited: RateLimitedEvent;
  resumed: ResumedEvent;
}

export interface SchedulerStats {
  /** Requests started, in total and per lane. */
  requests: number;
  requestsByPriority: Record<Priority, number>;
  outcomes: Record<TaskOutcome, number>;
  queueDepth: number;
  queueDepthByPriority: Record<Priority, number>;
  inFlight: number;
  /** Requests started in the last 60 s. */
  requestsLastMinute: number;
  paused: boolean;
  pausedUntil: number | undefined;
  pauseReason: PauseReason | undefined;
  /** Pauses started since creation. */
  pauses: number;
  /** Total time spent paused, including the current pause, ms. */
  rateLimitedMs: number;
  /** Consecutive throttling signals (drives the backoff doubling). */
  backoffAttempt: number;
}
