/** Time source of the scheduler; injectable so tests never sleep. */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * Wall-clock time (`until` in events is a Unix epoch in ms). The globals are looked up on every
 * call, so test fake timers installed after import are honoured.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout> | undefined),
};
