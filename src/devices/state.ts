/**
 * A device's reply → what each module of each node it covers read (docs/mqtt-api.md, "Node state").
 * A module the reply says nothing about (not asked, or answered with an error) gives nothing, so
 * its last values stay in the state cache; `last_seen` is the caller's.
 */
import type { NodeState } from '../api/types.js';
import type { DeviceNode } from './node.js';
import { modulesOf, PROTOCOLS } from './protocols.js';

export interface ParseOptions {
  /**
   * The node the request was made for: an outlet's meter answer (sent with its child id as
   * context) belongs to that outlet. Default: the physical device.
   */
  target?: DeviceNode;
  /** The time of the reply: `on_since`, and the device's date when the reply has no `get_time`. */
  now?: Date;
  /** The device's UTC offset in minutes when known (`deviceUtcOffsetMinutes` of an earlier reply). */
  utcOffsetMinutes?: number;
}

/** What each module of `node` read from `response`, by module name (modules that read nothing are absent). */
export function moduleReadings(node: DeviceNode, response: Record<string, unknown>, targeted: boolean, options: ParseOptions = {}): Map<string, NodeState> {
  const now = options.now ?? new Date();
  const base = { targeted, now, ...(options.utcOffsetMinutes !== undefined ? { utcOffsetMinutes: options.utcOffsetMinutes } : {}) };
  const reply = PROTOCOLS[node.protocol].reply(node, response, base);
  const out = new Map<string, NodeState>();
  for (const module of modulesOf(node)) {
    const reading = module.parse?.(node, reply);
    if (reading !== undefined) out.set(module.name, reading);
  }
  return out;
}

/**
 * The states of `nodes` (one physical device and, for a strip, its outlets) from one reply: each
 * node's module readings merged. A node the reply says nothing about is absent from the result.
 */
export function parseResponse(nodes: readonly DeviceNode[], response: unknown, options: ParseOptions = {}): Map<string, NodeState> {
  const states = new Map<string, NodeState>();
  if (typeof response !== 'object' || response === null) return states;
  const device = nodes.find((n) => n.parentId === undefined);
  const targetId = options.target?.id ?? device?.id;
  for (const node of nodes) {
    const state = mergedReadings(node, response as Record<string, unknown>, node.id === targetId, options);
    if (Object.keys(state).length > 0) states.set(node.id, state);
  }
  return states;
}

/** A node's state from the reply to a request made for it alone (an outlet's meter read, see `energyRequests`). */
export function parseEnergyResponse(node: DeviceNode, response: unknown, now: Date = new Date(), utcOffsetMinutes?: number): NodeState {
  const options = { now, ...(utcOffsetMinutes !== undefined ? { utcOffsetMinutes } : {}) };
  if (typeof response !== 'object' || response === null) return {};
  return mergedReadings(node, response as Record<string, unknown>, true, options);
}

/** What all of `node`'s modules read from `response`, as one state. */
function mergedReadings(node: DeviceNode, response: Record<string, unknown>, targeted: boolean, options: ParseOptions): NodeState {
  const state: NodeState = {};
  for (const reading of moduleReadings(node, response, targeted, options).values()) Object.assign(state, reading);
  return state;
}

/** Smooths a reading against the node's previous state, module by module (see `DeviceModule.steady`). */
export function steadyReading(node: DeviceNode, previous: NodeState | undefined, reading: NodeState): NodeState {
  let out = reading;
  for (const module of modulesOf(node)) if (module.steady) out = module.steady(previous, out);
  return out;
}
