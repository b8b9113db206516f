/** On/off of a SMART plug, switch or outlet: `device_on` of `get_device_info`, set with `set_device_info`. */
import type { DeviceModule } from '../module.js';
import { smartResult } from './wire.js';

// Bulbs also report `device_on`, but their main entity is a light, made by a light module.
const ON_OFF_NODES = new Set(['plug', 'switch', 'outlet']);

export const smartOnOff: DeviceModule = {
  name: 'on_off',
  family: 'smart',
  appliesTo: (node) => ON_OFF_NODES.has(node.type) && node.capabilities.includes('onoff'),
  keys: ['state'],
  read: { cadence: 'poll', request: () => ({ get_device_info: null }) },
  parse: (_node, { response }) => {
    const on = smartResult(response, 'get_device_info')?.['device_on'];
    // A device info without a boolean `device_on` is a malformed answer, not a device that stopped having a state.
    return typeof on === 'boolean' ? { state: on ? 'ON' : 'OFF' } : undefined;
  },
  set: {
    keys: ['state'],
    request: (_node, set) => (set.state === 'ON' || set.state === 'OFF' ? { set_device_info: { device_on: set.state === 'ON' } } : {}),
    unconfirmed: (_node, set, readBack) => ((set.state === 'ON' || set.state === 'OFF') && readBack?.state !== set.state ? ['state'] : []),
    applied: (_node, set, readBack) => {
      if (readBack?.state !== undefined) return { state: readBack.state };
      return set.state === 'ON' || set.state === 'OFF' ? { state: set.state } : {};
    },
  },
  entities: (node) => [
    {
      platform: 'switch',
      id: 'switch',
      main: true,
      command: true,
      config: {
        name: null,
        device_class: node.type === 'switch' ? 'switch' : 'outlet',
        value_template: '{{ value_json.state }}',
        payload_on: 'ON',
        payload_off: 'OFF',
      },
    },
  ],
};
