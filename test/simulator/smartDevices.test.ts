/**
 * SMART (Tapo-protocol) devices through the Tapo V2 passthrough, per model family: the
 * get_device_info fields each model has, set_device_info with the firmware's checks, energy on
 * metered models, component_nego, multipleRequest stopping at the first failure, the P300's
 * outlets through control_child, and the device errors (-1002 unknown method, -1008 bad params).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/simulator/index.js';
import type { SimDeviceSpec, Simulator } from '../../src/simulator/types.js';
import { call, login, passthrough } from './client.js';
import { smart, tapoLogin } from './tapoClient.js';

const USER = { username: 'smart@example.com', password: 'smart-Pa55' };
const id = (n: number): string => `5A4B3C2D1E0F5A4B3C2D1E0F5A4B3C2D1E0F${String(n).padStart(4, '0')}`;
const D = {
  p100: { deviceId: id(1), model: 'P100', alias: 'Kettle' },
  p110: { deviceId: id(2), model: 'P110(EU)', alias: 'Washer' },
  p115: { deviceId: id(3), model: 'P115(EU)', alias: 'Dryer' },
  p300: { deviceId: id(4), model: 'P300(EU)', alias: 'Desk strip' },
  ks205: { deviceId: id(5), model: 'KS205(US)', alias: 'Hall switch' },
  ks225: { deviceId: id(6), model: 'KS225(US)', alias: 'Dining dimmer' },
  l530: { deviceId: id(7), model: 'L530E(US)', alias: 'Reading lamp' },
  l900: { deviceId: id(8), model: 'L900-5(EU)', alias: 'TV strip' },
  kp125m: { deviceId: id(9), model: 'KP125M(US)', alias: 'Freezer' },
  ep25: { deviceId: id(10), model: 'EP25(US)', hwVer: '2.6', alias: 'Coffee' },
  ep25v1: { deviceId: id(11), model: 'EP25(US)', alias: 'Old coffee' },
  hs200v5: { deviceId: id(12), model: 'HS200(US)', hwVer: '5.26', alias: 'Porch switch' },
  hs220v3: { deviceId: id(13), model: 'HS220(US)', hwVer: '3.26', alias: 'Den dimmer' },
  hs200v3: { deviceId: id(14), model: 'HS200(US)', hwVer: '3.0', alias: 'Old switch' },
} satisfies Record<string, SimDeviceSpec>;

const clock = { now: Date.UTC(2026, 11, 7, 12, 0) };
let sim: Simulator;
let token: string;
beforeAll(async () => {
  sim = await startSimulator({ accounts: [{ ...USER, devices: Object.values(D) }], clock: () => clock.now });
  token = await tapoLogin(sim, USER.username, USER.password);
});
afterAll(async () => {
  await sim.stop();
});

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const run = (deviceId: string, request: Record<string, unknown>, asText = false) => smart(sim, token, deviceId, request, asText);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Reply = any;
const info = async (deviceId: string): Promise<Reply> => (await run(deviceId, { method: 'get_device_info' })).reply;
const set = async (deviceId: string, params: unknown): Promise<Reply> => (await run(deviceId, { method: 'set_device_info', params })).reply;

/** Keys every SMART device answers in get_device_info (python-kasa smart fixtures). */
const COMMON_KEYS = [
  'device_id', 'fw_ver', 'hw_ver', 'type', 'model', 'mac', 'hw_id', 'fw_id', 'oem_id', 'ip', 'time_diff', 'ssid',
  'rssi', 'signal_level', 'latitude', 'longitude', 'lang', 'avatar', 'region', 'specs', 'nickname', 'has_set_location_info',
];

