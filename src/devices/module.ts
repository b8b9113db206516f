/**
 * A device capability as one module, after python-kasa's design: what it reads and how often, how
 * an answer becomes state keys, which set keys it takes and the request each becomes, how the
 * read-back confirms a set, and which Home Assistant entities it adds. A protocol family is a list
 * of modules (see protocols.ts); nothing outside the modules knows a capability by name.
 */
import type { NodeState, SetPayload } from '../api/types.js';
import type { DeviceNode } from './node.js';

/** How a device is spoken to: `iot` (the classic `{"system":{"get_sysinfo":null}}` family) or `smart` (Tapo). */
export type ProtocolFamily = 'iot' | 'smart';

export type RequestData = Record<string, unknown>;

/**
 * When a module's read is part of the requests to a device:
 * - `poll`: in every poll of the device (KASA_POLL_INTERVAL);
 * - `energy`: every KASA_ENERGY_POLL_INTERVAL (and after the device's first answer);
 * - `daily`: once a day, after the device's first answer, and after it restarted;
 * - `after_set`: only in the read-back of a set this module made.
 */
export type ReadCadence = 'poll' | 'energy' | 'daily' | 'after_set';

export interface ModuleRead {
  cadence: ReadCadence;
  /**
   * The read needs the node's own context (a strip outlet's meter or countdown rules): it goes in a
   * request made for that node, not in its device's poll.
   */
  targeted?: boolean;
  /** Never the only reason for a request: it joins a request another module of the same cadence makes. */
  ridesAlong?: boolean;
  /** The methods to ask (family wire shape: iot `{"<module>": {"<method>": args}}`). */
  request(node: DeviceNode, ctx: RequestContext): RequestData | undefined;
}

export interface RequestContext {
  now: Date;
  /** The device's offset from UTC in minutes, once its clock has been read. */
  utcOffsetMinutes?: number;
}

/** One answer of a device, as a module reads it. */
export interface ModuleReply {
  /** The whole reply, in the family's shape (iot: module → method → result). */
  response: Record<string, unknown>;
  /** iot: the device's `system.get_sysinfo`, when the reply has one. */
  sysinfo?: Record<string, unknown>;
  /** iot: an outlet's entry in its strip's `sysinfo.children`. */
  child?: Record<string, unknown>;
  /** The reply was made for this node (with its context), not only for its device. */
  targeted: boolean;
  now: Date;
  /** The device's offset from UTC in minutes, from this reply or an earlier one. */
  utcOffsetMinutes?: number;
}

type Parsed<T> = { ok: T } | { error: string };

/** The keys of a set message (`SetPayload` without its `transaction`). */
export type SetKey = Exclude<keyof SetPayload, 'transaction'>;

export interface ModuleSet {
  /** The set keys this module turns into requests. A key is taken by the first module of a node that lists it. */
  keys: readonly SetKey[];
  /**
   * Validation of a value for one of `keys`. Without it the key is one of the light/relay keys
   * setPayload.ts validates against the node's capabilities.
   */
  parse?(key: SetKey, value: unknown, node: DeviceNode): Parsed<unknown>;
  /** The setter methods for `set` (TOGGLE already resolved); the module's own read is added after them. */
  request(node: DeviceNode, set: SetPayload, current: NodeState | undefined): RequestData;
  /** The keys of `set` this module took that the read-back does not show (default: none to compare). */
  unconfirmed?(node: DeviceNode, set: SetPayload, readBack: NodeState | undefined): SetKey[];
  /** What `response/set` reports for the keys this module took. */
  applied?(node: DeviceNode, set: SetPayload, readBack: NodeState | undefined): Partial<NodeState>;
  /** For the module that takes `state`: whether `current` counts as on when resolving TOGGLE (default: `state` is ON). */
  isOn?(current: NodeState | undefined): boolean;
  /** The device restarts after this set: its absence for a while is expected, and its daily reads are done again. */
  restarts?: boolean;
}

/** A Home Assistant entity a module adds; src/ha turns it into a discovery component. */
export interface ModuleEntity {
  /** HA platform: `switch`, `light`, `sensor`, `button`, `number`, `update`… */
  platform: string;
  /** `unique_id` suffix and component key. */
  id: string;
  /** The node's main entity: its default entity id has no suffix. */
  main?: boolean;
  /** The state key the entity shows: announced once the node's state has carried it. */
  stateKey?: keyof NodeState;
  /** The entity commands through `<base>/<key>/set`. */
  command?: boolean;
  config: Readonly<Record<string, unknown>>;
}

export interface DeviceModule {
  /** Unique within its family; `node.modules` lists these names. */
  name: string;
  family: ProtocolFamily;
  /** Whether `node` has this capability (from its family, model row and sysinfo, see profile.ts). */
  appliesTo(node: DeviceNode): boolean;
  /** State keys the module writes; a reading of the module replaces exactly these. */
  keys: readonly (keyof NodeState)[];
  /** What the module reads, and when; a function where it differs between a device and a strip's outlet. */
  read?: ModuleRead | ((node: DeviceNode) => ModuleRead | undefined);
  /**
   * The module's keys from a reply. Undefined when the reply says nothing about the module (not
   * asked, or answered with an error): its last values stay. A key absent from a returned object is
   * gone (the device said so).
   */
  parse?(node: DeviceNode, reply: ModuleReply): NodeState | undefined;
  /**
   * Its reading is made of several methods, any of which may fail alone (a meter's realtime, day
   * and month statistics): a key a reading lacks keeps its last value instead of going away.
   */
  partial?: boolean;
  /** Smooths a reading against the previous state (a value computed from whole seconds wobbles between polls). */
  steady?(previous: NodeState | undefined, reading: NodeState): NodeState;
  set?: ModuleSet;
  /** Entities of the same `id` from several modules are one entity: later modules add to its config. */
  entities?(node: DeviceNode): readonly ModuleEntity[];
  /**
   * Some models lack it: an answer saying the module or method does not exist (iot -1/-2) turns it
   * off for that device, quietly (no more reads, no entities).
   */
  optional?: boolean;
}
