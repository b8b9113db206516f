/**
 * The SMART family's modules (P110 with an energy meter, L530 colour bulb, KS225 dimmer, P300
 * strip and its outlets) through the generic functions the bridge uses, against recorded-shape
 * answers in test/fixtures/devices/smart. Home Assistant must see a SMART device as it sees the
 * equivalent iot model: each is compared with buildNodes' node of an HS110, KL130, HS220 or HS300.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { NodeState } from '../../src/api/types.js';
import type { DeviceNode } from '../../src/devices/node.js';
import {
  appliedData,
  applicableModules,
  buildNodes,
  cadenceRequests,
  modulesOf,
  parseResponse,
  pollRequest,
  PROTOCOLS,
  setRequest,
  unconfirmedAttributes,
} from '../../src/devices/families.js';
import { parseSetPayload } from '../../src/devices/setPayload.js';
import { childComponentsOf, componentsOf } from '../../src/devices/smart/components.js';
import { decodeNickname } from '../../src/devices/smart/deviceInfo.js';
import { kelvinRangeOf } from '../../src/devices/smart/light.js';
import { unwrapSmartAnswer } from '../../src/devices/smart/wire.js';
import { nodeDiscovery } from '../../src/ha/discovery.js';
import type { ComponentConfig } from '../../src/ha/common.js';
import { entry, hs220Sysinfo, kl130Sysinfo, sysinfoFixture } from './fixtures.js';

const spec = PROTOCOLS.smart;
const ctx = { baseTopic: 'kasa', prefix: 'homeassistant', version: '0.1.0', bridgeId: 'kasa2mqtt_1a2b3c4d' };
const now = new Date('2026-06-01T12:00:00Z');

function answer(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`../fixtures/devices/smart/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;
}

/** The components a device declared, from its `component_nego` answer (a plain request: its answer names no method). */
function componentsFrom(name: string): Record<string, number> {
  const components = componentsOf(unwrapSmartAnswer(answer(name), { method: 'component_nego' })['component_nego']);
  if (!components) throw new Error(`${name} has no component list`);
  return components;
}

/** A SMART node as the bridge will build it: the same id and key as `like`, so discovery ids compare directly. */
function smartNode(like: DeviceNode, model: string, extra: Partial<DeviceNode>): DeviceNode {
  const { meter: _meter, kelvin: _kelvin, childIds: _children, ...common } = like;
  const node: DeviceNode = { ...common, model, protocol: 'smart', modules: [], ...extra };
  return { ...node, modules: applicableModules('smart', node) };
}

/** The node states a raw answer gives, as the bridge reads it (unwrapped by the family first). */
function statesFrom(nodes: DeviceNode[], raw: Record<string, unknown>, target?: DeviceNode): Map<string, NodeState> {
  return parseResponse(nodes, spec.unwrap(raw), { now, ...(target ? { target } : {}) });
}

function discovery(node: DeviceNode): Record<string, ComponentConfig> {
  return nodeDiscovery(node, ctx).components;
}

/**
 * Every entity of the SMART node but its SMART-only ones (`own`, which the iot node must lack) is
 * the iot node's entity of the same id, config and all (but the config keys in `omit`).
 */
function expectSameEntities(smart: DeviceNode, iot: DeviceNode, own: readonly string[], omit: readonly string[] = []): void {
  const strip = (c: ComponentConfig | undefined) => (c ? Object.fromEntries(Object.entries(c).filter(([k]) => !omit.includes(k))) : c);
  const ours = discovery(smart);
  const theirs = discovery(iot);
  expect(Object.keys(ours)).toEqual(expect.arrayContaining([...own]));
  for (const [id, component] of Object.entries(ours)) {
    if (own.includes(id)) expect(theirs[id], id).toBeUndefined();
    else expect({ id, ...strip(component) }).toEqual({ id, ...strip(theirs[id]) });
  }
}

/** State keys only SMART modules write. */
const SMART_ONLY_KEYS = ['auto_off', 'overheated', 'overcurrent', 'overloaded', 'child_lock'];

function keysOfModules(node: DeviceNode): string[] {
  return [...new Set(modulesOf(node).flatMap((m) => m.keys))];
}

