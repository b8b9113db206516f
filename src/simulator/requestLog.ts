import type { SimRequestLogEntry } from './types.js';

export type RequestFilter = Partial<Pick<SimRequestLogEntry, 'op' | 'host' | 'deviceId' | 'username' | 'errorCode'>>;

/** Every request the listeners saw, rejected ones included, in arrival order of their answers. */
export class RequestLog {
  readonly entries: SimRequestLogEntry[] = [];

  add(entry: SimRequestLogEntry): void {
    this.entries.push(entry);
  }

  count(filter: RequestFilter = {}): number {
    const keys = Object.keys(filter) as (keyof RequestFilter)[];
    return this.entries.filter((e) => keys.every((k) => e[k] === filter[k])).length;
  }

  clear(): void {
    this.entries.length = 0;
  }
}
