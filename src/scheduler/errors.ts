import type { Priority } from './priority.js';

/** The scheduler is stopping or stopped: a queued request was never sent, or an in-flight one was cut off. */
export class SchedulerStoppedError extends Error {
  readonly priority?: Priority;
  readonly label?: string;

  constructor(message: string, details: { priority?: Priority; label?: string | undefined } = {}) {
    super(message);
    this.name = 'SchedulerStoppedError';
    if (details.priority !== undefined) this.priority = details.priority;
    if (details.label !== undefined) this.label = details.label;
  }
}