// --- P110 (energy) against an HS110 ---------------------------------------------------------

const hs110 = buildNodes(entry({ deviceModel: 'HS110(EU)', alias: 'Coffee machine', deviceId: '8022A1B2C3D4E5F60718293A4B5C6D7E8F901234' }))[0]!;
const p110Components = componentsFrom('p110_component_nego_response.json');
const p110 = smartNode(hs110, 'P110(EU)', { capabilities: ['onoff', 'energy'], components: p110Components, fw: '1.3.1 Build 240621 Rel.162048' });

describe('components (component_nego)', () => {
  it('reads the declared components with their versions', () => {
    expect(p110Components).toMatchObject({ energy_monitoring: 2, led: 1, firmware: 2, auto_off: 2 });
    expect(componentsOf({ nothing: true })).toBeUndefined();
  });

  it('reads each child\'s components from the parent\'s child component list', () => {
    const children = childComponentsOf(spec.unwrap(answer('p300_child_component_list_response.json'))['get_child_device_component_list']);
    // A plain request's answer names no method: read with the request, as component_nego is.
    const named = childComponentsOf(
      unwrapSmartAnswer(answer('p300_child_component_list_response.json'), { method: 'get_child_device_component_list' })['get_child_device_component_list'],
    );
    expect(children.size).toBe(0);
    expect([...named.keys()]).toEqual(['8022C0FFEE0000000000000000000000000000A1', '8022C0FFEE0000000000000000000000000000A2']);
    expect(named.get('8022C0FFEE0000000000000000000000000000A1')).toMatchObject({ auto_off: 2, overheat_protection: 1 });
  });

  it('with no components known, gives a node on/off alone', () => {
    const { components: _c, ...bare } = p110;
    expect(applicableModules('smart', bare)).toEqual(['on_off']);
  });

  it('gives a P110 the modules its components name', () => {
    expect(p110.modules).toEqual([
      'on_off',
      'energy',
      'rssi',
      'led',
      'restart',
      'on_since',
      'auto_off',
      'overheat',
      'overcurrent',
      'power_protection',
      'last_seen',
      'firmware',
      'voltage_current',
    ]);
  });
});

