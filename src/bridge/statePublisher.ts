import type { NodeState } from '../api/types.js';
import { modulesOf } from '../devices/families.js';
import type { DeviceNode } from '../devices/node.js';
import type { BridgeContext } from './context.js';

export type PublisherContext = Pick<BridgeContext, 'mqtt' | 'topics' | 'auth' | 'events' | 'registry'>;

/**
 * Publishes node state (retained, on change only) and availability (retained). A node is
 * available when the cloud session is usable, the cloud reports it online, and it has answered
 * at least once since start. What was published is kept on the node's record.
 */
export class StatePublisher {
  constructor(private readonly ctx: PublisherContext) {}

  /**
   * Records what the node's modules read (a module absent from `readings` keeps its values) and
   * publishes the state if it changed. Returns the node's state after the reading.
   */
  reading(node: DeviceNode, readings: ReadonlyMap<string, NodeState>): NodeState | undefined {
    const record = this.ctx.registry.record(node.id);
    if (!record) return undefined;
    record.stale = false;
    // Most readings go in as they are; only partial and smoothed modules' readings are rewritten.
    let previous: NodeState | undefined | null = null;
    let adjusted: Map<string, NodeState> | undefined;
    for (const module of modulesOf(node)) {
      if (!module.partial && !module.steady) continue;
      const reading = readings.get(module.name);
      if (reading === undefined) continue;
      const whole = module.partial ? { ...record.state.slice(module.name), ...reading } : reading;
      if (module.steady && previous === null) previous = record.peek();
      adjusted ??= new Map(readings);
      adjusted.set(module.name, module.steady ? module.steady(previous ?? undefined, whole) : whole);
    }
    const { state, changed } = record.state.apply(adjusted ?? readings, record.moduleOrder);
    if (changed) void this.ctx.mqtt.publish(this.ctx.topics.nodeState(node.key), changed, { retain: true });
    this.refreshAvailability(node);
    // last_seen is part of what the state carries (its entity is announced once the node answered).
    this.ctx.events.emit('nodeRead', node, { ...state, last_seen: '' });
    return state;
  }

  /** Publishes the current state even if unchanged (`/get`, HA birth, rename). */
  republish(node: DeviceNode): void {
    const record = this.ctx.registry.record(node.id);
    const state = record?.state.current(record.moduleOrder);
    if (state) void this.ctx.mqtt.publish(this.ctx.topics.nodeState(node.key), state, { retain: true });
    this.refreshAvailability(node, true);
  }

  refreshAvailability(node: DeviceNode, force = false): void {
    const record = this.ctx.registry.record(node.id);
    if (!record) return;
    const value = this.ctx.auth.usable && node.online && record.state.hasBeenRead && !record.stale ? 'online' : 'offline';
    if (!force && record.availability === value) return;
    record.availability = value;
    void this.ctx.mqtt.publish(this.ctx.topics.nodeAvailability(node.key), { state: value }, { retain: true });
  }

  /**
   * Marks a node offline when it has not answered for `maxAgeMs`, so Home Assistant shows
   * "unavailable" instead of an old state during a long outage; its next answer brings it back.
   */
  expireIfStale(node: DeviceNode, maxAgeMs: number, now = Date.now()): void {
    const record = this.ctx.registry.record(node.id);
    const seen = record?.state.lastSeenAt();
    if (!record || seen === undefined || now - seen <= maxAgeMs || record.stale) return;
    record.stale = true;
    this.refreshAvailability(node);
  }

  isAvailable(node: DeviceNode): boolean {
    return this.ctx.registry.record(node.id)?.availability === 'online';
  }

  /** Clears retained state and availability under `key` (a removed node, or the old key of a rename). */
  clear(key: string): void {
    void this.ctx.mqtt.publish(this.ctx.topics.nodeState(key), '', { retain: true });
    void this.ctx.mqtt.publish(this.ctx.topics.nodeAvailability(key), '', { retain: true });
  }

  /** After a rename: forget what was published under the old key so everything goes out again. */
  moved(node: DeviceNode): void {
    const record = this.ctx.registry.record(node.id);
    if (record) record.availability = undefined;
    this.republish(node);
  }
}
