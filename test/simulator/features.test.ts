/**
 * The simulator's devices support every bridge feature strictly, on a clock the test drives: LED,
 * reboot (unreachable for a while, then back), count_down rules that fire, lighting effects, a
 * per-device clock and zone, and the device's answers for what a model does not have.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIGHT_STRIP_EFFECTS } from '../../src/devices/lightStripEffects.js';
import { startSimulator } from '../../src/simulator/index.js';
import type { SimDeviceSpec, Simulator } from '../../src/simulator/types.js';
import { login, passthrough } from './client.js';

const USER = { username: 'features@example.com', password: 'feat-Pa55' };
const id = (n: number): string => `F1B2C3D4E5F6A1B2C3D4E5F6A1B2C3D4E5F6${String(n).padStart(4, '0')}`;
const D = {
  plug: { deviceId: id(1), model: 'HS103(US)', alias: 'Desk' },
  strip: { deviceId: id(2), model: 'KP303(US)', alias: 'Strip' },
  kl430: { deviceId: id(3), model: 'KL430(US)', alias: 'TV' },
  kl130: { deviceId: id(4), model: 'KL130(US)', alias: 'Lamp' },
  honolulu: { deviceId: id(5), model: 'KP125(US)', alias: 'Honolulu', utcOffsetMinutes: -600 },
  kiribati: { deviceId: id(6), model: 'KP125(US)', alias: 'Kiribati', utcOffsetMinutes: 780 },
} satisfies Record<string, SimDeviceSpec>;

const clock = { now: Date.UTC(2026, 10, 30, 23, 30) };
let sim: Simulator;
let token: string;
beforeAll(async () => {
  sim = await startSimulator({ accounts: [{ ...USER, devices: Object.values(D) }], clock: () => clock.now, rebootMs: 4_000 });
  ({ token } = await login(sim, USER.username, USER.password));
});
afterAll(async () => {
  await sim.stop();
});

const run = (deviceId: string, requestData: unknown) => passthrough(sim, token, deviceId, requestData);

describe('LED', () => {
  it('switches the indicator with set_led_off and reports it as led_off', async () => {
    const { reply } = await run(D.plug.deviceId, { system: { set_led_off: { off: 1 }, get_sysinfo: null } });
    expect(reply.system.set_led_off).toEqual({ err_code: 0 });
    expect(reply.system.get_sysinfo.led_off).toBe(1);
    sim.device(D.plug.deviceId).setState({ led: true });
    expect(sim.device(D.plug.deviceId).sysinfo().led_off).toBe(0);
    const bad = await run(D.plug.deviceId, { system: { set_led_off: { off: 7 } } });
    expect(bad.reply.system.set_led_off.err_code).toBe(-3);
  });
});

describe('reboot', () => {
  it('answers, is unreachable (-20571) for the reboot time, then answers again', async () => {
    const { reply } = await run(D.plug.deviceId, { system: { reboot: { delay: 1 } } });
    expect(reply.system.reboot).toEqual({ err_code: 0 });
    expect(sim.device(D.plug.deviceId).reachable).toBe(false);
    expect((await run(D.plug.deviceId, { system: { get_sysinfo: null } })).envelope.error_code).toBe(-20571);
    clock.now += 4_000;
    expect(sim.device(D.plug.deviceId).reachable).toBe(true);
    expect((await run(D.plug.deviceId, { system: { get_sysinfo: null } })).reply.system.get_sysinfo.err_code).toBe(0);
  });

  it('reboots bulbs through smartlife.iot.common.system', async () => {
    const { reply } = await run(D.kl130.deviceId, { 'smartlife.iot.common.system': { reboot: { delay: 1 } } });
    expect(reply['smartlife.iot.common.system'].reboot).toEqual({ err_code: 0 });
    clock.now += 4_000;
  });
});

describe('count_down', () => {
  it('runs one rule that switches the relay when due, then is gone', async () => {
    await run(D.plug.deviceId, { system: { set_relay_state: { state: 1 } } });
    const { reply } = await run(D.plug.deviceId, {
      count_down: { delete_all_rules: null, add_rule: { enable: 1, delay: 60, act: 0, name: 't' }, get_rules: null },
    });
    expect(reply.count_down.add_rule.err_code).toBe(0);
    expect(reply.count_down.get_rules.rule_list).toEqual([expect.objectContaining({ enable: 1, delay: 60, act: 0, remain: 60 })]);
    clock.now += 20_000;
    expect((await run(D.plug.deviceId, { count_down: { get_rules: null } })).reply.count_down.get_rules.rule_list[0].remain).toBe(40);
    const second = await run(D.plug.deviceId, { count_down: { add_rule: { enable: 1, delay: 5, act: 1 } } });
    expect(second.reply.count_down.add_rule.err_code).not.toBe(0);
    clock.now += 40_000;
    const after = await run(D.plug.deviceId, { system: { get_sysinfo: null }, count_down: { get_rules: null } });
    expect(after.reply.system.get_sysinfo.relay_state).toBe(0);
    expect(after.reply.count_down.get_rules.rule_list).toEqual([]);
  });

  it('keeps one rule per outlet, addressed by child id', async () => {
    const [first, second] = [`${D.strip.deviceId}00`, `${D.strip.deviceId}01`];
    const add = { count_down: { add_rule: { enable: 1, delay: 10, act: 1 } } };
    await run(D.strip.deviceId, { ...add, context: { child_ids: [second] } });
    const rules = await run(D.strip.deviceId, { count_down: { get_rules: null }, context: { child_ids: [first] } });
    expect(rules.reply.count_down.get_rules.rule_list).toEqual([]);
    clock.now += 10_000;
    const children = (sim.device(D.strip.deviceId).sysinfo().children as { id: string; state: number }[]);
    expect(children.find((c) => c.id === second)?.state).toBe(1);
    expect(children.find((c) => c.id === first)?.state).toBe(0);
    const noContext = await run(D.strip.deviceId, { count_down: { get_rules: null } });
    expect(noContext.reply.count_down.get_rules.err_code).not.toBe(0);
  });

  it('is a module bulbs do not have', async () => {
    const { reply } = await run(D.kl130.deviceId, { count_down: { get_rules: null } });
    expect(reply.count_down).toEqual({ err_code: -2001, err_msg: 'Module not support' });
  });
});

describe('lighting effects', () => {
  it('starts a built-in effect from its definition and stops with enable 0', async () => {
    const aurora = LIGHT_STRIP_EFFECTS[0]!;
    const { reply } = await run(D.kl430.deviceId, { 'smartlife.iot.lighting_effect': { set_lighting_effect: aurora }, system: { get_sysinfo: null } });
    expect(reply['smartlife.iot.lighting_effect'].set_lighting_effect).toEqual({ err_code: 0 });
    expect(reply.system.get_sysinfo.lighting_effect_state).toMatchObject({ enable: 1, name: 'Aurora', id: aurora.id });
    expect(reply.system.get_sysinfo.light_state.on_off).toBe(1);
    const off = await run(D.kl430.deviceId, { 'smartlife.iot.lighting_effect': { set_lighting_effect: { enable: 0 } }, system: { get_sysinfo: null } });
    expect(off.reply.system.get_sysinfo.lighting_effect_state.enable).toBe(0);
  });

  it('refuses half a definition, and answers like the device for what a model lacks', async () => {
    const bad = await run(D.kl430.deviceId, { 'smartlife.iot.lighting_effect': { set_lighting_effect: { enable: 1, name: 'x' } } });
    expect(bad.reply['smartlife.iot.lighting_effect'].set_lighting_effect.err_code).toBe(-10000);
    const member = await run(D.kl430.deviceId, { 'smartlife.iot.lightStrip': { set_lighting_effect: { enable: 0 } } });
    expect(member.reply['smartlife.iot.lightStrip'].set_lighting_effect).toEqual({ err_code: -2, err_msg: 'member not support' });
    const bulb = await run(D.kl130.deviceId, { 'smartlife.iot.lighting_effect': { set_lighting_effect: { enable: 0 } } });
    expect(bulb.reply['smartlife.iot.lighting_effect']).toEqual({ err_code: -2001, err_msg: 'Module not support' });
    const plug = await run(D.plug.deviceId, { 'smartlife.iot.lighting_effect': { set_lighting_effect: { enable: 0 } }, system: { get_nothing: null } });
    expect(plug.reply['smartlife.iot.lighting_effect']).toEqual({ err_code: -1, err_msg: 'module not support' });
    expect(plug.reply.system.get_nothing).toEqual({ err_code: -2, err_msg: 'member not support' });
  });
});

describe('per-device clock and zone', () => {
  it('tells each device its own local time', async () => {
    // 23:30 UTC on 30 November (+ whatever earlier tests moved the clock).
    const utc = new Date(clock.now);
    const honolulu = (await run(D.honolulu.deviceId, { time: { get_time: null } })).reply.time.get_time;
    const kiribati = (await run(D.kiribati.deviceId, { time: { get_time: null } })).reply.time.get_time;
    expect(honolulu).toMatchObject({ year: 2026, month: 11, mday: 30, hour: utc.getUTCHours() - 10 });
    expect(kiribati).toMatchObject({ year: 2026, month: 12, mday: 1, hour: (utc.getUTCHours() + 13) % 24 });
  });

  it('books energy on the device\'s own days', async () => {
    sim.device(D.kiribati.deviceId).setState({ on: true, power_w: 1000 });
    clock.now += 3_600_000;
    const { reply } = await run(D.kiribati.deviceId, { emeter: { get_daystat: { year: 2026, month: 12 }, get_monthstat: { year: 2026 } } });
    const dec1 = reply.emeter.get_daystat.day_list.find((d: { day: number }) => d.day === 1);
    expect(dec1.energy_wh).toBe(1000);
    expect(reply.emeter.get_monthstat.month_list.find((m: { month: number }) => m.month === 12).energy_wh).toBe(1000);
    const nov = await run(D.honolulu.deviceId, { emeter: { get_daystat: { year: 2026, month: 12 } } });
    expect(nov.reply.emeter.get_daystat.day_list).toEqual([]);
  });
});
