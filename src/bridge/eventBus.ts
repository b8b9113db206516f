import type { NodeState } from '../api/types.js';
import type { DeviceNode } from '../devices/node.js';
import type { KasaError } from '../kasa/errors.js';
import type { TransportRequestEvent } from '../kasa/transport.js';
import type { Logger } from '../logger.js';

export interface NodesChangedEvent {
  added: DeviceNode[];
  removed: DeviceNode[];
  changed: DeviceNode[];
  /** Found by a device's own answer (outlets, refined families): `bridge/devices` may wait a moment. */
  batched: boolean;
}

/** Internal events between the bridge's parts (not MQTT). */
export interface BridgeEventMap {
  /** The cloud session became usable (true) or unusable (false). */
  sessionUsable: [usable: boolean];
  /**
   * The cloud client found the session changed underneath a request: a relogin needs MFA (the
   * code is already dispatched) or the session is lost for good.
   */
  sessionLost: [error: KasaError | undefined, mfa: { mfaType: 'email' | 'push' } | undefined];
  /** Nodes were added, removed or changed (alias, family, children). */
  nodesChanged: [change: NodesChangedEvent];
  /** The cloud says these nodes went online or offline. */
  nodesOnlineChanged: [nodes: DeviceNode[]];
  /** A node's topic key changed (rename); old key given so retained topics can be cleared. */
  nodeRenamed: [node: DeviceNode, oldKey: string];
  /** The device list after a login was read and every device read once. */
  devicesSynced: [];
  /** A node answered: its full state after the reading (discovery announces the keys it carries). */
  nodeRead: [node: DeviceNode, state: NodeState];
  /** Home Assistant came online: republish discovery, availability and state. */
  homeAssistantOnline: [];
  /** One HTTP request to the cloud finished. */
  cloudRequest: [event: TransportRequestEvent];
  /** A set was answered on `<key>/response/set`. */
  commandAnswered: [latencyMs: number, status: 'ok' | 'error'];
}

type Listener<K extends keyof BridgeEventMap> = (...args: BridgeEventMap[K]) => void;

/**
 * The typed bus between the bridge's parts. A listener that throws is logged and does not disturb
 * the emitter or the other listeners: one part's bug must not break the part that emitted.
 */
export class EventBus {
  readonly #listeners = new Map<keyof BridgeEventMap, Set<Listener<never>>>();
  readonly #log;

  constructor(logger: Logger) {
    this.#log = logger.child({ module: 'events' });
  }

  /** Subscribes; returns the unsubscribe function. */
  on<K extends keyof BridgeEventMap>(event: K, listener: Listener<K>): () => void {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener);
    return () => this.off(event, listener);
  }

  off<K extends keyof BridgeEventMap>(event: K, listener: Listener<K>): void {
    this.#listeners.get(event)?.delete(listener);
  }

  emit<K extends keyof BridgeEventMap>(event: K, ...args: BridgeEventMap[K]): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        (listener as Listener<K>)(...args);
      } catch (err) {
        this.#log.error({ err, event }, 'a bridge event listener threw');
      }
    }
  }

  /** How many listeners are subscribed (the soak's leak accounting). */
  listenerCount(): number {
    let n = 0;
    for (const set of this.#listeners.values()) n += set.size;
    return n;
  }
}
