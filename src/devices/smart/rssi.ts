/** The Wi-Fi signal a SMART device reports in its device info (`rssi`, dBm); children have none. */
import type { DeviceModule } from '../module.js';
import { rssi as iotRssi } from '../iot/rssi.js';
import { finiteNumber } from '../reply.js';
import { deviceInfoOf, deviceInfoRead } from './deviceInfo.js';

export const smartRssi: DeviceModule = {
  name: 'rssi',
  family: 'smart',
  appliesTo: (node) => node.parentId === undefined && node.components !== undefined,
  keys: ['rssi'],
  read: deviceInfoRead,
  parse: (node, reply) => {
    const value = finiteNumber(deviceInfoOf(node, reply)?.['rssi']);
    return value === undefined ? undefined : { rssi: value };
  },
  entities: (node) => iotRssi.entities?.(node) ?? [],
};
