import { describe, expect, it } from 'vitest';
import { buildNodes } from '../../src/devices/nodes.js';
import { parseEnergyResponse, parseResponse } from '../../src/devices/state.js';
import {
  deviceReply,
  entry,
  entryByModel,
  hs110v1Realtime,
  hs220Sysinfo,
  kl130Sysinfo,
  kp125Realtime,
  kp125Sysinfo,
  methodOf,
  sysinfoFixture,
} from './fixtures.js';

const NOW = new Date(2021, 2, 14, 12, 0, 0); // 14 March 2021, local time
const bulbEntry = (model: string) => entry({ deviceType: 'IOT.SMARTBULB', deviceModel: model });

describe('plugs and switches', () => {
  it('reads state and rssi from sysinfo', () => {
    const nodes = buildNodes(entryByModel('HS103'));
    const states = parseResponse(nodes, deviceReply('hs103_us_get_sys_info_response.json'));
    expect(states.get(nodes[0]!.id)).toEqual({ state: 'OFF', rssi: -38, led: 'ON', on_since: null });
    const hs200 = buildNodes(entryByModel('HS200'));
    expect(parseResponse(hs200, deviceReply('hs200_us_get_sys_info_response.json')).get(hs200[0]!.id)).toEqual({
      state: 'ON',
      rssi: -42,
      led: 'ON',
      on_since: expect.any(String),
    });
  });

  it('maps new-generation meter units (mW, mV, mA, Wh) to W, V, A, kWh', () => {
    const nodes = buildNodes(entry({ deviceModel: 'KP125(US)' }), kp125Sysinfo);
    const reply = { system: { get_sysinfo: kp125Sysinfo }, emeter: { get_realtime: kp125Realtime } };
    expect(parseResponse(nodes, reply, { now: NOW }).get(nodes[0]!.id)).toEqual({
      state: 'ON',
      rssi: -41,
      led: 'ON',
      on_since: new Date(NOW.getTime() - 301_000).toISOString(),
      power_w: 100.277,
      voltage_v: 119.425,
      current_a: 0.978,
      energy_kwh: 12.17,
    });
  });

  it('keeps old-generation meter values (W, V, A, kWh) as they are', () => {
    const nodes = buildNodes(entry({ deviceModel: 'HS110(US)' }));
    const reply = { system: { get_sysinfo: { relay_state: 0, rssi: -50, err_code: 0 } }, emeter: { get_realtime: hs110v1Realtime } };
    expect(parseResponse(nodes, reply).get(nodes[0]!.id)).toEqual({
      state: 'OFF',
      rssi: -50,
      on_since: null,
      power_w: 7.677094,
      voltage_v: 118.917389,
      current_a: 0.128037,
      energy_kwh: 30.404,
    });
  });

  it('reads today and this month from day and month stats', () => {
    const nodes = buildNodes(entry({ deviceModel: 'KP125(US)' }));
    const reply = {
      system: { get_sysinfo: kp125Sysinfo },
      emeter: {
        get_realtime: methodOf('get_device_emeter_realtime_response.json', 'emeter', 'get_realtime'),
        get_daystat: methodOf('get_device_emeter_daystat_month_03_response.json', 'emeter', 'get_daystat'),
        get_monthstat: methodOf('get_device_emeter_monthstat_year_2021_response.json', 'emeter', 'get_monthstat'),
      },
    };
    // Without the device's clock: its newest entries, whatever the bridge's date.
    const state = parseResponse(nodes, reply, { now: NOW }).get(nodes[0]!.id);
    expect(state).toMatchObject({ power_w: 854.155, energy_kwh: 894.928, energy_today_kwh: 8.876, energy_month_kwh: 83.012 });
    // With its clock in the reply: the entries of the device's own date.
    const clock = (d: Date) => ({ time: { get_time: { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, mday: d.getUTCDate(), hour: d.getUTCHours(), min: d.getUTCMinutes(), sec: 0 } } });
    const at14 = new Date(Date.UTC(2021, 2, 14, 12));
    expect(parseResponse(nodes, { ...reply, ...clock(at14) }, { now: at14 }).get(nodes[0]!.id)).toMatchObject({
      energy_today_kwh: 9.615,
      energy_month_kwh: 212.393,
    });
    // A day the device has not reported is left out, never 0.
    const apr2 = new Date(Date.UTC(2021, 3, 2, 12));
    const later = parseResponse(nodes, { ...reply, ...clock(apr2) }, { now: apr2 }).get(nodes[0]!.id);
    expect(later).not.toHaveProperty('energy_today_kwh');
    expect(later).toMatchObject({ energy_month_kwh: 83.012 });
  });

  it('leaves meter keys out when the meter module fails, never 0', () => {
    const nodes = buildNodes(entry({ deviceModel: 'KP125(US)' }));
    for (const emeter of [
      { err_code: -1, err_msg: 'module not support' },
      { get_realtime: { err_code: -2, err_msg: 'member not support' } },
      { get_realtime: 'garbage' },
    ]) {
      const state = parseResponse(nodes, { system: { get_sysinfo: kp125Sysinfo }, emeter }).get(nodes[0]!.id);
      expect(state).toEqual({ state: 'ON', rssi: -41, led: 'ON', on_since: expect.any(String) });
    }
  });

  it('reports nothing for a node whose reply failed entirely', () => {
    const nodes = buildNodes(entryByModel('HS103'));
    expect(parseResponse(nodes, { system: { err_code: -1 } }).size).toBe(0);
    expect(parseResponse(nodes, 'not an object').size).toBe(0);
    expect(parseResponse(nodes, { system: { get_sysinfo: { err_code: -7, relay_state: 1 } } }).size).toBe(0);
  });
});

