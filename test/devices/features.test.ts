/**
 * The feature table (src/devices/features.ts): what each feature reads, parses, accepts and sends,
 * and how the read-back confirms it, as the facade functions see it.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { NodeState } from '../../src/api/types.js';
import {
  appliedData,
  buildNodes,
  deviceUtcOffsetMinutes,
  IOT_MODULES,
  LIGHT_STRIP_EFFECTS,
  mergeRequests,
  parseResponse,
  parseSetPayload,
  pollRequest,
  refusedSetters,
  setRequest,
  steadyReading,
  unconfirmedAttributes,
} from '../../src/devices/families.js';
import type { DeviceNode } from '../../src/devices/node.js';
import { entry, entryByModel, kp125Sysinfo, sysinfoFixture } from './fixtures.js';

const plug = buildNodes(entry({ deviceModel: 'HS103(US)', alias: 'Desk' }))[0]!;
const dimmer = buildNodes(entry({ deviceModel: 'HS220(US)', alias: 'Hall' }))[0]!;
const bulb = buildNodes(entry({ deviceType: 'IOT.SMARTBULB', deviceModel: 'KL130(US)', alias: 'Lamp' }))[0]!;
const lightStrip = buildNodes(entryByModel('KL430'))[0]!;
const [strip, outlet] = buildNodes(entryByModel('HS300'), sysinfoFixture('hs300_us_get_sys_info_response.json'));

function set(node: DeviceNode, payload: string, attribute?: string) {
  const parsed = parseSetPayload(node, payload, attribute);
  if (!('ok' in parsed)) throw new Error(`expected ok: ${JSON.stringify(parsed)}`);
  return parsed.ok;
}
const refusal = (node: DeviceNode, payload: string, attribute?: string) => {
  const parsed = parseSetPayload(node, payload, attribute);
  return 'error' in parsed ? parsed.error : undefined;
};
const fixture = (name: string) =>
  JSON.parse(
    (JSON.parse(readFileSync(new URL(`../fixtures/devices/${name}`, import.meta.url), 'utf8')) as { result: { responseData: string } }).result
      .responseData,
  ) as Record<string, unknown>;

describe('the iot module table gives each node its capabilities', () => {
  it('names each module once, every node with last_seen', () => {
    const names = IOT_MODULES.map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
    for (const node of [plug, dimmer, bulb, lightStrip, strip!, outlet!]) expect(node.modules).toContain('last_seen');
  });

  it('gives nodes the modules of their kind (outlets their own)', () => {
    const extras = (node: DeviceNode) => node.modules.filter((m) => ['led', 'restart', 'countdown', 'on_since', 'last_seen', 'all_outlets', 'effect'].includes(m));
    expect(extras(plug)).toEqual(['led', 'restart', 'countdown', 'on_since', 'last_seen']);
    expect(extras(bulb)).toEqual(['restart', 'last_seen']);
    expect(lightStrip.modules).toContain('effect');
    expect(extras(strip!)).toEqual(['led', 'restart', 'all_outlets', 'last_seen']);
    expect(extras(outlet!)).toEqual(['countdown', 'on_since', 'last_seen']);
    expect(plug.modules[0]).toBe('relay');
    expect(dimmer.modules[0]).toBe('dimmer');
    expect(bulb.modules[0]).toBe('light');
    expect(strip!.modules[0]).toBe('outlets');
  });

  it('keeps the built-in light-strip effects as data with unique names and ids', () => {
    expect(LIGHT_STRIP_EFFECTS.length).toBe(14);
    expect(new Set(LIGHT_STRIP_EFFECTS.map((e) => e.name)).size).toBe(14);
    expect(new Set(LIGHT_STRIP_EFFECTS.map((e) => e.id)).size).toBe(14);
    const lightEntity = IOT_MODULES.find((m) => m.name === 'effect')!.entities!(lightStrip)[0]!;
    expect((lightEntity.config['effect_list'] as string[])[0]).toBe('off');
  });
});

describe('LED', () => {
  it('reads led_off (inverted) into led', () => {
    expect(parseResponse([plug], { system: { get_sysinfo: { relay_state: 0, led_off: 1 } } }).get(plug.id)).toMatchObject({ led: 'OFF' });
    expect(parseResponse([plug], { system: { get_sysinfo: { relay_state: 0, led_off: 0 } } }).get(plug.id)).toMatchObject({ led: 'ON' });
  });

  it('sends set_led_off before the read-back and confirms it from sysinfo', () => {
    const payload = set(plug, '{"led":"OFF"}');
    expect(payload).toEqual({ led: 'OFF' });
    const request = setRequest(plug, payload);
    expect(JSON.stringify(request)).toBe('{"system":{"set_led_off":{"off":1},"get_sysinfo":null},"count_down":{"get_rules":null}}');
    expect(unconfirmedAttributes(plug, payload, { led: 'ON' })).toEqual(['led']);
    expect(unconfirmedAttributes(plug, payload, { led: 'OFF' })).toEqual([]);
    expect(appliedData(plug, payload, { led: 'OFF', state: 'ON' })).toEqual({ led: 'OFF' });
    expect(set(plug, 'on', 'led')).toEqual({ led: 'ON' });
  });

  it('refuses a bad value and devices without an LED', () => {
    expect(refusal(plug, '{"led":"blink"}')).toMatchObject({ code: 'invalid_payload', message: 'led must be ON or OFF' });
    expect(refusal(bulb, '{"led":"OFF"}')).toMatchObject({ code: 'unsupported' });
    expect(refusal(outlet!, '{"led":"OFF"}')).toMatchObject({ code: 'unsupported' });
  });
});

describe('restart', () => {
  it('sends system.reboot {delay: 1} (bulbs: their common system module)', () => {
    expect(setRequest(plug, set(plug, '{"restart":true}'))).toMatchObject({ system: { reboot: { delay: 1 }, get_sysinfo: null } });
    expect(setRequest(bulb, set(bulb, '{"restart":true}'))).toMatchObject({
      'smartlife.iot.common.system': { reboot: { delay: 1 } },
      system: { get_sysinfo: null },
    });
    expect(refusal(plug, '{"restart":"yes"}')).toMatchObject({ code: 'invalid_payload' });
    expect(refusal(outlet!, '{"restart":true}')).toMatchObject({ code: 'unsupported' });
  });
});

describe('countdown', () => {
  it('polls count_down rules with the device and reads the running one (or null)', () => {
    expect(pollRequest(plug)).toHaveProperty('count_down', { get_rules: null });
    const running = { count_down: { get_rules: { rule_list: [{ id: '1', enable: 1, delay: 600, act: 0, remain: 412 }] } } };
    expect(parseResponse([plug], { ...running, system: { get_sysinfo: { relay_state: 1, on_time: 5 } } }).get(plug.id)).toMatchObject({
      countdown: { seconds_left: 412, state: 'OFF' },
    });
    expect(parseResponse([plug], { count_down: { get_rules: { rule_list: [] } }, system: { get_sysinfo: {} } }).get(plug.id)).toMatchObject({
      countdown: null,
    });
    // A device without the module leaves the key out.
    const missing = { count_down: { err_code: -1, err_msg: 'module not support' }, system: { get_sysinfo: { relay_state: 1 } } };
    expect(parseResponse([plug], missing).get(plug.id)).not.toHaveProperty('countdown');
  });

  it('replaces any rule with one add_rule and reads the rules back, in one request', () => {
    const payload = set(plug, '{"countdown":{"seconds":600,"state":"OFF"}}');
    expect(JSON.stringify(setRequest(plug, payload, { state: 'ON' }))).toBe(
      '{"count_down":{"delete_all_rules":null,"add_rule":{"enable":1,"delay":600,"act":0,"name":"kasa2mqtt"},"get_rules":null},"system":{"get_sysinfo":null}}',
    );
  });

  it('defaults the target state to the opposite of the current one; 0 cancels', () => {
    const payload = set(plug, '{"countdown":{"seconds":60}}');
    const act = (current: NodeState) => (setRequest(plug, payload, current)['count_down'] as { add_rule: { act: number } }).add_rule.act;
    expect(act({ state: 'ON' })).toBe(0);
    expect(act({ state: 'OFF' })).toBe(1);
    const cancel = set(plug, '{"countdown":0}');
    expect(setRequest(plug, cancel)['count_down']).toEqual({ delete_all_rules: null, get_rules: null });
    expect(unconfirmedAttributes(plug, cancel, { countdown: null })).toEqual([]);
    expect(unconfirmedAttributes(plug, cancel, { countdown: { seconds_left: 3, state: 'OFF' } })).toEqual(['countdown']);
  });

  it('addresses an outlet with its child id as context', () => {
    const request = setRequest(outlet!, set(outlet!, '{"countdown":{"seconds":30,"state":"ON"}}'));
    expect(Object.keys(request).at(-1)).toBe('context');
    expect(request['context']).toEqual({ child_ids: [outlet!.id] });
  });

  it('refuses malformed countdowns, and devices without one', () => {
    for (const bad of ['{"countdown":-5}', '{"countdown":{"seconds":0}}', '{"countdown":{"seconds":90000}}', '{"countdown":{"seconds":5,"state":"DIM"}}', '{"countdown":{"seconds":5,"x":1}}']) {
      expect(refusal(plug, bad), bad).toMatchObject({ code: 'invalid_payload' });
    }
    expect(refusal(bulb, '{"countdown":0}')).toMatchObject({ code: 'unsupported' });
    expect(refusal(strip!, '{"countdown":0}')).toMatchObject({ code: 'unsupported' });
  });
});

describe('light-strip effects', () => {
  it('sends the built-in definition through smartlife.iot.lighting_effect; "off" stops', () => {
    const aurora = set(lightStrip, '{"effect":"aurora"}');
    expect(aurora).toEqual({ effect: 'Aurora' });
    const request = setRequest(lightStrip, aurora);
    expect(request['smartlife.iot.lighting_effect']).toEqual({ set_lighting_effect: LIGHT_STRIP_EFFECTS[0] });
    expect(Object.keys(request)).toEqual(['smartlife.iot.lighting_effect', 'system', 'smartlife.iot.common.emeter']);
    expect(setRequest(lightStrip, set(lightStrip, '{"effect":"off"}'))['smartlife.iot.lighting_effect']).toEqual({
      set_lighting_effect: { enable: 0 },
    });
  });

  it('runs a colour set before the effect when both come together', () => {
    const request = setRequest(lightStrip, set(lightStrip, '{"state":"ON","effect":"Ocean"}'));
    expect(Object.keys(request)).toEqual(['smartlife.iot.lightStrip', 'smartlife.iot.lighting_effect', 'system', 'smartlife.iot.common.emeter']);
  });

  it('reads the running effect from lighting_effect_state and confirms by name', () => {
    const sysinfo = { light_state: { on_off: 1 }, lighting_effect_state: { enable: 1, name: 'Aurora' } };
    expect(parseResponse([lightStrip], { system: { get_sysinfo: sysinfo } }).get(lightStrip.id)).toMatchObject({ effect: 'Aurora' });
    expect(unconfirmedAttributes(lightStrip, { effect: 'Aurora' }, { effect: null })).toEqual(['effect']);
    expect(unconfirmedAttributes(lightStrip, { effect: 'off' }, { effect: null })).toEqual([]);
  });

  it('refuses unknown effects and lights without effects', () => {
    expect(refusal(lightStrip, '{"effect":"Disco"}')).toMatchObject({ code: 'invalid_payload', message: expect.stringContaining('Aurora') });
    expect(refusal(bulb, '{"effect":"Aurora"}')).toMatchObject({ code: 'unsupported' });
  });
});

describe('on_since', () => {
  const now = new Date('2026-01-02T10:00:00.400Z');
  it('is the switch-on time while on and null while off (outlets from their child entry)', () => {
    expect(parseResponse([plug], { system: { get_sysinfo: { relay_state: 1, on_time: 3600 } } }, { now }).get(plug.id)).toMatchObject({
      on_since: '2026-01-02T09:00:00.000Z',
    });
    expect(parseResponse([plug], { system: { get_sysinfo: { relay_state: 0, on_time: 0 } } }, { now }).get(plug.id)).toMatchObject({
      on_since: null,
    });
    const hs300 = buildNodes(entryByModel('HS300'), sysinfoFixture('hs300_us_get_sys_info_response.json'));
    const states = parseResponse(hs300, { system: { get_sysinfo: sysinfoFixture('hs300_us_get_sys_info_response.json') } }, { now });
    const on = hs300.slice(1).find((n) => states.get(n.id)?.state === 'ON')!;
    expect(states.get(on.id)?.on_since).toMatch(/^2026-01-0\dT/);
  });

  it('keeps the earlier value when the next poll moves it by a second', () => {
    expect(steadyReading(plug, { on_since: '2026-01-02T09:00:00.000Z' }, { on_since: '2026-01-02T09:00:01.000Z' })).toEqual({
      on_since: '2026-01-02T09:00:00.000Z',
    });
    expect(steadyReading(plug, { on_since: '2026-01-02T09:00:00.000Z' }, { on_since: '2026-01-02T09:05:00.000Z' })).toEqual({
      on_since: '2026-01-02T09:05:00.000Z',
    });
  });
});

describe('request order', () => {
  it('puts setter-only modules first, reads last inside a module, context last', () => {
    const merged = mergeRequests(
      { system: { get_sysinfo: null } },
      { system: { set_relay_state: { state: 1 } } },
      { 'smartlife.iot.dimmer': { set_brightness: { brightness: 5 } } },
      { context: { child_ids: ['x'] } },
      { count_down: { get_rules: null } },
    );
    expect(JSON.stringify(merged)).toBe(
      '{"smartlife.iot.dimmer":{"set_brightness":{"brightness":5}},"system":{"set_relay_state":{"state":1},"get_sysinfo":null},"count_down":{"get_rules":null},"context":{"child_ids":["x"]}}',
    );
  });

  it('keeps the dimmer set with a feature key in textual order', () => {
    const request = setRequest(dimmer, set(dimmer, '{"brightness":30,"led":"ON"}'));
    const text = JSON.stringify(request);
    expect(text.indexOf('set_brightness')).toBeLessThan(text.indexOf('get_sysinfo'));
    expect(text.indexOf('set_led_off')).toBeLessThan(text.indexOf('get_sysinfo'));
  });
});

describe('device clock', () => {
  it('reads the device offset from UTC from a recorded get_time answer', () => {
    // The capture says 2021-03-22 12:55:41 on the device; a bridge at 20:55 UTC sees a UTC−8 device.
    expect(deviceUtcOffsetMinutes(fixture('get_device_time_response.json'), new Date('2021-03-22T20:55:40Z'))).toBe(-480);
    expect(deviceUtcOffsetMinutes(fixture('get_device_timezone_response.json'), new Date())).toBeUndefined();
    expect(deviceUtcOffsetMinutes({ time: { get_time: { year: 2021 } } }, new Date())).toBeUndefined();
  });

  it('asks a metered plug for its time with the energy poll', () => {
    const meterPlug = buildNodes(entry({ deviceModel: 'KP125(US)' }), kp125Sysinfo)[0]!;
    expect(pollRequest(meterPlug)).toHaveProperty('time', { get_time: null });
    expect(pollRequest(meterPlug, new Date('2026-12-01T00:30:00Z'), { utcOffsetMinutes: -600 })['emeter']).toMatchObject({
      get_daystat: { year: 2026, month: 11 },
      get_monthstat: { year: 2026 },
    });
  });
});

describe('refused setters', () => {
  it('finds setters a device answered with an error, at module or method level; reads do not count', () => {
    const request = setRequest(plug, { led: 'OFF', countdown: { seconds: 5 } }, { state: 'ON' });
    const reply = {
      system: { set_led_off: { err_code: 0 }, get_sysinfo: { err_code: -7 } },
      count_down: { err_code: -1, err_msg: 'module not support' },
    };
    expect(refusedSetters(request, reply)).toEqual([
      { module: 'count_down', method: 'delete_all_rules', errCode: -1, errMsg: 'module not support' },
      { module: 'count_down', method: 'add_rule', errCode: -1, errMsg: 'module not support' },
    ]);
    const member = { system: { set_led_off: { err_code: -2, err_msg: 'member not support' } } };
    expect(refusedSetters({ system: { set_led_off: { off: 1 }, get_sysinfo: null } }, member)).toEqual([
      { module: 'system', method: 'set_led_off', errCode: -2, errMsg: 'member not support' },
    ]);
    expect(refusedSetters({ system: { get_sysinfo: null } }, { system: { err_code: -1 } })).toEqual([]);
  });
});
