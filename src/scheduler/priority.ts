/**
 * Priority lanes of the cloud scheduler, highest first. Interactive lanes (a user's command and
 * the read that confirms it) are never paused by a rate-limit backoff; background lanes are.
 */
export const PRIORITY_ORDER = ['command', 'readback', 'device_list', 'poll', 'energy'] as const;

export type Priority = (typeof PRIORITY_ORDER)[number];

const INTERACTIVE: ReadonlySet<Priority> = new Set<Priority>(['command', 'readback']);

/** Commands and read-backs: served even while background traffic is paused. */
export function isInteractive(priority: Priority): boolean {
  return INTERACTIVE.has(priority);
}

export function isPriority(value: unknown): value is Priority {
  return typeof value === 'string' && (PRIORITY_ORDER as readonly string[]).includes(value);
}
