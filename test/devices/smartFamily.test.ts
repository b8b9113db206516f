/**
 * The `smart` family (Tapo protocol) through the module interface: its wire spec (SMART_PROTOCOL)
 * and its on/off module, against the recorded-shape answers in test/fixtures/devices/smart.
 *
 * The last block goes through the generic functions the bridge uses (pollRequest, parseResponse,
 * setRequest, appliedData), which dispatch on the node's protocol family.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { NodeState, SetPayload } from '../../src/api/types.js';
import type { DeviceModule, ModuleRead, RequestData } from '../../src/devices/module.js';
import type { DeviceNode } from '../../src/devices/node.js';
import { applicableModules, modulesOf, PROTOCOLS } from '../../src/devices/protocols.js';
import { smartOnOff } from '../../src/devices/smart/onOff.js';
import { unwrapSmartAnswer } from '../../src/devices/smart/wire.js';
import { appliedData, parseResponse, pollRequest, setRequest as genericSetRequest, unconfirmedAttributes } from '../../src/devices/families.js';

const spec = PROTOCOLS.smart;

function answer(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`../fixtures/devices/smart/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;
}

const id = '8022A1B2C3D4E5F60718293A4B5C6D7E8F901234';
const node: DeviceNode = {
  id,
  key: 'desk_lamp_plug',
  alias: 'Desk lamp plug',
  name: 'Desk lamp plug',
  model: 'P110(EU)',
  type: 'plug',
  capabilities: ['onoff'],
  deviceId: id,
  online: true,
  protocol: 'smart',
  modules: ['on_off'],
};

const now = new Date('2026-06-01T12:00:00Z');

// `read` may become a function of the node (a device and a strip's outlet read differently).
function readOf(module: DeviceModule): ModuleRead {
  const read = module.read as unknown;
  return (typeof read === 'function' ? (read as (n: DeviceNode) => ModuleRead)(node) : read) as ModuleRead;
}

/** The node's state from a raw device answer, as a poll or a set's read-back reads it (made for the node: targeted). */
function stateFrom(raw: Record<string, unknown>, unwrap = (r: Record<string, unknown>) => spec.unwrap(r)): NodeState | undefined {
  const reply = spec.reply(node, unwrap(raw), { targeted: true, now });
  return smartOnOff.parse!(node, reply);
}

/** The request a set makes: the module's setters, then its own read (module.ts, ModuleSet.request). */
function setRequest(set: SetPayload, current: NodeState | undefined): RequestData {
  return spec.combine([smartOnOff.set!.request(node, set, current), readOf(smartOnOff).request(node, { now })!]);
}

/** TOGGLE as the generic set path resolves it: the opposite of the current state. */
function resolveToggle(set: SetPayload, current: NodeState | undefined): SetPayload {
  return set.state === 'TOGGLE' ? { ...set, state: current?.state === 'ON' ? 'OFF' : 'ON' } : set;
}

describe('smart family: the table', () => {
  it('gives a SMART plug the on_off module, and it makes the main switch entity', () => {
    expect(applicableModules('smart', node)).toEqual(['on_off']);
    expect(modulesOf(node)).toEqual([smartOnOff]);
    expect(smartOnOff.entities!(node)).toEqual([
      {
        platform: 'switch',
        id: 'switch',
        main: true,
        command: true,
        config: { name: null, device_class: 'outlet', value_template: '{{ value_json.state }}', payload_on: 'ON', payload_off: 'OFF' },
      },
    ]);
  });

  it('gives a bulb with no known components on/off alone, its entity a light; nodes that cannot switch get none', () => {
    const bulb: DeviceNode = { ...node, type: 'bulb' };
    expect(applicableModules('smart', bulb)).toEqual(['on_off']);
    expect(smartOnOff.entities!(bulb)).toMatchObject([{ platform: 'light', id: 'light', main: true, config: { supported_color_modes: ['onoff'] } }]);
    expect(applicableModules('smart', { ...node, capabilities: [] })).toEqual([]);
  });
});

