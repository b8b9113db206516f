import type { Capability, NodeType } from '../api/types.js';

/**
 * A controllable thing the bridge exposes: a physical device, or one outlet of a strip.
 * `id` never changes (cloud deviceId; outlets: the child id = parent id + two digits);
 * `key` is the persisted topic key (interface.md §3).
 */
export interface DeviceNode {
  id: string;
  key: string;
  /** Kasa alias as the cloud reports it (outlets: the outlet's own alias). */
  alias: string;
  /** Display name: the alias; outlets "<strip alias> <outlet alias>". */
  name: string;
  /** `deviceModel` with region, e.g. `HS110(US)`. */
  model: string;
  type: NodeType;
  capabilities: Capability[];
  /** The physical device this node is reached through (itself, or the strip for an outlet). */
  deviceId: string;
  /** Base URL the device's passthrough goes to. */
  appServerUrl?: string;
  parentId?: string;
  childIds?: string[];
  /** Kelvin range for colour-temperature lights. */
  kelvin?: { min: number; max: number };
  /** Effect names a light strip reports, when known. */
  effects?: string[];
  online: boolean;
  fw?: string;
  hw?: string;
  /** MAC as `aa:bb:cc:dd:ee:ff` (physical devices only). */
  mac?: string;
}

/** A device-list entry the bridge lists but leaves alone (Tapo, cameras, routers). */
export interface UnsupportedDevice {
  id: string;
  alias: string;
  model: string;
  deviceType: string;
  online: boolean;
}
