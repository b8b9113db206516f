/**
 * The `requestData` of each passthrough (docs/protocol.md, "Passthrough"): one poll per physical device
 * per cycle, per-outlet energy reads for HS300 strips, and one set-and-read-back per set.
 * Key order is execution order: every `set_*` comes textually before `get_sysinfo`; `context` is last.
 */
import type { SetPayload, NodeState } from '../api/types.js';
import { meterModule, meterQuery } from './energy.js';
import { familyOfNodeType } from './familyTable.js';
import { FEATURES, featuresOf, type FeatureSet } from './features.js';
import type { DeviceNode } from './node.js';
import { resolveToggle } from './setPayload.js';
import { BULB_LIGHT_MODULE, STRIP_LIGHT_MODULE } from './state.js';

export type RequestData = Record<string, unknown>;

export const DIMMER_MODULE = 'smartlife.iot.dimmer';

export interface RequestOptions {
  /**
   * The device's offset from UTC in minutes, learned from an earlier `get_time` answer
   * (`deviceUtcOffsetMinutes`): energy statistics are asked for the device's own month.
   */
  utcOffsetMinutes?: number;
}

/**
 * The one request a device is polled with: sysinfo (relay, light state, outlets, rssi, LED), what
 * its features read (countdown rules), its meter, and the device's clock when its meter keeps
 * daily statistics. An outlet is polled through its strip's sysinfo, so it asks for sysinfo alone;
 * the strip itself never asks for `emeter` (without a context an HS300 answers one slot, not the sum).
 */
export function pollRequest(node: DeviceNode, now: Date = new Date(), options: RequestOptions = {}): RequestData {
  if (node.parentId !== undefined) return { system: { get_sysinfo: null } };
  const parts: RequestData[] = [{ system: { get_sysinfo: null } }];
  for (const feature of featuresOf(node)) {
    const read = feature.read?.(node);
    if (read) parts.push(read);
  }
  const module = meterModule(node.meter);
  const query = meterQuery(node.meter, now, options.utcOffsetMinutes);
  if (module && query) parts.push({ [module]: query });
  if (node.meter === 'emeter' || node.meter === 'outlets') {
    parts.push({ [familyOfNodeType(node.type).timeModule]: { get_time: null } });
  }
  return mergeRequests(...parts);
}

export interface OutletEnergyRequest {
  childId: string;
  requestData: RequestData;
}

/**
 * Per-outlet meter reads of a strip with outlet meters (HS300): one request per outlet, each
 * asking realtime plus the device's today's and this month's totals ([] for strips without
 * meters). Done every KASA_ENERGY_POLL_INTERVAL; answers go to `parseEnergyResponse`.
 */
export function energyRequests(strip: DeviceNode, now: Date = new Date(), options: RequestOptions = {}): OutletEnergyRequest[] {
  if (strip.meter !== 'outlets') return [];
  return (strip.childIds ?? []).map((childId) => ({
    childId,
    requestData: {
      emeter: meterQuery('emeter', now, options.utcOffsetMinutes),
      // The outlet's own countdown rides along: the strip's poll cannot read per-outlet rules.
      ...(outletFeatureReads(strip) ?? {}),
      context: { child_ids: [childId] },
    },
  }));
}

/**
 * The one request that applies `set` to `node` and reads the result back. TOGGLE is resolved
 * against `current`. A set with nothing left to change (two TOGGLEs merged) is a plain read.
 * Feature keys (LED, restart, countdown, effect) add their setters. The read-back reads what a
 * poll reads (an outlet: its own feature reads, with its context), so a state published from a
 * set carries the same keys as one published from a poll.
 */
export function setRequest(
  node: DeviceNode,
  set: SetPayload,
  current?: NodeState,
  options: RequestOptions & { now?: Date } = {},
): RequestData {
  const resolved = resolveToggle(set, current);
  const { context, ...main } = mainSetRequest(node, resolved, current);
  const setters: RequestData[] = [];
  for (const feature of featuresOf(node)) {
    const spec = feature.set;
    const value = spec ? resolved[spec.key] : undefined;
    if (spec && value !== undefined) setters.push(applyFeature(spec, node, value, current));
  }
  const reads = node.parentId === undefined ? [pollRequest(node, options.now ?? new Date(), options)] : featureReads(node);
  const merged = mergeRequests(main, ...setters, ...reads);
  return context === undefined ? merged : { ...merged, context };
}

/** What the features of a strip's outlets read (with an outlet's context). */
function outletFeatureReads(strip: DeviceNode): RequestData | undefined {
  const names = familyOfNodeType(strip.type).outletFeatures ?? [];
  const reads = names.flatMap((name) => {
    const read = FEATURES[name].read?.({ ...strip, type: 'outlet', parentId: strip.id });
    return read ? [read] : [];
  });
  return reads.length > 0 ? mergeRequests(...reads) : undefined;
}

function featureReads(node: DeviceNode): RequestData[] {
  return featuresOf(node).flatMap((f) => {
    const read = f.read?.(node);
    return read ? [read] : [];
  });
}

