/**
 * Sub-millisecond receive/answer times for the simulator's requests. The simulator logs each
 * request right after `res.end()` with `durationMs` measured from the moment its handler ran
 * (`at` is Date.now(), 1 ms resolution). Stamping the log append with performance.now() gives the
 * answer time in the same clock as the benchmark's MQTT client; receive = answer − durationMs.
 */
import type { SimRequestLogEntry, Simulator } from '../../src/simulator/index.js';

export interface TimedRequest {
  readonly entry: SimRequestLogEntry;
  /** performance.now() when the simulator's handler started (request headers in). */
  readonly receivedAt: number;
  /** performance.now() when the answer was written. */
  readonly answeredAt: number;
}

export class SimTimeline {
  readonly requests: TimedRequest[] = [];
  readonly #listeners = new Set<(r: TimedRequest) => void>();

  constructor(sim: Simulator) {
    const log = sim.requests;
    const push = Array.prototype.push;
    // The log is the simulator's own array (`cloud.log.entries`); an own `push` sees every append.
    Object.defineProperty(log, 'push', {
      configurable: true,
      value: (...items: SimRequestLogEntry[]): number => {
        const now = performance.now();
        for (const entry of items) {
          const timed: TimedRequest = { entry, answeredAt: now, receivedAt: now - entry.durationMs };
          this.requests.push(timed);
          for (const l of this.#listeners) l(timed);
        }
        return push.apply(log, items);
      },
    });
  }

  onRequest(listener: (r: TimedRequest) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Requests received in [from, to) (performance.now()). */
  between(from: number, to: number, filter?: (e: SimRequestLogEntry) => boolean): TimedRequest[] {
    return this.requests.filter((r) => r.receivedAt >= from && r.receivedAt < to && (!filter || filter(r.entry)));
  }

  clear(): void {
    this.requests.length = 0;
  }
}

/** The relay value a passthrough sets (`set_relay_state.state`), or undefined for a read. */
export function relaySet(entry: SimRequestLogEntry): number | undefined {
  const data = entry.requestData as { system?: { set_relay_state?: { state?: unknown } } } | undefined;
  const state = data?.system?.set_relay_state?.state;
  return typeof state === 'number' ? state : undefined;
}

/** The outlet ids a passthrough is addressed to (`context.child_ids`), if any. */
export function childIds(entry: SimRequestLogEntry): string[] {
  const data = entry.requestData as { context?: { child_ids?: unknown } } | undefined;
  const ids = data?.context?.child_ids;
  return Array.isArray(ids) ? ids.filter((x): x is string => typeof x === 'string') : [];
}

/** Whether a passthrough changes something (any `set_*`/`transition_*` method). */
export function isWrite(entry: SimRequestLogEntry): boolean {
  return entry.op === 'passthrough' && /"(set_[a-z_]+|transition_light_state)"/.test(JSON.stringify(entry.requestData ?? {}));
}
