/** Device list and passthrough against stateful devices of every family. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/simulator/index.js';
import type { SimDeviceSpec, Simulator } from '../../src/simulator/types.js';
import { call, login, passthrough } from './client.js';

const USER = { username: 'dev@example.com', password: 'dev-Pa55' };
const id = (n: number): string => `A1B2C3D4E5F6A1B2C3D4E5F6A1B2C3D4E5F6${String(n).padStart(4, '0')}`;
const D = {
  plug: { deviceId: id(1), model: 'HS103(US)', alias: 'Desk' },
  hs110: { deviceId: id(2), model: 'HS110(US)', alias: 'Old meter' },
  kp125: { deviceId: id(3), model: 'KP125(US)', alias: 'New meter' },
  switch: { deviceId: id(4), model: 'HS200(US)', alias: 'Hall' },
  dimmer: { deviceId: id(5), model: 'HS220(US)', alias: 'Dining' },
  hs300: { deviceId: '5BFA53B31294DDA5AB4DEBA1B62582E8EC2F789E', model: 'HS300(US)', alias: 'Strip' },
  kp303: { deviceId: id(7), model: 'KP303(US)', alias: 'Desk strip' },
  kl130: { deviceId: id(8), model: 'KL130(US)', alias: 'Colour' },
  kl110: { deviceId: id(9), model: 'KL110(US)', alias: 'Dimmable' },
  kl120: { deviceId: id(10), model: 'KL120(US)', alias: 'Tunable' },
  kl430: { deviceId: id(11), model: 'KL430(US)', alias: 'TV' },
  offline: { deviceId: id(12), model: 'HS105(US)', alias: 'Garage', online: false },
  tapo: { deviceId: id(13), model: 'P100', alias: 'Tapo plug' },
  slow: { deviceId: id(14), model: 'HS103(US)', alias: 'Slow', latencyMs: 150 },
} satisfies Record<string, SimDeviceSpec>;

let sim: Simulator;
let token: string;
beforeAll(async () => {
  sim = await startSimulator({
    accounts: [
      { ...USER, devices: Object.values(D) },
      { username: 'other@example.com', password: 'x', devices: [{ deviceId: id(99), model: 'HS103(US)', alias: 'Not yours' }] },
    ],
  });
  ({ token } = await login(sim, USER.username, USER.password));
});
afterAll(async () => {
  await sim.stop();
});

const run = (deviceId: string, requestData: unknown) => passthrough(sim, token, deviceId, requestData);

describe('device list', () => {
  it('lists every device with the device-list fields, status 1/0 and the device host as appServerUrl', async () => {
    const res = await call(sim.regionalUrl, '/', { method: 'getDeviceList' }, { token });
    const list = res.body.result.deviceList as Record<string, unknown>[];
    expect(list).toHaveLength(Object.keys(D).length);
    for (const entry of list) {
      expect(Object.keys(entry).sort()).toEqual(
        [
          'alias', 'appServerUrl', 'deviceHwVer', 'deviceId', 'deviceMac', 'deviceModel', 'deviceName', 'deviceRegion',
          'deviceType', 'fwId', 'fwVer', 'hwId', 'isSameRegion', 'oemId', 'role', 'status',
        ].sort(),
      );
      expect(entry.appServerUrl).toBe(sim.deviceUrls[0]);
      expect(entry.deviceId).toMatch(/^[0-9A-F]{40}$/);
      expect(entry.deviceMac).toMatch(/^[0-9A-F]{12}$/);
    }
    const byId = new Map(list.map((e) => [e.deviceId, e]));
    expect(byId.get(D.offline.deviceId)).toMatchObject({ status: 0 });
    expect(byId.get(D.plug.deviceId)).toMatchObject({ status: 1, deviceType: 'IOT.SMARTPLUGSWITCH', deviceModel: 'HS103(US)' });
    expect(byId.get(D.kl430.deviceId)).toMatchObject({ deviceType: 'IOT.SMARTBULB' });
    expect(byId.get(D.tapo.deviceId)).toMatchObject({
      deviceType: 'SMART.TAPOPLUG',
      deviceModel: 'P100',
      alias: Buffer.from('Tapo plug').toString('base64'),
    });
    expect(byId.get(D.hs300.deviceId)).toMatchObject({ oemId: 'C20341B1E3455640F77F93C8286CD3E3', deviceMac: '28A69C74BA90' });
  });
});

describe('passthrough envelope', () => {
  it('answers responseData as a JSON string', async () => {
    const { envelope } = await run(D.plug.deviceId, { system: { get_sysinfo: null } });
    expect(envelope.error_code).toBe(0);
    expect(typeof envelope.result.responseData).toBe('string');
  });

  it('offline devices and Tapo devices → -20571 Device is offline', async () => {
    for (const device of [D.offline, D.tapo]) {
      expect((await run(device.deviceId, { system: { get_sysinfo: null } })).envelope).toEqual({
        error_code: -20571,
        msg: 'Device is offline',
      });
    }
  });

  it('a device of another account → -20571; missing deviceId → -20104; missing requestData → -20573', async () => {
    expect((await run(id(99), { system: { get_sysinfo: null } })).envelope.error_code).toBe(-20571);
    const send = (params: unknown) => call(sim.deviceUrls[0], '/', { method: 'passthrough', params }, { token });
    expect((await send({ requestData: '{"system":{"get_sysinfo":null}}' })).body.error_code).toBe(-20104);
    expect((await send({ deviceId: D.plug.deviceId })).body.error_code).toBe(-20573);
  });

  it('requestData must be a string holding a JSON object', async () => {
    const send = (requestData: unknown) =>
      call(sim.deviceUrls[0], '/', { method: 'passthrough', params: { deviceId: D.plug.deviceId, requestData } }, { token });
    expect((await send({ system: { get_sysinfo: null } })).body.error_code).toBe(-20104);
    expect((await send('not json')).body.error_code).toBe(-20104);
    expect((await send('[1]')).body.error_code).toBe(-20104);
  });

  it('holds the answer for the device latency', async () => {
    sim.clearRequests();
    await run(D.slow.deviceId, { system: { get_sysinfo: null } });
    expect(sim.requests[0]!.durationMs).toBeGreaterThanOrEqual(130);
    expect(sim.requests[0]!.requestData).toEqual({ system: { get_sysinfo: null } });
  });
});

describe('execution order and module errors', () => {
  it('executes in textual order: set then get reads back the new state, get then set the old', async () => {
    sim.device(D.plug.deviceId).setState({ on: false });
    const setGet = await run(D.plug.deviceId, '{"system":{"set_relay_state":{"state":1},"get_sysinfo":{}}}');
    expect(setGet.reply.system.set_relay_state).toEqual({ err_code: 0 });
    expect(setGet.reply.system.get_sysinfo.relay_state).toBe(1);
    const getSet = await run(D.plug.deviceId, '{"system":{"get_sysinfo":{},"set_relay_state":{"state":0}}}');
    expect(getSet.reply.system.get_sysinfo.relay_state).toBe(1);
    expect(sim.device(D.plug.deviceId).sysinfo().relay_state).toBe(0);
  });

  it('a module the plug lacks fails only that module (-1); an unknown method → -2', async () => {
    const { reply } = await run(D.plug.deviceId, { emeter: { get_realtime: null }, system: { get_sysinfo: null, fly: {} } });
    expect(reply.emeter).toEqual({ err_code: -1, err_msg: 'module not support' });
    expect(reply.system.get_sysinfo.err_code).toBe(0);
    expect(reply.system.fly).toEqual({ err_code: -2, err_msg: 'member not support' });
  });

  it('invalid arguments fail at method level', async () => {
    const { reply } = await run(D.plug.deviceId, { system: { set_relay_state: { state: 7 } } });
    expect(reply.system.set_relay_state.err_code).not.toBe(0);
  });

  it('setState (app or button) shows up in the next read', async () => {
    sim.device(D.switch.deviceId).setState({ on: true });
    expect((await run(D.switch.deviceId, { system: { get_sysinfo: null } })).reply.system.get_sysinfo.relay_state).toBe(1);
    sim.device(D.switch.deviceId).setState({ on: false });
    expect((await run(D.switch.deviceId, { system: { get_sysinfo: null } })).reply.system.get_sysinfo.relay_state).toBe(0);
  });

  it('set_dev_alias changes the alias in sysinfo and the device list', async () => {
    await run(D.switch.deviceId, { system: { set_dev_alias: { alias: 'Hallway' } } });
    expect(sim.device(D.switch.deviceId).alias).toBe('Hallway');
  });
});

describe('meters', () => {
  it('HS110 v1 answers old-generation field names, plausible and non-zero when on', async () => {
    sim.device(D.hs110.deviceId).setState({ on: true });
    const { reply } = await run(D.hs110.deviceId, { emeter: { get_realtime: null } });
    const rt = reply.emeter.get_realtime;
    expect(Object.keys(rt).sort()).toEqual(['current', 'err_code', 'power', 'total', 'voltage']);
    expect(rt.power).toBeGreaterThan(0);
    expect(rt.voltage).toBeGreaterThan(100);
    expect(rt.voltage).toBeLessThan(130);
    expect(rt.current).toBeCloseTo(rt.power / rt.voltage, 3);
    const info = (await run(D.hs110.deviceId, { system: { get_sysinfo: null } })).reply.system.get_sysinfo;
    expect(info).toMatchObject({ type: 'IOT.SMARTPLUGSWITCH', feature: 'TIM:ENE' });
    expect(info.mic_type).toBeUndefined();
  });

  it('KP125 answers new-generation field names; power is 0 when off', async () => {
    sim.device(D.kp125.deviceId).setState({ on: true, power_w: 100 });
    const on = (await run(D.kp125.deviceId, { emeter: { get_realtime: null } })).reply.emeter.get_realtime;
    expect(on).toMatchObject({ power_mw: 100000, err_code: 0 });
    expect(Object.keys(on).sort()).toEqual(['current_ma', 'err_code', 'power_mw', 'total_wh', 'voltage_mv']);
    sim.device(D.kp125.deviceId).setState({ on: false });
    const off = (await run(D.kp125.deviceId, { emeter: { get_realtime: null } })).reply.emeter.get_realtime;
    expect(off).toMatchObject({ power_mw: 0, current_ma: 0 });
  });

  it('daystat and monthstat answer lists in the right generation', async () => {
    const now = new Date();
    const year = now.getUTCFullYear();
    const month = now.getUTCMonth() + 1;
    const newGen = (await run(D.kp125.deviceId, { emeter: { get_daystat: { year, month } } })).reply.emeter.get_daystat;
    expect(newGen.day_list.length).toBeGreaterThan(0);
    expect(newGen.day_list[0]).toEqual({ year, month, day: expect.any(Number), energy_wh: expect.any(Number) });
    const oldGen = (await run(D.hs110.deviceId, { emeter: { get_monthstat: { year } } })).reply.emeter.get_monthstat;
    expect(oldGen.month_list[0]).toEqual({ year, month: expect.any(Number), energy: expect.any(Number) });
  });
});

describe('strips', () => {
  const child = (n: number) => `${D.hs300.deviceId}0${n}`;
  const children = async () =>
    (await run(D.hs300.deviceId, { system: { get_sysinfo: null } })).reply.system.get_sysinfo.children as { id: string; state: number }[];

  it('starts from the WireMock outlet states and has 6 outlets', async () => {
    const info = sim.device(D.hs300.deviceId).sysinfo();
    expect(info.child_num).toBe(6);
    expect(info.relay_state).toBeUndefined();
    expect((info.children as { state: number }[]).map((c) => c.state)).toEqual([0, 0, 1, 0, 0, 1]);
  });

  it('context.child_ids switches only the named outlet (vector V7 request)', async () => {
    sim.device(D.hs300.deviceId).setState({ on: false });
    const requestData = `{"context":{"child_ids":["${child(2)}"]},"system":{"set_relay_state":{"state":1},"get_sysinfo":null}}`;
    const { reply } = await run(D.hs300.deviceId, requestData);
    expect(reply.system.set_relay_state.err_code).toBe(0);
    expect(reply.system.get_sysinfo.children.map((c: { state: number }) => c.state)).toEqual([0, 0, 1, 0, 0, 0]);
  });

  it('parent-level set_relay_state without context switches every outlet', async () => {
    await run(D.hs300.deviceId, { system: { set_relay_state: { state: 1 } } });
    expect((await children()).every((c) => c.state === 1)).toBe(true);
  });

  it('an unknown child id fails the method and changes nothing', async () => {
    sim.device(D.kp303.deviceId).setState({ on: false });
    const { reply } = await run(D.kp303.deviceId, { system: { set_relay_state: { state: 1 } }, context: { child_ids: ['NOPE'] } });
    expect(reply.system.set_relay_state.err_code).not.toBe(0);
    const info = sim.device(D.kp303.deviceId).sysinfo();
    expect((info.children as { state: number }[]).every((c) => c.state === 0)).toBe(true);
    expect(info.child_num).toBe(3);
  });

  it('HS300 outlets have their own new-generation meters with slot_id', async () => {
    sim.device(D.hs300.deviceId).setState({ outlet: 3, on: true, power_w: 42 });
    sim.device(D.hs300.deviceId).setState({ outlet: 4, on: false });
    const r3 = (await run(D.hs300.deviceId, { emeter: { get_realtime: null }, context: { child_ids: [child(3)] } })).reply;
    expect(r3.emeter.get_realtime).toMatchObject({ slot_id: 3, power_mw: 42000, err_code: 0 });
    const r4 = (await run(D.hs300.deviceId, { emeter: { get_realtime: null }, context: { child_ids: [child(4)] } })).reply;
    expect(r4.emeter.get_realtime).toMatchObject({ slot_id: 4, power_mw: 0 });
  });

  it('KP303 has no meter', async () => {
    const { reply } = await run(D.kp303.deviceId, { emeter: { get_realtime: null } });
    expect(reply.emeter).toEqual({ err_code: -1, err_msg: 'module not support' });
  });
});

describe('dimmers', () => {
  it('set_brightness then get_sysinfo reads the new level; 0 is rejected', async () => {
    const { reply } = await run(D.dimmer.deviceId, {
      'smartlife.iot.dimmer': { set_brightness: { brightness: 35 } },
      system: { set_relay_state: { state: 1 }, get_sysinfo: {} },
    });
    expect(reply.system.get_sysinfo).toMatchObject({ brightness: 35, relay_state: 1 });
    const zero = await run(D.dimmer.deviceId, { 'smartlife.iot.dimmer': { set_brightness: { brightness: 0 } } });
    expect(zero.reply['smartlife.iot.dimmer'].set_brightness.err_code).not.toBe(0);
  });

  it('set_dimmer_transition to 0 switches off', async () => {
    await run(D.dimmer.deviceId, { 'smartlife.iot.dimmer': { set_dimmer_transition: { brightness: 0, duration: 500 } } });
    expect(sim.device(D.dimmer.deviceId).sysinfo()).toMatchObject({ relay_state: 0, brightness: 35 });
  });
});

describe('bulbs and light strips', () => {
  const LS = 'smartlife.iot.smartbulb.lightingservice';

  it('transition_light_state answers the new state; off answers dft_on_state', async () => {
    const on = await run(D.kl130.deviceId, { [LS]: { transition_light_state: { on_off: 1, hue: 120, saturation: 80, brightness: 60, ignore_default: 1 } } });
    expect(on.reply[LS].transition_light_state).toEqual({
      on_off: 1,
      mode: 'normal',
      hue: 120,
      saturation: 80,
      color_temp: 0,
      brightness: 60,
      err_code: 0,
    });
    const off = await run(D.kl130.deviceId, { [LS]: { transition_light_state: { on_off: 0 } } });
    expect(off.reply[LS].transition_light_state).toEqual({
      on_off: 0,
      dft_on_state: { mode: 'normal', hue: 120, saturation: 80, color_temp: 0, brightness: 60 },
      err_code: 0,
    });
    expect((await run(D.kl130.deviceId, { [LS]: { get_light_state: {} } })).reply[LS].get_light_state.on_off).toBe(0);
  });

  it('enforces each model capabilities and Kelvin range', async () => {
    const set = async (device: { deviceId: string }, args: object): Promise<number> => {
      const { reply } = await run(device.deviceId, { [LS]: { transition_light_state: args } });
      return reply[LS].transition_light_state.err_code as number;
    };
    expect(await set(D.kl110, { color_temp: 3000 })).toBe(-10000);
    expect(await set(D.kl110, { hue: 10, saturation: 10 })).toBe(-10000);
    expect(await set(D.kl110, { brightness: 40 })).toBe(0);
    expect(await set(D.kl120, { color_temp: 5000 })).toBe(0);
    expect(await set(D.kl120, { color_temp: 6500 })).toBe(-10000);
    expect(await set(D.kl120, { hue: 10 })).toBe(-10000);
    expect(await set(D.kl130, { color_temp: 9000 })).toBe(0);
    expect(await set(D.kl130, { color_temp: 2400 })).toBe(-10000);
    const info = sim.device(D.kl110.deviceId).sysinfo();
    expect(info).toMatchObject({ is_color: 0, is_variable_color_temp: 0, is_dimmable: 1 });
  });

  it('bulbs report power through smartlife.iot.common.emeter', async () => {
    await run(D.kl130.deviceId, { [LS]: { transition_light_state: { on_off: 1, brightness: 100 } } });
    const { reply } = await run(D.kl130.deviceId, { 'smartlife.iot.common.emeter': { get_realtime: {} }, emeter: { get_realtime: {} } });
    expect(reply['smartlife.iot.common.emeter'].get_realtime.power_mw).toBeGreaterThan(0);
    expect(reply.emeter).toEqual({ err_code: -2001, err_msg: 'Module not support' });
  });

  it('light strips use smartlife.iot.lightStrip set_light_state; the bulb module answers -2001', async () => {
    const { reply } = await run(D.kl430.deviceId, {
      [LS]: { transition_light_state: { on_off: 1 } },
      'smartlife.iot.lightStrip': { set_light_state: { on_off: 1, hue: 240, saturation: 100, brightness: 75, color_temp: 0 } },
      system: { get_sysinfo: null },
    });
    expect(reply[LS]).toEqual({ err_code: -2001, err_msg: 'Module not support' });
    expect(reply['smartlife.iot.lightStrip'].set_light_state).toMatchObject({
      on_off: 1,
      hue: 240,
      saturation: 100,
      brightness: 75,
      err_code: 0,
      groups: [[0, 15, 240, 100, 75, 0]],
    });
    expect(reply.system.get_sysinfo).toMatchObject({ length: 16, light_state: { on_off: 1, hue: 240 } });
  });

  it('setState on a bulb shows up in get_light_state', async () => {
    sim.device(D.kl120.deviceId).setState({ on: true, brightness: 12, color_temp: 4000 });
    const { reply } = await run(D.kl120.deviceId, { [LS]: { get_light_state: null } });
    expect(reply[LS].get_light_state).toMatchObject({ on_off: 1, brightness: 12, color_temp: 4000 });
  });
});
