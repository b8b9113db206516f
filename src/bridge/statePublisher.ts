import type { NodeState } from '../api/types.js';
import { steadyReading } from '../devices/features.js';
import type { DeviceNode } from '../devices/node.js';
import type { BridgeContext } from './context.js';
import type { ReadingSource } from './nodeStates.js';

export type PublisherContext = Pick<BridgeContext, 'mqtt' | 'topics' | 'auth' | 'states' | 'events'>;

/**
 * Publishes node state (retained, on change only) and availability (retained). A node is
 * available when the cloud session is usable, the cloud reports it online, and it has answered
 * at least once since start.
 */
export class StatePublisher {
  readonly #availability = new Map<string, 'online' | 'offline'>();
  /** Nodes whose last answer is too old to stand for their state (cloud outage, paused polling). */
  readonly #stale = new Set<string>();

  constructor(private readonly ctx: PublisherContext) {}

  /** Records a successful read and publishes the state if it changed. */
  reading(node: DeviceNode, reading: NodeState, source: ReadingSource = 'main'): void {
    this.#stale.delete(node.id);
    const steady = source === 'main' ? steadyReading(this.ctx.states.peek(node.id), reading) : reading;
    const changed = this.ctx.states.apply(node.id, steady, source);
    if (changed) void this.ctx.mqtt.publish(this.ctx.topics.nodeState(node.key), changed, { retain: true });
    this.refreshAvailability(node);
    const state = this.ctx.states.peek(node.id);
    if (state) this.ctx.events.emit('nodeRead', node, { ...state, last_seen: '' });
  }

  /** Publishes the current state even if unchanged (`/get`, HA birth, rename). */
  republish(node: DeviceNode): void {
    const state = this.ctx.states.current(node.id);
    if (state) void this.ctx.mqtt.publish(this.ctx.topics.nodeState(node.key), state, { retain: true });
    this.refreshAvailability(node, true);
  }

  refreshAvailability(node: DeviceNode, force = false): void {
    const value =
      this.ctx.auth.usable && node.online && this.ctx.states.hasBeenRead(node.id) && !this.#stale.has(node.id) ? 'online' : 'offline';
    if (!force && this.#availability.get(node.id) === value) return;
    this.#availability.set(node.id, value);
    void this.ctx.mqtt.publish(this.ctx.topics.nodeAvailability(node.key), { state: value }, { retain: true });
  }

  /**
   * Marks a node offline when it has not answered for `maxAgeMs`, so Home Assistant shows
   * "unavailable" instead of an old state during a long outage; its next answer brings it back.
   */
  expireIfStale(node: DeviceNode, maxAgeMs: number, now = Date.now()): void {
    const seen = this.ctx.states.lastSeenAt(node.id);
    if (seen === undefined || now - seen <= maxAgeMs || this.#stale.has(node.id)) return;
    this.#stale.add(node.id);
    this.refreshAvailability(node);
  }

  isAvailable(node: DeviceNode): boolean {
    return this.#availability.get(node.id) === 'online';
  }

  /** Clears a node's retained state and availability under `key` (removal, rename). */
  clear(node: DeviceNode, key: string = node.key): void {
    void this.ctx.mqtt.publish(this.ctx.topics.nodeState(key), '', { retain: true });
    void this.ctx.mqtt.publish(this.ctx.topics.nodeAvailability(key), '', { retain: true });
    if (key === node.key) {
      this.#availability.delete(node.id);
      this.ctx.states.forget(node.id);
    }
  }

  /** After a rename: forget what was published under the old key so everything goes out again. */
  moved(node: DeviceNode): void {
    this.#availability.delete(node.id);
    this.republish(node);
  }
}
