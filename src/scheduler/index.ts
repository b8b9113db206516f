export {
  CloudScheduler,
  RATE_WINDOW_MS,
  type Priority,
  type PauseReason,
  type RateLimitedEvent,
  type ResumedEvent,
  type RunOptions,
  type SchedulerEvents,
  type SchedulerOptions,
  type SchedulerStats,
  type TaskInfo,
  type TaskOutcome,
} from './scheduler.js';
export { SchedulerStoppedError } from './errors.js';
export { classifyKasaFailure, type FailureClass, type FailureClassifier } from './classify.js';
export { DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
export { PRIORITY_ORDER, isInteractive } from './priority.js';
export { spreadOffsetMs, stablePhaseMs } from './spread.js';
export { systemClock, type Clock } from './clock.js';
