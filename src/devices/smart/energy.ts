/**
 * The energy meter of a SMART plug (component `energy_monitoring`): `get_energy_usage` answers
 * `current_power` in mW and `today_energy` / `month_energy` in Wh (the device's own day and
 * month); they become `power_w`, `energy_today_kwh` and `energy_month_kwh`, the keys and sensors
 * of the iot meter. The device keeps no lifetime total, so there is no `energy_kwh` (python-kasa's
 * `consumption_total` is None too). Voltage and current come from `get_emeter_data` (emeter.ts).
 * A device's meter is read with every poll; a child's (P304M outlets) with a request made for it.
 */
import type { NodeState } from '../../api/types.js';
import type { DeviceModule, ModuleEntity, ModuleRead } from '../module.js';
import type { DeviceNode } from '../node.js';
import { energy as iotEnergy } from '../iot/energy.js';
import { finiteNumber } from '../reply.js';
import { hasComponent, isParent } from './components.js';
import { smartResult } from './wire.js';

/** A read of `method`: every poll for a device; for a child, every energy poll in a request made for it. */
export function meterRead(method: string): (node: DeviceNode) => ModuleRead {
  const request = () => ({ [method]: null });
  return (node) => (node.parentId === undefined ? { cadence: 'poll', request } : { cadence: 'energy', targeted: true, request });
}

/** The iot meter's sensors with these ids: the same entity ids and configs as an HS110's. */
export function meterEntities(node: DeviceNode, ids: readonly string[]): ModuleEntity[] {
  return (iotEnergy.entities?.({ ...node, meter: 'emeter' }) ?? []).filter((e) => ids.includes(e.id));
}

export const smartEnergy: DeviceModule = {
  name: 'energy',
  family: 'smart',
  appliesTo: (node) => !isParent(node) && hasComponent(node, 'energy_monitoring'),
  keys: ['power_w', 'energy_today_kwh', 'energy_month_kwh'],
  partial: true,
  read: meterRead('get_energy_usage'),
  // Only an answer made for this node: a child's answer is handed to its parent's nodes too.
  parse: (_node, { response, targeted }) => {
    const usage = targeted ? smartResult(response, 'get_energy_usage') : undefined;
    if (!usage) return undefined;
    const out: NodeState = {};
    const power = finiteNumber(usage['current_power']);
    if (power !== undefined) out.power_w = power / 1000;
    const today = finiteNumber(usage['today_energy']);
    if (today !== undefined) out.energy_today_kwh = today / 1000;
    const month = finiteNumber(usage['month_energy']);
    if (month !== undefined) out.energy_month_kwh = month / 1000;
    return out;
  },
  entities: (node) => meterEntities(node, ['power', 'energy_today', 'energy_month']),
};
