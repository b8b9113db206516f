/** A strip's own switch in Home Assistant: on while any outlet is on; `state` on a strip sets every outlet. */
import type { DeviceModule } from '../module.js';

export const allOutlets: DeviceModule = {
  name: 'all_outlets',
  family: 'iot',
  appliesTo: (node) => node.type === 'strip',
  keys: [],
  entities: () => [
    {
      platform: 'switch',
      id: 'all_outlets',
      stateKey: 'outlets_on',
      command: true,
      config: {
        name: 'All outlets',
        icon: 'mdi:power-socket',
        value_template: "{{ 'ON' if (value_json.outlets_on | int(0)) > 0 else 'OFF' }}",
        payload_on: 'ON',
        payload_off: 'OFF',
        state_on: 'ON',
        state_off: 'OFF',
      },
    },
  ],
};
