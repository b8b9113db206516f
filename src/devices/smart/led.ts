/**
 * The indicator LED of a SMART device (component `led`): `get_led_info` answers `led_rule`
 * (`always`, `never`, `night_mode`, `auto`); anything but `never` is lit (python-kasa
 * `kasa/smart/modules/led.py`). Set with `set_led_info` `{"led_rule": "always" | "never"}`.
 */
import type { DeviceModule } from '../module.js';
import { led as iotLed } from '../iot/led.js';
import { onOffValue } from '../iot/values.js';
import { hasComponent } from './components.js';
import { smartResult } from './wire.js';

export const smartLed: DeviceModule = {
  name: 'led',
  family: 'smart',
  appliesTo: (node) => node.parentId === undefined && hasComponent(node, 'led'),
  keys: ['led'],
  read: { cadence: 'poll', request: () => ({ get_led_info: null }) },
  parse: (_node, { response }) => {
    const rule = smartResult(response, 'get_led_info')?.['led_rule'];
    return typeof rule === 'string' ? { led: rule === 'never' ? 'OFF' : 'ON' } : undefined;
  },
  set: {
    keys: ['led'],
    parse: (_key, value) => {
      const state = onOffValue(value);
      return state ? { ok: state } : { error: 'led must be ON or OFF' };
    },
    request: (_node, set) => (set.led === undefined ? {} : { set_led_info: { led_rule: set.led === 'ON' ? 'always' : 'never' } }),
    unconfirmed: (_node, set, readBack) => (readBack?.led === set.led ? [] : ['led']),
    applied: (_node, set, readBack) => {
      const value = readBack?.led ?? set.led;
      return value ? { led: value } : {};
    },
  },
  // The same switch as an iot plug's LED.
  entities: (node) => iotLed.entities?.(node) ?? [],
};
