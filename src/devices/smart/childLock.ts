/**
 * The child lock of SMART models that publish it (component `button_and_led`): `getChildLockInfo`
 * answers `child_lock_status` (boolean), set with `setChildLockInfo` (python-kasa
 * `kasa/smart/modules/childlock.py`). State key `child_lock` ON/OFF, a config switch.
 */
import type { DeviceModule } from '../module.js';
import { onOffValue } from '../iot/values.js';
import { hasComponent } from './components.js';
import { smartResult } from './wire.js';

export const smartChildLock: DeviceModule = {
  name: 'child_lock',
  family: 'smart',
  appliesTo: (node) => node.parentId === undefined && hasComponent(node, 'button_and_led'),
  keys: ['child_lock'],
  read: { cadence: 'poll', request: () => ({ getChildLockInfo: null }) },
  parse: (_node, { response, targeted }) => {
    const locked = targeted ? smartResult(response, 'getChildLockInfo')?.['child_lock_status'] : undefined;
    return typeof locked === 'boolean' ? { child_lock: locked ? 'ON' : 'OFF' } : undefined;
  },
  set: {
    keys: ['child_lock'],
    parse: (_key, value) => {
      const state = onOffValue(value);
      return state ? { ok: state } : { error: 'child_lock must be ON or OFF' };
    },
    request: (_node, set) => (set.child_lock === undefined ? {} : { setChildLockInfo: { child_lock_status: set.child_lock === 'ON' } }),
    unconfirmed: (_node, set, readBack) => (readBack?.child_lock === set.child_lock ? [] : ['child_lock']),
    applied: (_node, set, readBack) => {
      const value = readBack?.child_lock ?? set.child_lock;
      return value ? { child_lock: value } : {};
    },
  },
  entities: () => [
    {
      platform: 'switch',
      id: 'child_lock',
      stateKey: 'child_lock',
      command: true,
      config: {
        name: 'Child lock',
        icon: 'mdi:lock',
        entity_category: 'config',
        payload_on: '{"child_lock":"ON"}',
        payload_off: '{"child_lock":"OFF"}',
        state_on: 'ON',
        state_off: 'OFF',
        value_template: '{{ value_json.child_lock }}',
      },
    },
  ],
};
