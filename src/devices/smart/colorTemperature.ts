/**
 * Variable white of a SMART bulb or light strip (component `color_temperature`): `color_temp` in
 * Kelvin, 0 while the light shows a hue (then the key is left out, as the iot light does).
 */
import type { NodeState } from '../../api/types.js';
import type { DeviceModule } from '../module.js';
import { finiteNumber } from '../reply.js';
import { hasComponent, isParent } from './components.js';
import { deviceInfoOf, deviceInfoRead } from './deviceInfo.js';

export const smartColorTemperature: DeviceModule = {
  name: 'color_temperature',
  family: 'smart',
  appliesTo: (node) => !isParent(node) && hasComponent(node, 'color_temperature'),
  keys: ['color_temp'],
  read: deviceInfoRead,
  parse: (node, reply) => {
    const info = deviceInfoOf(node, reply);
    if (!info) return undefined;
    const kelvin = finiteNumber(info['color_temp']);
    return kelvin !== undefined && kelvin > 0 ? { color_temp: kelvin } : {};
  },
  set: {
    keys: ['color_temp'],
    request: (_node, set) => (set.color_temp === undefined || set.state === 'OFF' ? {} : { set_device_info: { color_temp: set.color_temp } }),
    unconfirmed: (_node, set, readBack) => (set.state !== 'OFF' && set.color_temp !== undefined && readBack?.color_temp !== set.color_temp ? ['color_temp'] : []),
    applied: (_node, set, readBack): Partial<NodeState> =>
      set.state !== 'OFF' && set.color_temp !== undefined ? { color_temp: readBack?.color_temp ?? set.color_temp } : {},
  },
};
