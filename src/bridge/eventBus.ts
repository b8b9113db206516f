import { EventEmitter } from 'node:events';
import type { NodeState } from '../api/types.js';
import type { DeviceNode } from '../devices/node.js';

/** Internal events between the bridge's parts (not MQTT). */
export interface BridgeEventMap {
  /** The cloud session became usable (true) or unusable (false). */
  sessionUsable: [usable: boolean];
  /** Nodes were added, removed or changed (alias, online flag, children). */
  nodesChanged: [change: { added: DeviceNode[]; removed: DeviceNode[]; changed: DeviceNode[] }];
  /** A node's topic key changed (rename); old key given so retained topics can be cleared. */
  nodeRenamed: [node: DeviceNode, oldKey: string];
  /** A node answered: its full state after the reading (discovery announces the keys it carries). */
  nodeRead: [node: DeviceNode, state: NodeState];
  /** A restart was sent to a physical device: its short absence that follows is expected. */
  deviceRestarting: [deviceId: string];
  /** Home Assistant came online: republish discovery, availability and state. */
  homeAssistantOnline: [];
}

export class EventBus extends EventEmitter<BridgeEventMap> {
  constructor() {
    super({ captureRejections: false });
    this.setMaxListeners(50);
  }
}