describe('strips', () => {
  it('gives the strip outlets_on and rssi and each outlet its state', () => {
    const sysinfo = sysinfoFixture('hs300_us_get_sys_info_response.json');
    const nodes = buildNodes(entryByModel('HS300'), sysinfo);
    const states = parseResponse(nodes, deviceReply('hs300_us_get_sys_info_response.json'));
    expect(states.get(nodes[0]!.id)).toEqual({ outlets_on: 2, rssi: -38, led: 'ON' });
    expect(nodes.slice(1).map((n) => states.get(n.id)?.state)).toEqual(['OFF', 'OFF', 'ON', 'OFF', 'OFF', 'ON']);
  });

  it('attributes a meter answer sent with an outlet context to that outlet only', () => {
    const nodes = buildNodes(entryByModel('HS300'), sysinfoFixture('hs300_us_get_sys_info_response.json'));
    const outlet = nodes[3]!;
    const reply = { ...deviceReply('hs300_us_get_sys_info_response.json'), emeter: { get_realtime: kp125Realtime } };
    const states = parseResponse(nodes, reply, { target: outlet });
    expect(states.get(outlet.id)).toMatchObject({ state: 'ON', power_w: 100.277 });
    expect(states.get(nodes[0]!.id)).not.toHaveProperty('power_w');
    expect(states.get(nodes[1]!.id)).toEqual({ state: 'OFF', on_since: null });
  });

  it('reads an outlet energy request answer', () => {
    const nodes = buildNodes(entryByModel('HS300'), sysinfoFixture('hs300_us_get_sys_info_response.json'));
    expect(parseEnergyResponse(nodes[1]!, deviceReply('get_device_emeter_realtime_response.json'))).toEqual({
      power_w: 854.155,
      voltage_v: 823.465,
      current_a: 1.245,
      energy_kwh: 894.928,
    });
    expect(parseEnergyResponse(nodes[1]!, { emeter: { err_code: -1 } })).toEqual({});
  });
});

describe('dimmers', () => {
  it('reads state and brightness', () => {
    const nodes = buildNodes(entry({ deviceModel: 'HS220(US)' }), hs220Sysinfo);
    expect(parseResponse(nodes, { system: { get_sysinfo: hs220Sysinfo } }).get(nodes[0]!.id)).toEqual({
      state: 'ON',
      brightness: 35,
      rssi: -60,
    });
  });
});

