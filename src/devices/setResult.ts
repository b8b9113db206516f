/**
 * The `data` of `<base>/<key>/response/set`, and a check that the read-back confirms the set
 * (docs/protocol.md, "Passthrough": methods normally run in textual order, but nothing guarantees it; a caller that finds
 * unconfirmed attributes may read the device once more). Each module answers for the keys it took.
 */
import type { NodeState, SetPayload } from '../api/types.js';
import type { SetKey } from './module.js';
import type { DeviceNode } from './node.js';
import { settingModules } from './requests.js';

/**
 * What was applied: each attribute the set gave, with the device's read-back value where the
 * reply had one (so TOGGLE shows as the resulting ON/OFF).
 */
export function appliedData(node: DeviceNode, set: SetPayload, readBack?: NodeState): Partial<NodeState> {
  const data: Partial<NodeState> = {};
  for (const module of settingModules(node, set)) Object.assign(data, module.set?.applied?.(node, set, readBack));
  return data;
}

/**
 * Attributes of a (TOGGLE-resolved) set the read-back does not show. Values of a light that was
 * switched off are not compared: an off light reports the values it will come back with.
 */
export function unconfirmedAttributes(node: DeviceNode, set: SetPayload, readBack: NodeState | undefined): SetKey[] {
  return settingModules(node, set).flatMap((module) => module.set?.unconfirmed?.(node, set, readBack) ?? []);
}
