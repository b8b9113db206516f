/**
 * A wall dimmer (HS220, KS230…): on/off with `set_relay_state`, brightness with `set_brightness`;
 * a transition uses `set_dimmer_transition`, which also switches (to the target brightness to fade
 * on, to 0 to fade off).
 */
import type { DeviceModule } from '../module.js';
import type { NodeState, SetPayload } from '../../api/types.js';
import { finiteNumber } from '../reply.js';
import { appliedState, onOff, relayBit, SYSINFO_READ } from './values.js';

export const DIMMER_MODULE = 'smartlife.iot.dimmer';

export const dimmer: DeviceModule = {
  name: 'dimmer',
  family: 'iot',
  appliesTo: (node) => node.type === 'dimmer',
  keys: ['state', 'brightness'],
  read: { cadence: 'poll', request: () => SYSINFO_READ },
  parse: (_node, { sysinfo }) => {
    if (!sysinfo) return undefined;
    const state: NodeState = {};
    const on = onOff(sysinfo['relay_state']);
    if (on) state.state = on;
    const brightness = finiteNumber(sysinfo['brightness']);
    if (brightness !== undefined) state.brightness = brightness;
    return state;
  },
  set: {
    keys: ['state', 'brightness', 'transition'],
    request: (_node, set, current) => dimmerRequest(set, current),
    unconfirmed: (_node, set, readBack) => {
      const missing: ('state' | 'brightness')[] = [];
      if ((set.state === 'ON' || set.state === 'OFF') && readBack?.state !== set.state) missing.push('state');
      if (set.state !== 'OFF' && set.brightness !== undefined && readBack?.brightness !== set.brightness) missing.push('brightness');
      return missing;
    },
    applied: (_node, set, readBack) => {
      const data: Partial<NodeState> = appliedState(set, readBack);
      if (set.state !== 'OFF' && set.brightness !== undefined) data.brightness = readBack?.brightness ?? set.brightness;
      return data;
    },
  },
  entities: () => [
    {
      platform: 'light',
      id: 'light',
      main: true,
      command: true,
      config: { name: null, schema: 'json', supported_color_modes: ['brightness'], brightness_scale: 100, flash: false },
    },
  ],
};

function dimmerRequest(set: SetPayload, current: NodeState | undefined): Record<string, unknown> {
  const request: Record<string, unknown> = {};
  if (set.transition !== undefined && set.state !== undefined) {
    const duration = Math.round(set.transition * 1000);
    const brightness = set.state === 'OFF' ? 0 : (set.brightness ?? current?.brightness);
    if (brightness !== undefined) request[DIMMER_MODULE] = { set_dimmer_transition: { brightness, duration } };
    else request['system'] = { set_relay_state: { state: 1 } };
    return request;
  }
  if (set.brightness !== undefined) request[DIMMER_MODULE] = { set_brightness: { brightness: set.brightness } };
  const bit = relayBit(set.state);
  if (bit !== undefined) request['system'] = { set_relay_state: { state: bit } };
  return request;
}
