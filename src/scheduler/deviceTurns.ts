import { RANK, type Priority } from './lanes.js';

export interface Turn {
  readonly device: string | undefined;
  readonly priority: Priority;
  /** Submission order: FIFO within a lane. */
  readonly order: number;
}

/**
 * At most one request in flight per physical device: each device has one task in the queue
 * (queued or running), its holder; the device's other tasks wait here, outside the queue, so they
 * take neither a concurrency slot nor a token, highest priority first.
 */
export class DeviceTurns<T extends Turn> {
  readonly #holder = new Map<string, T>();
  readonly #waiting = new Map<string, T[]>();

  /**
   * Whether `task` may go into the queue now. A holder that has not started yet gives way to a
   * higher-priority task (a command must not wait for a poll queued behind a rate-limit pause):
   * it is returned as `displaced`, and the caller takes it out of the queue; it waits here.
   */
  claim(task: T, started: (holder: T) => boolean): { go: boolean; displaced?: T } {
    const device = task.device;
    if (device === undefined) return { go: true };
    const holder = this.#holder.get(device);
    if (holder && (started(holder) || RANK[holder.priority] >= RANK[task.priority])) {
      this.#wait(device, task);
      return { go: false };
    }
    this.#holder.set(device, task);
    if (!holder) return { go: true };
    this.#wait(device, holder);
    return { go: true, displaced: holder };
  }

  /** `task` left the queue (finished or dropped before starting); returns the device's next task, now its holder. */
  release(task: T): T | undefined {
    const device = task.device;
    if (device === undefined || this.#holder.get(device) !== task) return undefined;
    this.#holder.delete(device);
    const waiting = this.#waiting.get(device);
    const next = waiting?.shift();
    if (waiting?.length === 0) this.#waiting.delete(device);
    if (next) this.#holder.set(device, next);
    return next;
  }

  /** Takes a waiting task out; false when it was not waiting. */
  forget(task: T): boolean {
    const waiting = task.device === undefined ? undefined : this.#waiting.get(task.device);
    const index = waiting?.indexOf(task) ?? -1;
    if (!waiting || index === -1) return false;
    waiting.splice(index, 1);
    if (waiting.length === 0 && task.device !== undefined) this.#waiting.delete(task.device);
    return true;
  }

  /** Empties every waiting list and returns what was in them. */
  drain(): T[] {
    const all = [...this.waiting()];
    this.#waiting.clear();
    return all;
  }

  *waiting(): Generator<T> {
    for (const tasks of this.#waiting.values()) yield* tasks;
  }

  #wait(device: string, task: T): void {
    const waiting = this.#waiting.get(device) ?? [];
    const behind = waiting.findIndex(
      (other) => RANK[other.priority] < RANK[task.priority] || (other.priority === task.priority && other.order > task.order),
    );
    waiting.splice(behind === -1 ? waiting.length : behind, 0, task);
    this.#waiting.set(device, waiting);
  }
}