describe('P110 as HA sees an HS110', () => {
  it('polls with one multipleRequest: device info, energy usage, LED, then the meter data some models lack', () => {
    expect(pollRequest(p110, now)).toEqual({
      method: 'multipleRequest',
      params: {
        requests: [
          { method: 'get_device_info' },
          { method: 'get_energy_usage' },
          { method: 'get_led_info' },
          { method: 'get_auto_off_config', params: { start_index: 0 } },
          { method: 'get_emeter_data' },
        ],
      },
    });
  });

  it('reads the poll answer into the iot keys, in W, V, A and kWh', () => {
    const state = statesFrom([p110], answer('p110_poll_response.json')).get(p110.id);
    expect(state).toEqual({
      state: 'ON',
      power_w: 1234.567,
      energy_today_kwh: 0.152,
      energy_month_kwh: 4.873,
      rssi: -58,
      led: 'OFF',
      on_since: '2026-06-01T11:00:00.000Z',
      auto_off: { enabled: true, minutes: 45 },
      overheated: false,
      overcurrent: false,
      overloaded: false,
      voltage_v: 231.25,
      current_a: 5.402,
    });
    // Every key but the SMART-only ones is one an HS110 has; the HS110's lifetime total, countdown and cloud flag have no SMART module.
    const hs110Keys = keysOfModules(hs110);
    expect([...hs110Keys, ...SMART_ONLY_KEYS]).toEqual(expect.arrayContaining(Object.keys(state!)));
    expect(hs110Keys.filter((k) => !keysOfModules(p110).includes(k))).toEqual(['energy_kwh', 'countdown', 'cloud']);
  });

  it('has the HS110\'s entities, same ids and configs, but the lifetime total, countdown and cloud connection', () => {
    expectSameEntities(p110, hs110, ['auto_off', 'auto_off_minutes', 'overheated', 'overcurrent', 'overloaded']);
    const missing = Object.keys(discovery(hs110)).filter((id) => !(id in discovery(p110)));
    expect(missing).toEqual(['energy', 'countdown', 'cloud_connection']);
    expect(discovery(p110)['switch']).toMatchObject({ platform: 'switch', default_entity_id: `switch.kasa_${hs110.key}`, device_class: 'outlet' });
  });

  it('turns its meter data off on a model that lacks it, and keeps the usage keys', () => {
    const lacking = answer('p110_no_emeter_data_response.json');
    expect(spec.lacks({ get_emeter_data: null }, lacking)).toBe(true);
    const withoutIt = pollRequest(p110, now, {}, [], new Set(['voltage_current']));
    expect(JSON.stringify(withoutIt)).not.toContain('get_emeter_data');
  });

  it('reads the offered firmware daily into the iot `update` key', () => {
    const [daily] = cadenceRequests(p110, [], 'daily', now);
    expect(daily).toEqual({ node: p110, requestData: { method: 'multipleRequest', params: { requests: [{ method: 'get_latest_fw' }] } } });
    expect(statesFrom([p110], answer('p110_latest_fw_response.json')).get(p110.id)).toEqual({
      update: {
        state: 'available',
        installed_version: '1.3.1 Build 240621 Rel.162048',
        latest_version: '1.4.0 Build 250110 Rel.101010',
        release_notes: 'Improves the stability of the energy readings.',
      },
    });
    const upToDate = { error_code: 0, result: { responses: [{ method: 'get_latest_fw', error_code: 0, result: { type: 0, need_to_upgrade: false, fw_ver: p110.fw } }] } };
    expect(statesFrom([p110], upToDate).get(p110.id)?.update).toEqual({ state: 'idle', installed_version: p110.fw, latest_version: p110.fw });
  });

  it('sets the LED with set_led_info, before the read-back that confirms it', () => {
    const request = setRequest(p110, { led: 'ON' }, undefined, { now });
    expect((request['params'] as { requests: unknown[] }).requests[0]).toEqual({ method: 'set_led_info', params: { led_rule: 'always' } });
    expect(unconfirmedAttributes(p110, { led: 'ON' }, { led: 'OFF' })).toEqual(['led']);
    expect(appliedData(p110, { led: 'OFF' }, { led: 'OFF' })).toEqual({ led: 'OFF' });
  });

  it('sets auto-off with set_auto_off_config, the field not given kept from the state', () => {
    const current: NodeState = { state: 'ON', auto_off: { enabled: true, minutes: 45 } };
    const request = setRequest(p110, { auto_off: { minutes: 10 } }, current, { now });
    expect((request['params'] as { requests: unknown[] }).requests[0]).toEqual({ method: 'set_auto_off_config', params: { enable: true, delay_min: 10 } });
    expect(unconfirmedAttributes(p110, { auto_off: { minutes: 10 } }, { auto_off: { enabled: true, minutes: 45 } })).toEqual(['auto_off']);
    expect(appliedData(p110, { auto_off: { enabled: false } }, { auto_off: { enabled: false, minutes: 45 } })).toEqual({ auto_off: { enabled: false, minutes: 45 } });
    expect(parseSetPayload(p110, '{"auto_off":{"enabled":true}}')).toEqual({ ok: { auto_off: { enabled: true } } });
    expect(parseSetPayload(p110, '{"auto_off":{"minutes":0}}')).toMatchObject({ error: { code: 'invalid_payload' } });
    expect(parseSetPayload(l530, '{"auto_off":{"minutes":5}}')).toMatchObject({ error: { code: 'unsupported' } });
    // The HA entities send what the set parser takes.
    const { auto_off: toggle, auto_off_minutes: minutes } = discovery(p110);
    expect(parseSetPayload(p110, String(toggle!['payload_off']))).toEqual({ ok: { auto_off: { enabled: false } } });
    expect(String(minutes!['command_template'])).toBe('{"auto_off":{"minutes":{{ value | int }}}}');
  });

  it('says overloaded when the power protection switched it off', () => {
    const info = spec.unwrap(answer('p110_poll_response.json'))['get_device_info'] as Record<string, unknown>;
    const tripped = { error_code: 0, result: { responses: [{ method: 'get_device_info', error_code: 0, result: { ...info, device_on: false, power_protection_status: 'overloaded', overcurrent_status: 'lock' } }] } };
    expect(statesFrom([p110], tripped).get(p110.id)).toMatchObject({ state: 'OFF', overloaded: true, overcurrent: true, overheated: false });
    expect(discovery(p110)['overloaded']).toMatchObject({ platform: 'binary_sensor', device_class: 'problem', entity_category: 'diagnostic' });
  });

  it('has a child lock where the model publishes one (button_and_led)', () => {
    const locked = smartNode(hs110, 'P110M(EU)', { capabilities: ['onoff', 'energy'], components: { ...p110Components, button_and_led: 1 } });
    expect(locked.modules).toContain('child_lock');
    expect(p110.modules).not.toContain('child_lock');
    expect(JSON.stringify(pollRequest(locked, now))).toContain('getChildLockInfo');
    const raw = { error_code: 0, result: { responses: [{ method: 'getChildLockInfo', error_code: 0, result: { child_lock_status: true } }] } };
    expect(statesFrom([locked], raw).get(locked.id)).toEqual({ child_lock: 'ON' });
    const request = setRequest(locked, { child_lock: 'OFF' }, undefined, { now });
    expect((request['params'] as { requests: unknown[] }).requests[0]).toEqual({ method: 'setChildLockInfo', params: { child_lock_status: false } });
  });

  it('restarts with device_reboot', () => {
    expect((setRequest(p110, { restart: true }, undefined, { now })['params'] as { requests: unknown[] }).requests[0]).toEqual({
      method: 'device_reboot',
      params: { delay: 1 },
    });
  });
});