describe('device list', () => {
  it('lists SMART devices with their deviceType, hardware version and a base64 alias', async () => {
    const res = await call(sim.regionalUrl, '/', { method: 'getDeviceList' }, { token: (await login(sim, USER.username, USER.password)).token });
    const byId = new Map((res.body.result.deviceList as Record<string, unknown>[]).map((e) => [e.deviceId, e]));
    expect(byId.get(D.p110.deviceId)).toMatchObject({ deviceType: 'SMART.TAPOPLUG', deviceModel: 'P110(EU)', alias: b64('Washer') });
    expect(byId.get(D.l530.deviceId)).toMatchObject({ deviceType: 'SMART.TAPOBULB', alias: b64('Reading lamp') });
    expect(byId.get(D.ks205.deviceId)).toMatchObject({ deviceType: 'SMART.KASASWITCH' });
    expect(byId.get(D.ks225.deviceId)).toMatchObject({ deviceType: 'SMART.KASASWITCH' });
    expect(byId.get(D.kp125m.deviceId)).toMatchObject({ deviceType: 'SMART.KASAPLUG' });
    expect(byId.get(D.ep25.deviceId)).toMatchObject({ deviceType: 'SMART.KASAPLUG', deviceHwVer: '2.6' });
    // EP25 hardware 1 still speaks IOT, with its alias in clear.
    expect(byId.get(D.ep25v1.deviceId)).toMatchObject({ deviceType: 'IOT.SMARTPLUGSWITCH', alias: 'Old coffee' });
    expect(byId.get(D.hs200v5.deviceId)).toMatchObject({ deviceType: 'SMART.KASASWITCH', deviceHwVer: '5.26' });
    expect(byId.get(D.hs220v3.deviceId)).toMatchObject({ deviceType: 'SMART.KASASWITCH', deviceHwVer: '3.26' });
    expect(byId.get(D.hs200v3.deviceId)).toMatchObject({ deviceType: 'IOT.SMARTPLUGSWITCH', deviceHwVer: '3.0' });
  });

  it('the smartListedOffline fault lists online SMART devices with status 0, classic ones unchanged', async () => {
    const { token: kasaToken } = await login(sim, USER.username, USER.password);
    const statuses = async (): Promise<Map<unknown, unknown>> => {
      const res = await call(sim.regionalUrl, '/', { method: 'getDeviceList' }, { token: kasaToken });
      return new Map((res.body.result.deviceList as Record<string, unknown>[]).map((e) => [e.deviceId, e.status]));
    };
    expect((await statuses()).get(D.p110.deviceId)).toBe(1);
    sim.faults.smartListedOffline = true;
    try {
      const listed = await statuses();
      expect(listed.get(D.p110.deviceId)).toBe(0);
      expect(listed.get(D.ep25v1.deviceId)).toBe(1);
      // The device itself still answers.
      expect((await info(D.p110.deviceId)).error_code).toBe(0);
    } finally {
      sim.resetFaults();
    }
  });

  it('the classic Kasa passthrough answers -20571 for a SMART device, whatever it asks', async () => {
    const { token: kasaToken } = await login(sim, USER.username, USER.password);
    for (const request of [{ system: { get_sysinfo: null } }, { method: 'get_device_info' }]) {
      const { envelope } = await passthrough(sim, kasaToken, D.p110.deviceId, request);
      expect(envelope).toMatchObject({ error_code: -20571, msg: 'Device is offline' });
    }
  });
});

describe('get_device_info', () => {
  it.each([
    ['P100', D.p100.deviceId, 'SMART.TAPOPLUG', ['device_on', 'on_time', 'overheated'], ['overheat_status', 'brightness', 'auto_off_status']],
    ['P110', D.p110.deviceId, 'SMART.TAPOPLUG', ['device_on', 'on_time', 'overheated', 'power_protection_status', 'auto_off_status'], ['overcurrent_status']],
    ['P115', D.p115.deviceId, 'SMART.TAPOPLUG', ['device_on', 'on_time', 'overheated', 'power_protection_status'], ['overcurrent_status']],
    ['KP125M', D.kp125m.deviceId, 'SMART.KASAPLUG', ['device_on', 'on_time', 'overheat_status', 'overcurrent_status'], ['overheated']],
    ['EP25', D.ep25.deviceId, 'SMART.KASAPLUG', ['device_on', 'on_time', 'overheated', 'overcurrent_status'], ['overheat_status']],
    ['KS205', D.ks205.deviceId, 'SMART.KASASWITCH', ['device_on', 'on_time', 'overheat_status'], ['brightness', 'overheated']],
    ['KS225', D.ks225.deviceId, 'SMART.KASASWITCH', ['device_on', 'on_time', 'overheat_status', 'brightness'], ['hue', 'color_temp']],
    ['HS200', D.hs200v5.deviceId, 'SMART.KASASWITCH', ['device_on', 'on_time', 'overheat_status', 'auto_off_status'], ['brightness']],
    ['HS220', D.hs220v3.deviceId, 'SMART.KASASWITCH', ['device_on', 'on_time', 'overheat_status', 'brightness'], ['hue']],
    ['L530', D.l530.deviceId, 'SMART.TAPOBULB', ['device_on', 'overheated', 'brightness', 'hue', 'saturation', 'color_temp', 'color_temp_range'], ['on_time']],
    ['L900', D.l900.deviceId, 'SMART.TAPOBULB', ['device_on', 'overheated', 'brightness', 'hue', 'saturation', 'color_temp', 'color_temp_range'], ['on_time']],
    ['P300', D.p300.deviceId, 'SMART.TAPOPLUG', [], ['device_on', 'on_time']],
  ])('%s answers its fields', async (model, deviceId, type, has, lacks) => {
    const reply = await info(deviceId);
    expect(reply.error_code).toBe(0);
    const result = reply.result as Record<string, unknown>;
    for (const key of [...COMMON_KEYS, ...has]) expect(result, key).toHaveProperty(key);
    for (const key of lacks) expect(result, key).not.toHaveProperty(key);
    expect(result).toMatchObject({ type, model, device_id: deviceId });
    expect(result.mac).toMatch(/^([0-9A-F]{2}-){5}[0-9A-F]{2}$/);
    expect(Buffer.from(result.nickname as string, 'base64').toString('utf8')).toBe(sim.device(deviceId).alias);
    expect(result.signal_level).toBeGreaterThanOrEqual(1);
    expect(result.rssi).toBeLessThan(0);
  });

  it('reports the hardware and firmware versions of the model', async () => {
    expect((await info(D.ep25.deviceId)).result).toMatchObject({ hw_ver: '2.6', fw_ver: expect.stringMatching(/^\d+\.\d+\.\d+ Build \d+ Rel\./) });
    expect((await info(D.l530.deviceId)).result).toMatchObject({ color_temp_range: [2500, 6500] });
  });
});

