/** The Wi-Fi signal a physical device reports in its sysinfo. */
import type { DeviceModule } from '../module.js';
import { finiteNumber } from '../reply.js';
import { SYSINFO_READ } from './values.js';

export const rssi: DeviceModule = {
  name: 'rssi',
  family: 'iot',
  appliesTo: (node) => node.parentId === undefined,
  keys: ['rssi'],
  read: { cadence: 'poll', request: () => SYSINFO_READ },
  parse: (_node, { sysinfo }) => {
    const value = finiteNumber(sysinfo?.['rssi']);
    return value === undefined ? undefined : { rssi: value };
  },
  entities: () => [
    {
      platform: 'sensor',
      id: 'rssi',
      stateKey: 'rssi',
      config: {
        device_class: 'signal_strength',
        state_class: 'measurement',
        unit_of_measurement: 'dBm',
        entity_category: 'diagnostic',
        enabled_by_default: false,
        value_template: '{{ value_json.rssi }}',
      },
    },
  ],
};