describe('smart family: poll request', () => {
  it('asks get_device_info every poll, as a multipleRequest', () => {
    const read = readOf(smartOnOff);
    expect(read.cadence).toBe('poll');
    expect(spec.combine([read.request(node, { now })!])).toEqual({
      method: 'multipleRequest',
      params: { requests: [{ method: 'get_device_info' }] },
    });
  });

  it('puts setters before reads and asks a method given twice once', () => {
    const combined = spec.combine([{ get_device_info: null }, { set_device_info: { device_on: true } }, { get_device_time: null }, { get_device_info: null }]);
    expect(combined).toEqual({
      method: 'multipleRequest',
      params: {
        requests: [{ method: 'set_device_info', params: { device_on: true } }, { method: 'get_device_info' }, { method: 'get_device_time' }],
      },
    });
  });
});

describe('smart family: parsing device_on', () => {
  it('reads a single-method answer once the request names its method', () => {
    const raw = answer('p110_get_device_info_response.json');
    expect(stateFrom(raw, (r) => unwrapSmartAnswer(r, { method: 'get_device_info' }))).toEqual({ state: 'ON' });
  });

  it('does not guess the method of a single-method answer (the answer does not name it)', () => {
    expect(spec.unwrap(answer('p110_get_device_info_response.json'))).toEqual({});
    expect(stateFrom(answer('p110_get_device_info_response.json'))).toBeUndefined();
  });

  it('reads a multipleRequest answer as method → result', () => {
    const raw = answer('ks205_multiple_request_response.json');
    const unwrapped = spec.unwrap(raw);
    expect(Object.keys(unwrapped)).toEqual(['set_device_info', 'get_device_info', 'get_device_time']);
    expect(unwrapped['set_device_info']).toEqual({});
    expect(unwrapped['get_device_time']).toMatchObject({ time_diff: -300 });
    expect(stateFrom(raw)).toEqual({ state: 'OFF' });
    // Unwrapping is idempotent, so a caller may hand either form on.
    expect(spec.unwrap(unwrapped)).toEqual(unwrapped);
  });

  it('keeps a method the model lacks in its place as its error, not as a result', () => {
    const unwrapped = spec.unwrap(answer('hs200_unknown_method_response.json'));
    expect(unwrapped['get_energy_usage']).toEqual({ error_code: -1002 });
    expect(stateFrom(answer('hs200_unknown_method_response.json'))).toEqual({ state: 'ON' });
  });

  it('says nothing about the state when the device info is missing or failed', () => {
    // The refused setter stopped the device before its read: the last state stays.
    expect(stateFrom(answer('p100_refused_setter_response.json'))).toBeUndefined();
    expect(stateFrom({ error_code: 0, result: { responses: [{ method: 'get_device_info', error_code: -1001 }] } })).toBeUndefined();
  });
});

describe('smart family: set', () => {
  it('turns ON and OFF into set_device_info, sent before the read-back', () => {
    expect(setRequest({ state: 'ON' }, undefined)).toEqual({
      method: 'multipleRequest',
      params: { requests: [{ method: 'set_device_info', params: { device_on: true } }, { method: 'get_device_info' }] },
    });
    expect(smartOnOff.set!.request(node, { state: 'OFF' }, undefined)).toEqual({ set_device_info: { device_on: false } });
  });

  it('sends the opposite of the polled state for TOGGLE', () => {
    const current = stateFrom(answer('p110_get_device_info_response.json'), (r) => unwrapSmartAnswer(r, { method: 'get_device_info' }));
    expect(current).toEqual({ state: 'ON' });
    expect(smartOnOff.set!.request(node, resolveToggle({ state: 'TOGGLE' }, current), current)).toEqual({ set_device_info: { device_on: false } });
  });

  it('confirms a set from the read-back, and reports what the device shows', () => {
    const readBack = stateFrom(answer('ks205_multiple_request_response.json'));
    const set: SetPayload = { state: 'OFF' };
    expect(smartOnOff.set!.unconfirmed!(node, set, readBack)).toEqual([]);
    expect(smartOnOff.set!.applied!(node, set, readBack)).toEqual({ state: 'OFF' });
    expect(smartOnOff.set!.unconfirmed!(node, { state: 'ON' }, readBack)).toEqual(['state']);
    expect(smartOnOff.set!.applied!(node, { state: 'ON' }, undefined)).toEqual({ state: 'ON' });
  });
});

