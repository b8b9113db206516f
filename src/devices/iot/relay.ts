/** On/off of a plug, a switch or one outlet of a strip: `relay_state` (outlets: their `state` in the strip's sysinfo). */
import type { DeviceModule } from '../module.js';
import { appliedState, onOff, relayBit, relaySwitchConfig, SYSINFO_READ } from './values.js';

const RELAY_NODES = new Set(['plug', 'switch', 'outlet']);

export const relay: DeviceModule = {
  name: 'relay',
  family: 'iot',
  appliesTo: (node) => RELAY_NODES.has(node.type),
  keys: ['state'],
  read: { cadence: 'poll', request: () => SYSINFO_READ },
  parse: (node, { sysinfo, child }) => {
    const state = node.parentId === undefined ? onOff(sysinfo?.['relay_state']) : onOff(child?.['state']);
    return state ? { state } : undefined;
  },
  set: {
    keys: ['state'],
    request: (_node, set) => {
      const bit = relayBit(set.state);
      return bit === undefined ? {} : { system: { set_relay_state: { state: bit } } };
    },
    unconfirmed: (_node, set, readBack) => ((set.state === 'ON' || set.state === 'OFF') && readBack?.state !== set.state ? ['state'] : []),
    applied: (_node, set, readBack) => appliedState(set, readBack),
  },
  entities: (node) => [
    { platform: 'switch', id: 'switch', main: true, command: true, config: relaySwitchConfig(node.type === 'switch' ? 'switch' : 'outlet') },
  ],
};
