/** Small readers shared by the iot modules. */
import type { NodeState, OnOff, SetPayload } from '../../api/types.js';

/** A device's 1/0 (or true/false) as ON/OFF. */
export function onOff(value: unknown): OnOff | undefined {
  if (value === 1 || value === true) return 'ON';
  if (value === 0 || value === false) return 'OFF';
  return undefined;
}

/** A set's resolved state as the relay bit devices take. */
export function relayBit(state: SetPayload['state']): number | undefined {
  if (state === 'ON') return 1;
  if (state === 'OFF') return 0;
  return undefined;
}

/** A lenient ON/OFF reading of a set value (`true`, 1, "on"…). */
export function onOffValue(value: unknown): OnOff | undefined {
  if (value === true || value === 1) return 'ON';
  if (value === false || value === 0) return 'OFF';
  if (typeof value !== 'string') return undefined;
  const v = value.trim().toUpperCase();
  return v === 'ON' || v === 'OFF' ? v : undefined;
}

export const SYSINFO_READ = { system: { get_sysinfo: null } } as const;

/** The main switch entity of a relay (plugs, switches, outlets). */
export function relaySwitchConfig(deviceClass: 'outlet' | 'switch'): Record<string, unknown> {
  return {
    name: null,
    device_class: deviceClass,
    value_template: '{{ value_json.state }}',
    payload_on: 'ON',
    payload_off: 'OFF',
  };
}

/** What `response/set` reports for `state`: the read-back (so TOGGLE shows as ON/OFF), else what was asked. */
export function appliedState(set: SetPayload, readBack: NodeState | undefined): Partial<NodeState> {
  if (set.state === undefined) return {};
  if (readBack?.state !== undefined) return { state: readBack.state };
  return set.state === 'TOGGLE' ? {} : { state: set.state };
}
