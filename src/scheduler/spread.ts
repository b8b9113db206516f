/**
 * Helpers for spreading periodic polls over their interval instead of firing them together
 * (the scheduler shapes bursts, but a poller that enqueues everything at once still builds a
 * queue that delays its own later polls by up to the whole burst).
 */

/** Offset of item `index` of `count` when `count` polls are evenly spread over `intervalMs`. */
export function spreadOffsetMs(index: number, count: number, intervalMs: number): number {
  if (count <= 0 || intervalMs <= 0) return 0;
  const slot = ((index % count) + count) % count;
  return Math.floor((slot * intervalMs) / count);
}

/**
 * A stable phase in [0, intervalMs) derived from `key` (FNV-1a), so a device keeps its place in
 * the polling cycle when others are added or removed.
 */
export function stablePhaseMs(key: string, intervalMs: number): number {
  if (intervalMs <= 0) return 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % Math.floor(intervalMs);
}