// --- L530 (colour bulb) against a KL130 ------------------------------------------------------

const kl130 = buildNodes(entry({ deviceType: 'IOT.SMARTBULB', deviceModel: 'KL130(US)', alias: 'Reading lamp' }), kl130Sysinfo)[0]!;
const l530Info = spec.unwrap(answer('l530_poll_response.json'))['get_device_info'] as Record<string, unknown>;
const l530 = smartNode(kl130, 'L530(EU)', {
  type: 'bulb',
  capabilities: ['onoff', 'brightness', 'color_temp', 'color'],
  components: componentsFrom('l530_component_nego_response.json'),
  kelvin: kelvinRangeOf(l530Info)!,
});

describe('L530 as HA sees a KL130', () => {
  it('is a light whose on/off, brightness and colours join one set_device_info', () => {
    expect(l530.modules).toEqual(['on_off', 'brightness', 'color_temperature', 'color', 'rssi', 'restart', 'overheat', 'last_seen', 'firmware']);
    expect(setRequest(l530, { state: 'ON', brightness: 80, color: { h: 240, s: 100 } }, undefined, { now })).toEqual({
      method: 'multipleRequest',
      params: {
        requests: [
          { method: 'set_device_info', params: { device_on: true, brightness: 80, hue: 240, saturation: 100, color_temp: 0 } },
          { method: 'get_device_info' },
        ],
      },
    });
    expect(setRequest(l530, { state: 'OFF' }, undefined, { now })).toEqual({
      method: 'multipleRequest',
      params: { requests: [{ method: 'set_device_info', params: { device_on: false } }, { method: 'get_device_info' }] },
    });
  });

  it('reads white and colour into the KL130\'s keys, colour temperature winning while it is above 0', () => {
    const white = statesFrom([l530], answer('l530_poll_response.json')).get(l530.id);
    expect(white).toEqual({ state: 'ON', brightness: 45, color_temp: 3200, color_mode: 'color_temp', rssi: -63, overheated: false });
    const colour = statesFrom([l530], answer('l530_set_color_response.json')).get(l530.id);
    expect(colour).toEqual({ state: 'ON', brightness: 80, color: { h: 240, s: 100 }, color_mode: 'hs', rssi: -63, overheated: false });
    expect([...keysOfModules(kl130), ...SMART_ONLY_KEYS]).toEqual(expect.arrayContaining([...Object.keys(white!), ...Object.keys(colour!)]));
  });

  it('confirms a colour set from its read-back', () => {
    const set = { state: 'ON' as const, brightness: 80, color: { h: 240, s: 100 } };
    const readBack = statesFrom([l530], answer('l530_set_color_response.json')).get(l530.id);
    expect(unconfirmedAttributes(l530, set, readBack)).toEqual([]);
    expect(appliedData(l530, set, readBack)).toEqual({ state: 'ON', brightness: 80, color: { h: 240, s: 100 } });
    expect(unconfirmedAttributes(l530, { state: 'ON', color_temp: 4000 }, readBack)).toEqual(['color_temp']);
  });

  it('has the KL130\'s light, the Kelvin range its own', () => {
    expect(l530.kelvin).toEqual({ min: 2500, max: 6500 });
    expectSameEntities(l530, kl130, ['overheated'], ['min_kelvin', 'max_kelvin']);
    expect(discovery(l530)['light']).toMatchObject({
      default_entity_id: `light.kasa_${kl130.key}`,
      supported_color_modes: ['hs', 'color_temp'],
      min_kelvin: 2500,
      max_kelvin: 6500,
    });
    const kl130Only = Object.keys(discovery(kl130)).filter((id) => !(id in discovery(l530)));
    expect(kl130Only).toEqual(['power', 'energy', 'cloud_connection']);
  });
});

