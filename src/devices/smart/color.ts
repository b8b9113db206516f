/**
 * Colour of a SMART bulb or light strip (component `color`): `hue` 0–360 and `saturation` 0–100 of
 * its device info, and which of colour and variable white the light shows (`color_mode`): a
 * `color_temp` above 0 wins, as on the device. Set with `set_device_info`, `color_temp` 0 so the
 * hue shows (python-kasa `kasa/smart/modules/color.py`). It comes after colour temperature in the
 * table, so a set giving both shows the colour, as the iot light does.
 */
import type { NodeState } from '../../api/types.js';
import type { DeviceModule } from '../module.js';
import { finiteNumber } from '../reply.js';
import { hasComponent, isParent } from './components.js';
import { deviceInfoOf, deviceInfoRead } from './deviceInfo.js';

export const smartColor: DeviceModule = {
  name: 'color',
  family: 'smart',
  appliesTo: (node) => !isParent(node) && hasComponent(node, 'color'),
  keys: ['color', 'color_mode'],
  read: deviceInfoRead,
  parse: (node, reply): NodeState | undefined => {
    const info = deviceInfoOf(node, reply);
    if (!info) return undefined;
    const kelvin = finiteNumber(info['color_temp']);
    if (hasComponent(node, 'color_temperature') && kelvin !== undefined && kelvin > 0) return { color_mode: 'color_temp' };
    const h = finiteNumber(info['hue']);
    const s = finiteNumber(info['saturation']);
    return h !== undefined && s !== undefined ? { color: { h, s }, color_mode: 'hs' } : {};
  },
  set: {
    keys: ['color'],
    request: (_node, set) =>
      set.color === undefined || set.state === 'OFF'
        ? {}
        : { set_device_info: { hue: Math.round(set.color.h), saturation: Math.round(set.color.s), color_temp: 0 } },
    unconfirmed: (_node, set, readBack) => {
      if (set.state === 'OFF' || set.color === undefined) return [];
      const got = readBack?.color;
      const close = got !== undefined && Math.abs(got.h - set.color.h) <= 1 && Math.abs(got.s - set.color.s) <= 1;
      return close ? [] : ['color'];
    },
    applied: (_node, set, readBack): Partial<NodeState> => (set.state !== 'OFF' && set.color !== undefined ? { color: readBack?.color ?? set.color } : {}),
  },
};
