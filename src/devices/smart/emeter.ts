/**
 * Voltage and current of a SMART plug whose meter has them: `get_emeter_data` (`voltage_mv`,
 * `current_ma`), asked from `energy_monitoring` version 2 on, as python-kasa does. Some models
 * of that version lack the method: it is optional, so their first answer turns it off. It is
 * last in the table, because a device stops at a failed method and skips the reads after it.
 */
import type { NodeState } from '../../api/types.js';
import type { DeviceModule } from '../module.js';
import { finiteNumber } from '../reply.js';
import { hasComponent, isParent } from './components.js';
import { meterEntities, meterRead } from './energy.js';
import { smartResult } from './wire.js';

export const smartEmeter: DeviceModule = {
  name: 'voltage_current',
  family: 'smart',
  appliesTo: (node) => !isParent(node) && hasComponent(node, 'energy_monitoring', 2),
  keys: ['voltage_v', 'current_a'],
  partial: true,
  optional: true,
  read: meterRead('get_emeter_data'),
  parse: (_node, { response, targeted }) => {
    const data = targeted ? smartResult(response, 'get_emeter_data') : undefined;
    if (!data) return undefined;
    const out: NodeState = {};
    const voltage = finiteNumber(data['voltage_mv']);
    if (voltage !== undefined) out.voltage_v = voltage / 1000;
    const current = finiteNumber(data['current_ma']);
    if (current !== undefined) out.current_a = current / 1000;
    return out;
  },
  entities: (node) => meterEntities(node, ['voltage', 'current']),
};