// --- KS225 (dimmer) against an HS220 ---------------------------------------------------------

const hs220 = buildNodes(entry({ deviceModel: 'HS220(US)', alias: 'Hall' }), hs220Sysinfo)[0]!;
const ks225 = smartNode(hs220, 'KS225(US)', { type: 'dimmer', capabilities: ['onoff', 'brightness'], components: componentsFrom('ks225_component_nego_response.json') });

describe('KS225 as HA sees an HS220', () => {
  it('reads on/off, brightness, LED, signal and on-since into the HS220\'s keys', () => {
    const state = statesFrom([ks225], answer('ks225_poll_response.json')).get(ks225.id);
    expect(state).toEqual({ state: 'ON', brightness: 35, rssi: -49, led: 'ON', on_since: '2026-06-01T11:57:55.000Z', overheated: false });
    expect([...keysOfModules(hs220), ...SMART_ONLY_KEYS]).toEqual(expect.arrayContaining(Object.keys(state!)));
  });

  it('dims with set_device_info (a brightness alone does not switch it)', () => {
    expect(setRequest(ks225, { brightness: 60 }, { state: 'OFF' }, { now })).toEqual({
      method: 'multipleRequest',
      params: { requests: [{ method: 'set_device_info', params: { brightness: 60 } }, { method: 'get_device_info' }, { method: 'get_led_info' }] },
    });
    expect(unconfirmedAttributes(ks225, { state: 'ON', brightness: 60 }, { state: 'ON', brightness: 35 })).toEqual(['brightness']);
  });

  it('has the HS220\'s light and its other entities, same ids and configs', () => {
    expectSameEntities(ks225, hs220, ['overheated']);
    expect(discovery(ks225)['light']).toMatchObject({ supported_color_modes: ['brightness'], default_entity_id: `light.kasa_${hs220.key}` });
    expect(Object.keys(discovery(hs220)).filter((id) => !(id in discovery(ks225)))).toEqual(['countdown', 'cloud_connection']);
  });
});

// --- P300 strip and its outlets (children through control_child) against an HS300 ------------

const [hs300, hs300Outlet] = buildNodes(entry({ deviceModel: 'HS300(US)', alias: 'Strip' }), sysinfoFixture('hs300_us_get_sys_info_response.json'));
const P300_ID = '8022C0FFEE00000000000000000000000000000A';
const OUTLET_IDS = ['8022C0FFEE0000000000000000000000000000A1', '8022C0FFEE0000000000000000000000000000A2'];
const childComponents = childComponentsOf(
  unwrapSmartAnswer(answer('p300_child_component_list_response.json'), { method: 'get_child_device_component_list' })['get_child_device_component_list'],
);
const p300 = smartNode(hs300!, 'P300(EU)', { id: P300_ID, deviceId: P300_ID, capabilities: [], components: componentsFrom('p300_component_nego_response.json'), childIds: OUTLET_IDS });
const p300Outlets = OUTLET_IDS.map((id, i) =>
  smartNode(hs300Outlet!, 'P300(EU)', {
    id,
    key: `${p300.key}_outlet_${i + 1}`,
    deviceId: P300_ID,
    parentId: P300_ID,
    capabilities: ['onoff'],
    components: childComponents.get(id)!,
  }),
);
const p300Nodes = [p300, ...p300Outlets];

