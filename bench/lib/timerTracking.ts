/**
 * Counts live timers, unref'd ones included (process.getActiveResourcesInfo() lists only ref'd
 * timers, and the bridge unrefs its poll timers). Import this module before anything that makes
 * timers: it wraps the global setTimeout/setInterval/clear* so every timeout or interval is in a
 * set from creation until it fires (timeouts) or is cleared. A timeout re-armed with refresh()
 * after it fired is not seen again: the count can only be low, never high, so growth is real.
 */
import { promisify } from 'node:util';

/** Live timers → where they were made (a stack only with SOAK_TIMER_STACKS=1). */
const live = new Map<NodeJS.Timeout, string | undefined>();
const withStacks = process.env.SOAK_TIMER_STACKS === '1';
const origin = (): string | undefined => (withStacks ? new Error('timer created').stack?.split('\n').slice(3, 9).join('\n') : undefined);
const original = {
  setTimeout: globalThis.setTimeout,
  setInterval: globalThis.setInterval,
  clearTimeout: globalThis.clearTimeout,
  clearInterval: globalThis.clearInterval,
};

type AnyFn = (...args: unknown[]) => unknown;

function trackedSetTimeout(callback: AnyFn, ms?: number, ...args: unknown[]): NodeJS.Timeout {
  const timer: NodeJS.Timeout = original.setTimeout(
    (...a: unknown[]) => {
      live.delete(timer);
      callback(...a);
    },
    ms,
    ...args,
  );
  live.set(timer, origin());
  return timer;
}

function trackedSetInterval(callback: AnyFn, ms?: number, ...args: unknown[]): NodeJS.Timeout {
  const timer = original.setInterval(callback, ms, ...args);
  live.set(timer, origin());
  return timer;
}

function forget(timer: unknown): void {
  if (timer && typeof timer === 'object') live.delete(timer as NodeJS.Timeout);
}

Object.defineProperty(trackedSetTimeout, promisify.custom, {
  value: (original.setTimeout as unknown as Record<symbol, unknown>)[promisify.custom],
});
globalThis.setTimeout = trackedSetTimeout as unknown as typeof setTimeout;
globalThis.setInterval = trackedSetInterval as unknown as typeof setInterval;
globalThis.clearTimeout = ((timer?: NodeJS.Timeout | string | number) => {
  forget(timer);
  original.clearTimeout(timer);
});
globalThis.clearInterval = ((timer?: NodeJS.Timeout | string | number) => {
  forget(timer);
  original.clearInterval(timer);
});

export interface TimerCounts {
  /** Live timeouts and intervals, ref'd or not. */
  total: number;
  /** Of those, unref'd. */
  unref: number;
}

export function timerCounts(): TimerCounts {
  let unref = 0;
  for (const t of live.keys()) if (!t.hasRef()) unref++;
  return { total: live.size, unref };
}

/** Live timers now, with their origin when SOAK_TIMER_STACKS=1 (to name what was left behind). */
export function liveTimers(): { timer: NodeJS.Timeout; origin: string | undefined }[] {
  return [...live].map(([timer, o]) => ({ timer, origin: o }));
}
