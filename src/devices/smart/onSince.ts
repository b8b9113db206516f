/**
 * When a SMART node was switched on: its device info's `on_time` (seconds on) against the bridge's
 * clock, null while off; the same key and sensor as the iot module, smoothed the same way.
 */
import type { DeviceModule } from '../module.js';
import { onSince as iotOnSince } from '../iot/onSince.js';
import { finiteNumber } from '../reply.js';
import { isParent } from './components.js';
import { deviceInfoOf, deviceInfoRead } from './deviceInfo.js';

// As iot: relays and dimmers (bulbs report no `on_time`).
const ON_SINCE_NODES = new Set(['plug', 'switch', 'dimmer', 'outlet']);

export const smartOnSince: DeviceModule = {
  name: 'on_since',
  family: 'smart',
  appliesTo: (node) => ON_SINCE_NODES.has(node.type) && node.components !== undefined && !isParent(node),
  keys: ['on_since'],
  read: deviceInfoRead,
  parse: (node, reply) => {
    const info = deviceInfoOf(node, reply);
    const on = info?.['device_on'];
    const seconds = finiteNumber(info?.['on_time']);
    if (on === false) return { on_since: null };
    if (on !== true || seconds === undefined) return undefined;
    return { on_since: new Date((Math.floor(reply.now.getTime() / 1000) - seconds) * 1000).toISOString() };
  },
  // The same smoothing as iot: `on_time` is whole seconds.
  steady: (previous, reading) => iotOnSince.steady?.(previous, reading) ?? reading,
  entities: (node) => iotOnSince.entities?.(node) ?? [],
};
