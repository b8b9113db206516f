import type { Capability, NodeType } from '../api/types.js';
import type { ProtocolFamily } from './module.js';

/**
 * Where a node's energy readings come from:
 * - `emeter`: module `emeter` (plugs HS110/KP115/KP125/EP25; an HS300 outlet with its child id as context);
 * - `light`: module `smartlife.iot.common.emeter` (bulbs, light strips: power, sometimes a total);
 * - `outlets`: a strip whose outlets each have an `emeter` (HS300); the strip itself reports none.
 */
export type MeterKind = 'emeter' | 'light' | 'outlets';

/**
 * A controllable thing the bridge exposes: a physical device, or one outlet of a strip.
 * `id` never changes (cloud deviceId; outlets: the child id = parent id + two digits);
 * `key` is the persisted topic key (docs/mqtt-api.md, "Topic keys").
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
  /** How the device is spoken to; its modules come from this family's table (protocols.ts). */
  protocol: ProtocolFamily;
  /** Names of the modules the node has (on/off, energy, LED, firmware…), in table order. */
  modules: string[];
  /** The physical device this node is reached through (itself, or the strip for an outlet). */
  deviceId: string;
  /** Base URL the device's passthrough goes to. */
  appServerUrl?: string;
  parentId?: string;
  childIds?: string[];
  /** Kelvin range for colour-temperature lights. */
  kelvin?: { min: number; max: number };
  /** Effect names a light strip offers (its built-in effects and `off`). */
  effects?: string[];
  online: boolean;
  fw?: string;
  hw?: string;
  /** MAC as `aa:bb:cc:dd:ee:ff` (physical devices only). */
  mac?: string;
  /**
   * SMART family: the components the device (or child) declared in `component_nego`, id → version
   * (`energy_monitoring` → 2). Its modules apply by these; unknown: only on/off applies.
   */
  components?: Readonly<Record<string, number>>;
  /** Energy meter, when the node has one (see `MeterKind`). */
  meter?: MeterKind;
}

/** A device-list entry the bridge lists but leaves alone (Tapo, cameras, routers). */
export interface UnsupportedDevice {
  id: string;
  alias: string;
  model: string;
  deviceType: string;
  online: boolean;
}