describe('set_device_info', () => {
  it('switches a plug and reads it back, with on_time counting from the switch', async () => {
    expect(await set(D.p110.deviceId, { device_on: true })).toEqual({ error_code: 0 });
    clock.now += 90_000;
    expect((await info(D.p110.deviceId)).result).toMatchObject({ device_on: true, on_time: 90 });
    await set(D.p110.deviceId, { device_on: false });
    expect((await info(D.p110.deviceId)).result).toMatchObject({ device_on: false, on_time: 0 });
  });

  it('renames with a base64 nickname', async () => {
    expect(await set(D.ks205.deviceId, { nickname: b64('Küche') })).toEqual({ error_code: 0 });
    expect(sim.device(D.ks205.deviceId).alias).toBe('Küche');
    expect((await info(D.ks205.deviceId)).result.nickname).toBe(b64('Küche'));
  });

  it('dims the KS225 and sets a bulb colour (colour mode reports color_temp 0)', async () => {
    await set(D.ks225.deviceId, { device_on: true, brightness: 35 });
    expect((await info(D.ks225.deviceId)).result).toMatchObject({ device_on: true, brightness: 35 });
    await set(D.l530.deviceId, { color_temp: 4000 });
    expect((await info(D.l530.deviceId)).result).toMatchObject({ color_temp: 4000 });
    await set(D.l530.deviceId, { hue: 240, saturation: 90, brightness: 60 });
    expect((await info(D.l530.deviceId)).result).toMatchObject({ hue: 240, saturation: 90, brightness: 60, color_temp: 0 });
  });

  it.each([
    ['a brightness on a plug', D.p100.deviceId, { brightness: 50 }],
    ['a colour on a dimmer', D.ks225.deviceId, { hue: 10 }],
    ['brightness 0', D.ks225.deviceId, { brightness: 0 }],
    ['brightness 101', D.l530.deviceId, { brightness: 101 }],
    ['a Kelvin outside the range', D.l530.deviceId, { color_temp: 9000 }],
    ['white-tuning on the L900', D.l900.deviceId, { color_temp: 4000 }],
    ['device_on as a number', D.p100.deviceId, { device_on: 1 }],
    ['a nickname that is not base64', D.p100.deviceId, { nickname: 'Kitchen!' }],
    ['an unknown key', D.p100.deviceId, { led_on: true }],
    ['no params', D.p100.deviceId, undefined],
    ['empty params', D.p100.deviceId, {}],
    ['device_on on the P300 itself', D.p300.deviceId, { device_on: true }],
  ])('refuses %s with -1008 and changes nothing', async (_what, deviceId, params) => {
    const before = await info(deviceId);
    expect(await set(deviceId, params)).toEqual({ error_code: -1008 });
    expect(await info(deviceId)).toEqual(before);
  });
});