describe('bulbs and light strips', () => {
  it('reports a colour bulb in hs mode with colour and no colour temperature', () => {
    const nodes = buildNodes(bulbEntry('KL130(US)'), kl130Sysinfo);
    const state = parseResponse(nodes, { system: { get_sysinfo: kl130Sysinfo } }).get(nodes[0]!.id);
    expect(state).toEqual({ state: 'ON', brightness: 30, color: { h: 240, s: 100 }, color_mode: 'hs', rssi: -52 });
  });

  it('reports colour temperature mode when color_temp > 0', () => {
    const nodes = buildNodes(bulbEntry('KL130(US)'));
    const light = { on_off: 1, mode: 'normal', hue: 10, saturation: 20, color_temp: 4000, brightness: 80, err_code: 0 };
    const reply = { 'smartlife.iot.smartbulb.lightingservice': { transition_light_state: light } };
    expect(parseResponse(nodes, reply).get(nodes[0]!.id)).toEqual({
      state: 'ON',
      brightness: 80,
      color_temp: 4000,
      color_mode: 'color_temp',
    });
  });

  it('takes an off bulb’s values from dft_on_state', () => {
    const nodes = buildNodes(bulbEntry('KL130(US)'));
    const light = {
      on_off: 0,
      dft_on_state: { mode: 'normal', hue: 0, saturation: 0, color_temp: 2700, brightness: 50 },
      err_code: 0,
    };
    const reply = { system: { get_sysinfo: { light_state: light, rssi: -60, err_code: 0 } } };
    expect(parseResponse(nodes, reply).get(nodes[0]!.id)).toEqual({
      state: 'OFF',
      brightness: 50,
      color_temp: 2700,
      color_mode: 'color_temp',
      rssi: -60,
    });
  });

  it('reports only brightness for a dimmable-only bulb', () => {
    const nodes = buildNodes(bulbEntry('KL110(US)'));
    const reply = { system: { get_sysinfo: { light_state: { on_off: 1, hue: 0, saturation: 0, color_temp: 2700, brightness: 9 } } } };
    expect(parseResponse(nodes, reply).get(nodes[0]!.id)).toEqual({ state: 'ON', brightness: 9 });
  });

  it('reads a bulb meter from smartlife.iot.common.emeter', () => {
    const nodes = buildNodes(bulbEntry('KL130(US)'));
    const reply = {
      system: { get_sysinfo: kl130Sysinfo },
      'smartlife.iot.common.emeter': { get_realtime: { power_mw: 10800, err_code: 0 } },
    };
    expect(parseResponse(nodes, reply).get(nodes[0]!.id)).toMatchObject({ power_w: 10.8 });
    const failed = { system: { get_sysinfo: kl130Sysinfo }, 'smartlife.iot.common.emeter': { err_code: -2001 } };
    expect(parseResponse(nodes, failed).get(nodes[0]!.id)).not.toHaveProperty('power_w');
  });

  it('reads light strips from the fixtures, with effect when one runs', () => {
    const kl420 = buildNodes(entryByModel('KL420L5'), sysinfoFixture('kl420l5_us_get_sys_info_response.json'));
    expect(parseResponse(kl420, deviceReply('kl420l5_us_get_sys_info_response.json')).get(kl420[0]!.id)).toEqual({
      state: 'ON',
      brightness: 75,
      color: { h: 240, s: 100 },
      color_mode: 'hs',
      rssi: -45,
    });
    const kl430 = buildNodes(entryByModel('KL430'));
    const sysinfo = {
      ...sysinfoFixture('kl430_us_get_sys_info_response.json'),
      light_state: { on_off: 1, mode: 'normal', hue: 0, saturation: 0, color_temp: 0, brightness: 100 },
      lighting_effect_state: { enable: 1, name: 'Aurora', brightness: 100, custom: 0, id: 'xqUxDhbAhNLqulcuRMyPBmVGyTOyEMEu' },
    };
    expect(parseResponse(kl430, { system: { get_sysinfo: sysinfo } }).get(kl430[0]!.id)).toMatchObject({
      state: 'ON',
      effect: 'Aurora',
    });
    const off = { ...sysinfo, lighting_effect_state: { enable: 0, name: 'Aurora' } };
    expect(parseResponse(kl430, { system: { get_sysinfo: off } }).get(kl430[0]!.id)?.effect).toBeNull();
    const unknown = parseResponse(kl430, deviceReply('kl430_us_get_sys_info_response.json')).get(kl430[0]!.id);
    expect(unknown).not.toHaveProperty('effect');
    expect(unknown).toMatchObject({ state: 'OFF', color_temp: 2700, color_mode: 'color_temp' });
  });
});
