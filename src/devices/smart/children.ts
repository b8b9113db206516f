/**
 * The children of a SMART parent (component `control_child`: P300 outlets, a KS240's fan and
 * dimmer): `get_child_device_list` in the parent's poll carries each child's device info, which
 * the children's modules read (deviceInfo.ts). It has no state of its own.
 */
import type { DeviceModule } from '../module.js';
import { hasComponent } from './components.js';
import { CHILD_LIST_READ } from './deviceInfo.js';

export const smartChildren: DeviceModule = {
  name: 'children',
  family: 'smart',
  appliesTo: (node) => node.parentId === undefined && hasComponent(node, 'control_child'),
  keys: [],
  read: { cadence: 'poll', request: () => CHILD_LIST_READ },
};