describe('energy', () => {
  it.each([
    ['P110', D.p110.deviceId],
    ['P115', D.p115.deviceId],
    ['KP125M', D.kp125m.deviceId],
    ['EP25 hw 2.6', D.ep25.deviceId],
  ])('%s: get_energy_usage in mW and Wh, get_current_power in W', async (_model, deviceId) => {
    sim.device(deviceId).setState({ on: true, power_w: 120 });
    clock.now += 30 * 60_000;
    const usage = (await run(deviceId, { method: 'get_energy_usage' })).reply;
    expect(usage.error_code).toBe(0);
    expect(usage.result).toMatchObject({
      current_power: 120_000,
      today_energy: expect.any(Number),
      month_energy: expect.any(Number),
      today_runtime: expect.any(Number),
      month_runtime: expect.any(Number),
      local_time: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/),
    });
    expect(usage.result.today_energy).toBeGreaterThanOrEqual(60);
    expect(usage.result.month_energy).toBeGreaterThanOrEqual(usage.result.today_energy);
    expect((await run(deviceId, { method: 'get_current_power' })).reply).toEqual({ error_code: 0, result: { current_power: 120 } });
    sim.device(deviceId).setState({ on: false });
    expect((await run(deviceId, { method: 'get_current_power' })).reply.result.current_power).toBe(0);
  });

  it('KP125M answers get_emeter_data in mW/mV/mA/Wh; the other plugs answer -1002', async () => {
    sim.device(D.kp125m.deviceId).setState({ on: true, power_w: 60, voltage_v: 120 });
    const data = (await run(D.kp125m.deviceId, { method: 'get_emeter_data' })).reply;
    expect(data).toEqual({ error_code: 0, result: { power_mw: 60_000, voltage_mv: 120_000, current_ma: 500, energy_wh: expect.any(Number) } });
    expect((await run(D.p110.deviceId, { method: 'get_emeter_data' })).reply).toEqual({ error_code: -1002 });
  });

  it.each([
    ['P100', D.p100.deviceId],
    ['KS205', D.ks205.deviceId],
    ['L530', D.l530.deviceId],
  ])('%s has no meter: -1002', async (_model, deviceId) => {
    expect((await run(deviceId, { method: 'get_energy_usage' })).reply).toEqual({ error_code: -1002 });
  });
});

describe('component_nego', () => {
  const components = async (deviceId: string): Promise<string[]> => {
    const reply = (await run(deviceId, { method: 'component_nego' })).reply;
    expect(reply.error_code).toBe(0);
    for (const c of reply.result.component_list) expect(c).toEqual({ id: expect.any(String), ver_code: expect.any(Number) });
    return (reply.result.component_list as { id: string }[]).map((c) => c.id);
  };

  it('lists what each model has', async () => {
    expect(await components(D.p100.deviceId)).not.toContain('energy_monitoring');
    expect(await components(D.p110.deviceId)).toEqual(expect.arrayContaining(['device', 'energy_monitoring', 'auto_off', 'led']));
    expect(await components(D.kp125m.deviceId)).toEqual(expect.arrayContaining(['energy_monitoring', 'current_protection', 'matter']));
    expect(await components(D.p300.deviceId)).toEqual(expect.arrayContaining(['control_child', 'child_device']));
    expect(await components(D.ks225.deviceId)).toEqual(expect.arrayContaining(['brightness', 'dimmer_calibration']));
    expect(await components(D.ks205.deviceId)).not.toContain('brightness');
    expect(await components(D.l530.deviceId)).toEqual(expect.arrayContaining(['brightness', 'color', 'color_temperature']));
    expect(await components(D.l900.deviceId)).toEqual(expect.arrayContaining(['light_strip', 'color']));
  });
});