describe('smart family: refused setters', () => {
  const request = setRequest({ state: 'ON' }, undefined);

  it('reports a setter answered with a non-zero error_code, from the raw or the unwrapped answer', () => {
    const raw = answer('p100_refused_setter_response.json');
    const refused = [{ module: 'smart', method: 'set_device_info', errCode: -1008 }];
    expect(spec.refusedSetters(request, raw)).toEqual(refused);
    expect(spec.refusedSetters(request, spec.unwrap(raw))).toEqual(refused);
  });

  it('reports nothing when the setter succeeded', () => {
    expect(spec.refusedSetters(request, answer('ks205_multiple_request_response.json'))).toEqual([]);
    expect(spec.refusedSetters({ method: 'set_device_info', params: { device_on: true } }, answer('p110_set_device_info_response.json'))).toEqual([]);
  });

  it('reports every setter of a request the device refused as a whole', () => {
    // python-kasa sees P100s answer a batched request with JSON_DECODE_FAIL_ERROR (-1003).
    expect(spec.refusedSetters(request, { error_code: -1003 })).toEqual([{ module: 'smart', method: 'set_device_info', errCode: -1003 }]);
  });
});

describe('smart family: lacks', () => {
  const hs200 = answer('hs200_unknown_method_response.json');

  it('says a read answered with the unknown-method code is missing on the model', () => {
    expect(spec.lacks({ get_energy_usage: null }, hs200)).toBe(true);
    expect(spec.lacks({ get_energy_usage: null }, spec.unwrap(hs200))).toBe(true);
    // A plain single-method request: its answer's top-level code is that method's.
    expect(spec.lacks({ method: 'get_energy_usage' }, { error_code: -1002 })).toBe(true);
  });

  it('does not for a read that answered, was not reached, or failed for another reason', () => {
    expect(spec.lacks({ get_device_info: null }, hs200)).toBe(false);
    expect(spec.lacks({ get_device_info: null }, answer('p100_refused_setter_response.json'))).toBe(false);
    expect(spec.lacks({ get_device_info: null }, { error_code: 0, result: { responses: [{ method: 'get_device_info', error_code: -1 }] } })).toBe(false);
    // A multipleRequest refused as a whole says nothing about one method.
    expect(spec.lacks({ get_energy_usage: null }, { error_code: -1002 })).toBe(false);
  });
});

describe('smart family through the generic device functions (what the bridge calls)', () => {
  it('polls with the family request: one multipleRequest asking get_device_info', () => {
    expect(pollRequest(node, now)).toEqual({ method: 'multipleRequest', params: { requests: [{ method: 'get_device_info' }] } });
  });

  it('parses a multipleRequest answer into the node state; an answer without device info says nothing', () => {
    expect(parseResponse([node], spec.unwrap(answer('ks205_multiple_request_response.json')), { now }).get(id)).toEqual({ state: 'OFF' });
    expect(parseResponse([node], spec.unwrap(answer('p100_refused_setter_response.json')), { now }).has(id)).toBe(false);
  });

  it('sets with set_device_info before the read-back, TOGGLE resolved against the state', () => {
    expect(genericSetRequest(node, { state: 'TOGGLE' }, { state: 'ON' }, { now })).toEqual({
      method: 'multipleRequest',
      params: { requests: [{ method: 'set_device_info', params: { device_on: false } }, { method: 'get_device_info' }] },
    });
  });

  it('confirms and reports a set as an iot relay does', () => {
    expect(unconfirmedAttributes(node, { state: 'OFF' }, { state: 'OFF' })).toEqual([]);
    expect(unconfirmedAttributes(node, { state: 'OFF' }, { state: 'ON' })).toEqual(['state']);
    expect(appliedData(node, { state: 'TOGGLE' }, { state: 'OFF' })).toEqual({ state: 'OFF' });
  });

  it('reports the refused setter of a set answered with an error', () => {
    const request = genericSetRequest(node, { state: 'ON' }, undefined, { now });
    expect(spec.refusedSetters(request, spec.unwrap(answer('p100_refused_setter_response.json')))).toMatchObject([{ method: 'set_device_info', errCode: -1008 }]);
  });
});
