/** When the node last answered (`last_seen` is written by the state cache, not read from the device). */
import type { DeviceModule } from '../module.js';
import { timestampSensor } from './timestampSensor.js';

export const lastSeen: DeviceModule = {
  name: 'last_seen',
  family: 'iot',
  appliesTo: () => true,
  // Written by the state cache with every answer, not parsed from one.
  keys: ['last_seen'],
  entities: () => [timestampSensor('last_seen', 'Last seen', 'mdi:clock-check-outline')],
};
