/**
 * When the node last answered: the same key and sensor as iot (written by the state cache, not read
 * from the device), once the node's components are known (before that, on/off alone applies).
 */
import type { DeviceModule } from '../module.js';
import { lastSeen } from '../iot/lastSeen.js';

export const smartLastSeen: DeviceModule = { ...lastSeen, family: 'smart', appliesTo: (node) => node.components !== undefined };
