/** Brightness of a SMART dimmer or bulb (component `brightness`): `brightness` 1–100 of its device info, set with `set_device_info`. */
import type { NodeState } from '../../api/types.js';
import type { DeviceModule } from '../module.js';
import { finiteNumber } from '../reply.js';
import { hasComponent, isParent } from './components.js';
import { deviceInfoOf, deviceInfoRead } from './deviceInfo.js';

export const smartBrightness: DeviceModule = {
  name: 'brightness',
  family: 'smart',
  appliesTo: (node) => !isParent(node) && hasComponent(node, 'brightness'),
  keys: ['brightness'],
  read: deviceInfoRead,
  parse: (node, reply) => {
    const info = deviceInfoOf(node, reply);
    if (!info) return undefined;
    const brightness = finiteNumber(info['brightness']);
    return brightness === undefined ? {} : { brightness };
  },
  set: {
    keys: ['brightness'],
    request: (_node, set) => (set.brightness === undefined || set.state === 'OFF' ? {} : { set_device_info: { brightness: set.brightness } }),
    unconfirmed: (_node, set, readBack) => (set.state !== 'OFF' && set.brightness !== undefined && readBack?.brightness !== set.brightness ? ['brightness'] : []),
    applied: (_node, set, readBack): Partial<NodeState> =>
      set.state !== 'OFF' && set.brightness !== undefined ? { brightness: readBack?.brightness ?? set.brightness } : {},
  },
};
