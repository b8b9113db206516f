/**
 * A strip's own on/off: how many outlets are on, and `state` switching every outlet at once
 * (naming each outlet in the context: a parent-level set without one is unverified, docs/protocol.md).
 */
import type { DeviceModule } from '../module.js';
import { isRecord } from '../../isRecord.js';
import { onOff, relayBit, SYSINFO_READ } from './values.js';

export const outlets: DeviceModule = {
  name: 'outlets',
  family: 'iot',
  appliesTo: (node) => node.type === 'strip',
  keys: ['outlets_on'],
  read: { cadence: 'poll', request: () => SYSINFO_READ },
  parse: (_node, { sysinfo }) => {
    const children = sysinfo?.['children'];
    if (!Array.isArray(children)) return undefined;
    return { outlets_on: children.filter((c) => isRecord(c) && onOff(c['state']) === 'ON').length };
  },
  set: {
    keys: ['state'],
    request: (node, set) => {
      const bit = relayBit(set.state);
      if (bit === undefined) return {};
      const request: Record<string, unknown> = { system: { set_relay_state: { state: bit } } };
      if (node.childIds && node.childIds.length > 0) request['context'] = { child_ids: [...node.childIds] };
      return request;
    },
    isOn: (current) => (current?.outlets_on ?? 0) > 0,
    unconfirmed: (node, set, readBack) => {
      if (set.state !== 'ON' && set.state !== 'OFF') return [];
      const expected = set.state === 'ON' ? node.childIds?.length : 0;
      return expected !== undefined && readBack?.outlets_on !== expected ? ['state'] : [];
    },
    // The strip has no state of its own: report what was asked.
    applied: (_node, set) => (set.state === 'ON' || set.state === 'OFF' ? { state: set.state } : {}),
  },
  entities: () => [
    {
      platform: 'sensor',
      id: 'outlets_on',
      stateKey: 'outlets_on',
      config: { name: 'Outlets on', icon: 'mdi:power-socket', state_class: 'measurement', value_template: '{{ value_json.outlets_on }}' },
    },
  ],
};
