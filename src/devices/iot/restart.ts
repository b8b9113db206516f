/** Restarts the device (`reboot` in the family's system module); its short absence afterwards is expected. */
import type { DeviceModule } from '../module.js';
import { familyOfNodeType } from '../familyTable.js';

export const restart: DeviceModule = {
  name: 'restart',
  family: 'iot',
  appliesTo: (node) => node.parentId === undefined,
  keys: [],
  set: {
    keys: ['restart'],
    parse: (_key, value) => (value === true ? { ok: true } : { error: 'restart must be true' }),
    request: (node) => ({ [familyOfNodeType(node.type).systemModule]: { reboot: { delay: 1 } } }),
    applied: () => ({}),
    restarts: true,
  },
  entities: () => [
    {
      platform: 'button',
      id: 'restart',
      command: true,
      config: { name: 'Restart', device_class: 'restart', entity_category: 'config', payload_press: '{"restart":true}' },
    },
  ],
};
