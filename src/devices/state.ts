/**
 * A device's passthrough reply → the state of each node it covers (docs/mqtt-api.md, "Node state"). Only values
 * the reply actually carries are set: a module that failed leaves its keys out (never 0), and a
 * node the reply says nothing about is absent from the result. `last_seen` is the caller's.
 */
import type { NodeState } from '../api/types.js';
import { parseEnergy } from './energy.js';
import { featuresOf, type FeatureReply } from './features.js';
import type { DeviceNode } from './node.js';
import { normaliseChildId } from './nodes.js';
import { isRecord } from '../isRecord.js';
import { finiteNumber, methodResult, sysinfoOf } from './reply.js';

export const BULB_LIGHT_MODULE = 'smartlife.iot.smartbulb.lightingservice';
export const STRIP_LIGHT_MODULE = 'smartlife.iot.lightStrip';

export interface ParseOptions {
  /**
   * The node the request was made for: an outlet's meter answer (sent with its child id as
   * context) belongs to that outlet. Default: the physical device.
   */
  target?: DeviceNode;
  /** The time of the reply: `on_since`, and the device's date when the reply has no `get_time`. */
  now?: Date;
  /** The device's UTC offset in minutes when known (`deviceUtcOffsetMinutes` of an earlier reply). */
  utcOffsetMinutes?: number;
}

/**
 * States of `nodes` (one physical device and, for a strip, its outlets) from one reply to
 * `pollRequest` or `setRequest`. Outlets only get `state` here; their energy comes from
 * `energyRequests` answers (`parseEnergyResponse`), so the caller overlays the two.
 */
export function parseResponse(
  nodes: readonly DeviceNode[],
  response: unknown,
  options: ParseOptions = {},
): Map<string, NodeState> {
  const states = new Map<string, NodeState>();
  const device = nodes.find((n) => n.parentId === undefined);
  const now = options.now ?? new Date();
  const sysinfo = sysinfoOf(response);

  if (device) {
    const state = deviceState(device, response, sysinfo);
    Object.assign(state, featureState(device, { response, ...(sysinfo ? { sysinfo } : {}), now }));
    const targetId = options.target?.id ?? device.id;
    if (targetId === device.id) Object.assign(state, parseEnergy(device.meter, response, now, options.utcOffsetMinutes));
    if (Object.keys(state).length > 0) states.set(device.id, state);
  }

  const children = Array.isArray(sysinfo?.['children']) ? sysinfo['children'] : [];
  for (const outlet of nodes) {
    if (outlet.parentId === undefined) continue;
    const state: NodeState = {};
    const child = children.find(
      (c): c is Record<string, unknown> =>
        isRecord(c) &&
        (typeof c['id'] === 'string' || typeof c['id'] === 'number') &&
        normaliseChildId(outlet.parentId ?? '', String(c['id'])) === outlet.id,
    );
    const on = onOff(child?.['state']);
    if (on) state.state = on;
    if (child) Object.assign(state, featureState(outlet, { response, child, now }, options.target?.id === outlet.id));
    if (options.target?.id === outlet.id) {
      Object.assign(state, parseEnergy(outlet.meter, response, now, options.utcOffsetMinutes));
    }
    if (Object.keys(state).length > 0) states.set(outlet.id, state);
  }
  return states;
}

/** An outlet's (or any metered node's) energy keys from the reply to one of `energyRequests`. */
export function parseEnergyResponse(node: DeviceNode, response: unknown, now: Date = new Date(), utcOffsetMinutes?: number): NodeState {
  return { ...parseEnergy(node.meter, response, now, utcOffsetMinutes), ...featureState(node, { response, now }) };
}

/**
 * What the node's features read from a reply. An outlet's own module answers (countdown rules)
 * only belong to it when the request was made for it (with its child id as context).
 */
function featureState(node: DeviceNode, reply: FeatureReply, targeted = true): NodeState {
  const state: NodeState = {};
  const own: FeatureReply = targeted ? reply : { ...reply, response: undefined };
  for (const feature of featuresOf(node)) Object.assign(state, feature.parse?.(node, own));
  return state;
}

function deviceState(device: DeviceNode, response: unknown, sysinfo: Record<string, unknown> | undefined): NodeState {
  const state: NodeState = {};
  switch (device.type) {
    case 'plug':
    case 'switch':
    case 'outlet': {
      const on = onOff(sysinfo?.['relay_state']);
      if (on) state.state = on;
      break;
    }
    case 'dimmer': {
      const on = onOff(sysinfo?.['relay_state']);
      if (on) state.state = on;
      const brightness = finiteNumber(sysinfo?.['brightness']);
      if (brightness !== undefined) state.brightness = brightness;
      break;
    }
    case 'strip': {
      const children = sysinfo?.['children'];
      if (Array.isArray(children)) {
        state.outlets_on = children.filter((c) => isRecord(c) && onOff(c['state']) === 'ON').length;
      }
      break;
    }
    case 'bulb':
    case 'lightstrip': {
      const light = lightStateOf(response, sysinfo);
      if (light) Object.assign(state, lightState(device, light));
      break;
    }
  }
  const rssi = finiteNumber(sysinfo?.['rssi']);
  if (rssi !== undefined) state.rssi = rssi;
  return state;
}

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

function onOff(value: unknown): 'ON' | 'OFF' | undefined {
  if (value === 1 || value === true) return 'ON';
  if (value === 0 || value === false) return 'OFF';
  return undefined;
}
