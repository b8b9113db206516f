import { RequestError } from './bridgeRequests.js';

/**
 * At most `max` accepted actions in any `windowMs`: the limit behind costly bridge requests
 * (requested logins, renames). Only what was actually done is recorded, so refused or invalid
 * requests never use up the allowance.
 */
export class SlidingWindowLimit {
  readonly #times: number[] = [];

  constructor(
    readonly max: number,
    readonly windowMs: number,
  ) {}

  /** When the next action is allowed, or undefined when it is allowed now. */
  blockedUntil(now = Date.now()): number | undefined {
    while (this.#times.length > 0 && this.#times[0]! + this.windowMs <= now) this.#times.shift();
    return this.#times.length < this.max ? undefined : this.#times[0]! + this.windowMs;
  }

  record(now = Date.now()): void {
    this.#times.push(now);
  }
}

/** A `rate_limited` refusal; the answer carries `retry_after` (ISO time). */
export function rateLimited(message: string, retryAt: number): RequestError {
  return new RequestError('rate_limited', message, new Date(retryAt));
}

/**
 * A costly task run at most once per `gapMs`: a trigger inside the gap does not run it again but
 * joins one run at the gap's end, however many triggers arrive meanwhile.
 */
export class CoalescedTask {
  #lastRunAt = Number.NEGATIVE_INFINITY;
  #pending: { at: number; timer: NodeJS.Timeout } | undefined;

  constructor(
    readonly gapMs: number,
    private readonly task: () => void,
  ) {}

  /** Runs the task now (`at` undefined) or says when the joined run will be. */
  trigger(now = Date.now()): { at?: number } {
    if (this.#pending) return { at: this.#pending.at };
    const at = this.#lastRunAt + this.gapMs;
    if (at <= now) {
      this.#run(now);
      return {};
    }
    const timer = setTimeout(() => this.#run(Date.now()), at - now);
    timer.unref();
    this.#pending = { at, timer };
    return { at };
  }

  cancel(): void {
    clearTimeout(this.#pending?.timer);
    this.#pending = undefined;
  }

  #run(now: number): void {
    this.#pending = undefined;
    this.#lastRunAt = now;
    this.task();
  }
}
