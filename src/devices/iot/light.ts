/**
 * A bulb's or light strip's light: on/off, brightness, colour temperature and colour, set together
 * by one device method (`transition_light_state` on bulbs, `set_light_state` on light strips), as
 * python-kasa's iot Light module does. What the node can do is in its capabilities.
 */
import type { NodeState, SetPayload } from '../../api/types.js';
import { DEFAULT_KELVIN } from '../familyTable.js';
import type { DeviceModule, SetKey } from '../module.js';
import type { DeviceNode } from '../node.js';
import { isRecord } from '../../isRecord.js';
import { finiteNumber, methodResult } from '../reply.js';
import { appliedState, onOff, relayBit, SYSINFO_READ } from './values.js';

export const BULB_LIGHT_MODULE = 'smartlife.iot.smartbulb.lightingservice';
export const STRIP_LIGHT_MODULE = 'smartlife.iot.lightStrip';

export const light: DeviceModule = {
  name: 'light',
  family: 'iot',
  appliesTo: (node) => node.type === 'bulb' || node.type === 'lightstrip',
  keys: ['state', 'brightness', 'color_temp', 'color', 'color_mode'],
  read: { cadence: 'poll', request: () => SYSINFO_READ },
  parse: (node, { response, sysinfo }) => {
    const found = lightStateOf(response, sysinfo);
    return found ? lightState(node, found) : undefined;
  },
  set: {
    keys: ['state', 'brightness', 'color_temp', 'color', 'transition'],
    request: (node, set) => {
      const args = lightArguments(set);
      if (!args) return {};
      return node.type === 'lightstrip'
        ? { [STRIP_LIGHT_MODULE]: { set_light_state: args } }
        : { [BULB_LIGHT_MODULE]: { transition_light_state: args } };
    },
    unconfirmed: (_node, set, readBack) => {
      const missing: SetKey[] = [];
      if ((set.state === 'ON' || set.state === 'OFF') && readBack?.state !== set.state) missing.push('state');
      // An off light reports the values it will come back with: nothing more to compare.
      if (set.state === 'OFF') return missing;
      if (set.brightness !== undefined && readBack?.brightness !== set.brightness) missing.push('brightness');
      if (set.color_temp !== undefined && readBack?.color_temp !== set.color_temp) missing.push('color_temp');
      if (set.color !== undefined) {
        const got = readBack?.color;
        const close = got !== undefined && Math.abs(got.h - set.color.h) <= 1 && Math.abs(got.s - set.color.s) <= 1;
        if (!close) missing.push('color');
      }
      return missing;
    },
    applied: (_node, set, readBack) => {
      const data: Partial<NodeState> = appliedState(set, readBack);
      if (set.state === 'OFF') return data;
      if (set.brightness !== undefined) data.brightness = readBack?.brightness ?? set.brightness;
      if (set.color_temp !== undefined) data.color_temp = readBack?.color_temp ?? set.color_temp;
      if (set.color !== undefined) data.color = readBack?.color ?? set.color;
      return data;
    },
  },
  entities: (node) => [{ platform: 'light', id: 'light', main: true, command: true, config: lightConfig(node) }],
};

/**
 * The light state a reply carries. Sysinfo is read after any setter in the same request, so it
 * wins; a bulb set reply has no sysinfo, and its `transition_light_state` answer is the new state.
 */
function lightStateOf(response: unknown, sysinfo: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  const candidates = [
    sysinfo?.['light_state'],
    methodResult(response, BULB_LIGHT_MODULE, 'get_light_state'),
    methodResult(response, BULB_LIGHT_MODULE, 'transition_light_state'),
    methodResult(response, STRIP_LIGHT_MODULE, 'set_light_state'),
  ];
  return candidates.find((c): c is Record<string, unknown> => isRecord(c) && onOff(c['on_off']) !== undefined);
}

/** Light state → state keys. When off, the values the light comes back with are in `dft_on_state`. */
export function lightState(node: DeviceNode, light: Record<string, unknown>): NodeState {
  const on = onOff(light['on_off']);
  const state: NodeState = {};
  if (!on) return state;
  state.state = on;
  const dft = light['dft_on_state'];
  const values = on === 'OFF' && isRecord(dft) ? dft : light;
  const caps = node.capabilities;

  const brightness = finiteNumber(values['brightness']);
  if (caps.includes('brightness') && brightness !== undefined) state.brightness = brightness;

  const colorTemp = finiteNumber(values['color_temp']);
  const hue = finiteNumber(values['hue']);
  const saturation = finiteNumber(values['saturation']);
  if (caps.includes('color_temp') && colorTemp !== undefined && colorTemp > 0) {
    state.color_temp = colorTemp;
    state.color_mode = 'color_temp';
  } else if (caps.includes('color') && hue !== undefined && saturation !== undefined) {
    state.color = { h: hue, s: saturation };
    state.color_mode = 'hs';
  }
  return state;
}

/** `transition_light_state` / `set_light_state` arguments; undefined when nothing changes. */
export function lightArguments(set: SetPayload): Record<string, unknown> | undefined {
  const bit = relayBit(set.state);
  if (bit === undefined) return undefined;
  const args: Record<string, unknown> = { on_off: bit };
  if (bit === 1) {
    let values = false;
    if (set.brightness !== undefined) {
      args['brightness'] = set.brightness;
      values = true;
    }
    if (set.color !== undefined) {
      args['hue'] = Math.round(set.color.h);
      args['saturation'] = Math.round(set.color.s);
      args['color_temp'] = 0; // 0 = use hue/saturation
      values = true;
    } else if (set.color_temp !== undefined) {
      args['color_temp'] = set.color_temp;
      values = true;
    }
    // Without ignore_default the light would restore its defaults instead of the given values.
    if (values) args['ignore_default'] = 1;
  }
  if (set.transition !== undefined) args['transition_period'] = Math.round(set.transition * 1000);
  return args;
}

function lightConfig(node: DeviceNode): Record<string, unknown> {
  const caps = node.capabilities;
  const modes: string[] = [];
  if (caps.includes('color')) modes.push('hs');
  if (caps.includes('color_temp')) modes.push('color_temp');
  // HA: `brightness` and `onoff` are only valid alone.
  if (modes.length === 0) modes.push(caps.includes('brightness') ? 'brightness' : 'onoff');
  const config: Record<string, unknown> = { name: null, schema: 'json', supported_color_modes: modes, brightness_scale: 100, flash: false };
  if (caps.includes('color_temp')) {
    const { min, max } = node.kelvin ?? DEFAULT_KELVIN;
    config['color_temp_kelvin'] = true;
    config['min_kelvin'] = min;
    config['max_kelvin'] = max;
  }
  return config;
}
