/**
 * When the relay was switched on, from the device's whole-second `on_time` and the bridge's clock.
 * It wobbles by a second between polls; `steady` keeps the earlier value unless it moved further.
 */
import type { DeviceModule } from '../module.js';
import { finiteNumber } from '../reply.js';
import { timestampSensor } from './timestampSensor.js';
import { SYSINFO_READ } from './values.js';

const ON_SINCE_NODES = new Set(['plug', 'switch', 'dimmer', 'outlet']);

export const onSince: DeviceModule = {
  name: 'on_since',
  family: 'iot',
  appliesTo: (node) => ON_SINCE_NODES.has(node.type),
  keys: ['on_since'],
  read: { cadence: 'poll', request: () => SYSINFO_READ },
  parse: (node, { sysinfo, child, now }) => {
    const source = node.parentId === undefined ? sysinfo : child;
    const on = source?.[node.parentId === undefined ? 'relay_state' : 'state'];
    const seconds = finiteNumber(source?.['on_time']);
    if (on === 0) return { on_since: null };
    if (on !== 1 || seconds === undefined) return undefined;
    return { on_since: new Date((Math.floor(now.getTime() / 1000) - seconds) * 1000).toISOString() };
  },
  steady: (previous, reading) => {
    const before = previous?.on_since;
    const now = reading.on_since;
    if (typeof before !== 'string' || typeof now !== 'string') return reading;
    return Math.abs(Date.parse(before) - Date.parse(now)) <= 2_000 ? { ...reading, on_since: before } : reading;
  },
  entities: () => [timestampSensor('on_since', 'On since', 'mdi:clock-start')],
};