function applyFeature(spec: FeatureSet, node: DeviceNode, value: unknown, current: NodeState | undefined): RequestData {
  return spec.request(node, value as never, current);
}


function mainSetRequest(node: DeviceNode, resolved: SetPayload, current: NodeState | undefined): RequestData {
  switch (node.type) {
    case 'plug':
    case 'switch':
    case 'outlet':
    case 'strip':
      return relayRequest(node, resolved);
    case 'dimmer':
      return dimmerRequest(resolved, current);
    case 'bulb':
      return bulbRequest(resolved);
    case 'lightstrip':
      return lightStripRequest(resolved);
  }
}

/**
 * Several request parts as one `requestData`, in an order a device that runs methods textually
 * executes correctly: modules with setters only, then modules mixing setters and reads (setters
 * first inside), then read-only modules; `context` last. Reads are the `get_*` methods.
 */
export function mergeRequests(...parts: RequestData[]): RequestData {
  const modules = new Map<string, Map<string, unknown>>();
  let context: unknown;
  for (const part of parts) {
    for (const module of Object.keys(part)) {
      const body = part[module];
      if (module === 'context') {
        context = body;
        continue;
      }
      let methods = modules.get(module);
      if (methods === undefined) modules.set(module, (methods = new Map<string, unknown>()));
      if (typeof body === 'object' && body !== null) {
        for (const method of Object.keys(body)) methods.set(method, (body as Record<string, unknown>)[method]);
      }
    }
  }
  // Bucketed rather than sorted copies: this runs for every poll and every command.
  const byRank: [string, Map<string, unknown>][][] = [[], [], []];
  for (const entry of modules) byRank[rankOf(entry[1])]!.push(entry);
  const out: RequestData = {};
  for (const [module, methods] of byRank.flat()) {
    const ordered: Record<string, unknown> = {};
    for (const [method, args] of methods) if (!isRead(method)) ordered[method] = args;
    for (const [method, args] of methods) if (isRead(method)) ordered[method] = args;
    out[module] = ordered;
  }
  if (context !== undefined) out['context'] = context;
  return out;
}

const isRead = (method: string): boolean => method.startsWith('get_');

/** 0: setters only, 1: setters and reads, 2: reads only (or nothing). */
function rankOf(methods: Map<string, unknown>): number {
  let reads = 0;
  for (const method of methods.keys()) if (isRead(method)) reads++;
  if (reads === methods.size) return 2;
  return reads > 0 ? 1 : 0;
}

function relayBit(state: SetPayload['state']): number | undefined {
  if (state === 'ON') return 1;
  if (state === 'OFF') return 0;
  return undefined;
}

function relayRequest(node: DeviceNode, set: SetPayload): RequestData {
  const bit = relayBit(set.state);
  const system: RequestData = {};
  if (bit !== undefined) system['set_relay_state'] = { state: bit };
  system['get_sysinfo'] = null;
  const request: RequestData = { system };
  // With an outlet's context, `emeter` answers that outlet's meter.
  if (node.meter === 'emeter') request['emeter'] = { get_realtime: null };
  if (node.type === 'outlet') {
    request['context'] = { child_ids: [node.id] };
  } else if (node.type === 'strip' && bit !== undefined && node.childIds && node.childIds.length > 0) {
    // Parent-level set_relay_state without a context is unverified (docs/protocol.md, "Passthrough"); naming every outlet is not.
    request['context'] = { child_ids: [...node.childIds] };
  }
  return request;
}

/**
 * Dimmers: brightness with `set_brightness`, on/off with `set_relay_state`. A transition uses
 * `set_dimmer_transition`, which also switches: to the target brightness to fade on, to 0 to fade off.
 */
function dimmerRequest(set: SetPayload, current: NodeState | undefined): RequestData {
  const request: RequestData = {};
  const system: RequestData = {};
  if (set.transition !== undefined && set.state !== undefined) {
    const duration = Math.round(set.transition * 1000);
    const brightness = set.state === 'OFF' ? 0 : (set.brightness ?? current?.brightness);
    if (brightness !== undefined) {
      request[DIMMER_MODULE] = { set_dimmer_transition: { brightness, duration } };
    } else {
      system['set_relay_state'] = { state: 1 };
    }
  } else {
    if (set.brightness !== undefined) request[DIMMER_MODULE] = { set_brightness: { brightness: set.brightness } };
    const bit = relayBit(set.state);
    if (bit !== undefined) system['set_relay_state'] = { state: bit };
  }
  system['get_sysinfo'] = null;
  request['system'] = system;
  return request;
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

/** Bulbs answer `transition_light_state` with their new state, so no sysinfo is needed. */
function bulbRequest(set: SetPayload): RequestData {
  const args = lightArguments(set);
  if (!args) return { system: { get_sysinfo: null } };
  return { [BULB_LIGHT_MODULE]: { transition_light_state: args } };
}

function lightStripRequest(set: SetPayload): RequestData {
  const args = lightArguments(set);
  if (!args) return { system: { get_sysinfo: null } };
  return { [STRIP_LIGHT_MODULE]: { set_light_state: args }, system: { get_sysinfo: null } };
}
