import type { FailureClass } from '../kasa/errors.js';

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

export type PauseReason = 'rate_limited' | 'blacklisted' | 'server_error';

/** How a task ended, as reported to metrics: success, aborted (by its caller or by stop), or a failure class. */
export type TaskOutcome = 'ok' | 'aborted' | FailureClass;

export interface ActivePause {
  readonly reason: PauseReason;
  readonly startedAt: number;
  /** Tasks with a start sequence number below this were already in flight when the pause began. */
  readonly startSeq: number;
  readonly until: number;
}

export interface PauseChange {
  readonly kind: 'started' | 'extended';
  readonly pause: ActivePause;
  readonly delayMs: number;
  /** Consecutive throttling signals, 1 for the first; the backoff doubles with each. */
  readonly attempt: number;
}

/** What the throttle needs to know about a settled task. */
export interface SettledTask {
  readonly seq: number;
  readonly startedWhilePaused: boolean;
}

/**
 * The backoff state machine, free of timers: fed every task outcome, it decides when background
 * traffic pauses and for how long.
 *
 * - `rate_limited` / `blacklisted`, or `serverErrorThreshold` consecutive `server_error`s, start a
 *   pause (or extend the current one when the new end is later), doubling per consecutive signal.
 * - Failures of tasks that were already in flight when the current pause began are the same
 *   overload seen twice: they do not escalate (four polls in flight must not mean 8× backoff).
 * - A success resets the doubling only if its task started after the last signal and outside a
 *   pause: a command succeeding at the reduced rate proves nothing about the full rate.
 */
export class Throttle {
  private attempt = 0;
  private consecutiveServerErrors = 0;
  /** Tasks with seq ≥ this started after the last throttling signal. */
  private penaltySeq = 0;
  private active: ActivePause | undefined;

  constructor(
    private readonly options: BackoffOptions,
    private readonly random: () => number,
  ) {}

  get pause(): ActivePause | undefined {
    return this.active;
  }

  get consecutiveSignals(): number {
    return this.attempt;
  }

  /** `nextSeq` is the sequence number the next started task will get. */
  record(outcome: TaskOutcome, task: SettledTask, now: number, nextSeq: number): PauseChange | undefined {
    switch (outcome) {
      case 'ok':
        this.consecutiveServerErrors = 0;
        if (!task.startedWhilePaused && task.seq >= this.penaltySeq) this.attempt = 0;
        return undefined;
      case 'rate_limited':
      case 'blacklisted':
        return this.penalise(outcome, task, now, nextSeq);
      case 'server_error':
        this.consecutiveServerErrors++;
        if (this.consecutiveServerErrors < this.options.serverErrorThreshold) return undefined;
        this.consecutiveServerErrors = 0;
        return this.penalise('server_error', task, now, nextSeq);
      case 'other':
      case 'aborted':
        return undefined;
    }
  }

  /** End the current pause; returns how long it lasted (ms). */
  end(now: number): number {
    const pause = this.active;
    this.active = undefined;
    return pause ? Math.max(0, now - pause.startedAt) : 0;
  }

  private penalise(reason: PauseReason, task: SettledTask, now: number, nextSeq: number): PauseChange | undefined {
    if (this.active && task.seq < this.active.startSeq) return undefined;
    this.attempt++;
    this.penaltySeq = nextSeq;
    const o = this.options;
    const delayMs =
      reason === 'blacklisted'
        ? backoffDelayMs(this.attempt, o.blacklistInitialMs, o.blacklistMaxMs, o.jitter, this.random)
        : backoffDelayMs(this.attempt, o.initialMs, o.maxMs, o.jitter, this.random);
    const until = now + delayMs;
    if (!this.active) {
      this.active = { reason, startedAt: now, startSeq: nextSeq, until };
      return { kind: 'started', pause: this.active, delayMs, attempt: this.attempt };
    }
    if (until <= this.active.until) return undefined;
    this.active = { ...this.active, reason: strongerReason(this.active.reason, reason), until };
    return { kind: 'extended', pause: this.active, delayMs, attempt: this.attempt };
  }
}

function strongerReason(a: PauseReason, b: PauseReason): PauseReason {
  return a === 'blacklisted' || b === 'blacklisted' ? 'blacklisted' : b;
}

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
