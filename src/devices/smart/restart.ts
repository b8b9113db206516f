/** Restarts a SMART device: `device_reboot` `{"delay": 1}` (python-kasa `SmartDevice.reboot`); its short absence afterwards is expected. */
import type { DeviceModule } from '../module.js';
import { restart as iotRestart } from '../iot/restart.js';

export const smartRestart: DeviceModule = {
  name: 'restart',
  family: 'smart',
  appliesTo: (node) => node.parentId === undefined && node.components !== undefined,
  keys: [],
  set: {
    keys: ['restart'],
    parse: (_key, value) => (value === true ? { ok: true } : { error: 'restart must be true' }),
    request: () => ({ device_reboot: { delay: 1 } }),
    applied: () => ({}),
    restarts: true,
  },
  entities: (node) => iotRestart.entities?.(node) ?? [],
};
