import { KasaNetworkError, KasaRateLimitError } from '../../src/kasa/errors.js';
import { vi } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { CloudScheduler, type Priority, type SchedulerOptions } from '../../src/scheduler/scheduler.js';

export const silentLogger = createLogger({ level: 'silent' });

/** Fake timers with the clock at 0; the scheduler's default clock reads these globals. */
export function useFakeClock(): void {
  vi.useFakeTimers({ now: 0, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
}

export function makeScheduler(overrides: Partial<SchedulerOptions> = {}): CloudScheduler {
  const scheduler = new CloudScheduler({
    ratePerMinute: 60,
    burst: 5,
    concurrency: 4,
    logger: silentLogger,
    random: () => 0.5, // jitter factor exactly 1 unless a test says otherwise
    ...overrides,
  });
  scheduler.start();
  return scheduler;
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (reason: unknown) => void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Let settled promises run their continuations without moving the clock. */
export async function flush(): Promise<void> {
  await vi.advanceTimersByTimeAsync(0);
}

export interface StartRecord {
  id: string;
  priority: Priority;
  at: number;
}

/** Records when each task started; tasks resolve at once unless `hold` returns a promise. */
export class StartLog {
  readonly starts: StartRecord[] = [];
  private active = 0;
  maxActive = 0;

  task(id: string, priority: Priority, hold?: () => Promise<void>) {
    return async (_signal: AbortSignal): Promise<string> => {
      this.starts.push({ id, priority, at: Date.now() });
      this.active++;
      this.maxActive = Math.max(this.maxActive, this.active);
      try {
        if (hold) await hold();
        return id;
      } finally {
        this.active--;
      }
    };
  }

  ids(): string[] {
    return this.starts.map((s) => s.id);
  }

  times(): number[] {
    return this.starts.map((s) => s.at);
  }
}

/** Largest number of starts inside any half-open window [t, t + windowMs). */
export function maxInAnyWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let max = 0;
  let end = 0;
  for (let start = 0; start < sorted.length; start++) {
    while (end < sorted.length && sorted[end]! < sorted[start]! + windowMs) end++;
    max = Math.max(max, end - start);
  }
  return max;
}

/** The cloud client's throttling answer (-20004), or its blackList answer. */
export class FakeRateLimitError extends KasaRateLimitError {
  constructor(blacklisted = false) {
    super(blacklisted ? 'Access denied request in blackList' : 'API rate limit exceeded', { blacklisted });
  }
}

/** The cloud client's error for an HTTP status other than 200. */
export class FakeHttpError extends KasaNetworkError {
  constructor(status: number) {
    super(`HTTP ${status}`, { status });
  }
}

export function failWith(err: unknown) {
  return async (_signal: AbortSignal): Promise<never> => {
    throw err;
  };
}