describe('P300 outlets as HA sees HS300 outlets', () => {
  it('polls the strip once, its outlets\' state coming with the child list', () => {
    expect(p300.modules).toEqual(['children', 'rssi', 'led', 'restart', 'last_seen', 'firmware']);
    expect(p300Outlets[0]!.modules).toEqual(['on_off', 'on_since', 'auto_off', 'overheat', 'last_seen']);
    expect(pollRequest(p300, now, {}, p300Outlets)).toEqual({
      method: 'multipleRequest',
      params: { requests: [{ method: 'get_child_device_list', params: { start_index: 0 } }, { method: 'get_device_info' }, { method: 'get_led_info' }] },
    });
    const states = statesFrom(p300Nodes, answer('p300_poll_response.json'));
    expect(states.get(P300_ID)).toEqual({ rssi: -61, led: 'ON' });
    expect(states.get(OUTLET_IDS[0]!)).toEqual({ state: 'ON', on_since: '2026-06-01T11:50:00.000Z', overheated: false });
    expect(states.get(OUTLET_IDS[1]!)).toEqual({ state: 'OFF', on_since: null, overheated: false });
  });

  it('sets an outlet through control_child, the outlet\'s own request inside', () => {
    const outlet = p300Outlets[1]!;
    expect(setRequest(outlet, { state: 'TOGGLE' }, { state: 'OFF' }, { now })).toEqual({
      method: 'control_child',
      params: {
        device_id: OUTLET_IDS[1],
        requestData: {
          method: 'multipleRequest',
          params: {
            requests: [
              { method: 'set_device_info', params: { device_on: true } },
              { method: 'get_device_info' },
              { method: 'get_auto_off_config', params: { start_index: 0 } },
            ],
          },
        },
      },
    });
  });

  it('reads each outlet\'s auto-off with a control_child request of its own, every energy poll', () => {
    const requests = cadenceRequests(p300, p300Outlets, 'energy', now);
    expect(requests.map((r) => r.node.id)).toEqual(OUTLET_IDS);
    expect(requests[0]!.requestData).toEqual({
      method: 'control_child',
      params: { device_id: OUTLET_IDS[0], requestData: { method: 'multipleRequest', params: { requests: [{ method: 'get_auto_off_config', params: { start_index: 0 } }] } } },
    });
    const raw = { error_code: 0, result: { responseData: { error_code: 0, result: { responses: [{ method: 'get_auto_off_config', error_code: 0, result: { enable: false, delay_min: 120 } }] } } } };
    const states = statesFrom(p300Nodes, raw, p300Outlets[0]);
    expect(states.get(OUTLET_IDS[0]!)).toEqual({ auto_off: { enabled: false, minutes: 120 } });
    expect([...states.keys()]).toEqual([OUTLET_IDS[0]]);
  });

  it('reads the control_child answer as the outlet\'s own, and only for that outlet', () => {
    const raw = answer('p300_control_child_response.json');
    expect(spec.unwrap(raw)).toMatchObject({ set_device_info: {}, get_device_info: { device_on: true } });
    const states = statesFrom(p300Nodes, raw, p300Outlets[1]);
    expect(states.get(OUTLET_IDS[1]!)).toEqual({ state: 'ON', on_since: '2026-06-01T12:00:00.000Z', overheated: false });
    expect(states.has(P300_ID)).toBe(false);
    expect(states.has(OUTLET_IDS[0]!)).toBe(false);
    expect(appliedData(p300Outlets[1]!, { state: 'ON' }, states.get(OUTLET_IDS[1]!))).toEqual({ state: 'ON' });
  });

  it('reports the outlet\'s refused setter from inside the control_child answer', () => {
    const request = setRequest(p300Outlets[0]!, { state: 'ON' }, undefined, { now });
    expect(spec.refusedSetters(request, answer('p300_control_child_refused_response.json'))).toEqual([{ module: 'smart', method: 'set_device_info', errCode: -1008 }]);
    expect(spec.refusedSetters(request, { error_code: -1001 })).toEqual([{ module: 'smart', method: 'set_device_info', errCode: -1001 }]);
    expect(spec.lacks({ get_device_info: null }, answer('p300_control_child_refused_response.json'))).toBe(false);
  });

  it('gives an outlet the HS300 outlet\'s switch and sensors', () => {
    expectSameEntities(p300Outlets[0]!, { ...hs300Outlet!, id: OUTLET_IDS[0]!, key: p300Outlets[0]!.key }, ['auto_off', 'auto_off_minutes', 'overheated']);
    expect(discovery(p300Outlets[0]!)['switch']).toMatchObject({ platform: 'switch', device_class: 'outlet' });
  });
});