describe('requests and errors', () => {
  it('answers -1002 for a method the device does not have and -1008 for params that are not an object', async () => {
    expect((await run(D.p100.deviceId, { method: 'get_sysinfo' })).reply).toEqual({ error_code: -1002 });
    expect((await run(D.p100.deviceId, { method: 'get_device_info', params: [1] })).reply).toEqual({ error_code: -1008 });
  });

  it('multipleRequest answers each method in order and stops at the first failure, which it includes', async () => {
    const { reply } = await run(D.p100.deviceId, {
      method: 'multipleRequest',
      params: {
        requests: [
          { method: 'set_device_info', params: { device_on: true } },
          { method: 'get_device_info' },
          { method: 'set_device_info', params: { brightness: 10 } },
          { method: 'set_device_info', params: { device_on: false } },
          { method: 'get_device_info' },
        ],
      },
    });
    expect(reply.error_code).toBe(0);
    expect(reply.result.responses).toEqual([
      { method: 'set_device_info', error_code: 0 },
      { method: 'get_device_info', error_code: 0, result: expect.objectContaining({ device_on: true }) },
      { method: 'set_device_info', error_code: -1008 },
    ]);
    // The methods after the failure did not run: the plug is still on.
    expect(sim.device(D.p100.deviceId).sysinfo().device_on).toBe(true);
  });

  it('multipleRequest stops at an unknown method too, and refuses an empty list', async () => {
    const { reply } = await run(D.ks205.deviceId, {
      method: 'multipleRequest',
      params: { requests: [{ method: 'get_device_info' }, { method: 'get_energy_usage' }, { method: 'component_nego' }] },
    });
    expect(reply.result.responses.map((r: { method: string; error_code: number }) => [r.method, r.error_code])).toEqual([
      ['get_device_info', 0],
      ['get_energy_usage', -1002],
    ]);
    expect((await run(D.ks205.deviceId, { method: 'multipleRequest', params: { requests: [] } })).reply).toEqual({ error_code: -1008 });
  });

  it('answers in the form requestData came in: an object for an object, JSON text for text', async () => {
    const res = await smart(sim, token, D.p100.deviceId, { method: 'get_device_info' }, true);
    expect(typeof res.envelope.result.responseData).toBe('string');
    expect(res.reply.result.device_id).toBe(D.p100.deviceId);
    const obj = await smart(sim, token, D.p100.deviceId, { method: 'get_device_info' }, false);
    expect(obj.envelope.result.responseData).toMatchObject({ error_code: 0, result: { device_id: D.p100.deviceId } });
  });
});

describe('P300 outlets', () => {
  const child = (deviceId: string, requestData: Record<string, unknown>) =>
    run(D.p300.deviceId, { method: 'control_child', params: { device_id: deviceId, requestData } });

  it('lists three outlets with their own ids, positions and base64 names', async () => {
    const { reply } = await run(D.p300.deviceId, { method: 'get_child_device_list' });
    expect(reply.result).toMatchObject({ start_index: 0, sum: 3 });
    const outlets = reply.result.child_device_list as Record<string, unknown>[];
    expect(outlets.map((o) => o.position)).toEqual([1, 2, 3]);
    for (const o of outlets) {
      expect(o).toMatchObject({ type: 'SMART.TAPOPLUG', model: 'P300', original_device_id: D.p300.deviceId, device_on: false, category: 'plug.powerstrip.sub-plug' });
      expect(o.device_id).not.toBe(D.p300.deviceId);
    }
    expect(Buffer.from(outlets[1]!.nickname as string, 'base64').toString()).toBe('Outlet 2');
  });

  it('switches one outlet through control_child and reads it back, the others unchanged', async () => {
    const list = (await run(D.p300.deviceId, { method: 'get_child_device_list' })).reply.result.child_device_list as { device_id: string }[];
    const second = list[1]!.device_id;
    expect((await child(second, { method: 'set_device_info', params: { device_on: true } })).reply).toEqual({
      error_code: 0,
      result: { responseData: { error_code: 0 } },
    });
    const read = (await child(second, { method: 'get_device_info' })).reply;
    expect(read.result.responseData).toMatchObject({ error_code: 0, result: { device_id: second, device_on: true } });
    const after = (await run(D.p300.deviceId, { method: 'get_child_device_list' })).reply.result.child_device_list as { device_on: boolean }[];
    expect(after.map((o) => o.device_on)).toEqual([false, true, false]);
    const batch = (await child(second, { method: 'multipleRequest', params: { requests: [{ method: 'set_device_info', params: { device_on: false } }, { method: 'get_device_info' }] } })).reply;
    expect(batch.result.responseData.result.responses[1]).toMatchObject({ method: 'get_device_info', result: { device_on: false } });
  });

  it('answers -1008 for an unknown outlet, the outlet\'s code for its own failures, and -1002 for control_child elsewhere', async () => {
    expect((await child('00', { method: 'get_device_info' })).reply).toEqual({ error_code: -1008 });
    const list = (await run(D.p300.deviceId, { method: 'get_child_device_list' })).reply.result.child_device_list as { device_id: string }[];
    expect((await child(list[0]!.device_id, { method: 'set_device_info', params: { brightness: 5 } })).reply.result.responseData).toEqual({ error_code: -1008 });
    expect((await child(list[0]!.device_id, { method: 'get_energy_usage' })).reply.result.responseData).toEqual({ error_code: -1002 });
    expect((await run(D.p110.deviceId, { method: 'control_child', params: { device_id: list[0]!.device_id, requestData: { method: 'get_device_info' } } })).reply).toEqual({ error_code: -1002 });
  });
});
