import PQueue, { PriorityQueue, type QueueAddOptions } from 'p-queue';

/**
 * Priority lanes, highest first. Interactive lanes (a user's command and the read that confirms
 * it) are never paused by a rate-limit backoff; background lanes are.
 */
export const PRIORITY_ORDER = ['command', 'readback', 'device_list', 'poll', 'energy'] as const;

export type Priority = (typeof PRIORITY_ORDER)[number];

/** p-queue's priority of each lane (greater runs first). */
export const RANK = Object.fromEntries(PRIORITY_ORDER.map((p, i) => [p, PRIORITY_ORDER.length - i])) as Record<Priority, number>;

/** Commands and read-backs: served even while background traffic is paused. */
export function isInteractive(priority: Priority): boolean {
  return priority === 'command' || priority === 'readback';
}

export function isPriority(value: unknown): value is Priority {
  return typeof value === 'string' && (PRIORITY_ORDER as readonly string[]).includes(value);
}

/** What the scheduler passes to p-queue's add(): p-queue hands the options on to its queue. */
export type QueuedOptions<T> = QueueAddOptions & { task: T };
type RunFunction = Parameters<PriorityQueue['enqueue']>[0];

/**
 * p-queue's own priority queue, which can also say which task it would hand out next, and take
 * a task out again (a task overtaken for its device, aborted by its caller, or dropped at stop).
 */
export class LaneQueue<T> extends PriorityQueue {
  readonly #tasks = new Map<RunFunction, T>();
  readonly #runs = new Map<T, RunFunction>();
  /** Per lane, its tasks in p-queue's order (FIFO): the head of the first non-empty lane is next. */
  readonly #lanes = new Map<number, Set<T>>(PRIORITY_ORDER.map((p) => [RANK[p], new Set<T>()]));

  override enqueue(run: RunFunction, options?: Partial<QueuedOptions<T>>): void {
    const task = options?.task;
    const lane = this.#lanes.get(options?.priority ?? 0);
    if (task === undefined || !lane) throw new TypeError('LaneQueue takes tasks of a known lane only');
    this.#tasks.set(run, task);
    this.#runs.set(task, run);
    lane.add(task);
    super.enqueue(run, options);
  }

  override dequeue(): RunFunction | undefined {
    const run = super.dequeue();
    if (run) this.#forget(run);
    return run;
  }

  override remove(idOrRun: string | RunFunction): void {
    if (typeof idOrRun === 'string') throw new TypeError('LaneQueue removes entries by function only');
    this.#forget(idOrRun);
    super.remove(idOrRun);
  }

  /** Takes a queued task out; its add() promise never settles, the task's own promise does. */
  withdraw(task: T): void {
    const run = this.#runs.get(task);
    if (run) this.remove(run);
  }

  /** The task dequeue() would return. */
  peek(): T | undefined {
    for (const lane of this.#lanes.values()) {
      for (const task of lane) return task;
    }
    return undefined;
  }

  tasks(): T[] {
    return [...this.#runs.keys()];
  }

  #forget(run: RunFunction): void {
    const task = this.#tasks.get(run);
    if (task === undefined) return;
    this.#tasks.delete(run);
    this.#runs.delete(task);
    for (const lane of this.#lanes.values()) if (lane.delete(task)) return;
  }
}

/** A p-queue that starts nothing by itself, and the LaneQueue it builds for its waiting tasks. */
export function pausedQueue<T>(concurrency: number): { queue: PQueue<LaneQueue<T>, QueuedOptions<T>>; lanes: LaneQueue<T> } {
  const built: Array<LaneQueue<T>> = [];
  class Captured extends LaneQueue<T> {
    constructor() {
      super();
      built.push(this);
    }
  }
  const queue = new PQueue<LaneQueue<T>, QueuedOptions<T>>({ concurrency, autoStart: false, queueClass: Captured });
  const [lanes] = built;
  if (!lanes) throw new Error('p-queue did not build its queue');
  return { queue, lanes };
}