// --- KS240 (fan + dimmer children): its dimmer against an HS220 -----------------------------

const KS240_ID = '80224B5A69788796A5B4C3D2E1F00F1E2D3C4B00';
const KS240_DIMMER_ID = '80224B5A69788796A5B4C3D2E1F00F1E2D3C4B02';
// Component lists as KS240 answers publish them: the parent lists its children's (brightness, fan_control) as well.
const ks240 = smartNode(hs220, 'KS240(US)', {
  id: KS240_ID,
  deviceId: KS240_ID,
  key: 'kitchen_switch',
  type: 'switch',
  capabilities: ['onoff'],
  components: { device: 2, firmware: 2, led: 2, control_child: 2, child_device: 2, brightness: 1, fan_control: 1, overheat_protection: 1 },
});
const ks240Dimmer = smartNode(hs220, 'KS240(US)', {
  id: KS240_DIMMER_ID,
  deviceId: KS240_ID,
  parentId: KS240_ID,
  key: hs220.key,
  type: 'dimmer',
  capabilities: ['onoff', 'brightness'],
  components: { device: 2, firmware: 2, countdown: 2, brightness: 1, on_off_gradually: 2, overheat_protection: 1 },
});

describe('KS240 dimmer (a child) as HA sees an HS220', () => {
  it('leaves the light to the dimmer child: the parent has no on/off or brightness of its own', () => {
    expect(ks240.modules).toEqual(['children', 'rssi', 'led', 'restart', 'last_seen', 'firmware']);
    expect(ks240Dimmer.modules).toEqual(['on_off', 'brightness', 'on_since', 'overheat', 'last_seen']);
  });

  it('reads the dimmer from its parent\'s poll', () => {
    const states = statesFrom([ks240, ks240Dimmer], answer('ks240_poll_response.json'));
    expect(states.get(KS240_ID)).toEqual({ rssi: -47, led: 'ON' });
    expect(states.get(KS240_DIMMER_ID)).toEqual({ state: 'ON', brightness: 70, on_since: '2026-06-01T11:59:30.000Z', overheated: false });
  });

  it('dims through control_child', () => {
    expect(setRequest(ks240Dimmer, { state: 'ON', brightness: 40 }, undefined, { now })).toEqual({
      method: 'control_child',
      params: {
        device_id: KS240_DIMMER_ID,
        requestData: { method: 'multipleRequest', params: { requests: [{ method: 'set_device_info', params: { device_on: true, brightness: 40 } }, { method: 'get_device_info' }] } },
      },
    });
  });

  it('has the HS220\'s light', () => {
    expect(discovery(ks240Dimmer)['light']).toEqual(discovery({ ...hs220, id: KS240_DIMMER_ID })['light']);
  });
});

describe('nicknames', () => {
  it('decodes base64 UTF-8 nicknames for display, and refuses anything else', () => {
    const info = spec.unwrap(answer('p110_poll_response.json'))['get_device_info'] as Record<string, unknown>;
    expect(decodeNickname(info['nickname'])).toBe('Kaffeemaschine ☕');
    expect(decodeNickname('not base64!')).toBeUndefined();
    expect(decodeNickname('/w==')).toBeUndefined(); // 0xFF is not UTF-8
    expect(decodeNickname(42)).toBeUndefined();
  });
});
