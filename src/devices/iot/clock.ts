/**
 * The device's clock, read where a meter keeps daily statistics: "today" and "this month" are the
 * device's own (its UTC offset is learned from the answer, see ../energy.ts). No state keys.
 */
import type { DeviceModule } from '../module.js';
import { familyOfNodeType } from '../familyTable.js';

export const clock: DeviceModule = {
  name: 'clock',
  family: 'iot',
  appliesTo: (node) => node.parentId === undefined && (node.meter === 'emeter' || node.meter === 'outlets'),
  keys: [],
  read: { cadence: 'poll', request: (node) => ({ [familyOfNodeType(node.type).timeModule]: { get_time: null } }) },
};
