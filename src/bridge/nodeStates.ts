import type { NodeState } from '../api/types.js';

/**
 * Keys read by separate per-outlet requests (HS300 meters, and the outlet's countdown that rides
 * along); kept across sysinfo polls.
 */
const ENERGY_KEYS = ['power_w', 'voltage_v', 'current_a', 'energy_kwh', 'energy_today_kwh', 'energy_month_kwh', 'countdown'] as const;

interface Entry {
  /** Values from the last sysinfo/command read: replaced whole on each read. */
  main: NodeState;
  /** Values from separate energy reads: replaced whole on each energy read. */
  energy: NodeState;
  /** JSON of the last published state without last_seen; undefined = never published. */
  publishedJson?: string;
  lastSeen?: string;
  /** The node has answered at least once since start. */
  read: boolean;
}

export type ReadingSource = 'main' | 'energy';

/**
 * The state cache: what each node's state is, what was last published, and whether the
 * next publish is a change. `last_seen` alone changing is not a change.
 */
export class NodeStates {
  readonly #entries = new Map<string, Entry>();

  #entry(id: string): Entry {
    let entry = this.#entries.get(id);
    if (!entry) {
      entry = { main: {}, energy: {}, read: false };
      this.#entries.set(id, entry);
    }
    return entry;
  }

  /** Records a successful read. Returns the full state to publish when it changed, else undefined. */
  apply(id: string, reading: NodeState, source: ReadingSource, at: Date = new Date()): NodeState | undefined {
    const entry = this.#entry(id);
    if (source === 'energy') entry.energy = pick(reading, ENERGY_KEYS);
    else entry.main = withoutUndefined(reading);
    entry.read = true;
    entry.lastSeen = at.toISOString();
    const state = this.#compose(entry);
    const json = JSON.stringify(state);
    if (json === entry.publishedJson) return undefined;
    entry.publishedJson = json;
    return { ...state, last_seen: entry.lastSeen };
  }

  /** The full current state with last_seen, for republishing (reconnect, HA birth, /get). */
  current(id: string): NodeState | undefined {
    const entry = this.#entries.get(id);
    if (!entry?.read) return undefined;
    const state = this.#compose(entry);
    entry.publishedJson = JSON.stringify(state);
    return { ...state, ...(entry.lastSeen ? { last_seen: entry.lastSeen } : {}) };
  }

  /** The newest known state without last_seen (e.g. to resolve TOGGLE). */
  peek(id: string): NodeState | undefined {
    const entry = this.#entries.get(id);
    return entry?.read ? this.#compose(entry) : undefined;
  }

  /** When the node last answered (ms since the epoch), or undefined if never. */
  lastSeenAt(id: string): number | undefined {
    const seen = this.#entries.get(id)?.lastSeen;
    return seen === undefined ? undefined : Date.parse(seen);
  }

  hasBeenRead(id: string): boolean {
    return this.#entries.get(id)?.read ?? false;
  }

  forget(id: string): void {
    this.#entries.delete(id);
  }

  #compose(entry: Entry): NodeState {
    // A set's read-back (main) is newer than the last per-outlet read for any key both carry.
    return { ...entry.energy, ...entry.main };
  }
}

function withoutUndefined(state: NodeState): NodeState {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(state)) if (v !== undefined) out[k] = v;
  return out;
}

function pick(state: NodeState, keys: readonly (keyof NodeState)[]): NodeState {
  const out: Record<string, unknown> = {};
  for (const key of keys) if (state[key] !== undefined) out[key] = state[key];
  return out;
}
