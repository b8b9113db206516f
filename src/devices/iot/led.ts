/** The indicator LED of plugs, switches, dimmers and strips. `off` is inverted: 1 darkens it. */
import type { DeviceModule } from '../module.js';
import { onOffValue, SYSINFO_READ } from './values.js';

const LED_NODES = new Set(['plug', 'switch', 'dimmer', 'strip']);

export const led: DeviceModule = {
  name: 'led',
  family: 'iot',
  appliesTo: (node) => LED_NODES.has(node.type),
  keys: ['led'],
  read: { cadence: 'poll', request: () => SYSINFO_READ },
  parse: (_node, { sysinfo }) => {
    const off = sysinfo?.['led_off'];
    return off === 0 || off === 1 ? { led: off === 1 ? 'OFF' : 'ON' } : undefined;
  },
  set: {
    keys: ['led'],
    parse: (_key, value) => {
      const state = onOffValue(value);
      return state ? { ok: state } : { error: 'led must be ON or OFF' };
    },
    // python-kasa, plasticrake/tplink-smarthome-api: `off: 1` darkens the indicator.
    request: (_node, set) => ({ system: { set_led_off: { off: set.led === 'OFF' ? 1 : 0 } } }),
    unconfirmed: (_node, set, readBack) => (readBack?.led === set.led ? [] : ['led']),
    applied: (_node, set, readBack) => {
      const value = readBack?.led ?? set.led;
      return value ? { led: value } : {};
    },
  },
  entities: () => [
    {
      platform: 'switch',
      id: 'led',
      stateKey: 'led',
      command: true,
      config: {
        name: 'LED',
        icon: 'mdi:led-on',
        entity_category: 'config',
        payload_on: '{"led":"ON"}',
        payload_off: '{"led":"OFF"}',
        state_on: 'ON',
        state_off: 'OFF',
        value_template: '{{ value_json.led }}',
      },
    },
  ],
};
