import PQueue from 'p-queue';

/**
 * Priority lanes, highest first. Interactive lanes (a user's command and the read that confirms
 * it) are never paused by a rate-limit backoff; background lanes are.
 */
export const PRIORITY_ORDER = ['command', 'readback', 'device_list', 'poll', 'energy', 'daily'] as const;

export type Priority = (typeof PRIORITY_ORDER)[number];

/** Rank of each lane (greater runs first). */
export const RANK: Record<Priority, number> = { command: 6, readback: 5, device_list: 4, poll: 3, energy: 2, daily: 1 };

/** Commands and read-backs: served even while background traffic is paused. */
export function isInteractive(priority: Priority): boolean {
  return priority === 'command' || priority === 'readback';
}

export function isPriority(value: unknown): value is Priority {
  return typeof value === 'string' && (PRIORITY_ORDER as readonly string[]).includes(value);
}

/** Submission orders below this keep their place (see `queuePriority`): 35 000 years at 1 000 tasks/s. */
const ORDER_SPAN = 2 ** 53 / 8;

/**
 * p-queue's `priority` for a task: its lane's rank, then FIFO by submission order. p-queue keeps
 * equal priorities FIFO only by insertion, and a task handed back to its queue (overtaken while it
 * waited for the gate, see scheduler.ts) is inserted again: with its order in the number it goes
 * back to its old place, ahead of later tasks of its lane.
 */
export function queuePriority(priority: Priority, order: number): number {
  return RANK[priority] * ORDER_SPAN - (order % ORDER_SPAN);
}

/** Whether `a` runs before `b`: higher lane first, then submission order. */
export function runsBefore(a: { priority: Priority; order: number }, b: { priority: Priority; order: number }): boolean {
  return RANK[a.priority] > RANK[b.priority] || (a.priority === b.priority && a.order < b.order);
}

/**
 * The scheduler's two p-queues: interactive (commands, read-backs), never paused, with every
 * concurrency slot; background (device list, polls, energy, daily reads), paused while the cloud throttles us,
 * with the slots left after the command reserve.
 */
export function laneQueues(concurrency: number, backgroundSlots: number): { interactive: PQueue; background: PQueue } {
  return {
    interactive: new PQueue({ concurrency }),
    background: new PQueue({ concurrency: backgroundSlots }),
  };
}
