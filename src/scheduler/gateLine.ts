import { isInteractive, runsBefore, type Priority } from './lanes.js';

export interface InLine {
  readonly priority: Priority;
  readonly order: number;
}

/**
 * The tasks p-queue has handed out that wait for the admission gate, in run order (higher lane
 * first, then submission order). The gate only ever lets the first one go.
 */
export class GateLine<T extends InLine> {
  readonly #tasks: T[] = [];

  get size(): number {
    return this.#tasks.length;
  }

  add(task: T): void {
    let at = this.#tasks.length;
    while (at > 0 && runsBefore(task, this.#tasks[at - 1]!)) at--;
    this.#tasks.splice(at, 0, task);
  }

  remove(task: T): boolean {
    const at = this.#tasks.indexOf(task);
    if (at === -1) return false;
    this.#tasks.splice(at, 1);
    return true;
  }

  first(): T | undefined {
    return this.#tasks[0];
  }

  /** The last task of `task`'s queue (interactive or background) that `task` runs before. */
  lastBehind(task: T): T | undefined {
    for (let at = this.#tasks.length - 1; at >= 0; at--) {
      const other = this.#tasks[at]!;
      if (!runsBefore(task, other)) return undefined;
      if (isInteractive(other.priority) === isInteractive(task.priority)) return other;
    }
    return undefined;
  }

  background(): T[] {
    return this.#tasks.filter((task) => !isInteractive(task.priority));
  }
}
