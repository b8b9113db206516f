/**
 * The `data` of `<base>/<key>/response/set`, and a check that the read-back confirms the set
 * (docs/protocol.md, "Passthrough": methods normally run in textual order, but nothing guarantees it; a caller that finds
 * unconfirmed attributes may read the device once more).
 */
import type { NodeState, SetPayload } from '../api/types.js';
import { featuresOf, type SetFeatureKey } from './features.js';
import type { DeviceNode } from './node.js';

type SetAttribute = 'state' | 'brightness' | 'color_temp' | 'color' | SetFeatureKey;

/**
 * What was applied: each attribute the set gave, with the device's read-back value where the
 * reply had one (so TOGGLE shows as the resulting ON/OFF). Strips report the requested state.
 */
export function appliedData(node: DeviceNode, set: SetPayload, readBack?: NodeState): Partial<NodeState> {
  const data: Partial<NodeState> = {};
  if (set.state !== undefined) {
    const confirmed = node.type === 'strip' ? undefined : readBack?.state;
    if (confirmed !== undefined) data.state = confirmed;
    else if (set.state !== 'TOGGLE') data.state = set.state;
  }
  for (const feature of featuresOf(node)) {
    const spec = feature.set;
    const value = spec ? set[spec.key] : undefined;
    if (spec && value !== undefined) Object.assign(data, spec.applied?.(value as never, readBack));
  }
  if (set.state === 'OFF') return data;
  if (set.brightness !== undefined) data.brightness = readBack?.brightness ?? set.brightness;
  if (set.color_temp !== undefined) data.color_temp = readBack?.color_temp ?? set.color_temp;
  if (set.color !== undefined) data.color = readBack?.color ?? set.color;
  return data;
}

/**
 * Attributes of a (TOGGLE-resolved) set the read-back does not show. Values of a light that was
 * switched off are not compared: an off light reports the values it will come back with.
 */
export function unconfirmedAttributes(node: DeviceNode, set: SetPayload, readBack: NodeState | undefined): SetAttribute[] {
  const missing: SetAttribute[] = [];
  for (const feature of featuresOf(node)) {
    const spec = feature.set;
    const value = spec ? set[spec.key] : undefined;
    if (spec?.confirmed && value !== undefined && !spec.confirmed(value, readBack)) missing.push(spec.key);
  }
  if (set.state === 'ON' || set.state === 'OFF') {
    if (node.type === 'strip') {
      const expected = set.state === 'ON' ? (node.childIds?.length ?? undefined) : 0;
      if (expected !== undefined && readBack?.outlets_on !== expected) missing.push('state');
    } else if (readBack?.state !== set.state) {
      missing.push('state');
    }
  }
  if (set.state === 'OFF') return missing;
  if (set.brightness !== undefined && readBack?.brightness !== set.brightness) missing.push('brightness');
  if (set.color_temp !== undefined && readBack?.color_temp !== set.color_temp) missing.push('color_temp');
  if (set.color !== undefined) {
    const got = readBack?.color;
    const close = got !== undefined && Math.abs(got.h - set.color.h) <= 1 && Math.abs(got.s - set.color.s) <= 1;
    if (!close) missing.push('color');
  }
  return missing;
}
