/**
 * On/off of a SMART node: `device_on` of its device info, set with `set_device_info`. It takes
 * `state` on every node that can be switched, so exactly one module does: its entity is the
 * node's main switch, or the light of a dimmer, bulb or light strip (whose brightness and colour
 * modules join the same `set_device_info`).
 */
import type { DeviceModule } from '../module.js';
import { relaySwitchConfig } from '../iot/values.js';
import { isParent } from './components.js';
import { deviceInfoOf, deviceInfoRead } from './deviceInfo.js';
import { isLight, lightEntity } from './light.js';

export const smartOnOff: DeviceModule = {
  name: 'on_off',
  family: 'smart',
  // A strip (P300) is its outlets: it reports no `device_on` of its own.
  appliesTo: (node) => node.type !== 'strip' && !isParent(node) && node.capabilities.includes('onoff'),
  keys: ['state'],
  read: deviceInfoRead,
  parse: (node, reply) => {
    const on = deviceInfoOf(node, reply)?.['device_on'];
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
  entities: (node) =>
    isLight(node)
      ? [lightEntity(node)]
      : [{ platform: 'switch', id: 'switch', main: true, command: true, config: relaySwitchConfig(node.type === 'switch' ? 'switch' : 'outlet') }],
};
