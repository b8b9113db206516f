/**
 * One physical device and everything the bridge knows of it: its device-list entry and sysinfo,
 * its nodes (itself and a strip's outlets) with their state, availability, discovery and queued
 * sets, its calendar offset, expected absences, timers and the reads it is due. Removing the
 * device from the registry drops all of it: no part keeps anything by device id.
 */
import type { NodeState } from '../api/types.js';
import type { ReadCadence } from '../devices/module.js';
import type { DeviceNode } from '../devices/node.js';
import type { CloudDevice } from '../kasa/protocol.js';
import { SeenKeys } from '../ha/seenKeys.js';

/** Sets of one node waiting for one request (commands.ts): merged while the request has not started. */
export interface SetQueue {
  current: unknown;
  next?: unknown;
}

/** The state cache of one node: what each of its modules last read, and what was last published. */
export class NodeStateCache {
  /** Each module's last reading, by module name: a module that did not read keeps its values. */
  // A plain object, not a Map: a node's dozen slices cost less memory this way, at a thousand devices.
  readonly #slices: Record<string, NodeState> = Object.create(null) as Record<string, NodeState>;
  /** JSON of the last published state without last_seen; undefined = never published. */
  #publishedJson: string | undefined;
  #lastSeen: string | undefined;
  #read = false;

  /**
   * Records a successful read (module readings in `order`, the node's module order). Returns the
   * state after it, and the full state to publish when it changed (`last_seen` alone is no change).
   */
  apply(readings: ReadonlyMap<string, NodeState>, order: readonly string[], at: Date = new Date()): { state: NodeState; changed: NodeState | undefined } {
    for (const [module, reading] of readings) this.#slices[module] = hasUndefined(reading) ? withoutUndefined(reading) : reading;
    this.#read = true;
    this.#lastSeen = at.toISOString();
    const state = this.#compose(order);
    const json = JSON.stringify(state);
    if (json === this.#publishedJson) return { state, changed: undefined };
    this.#publishedJson = json;
    return { state, changed: { ...state, last_seen: this.#lastSeen } };
  }

  /** The full current state with last_seen, for republishing (reconnect, HA birth, /get); marks it published. */
  current(order: readonly string[]): NodeState | undefined {
    if (!this.#read) return undefined;
    const state = this.#compose(order);
    this.#publishedJson = JSON.stringify(state);
    return { ...state, ...(this.#lastSeen ? { last_seen: this.#lastSeen } : {}) };
  }

  /** The newest known state without last_seen (e.g. to resolve TOGGLE). */
  peek(order: readonly string[]): NodeState | undefined {
    return this.#read ? this.#compose(order) : undefined;
  }

  /** What `module` last read, if anything. */
  slice(module: string): NodeState | undefined {
    return this.#slices[module];
  }

  /** When the node last answered (ms since the epoch), or undefined if never. */
  lastSeenAt(): number | undefined {
    return this.#lastSeen === undefined ? undefined : Date.parse(this.#lastSeen);
  }

  get hasBeenRead(): boolean {
    return this.#read;
  }

  #compose(order: readonly string[]): NodeState {
    const state: NodeState = {};
    for (const module of order) {
      const slice = this.#slices[module];
      if (slice) Object.assign(state, slice);
    }
    return state;
  }
}

/** A node the bridge exposes (the device itself, or one outlet of a strip) with what the bridge keeps of it. */
export class NodeRecord {
  readonly state = new NodeStateCache();
  /** State keys the state has carried: discovery announces the entities showing them. */
  readonly seenKeys = new SeenKeys();
  /** Optional modules this node turned out to lack (a -1/-2 answer): not read, no entities. */
  readonly lacking = new Set<string>();
  availability: 'online' | 'offline' | undefined;
  /** The last answer is too old to stand for the state (cloud outage, paused polling). */
  stale = false;
  /** Sets queued or in flight (commands.ts). */
  commands: SetQueue | undefined;
  /** Digest of the discovery config last published (the config itself is kilobytes, a node's worth of memory). */
  discoveryDigest: string | undefined;
  /** A targeted read (an outlet's meter) is queued or in flight: a slow device must not collect a pile of them. */
  targetedReadPending = false;

  constructor(public info: DeviceNode) {}

  get id(): string {
    return this.info.id;
  }

  /** The modules whose readings make up the state, in table order (lacking ones left out). */
  get moduleOrder(): string[] {
    return this.lacking.size === 0 ? this.info.modules : this.info.modules.filter((m) => !this.lacking.has(m));
  }

  peek(): NodeState | undefined {
    return this.state.peek(this.moduleOrder);
  }
}

export interface PollTimers {
  start: NodeJS.Timeout;
  every?: NodeJS.Timeout;
}

export class Device {
  /** The device itself first, then its outlets in sysinfo order. */
  readonly nodes = new Map<string, NodeRecord>();
  sysinfo: Record<string, unknown> | undefined;
  /** `sysinfoShape` of the sysinfo its nodes were last built from. */
  builtShape: string | undefined;
  /** Offset from UTC in minutes, from its `get_time` answers: energy by its own calendar. */
  utcOffsetMinutes: number | undefined;
  /** After a restart command: until when its absence is expected (ms since the epoch). */
  restartingUntil: number | undefined;
  /** A restart was sent: its daily reads are done again once it answers. */
  restarted = false;
  /** The poll in flight: concurrent callers share it. */
  reading: Promise<void> | undefined;
  /** When reads of each cadence last went out (ms since the epoch). */
  readonly lastRead: Partial<Record<Exclude<ReadCadence, 'poll' | 'after_set'>, number>> = {};
  pollTimers: PollTimers | undefined;

  constructor(
    readonly id: string,
    public entry: CloudDevice,
  ) {}

  /** The device's own node. */
  get self(): NodeRecord | undefined {
    return this.nodes.get(this.id);
  }

  /** The outlets' nodes (none for a device without children). */
  children(): NodeRecord[] {
    return [...this.nodes.values()].filter((n) => n.id !== this.id);
  }

  requestOptions(): { utcOffsetMinutes?: number } {
    return this.utcOffsetMinutes === undefined ? {} : { utcOffsetMinutes: this.utcOffsetMinutes };
  }

  /** Whether its absence now is expected (a restart it was sent). */
  isRestarting(now = Date.now()): boolean {
    if (this.restartingUntil === undefined) return false;
    if (now < this.restartingUntil) return true;
    this.restartingUntil = undefined;
    return false;
  }

  /** Stops its timers (it left the account, or the bridge stops). */
  dispose(): void {
    if (!this.pollTimers) return;
    clearTimeout(this.pollTimers.start);
    clearInterval(this.pollTimers.every);
    this.pollTimers = undefined;
  }
}

function hasUndefined(state: NodeState): boolean {
  for (const key in state) if (state[key as keyof NodeState] === undefined) return true;
  return false;
}

function withoutUndefined(state: NodeState): NodeState {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(state)) if (v !== undefined) out[k] = v;
  return out;
}
