import { randomBytes } from 'node:crypto';

export type JsonObject = Record<string, unknown>;

export function randomHex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

/** A 40-character upper-case hex id, the shape of every Kasa deviceId. */
export function randomDeviceId(): string {
  return randomHex(20).toUpperCase();
}

/** A stable pseudo-random number in [0, 1) derived from a string (for per-device plausible values). */
export function seededUnit(seed: string): number {
  let h = 2166136261;
  for (let i = 0; i < seed.length; i++) {
    h ^= seed.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return (h >>> 0) / 4294967296;
}

export function delay(ms: number, timers: Set<NodeJS.Timeout>): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      resolve();
    }, ms);
    timers.add(timer);
  });
}
