/**
 * The components a SMART device declares: `component_nego` answers
 * `{"component_list": [{"id": "energy_monitoring", "ver_code": 2}, …]}` (a parent lists its
 * children's in `get_child_device_component_list`: `{"child_component_list": [{"device_id",
 * "component_list"}]}`). A module applies when the node has its component (python-kasa's
 * `REQUIRED_COMPONENT`), sometimes from a version on.
 */
import { isRecord } from '../../isRecord.js';
import type { DeviceNode } from '../node.js';
import { finiteNumber } from '../reply.js';

export type Components = Readonly<Record<string, number>>;

/** id → version from a `component_nego` result (or a child's entry); undefined when it has no list. */
export function componentsOf(answer: unknown): Components | undefined {
  const list = isRecord(answer) ? answer['component_list'] : undefined;
  if (!Array.isArray(list)) return undefined;
  const out: Record<string, number> = {};
  for (const entry of list) {
    if (!isRecord(entry) || typeof entry['id'] !== 'string') continue;
    out[entry['id']] = finiteNumber(entry['ver_code']) ?? 1;
  }
  return out;
}

/** Each child's components by its device id, from a `get_child_device_component_list` result. */
export function childComponentsOf(answer: unknown): Map<string, Components> {
  const out = new Map<string, Components>();
  const list = isRecord(answer) ? answer['child_component_list'] : undefined;
  if (!Array.isArray(list)) return out;
  for (const entry of list) {
    const components = componentsOf(entry);
    if (isRecord(entry) && typeof entry['device_id'] === 'string' && components) out.set(entry['device_id'], components);
  }
  return out;
}

/** The version of component `id` the node declared, if it declared it. */
export function componentVersion(node: DeviceNode, id: string): number | undefined {
  return node.components?.[id];
}

/** Whether the node declared component `id` (at `minVersion` or later). */
export function hasComponent(node: DeviceNode, id: string, minVersion = 1): boolean {
  const version = componentVersion(node, id);
  return version !== undefined && version >= minVersion;
}

/**
 * A parent of children (`control_child`: a P300, a KS240): it declares its children's components
 * too (a KS240 lists `brightness` and `fan_control`), but its own device info has no `device_on`,
 * brightness or meter (python-kasa checks the device info for them): those modules are its children's.
 */
export function isParent(node: DeviceNode): boolean {
  return node.parentId === undefined && hasComponent(node, 'control_child');
}
