/**
 * Device features end to end (issue 10): a set through a real broker changes the simulated device,
 * and the state and the Home Assistant entity follow. LED, restart, countdown, light-strip effects,
 * on_since / last_seen, a strip's "All outlets" switch, energy by the device's calendar, and
 * discovery that announces only what the state carries.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BridgeEvent, NodeState, SetResponse } from '../../src/api/types.js';
import type { SimAccountSpec } from '../../src/simulator/types.js';
import type { LightDevice, RelayDevice, StripDevice } from '../../src/simulator/devices/index.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { startHarness, untilIdle, type Harness } from '../helpers/bridgeHarness.js';
import { nodeWatch, type Component } from '../helpers/nodeWatch.js';
import { nonEmpty, since, waitFor } from '../helpers/mqttObserver.js';

const id = (n: number): string => `FEA7C3D4E5F6A1B2C3D4E5F6A1B2C3D4E5F6${String(n).padStart(4, '0')}`;
const DEVICES = {
  desk: { deviceId: id(1), model: 'HS103(US)', alias: 'Desk' },
  heater: { deviceId: id(2), model: 'KP125(US)', alias: 'Heater', utcOffsetMinutes: -600 },
  strip: { deviceId: id(3), model: 'KP303(US)', alias: 'Bench' },
  tv: { deviceId: id(4), model: 'KL430(US)', alias: 'TV' },
  lamp: { deviceId: id(5), model: 'KL130(US)', alias: 'Lamp' },
  kettle: { deviceId: id(6), model: 'KP125(US)', alias: 'Kettle', utcOffsetMinutes: 780 },
} as const;
const account: SimAccountSpec = { username: 'features@example.com', password: 'feat-Pa55', mfa: false, devices: Object.values(DEVICES) };


describe('device features through MQTT', () => {
  let broker: TestBroker;
  let h: Harness;

  const device = <T>(key: keyof typeof DEVICES) => h.sim.device(DEVICES[key].deviceId) as unknown as T;
  const configTopic = (deviceId: string) => `homeassistant/device/kasa_${deviceId}/config`;
  const watch = () => nodeWatch(h.obs, { timeoutMs: 10_000 });
  const stateOf = (key: string, predicate: (s: NodeState) => boolean = () => true) => watch().stateOf(key, predicate);
  const components = (deviceId: string, predicate?: (c: Record<string, Component>) => boolean) => watch().components(deviceId, predicate);
  const refreshed = (key: string) => watch().refreshed(key);

  async function set(key: string, payload: string, attribute?: string): Promise<SetResponse> {
    const answer = h.obs.next(`kasa/${key}/response/set`, since(h.obs), 10_000);
    await h.obs.publish(attribute ? `kasa/${key}/set/${attribute}` : `kasa/${key}/set`, payload, { qos: 1 });
    return (await answer).json<SetResponse>();
  }

  beforeAll(async () => {
    broker = await startTestBroker();
    h = await startHarness({
      broker,
      account,
      simOptions: { rebootMs: 1_500 },
      env: { KASA_RATE_LIMIT: '6000', KASA_RATE_BURST: '500' },
    });
    for (const key of ['desk', 'heater', 'bench', 'tv', 'lamp', 'kettle', 'bench_plug_1']) await h.obs.next(`kasa/${key}`, nonEmpty, 15_000);
    await untilIdle(h);
  });
  afterAll(async () => {
    await h?.stop();
    await broker?.stop();
  });

  it('LED: set → the indicator changes → state led and a config switch "LED"', async () => {
    expect(await set('desk', '{"led":"OFF"}')).toMatchObject({ status: 'ok', data: { led: 'OFF' } });
    expect(device<RelayDevice>('desk').sysinfo().led_off).toBe(1);
    expect(await stateOf('desk', (s) => s.led === 'OFF')).toMatchObject({ led: 'OFF' });
    expect(await set('desk', 'ON', 'led')).toMatchObject({ status: 'ok', data: { led: 'ON' } });
    expect(device<RelayDevice>('desk').sysinfo().led_off).toBe(0);
    const led = (await components(DEVICES.desk.deviceId, (c) => 'led' in c))['led']!;
    expect(led).toMatchObject({ platform: 'switch', name: 'LED', entity_category: 'config', command_topic: 'kasa/desk/set', value_template: '{{ value_json.led }}' });
    // The LED follows a change made in the Kasa app, on the next read.
    device<RelayDevice>('desk').setState({ led: false });
    expect(await refreshed('desk')).toMatchObject({ led: 'OFF' });
  });

  it('restart: reboots the device; its short absence is not reported as a failure', async () => {
    const button = (await components(DEVICES.desk.deviceId))['restart'];
    expect(button).toMatchObject({ platform: 'button', device_class: 'restart', entity_category: 'config', payload_press: '{"restart":true}' });
    const events = since(h.obs);
    const reboots = h.sim.requests.length;
    expect(await set('desk', '{"restart":true}')).toMatchObject({ status: 'ok' });
    expect(h.sim.requests.slice(reboots).some((r) => JSON.stringify(r.requestData).includes('"reboot":{"delay":1}'))).toBe(true);
    expect(device<RelayDevice>('desk').reachable).toBe(false);
    // A read during the reboot fails at the cloud (-20571) …
    await h.obs.publish('kasa/desk/get', '', { qos: 1 });
    await waitFor(() => h.sim.count({ op: 'passthrough', deviceId: DEVICES.desk.deviceId, errorCode: -20571 }) > 0, 5_000, 'the read during the reboot');
    await waitFor(() => device<RelayDevice>('desk').reachable, 5_000, 'the end of the reboot');
    // … and once it is back, the next read answers; availability never went offline.
    await refreshed('desk');
    await h.obs.barrier();
    const offline = h.obs.on('kasa/desk/availability').filter(events).filter((m) => m.json<{ state: string }>().state === 'offline');
    expect(offline).toEqual([]);
    const failures = h.obs.on('kasa/bridge/event').filter(events).map((m) => m.json<BridgeEvent>()).filter((e) => e.type === 'command_failed');
    expect(failures).toEqual([]);
  });

  it('countdown: set → a count_down rule that fires → state and a "Countdown" number', async () => {
    await set('desk', 'ON');
    const answer = await set('desk', '{"countdown":{"seconds":1}}');
    // No state given: the opposite of the current one.
    expect(answer).toMatchObject({ status: 'ok', data: { countdown: { state: 'OFF' } } });
    expect(await stateOf('desk', (s) => s.countdown != null)).toMatchObject({ countdown: { state: 'OFF', seconds_left: 1 } });
    await waitFor(() => device<RelayDevice>('desk').sysinfo().relay_state === 0, 5_000, 'the countdown to fire');
    expect(await refreshed('desk')).toMatchObject({ state: 'OFF', countdown: null });

    expect(await set('desk', '{"countdown":{"seconds":600,"state":"ON"}}')).toMatchObject({ status: 'ok', data: { countdown: { seconds_left: 600, state: 'ON' } } });
    expect(device<RelayDevice>('desk').countdown.remaining()).toBe(600);
    expect(await set('desk', '0', 'countdown')).toMatchObject({ status: 'ok', data: { countdown: null } });
    expect(device<RelayDevice>('desk').countdown.remaining()).toBeUndefined();

    const number = (await components(DEVICES.desk.deviceId, (c) => 'countdown' in c))['countdown']!;
    expect(number).toMatchObject({ platform: 'number', name: 'Countdown', unit_of_measurement: 'min', command_topic: 'kasa/desk/set' });

    // An outlet's countdown goes to that outlet, and its state shows it until a per-outlet read says otherwise.
    expect(await set('bench_plug_2', '{"countdown":{"seconds":300,"state":"ON"}}')).toMatchObject({ status: 'ok', data: { countdown: { state: 'ON' } } });
    expect(await stateOf('bench_plug_2', (s) => s.countdown != null)).toMatchObject({ countdown: { state: 'ON' } });
    expect((await components(`${DEVICES.strip.deviceId}01`))['countdown']).toMatchObject({ platform: 'number', command_topic: 'kasa/bench_plug_2/set' });
    const strip = device<StripDevice>('strip');
    const outletRules = strip.execute({ count_down: { get_rules: null }, context: { child_ids: [`${DEVICES.strip.deviceId}01`] } }) as { count_down: { get_rules: { rule_list: unknown[] } } };
    expect(outletRules.count_down.get_rules.rule_list).toHaveLength(1);
  });

  it('countdown: a bad payload is refused with a clear error and nothing is sent', async () => {
    const before = h.sim.count({ op: 'passthrough' });
    expect(await set('desk', '{"countdown":{"seconds":-3}}')).toMatchObject({ status: 'error', error: { code: 'invalid_payload', message: expect.stringContaining('countdown must be') } });
    expect(await set('lamp', '{"countdown":60}')).toMatchObject({ status: 'error', error: { code: 'unsupported' } });
    expect(await set('tv', '{"effect":"Disco"}')).toMatchObject({ status: 'error', error: { code: 'invalid_payload' } });
    expect(h.sim.count({ op: 'passthrough' })).toBe(before);
  });

  it('effects: set → the strip runs the built-in effect → state effect, light effect_list', async () => {
    const light = (await components(DEVICES.tv.deviceId))['light']!;
    expect(light).toMatchObject({ effect: true });
    expect(light['effect_list']).toEqual(expect.arrayContaining(['off', 'Aurora', 'Rainbow']));
    expect(await set('tv', '{"state":"ON","effect":"Rainbow"}')).toMatchObject({ status: 'ok', data: { state: 'ON', effect: 'Rainbow' } });
    expect(device<LightDevice>('tv').sysinfo().lighting_effect_state).toMatchObject({ enable: 1, name: 'Rainbow' });
    expect(await stateOf('tv', (s) => s.effect === 'Rainbow')).toMatchObject({ state: 'ON', effect: 'Rainbow' });
    expect(await set('tv', 'off', 'effect')).toMatchObject({ status: 'ok', data: { effect: null } });
    expect(device<LightDevice>('tv').sysinfo().lighting_effect_state).toMatchObject({ enable: 0 });
    expect(await stateOf('tv', (s) => s.effect === null)).toMatchObject({ effect: null });
  });

  it('on_since and last_seen: state keys and disabled diagnostic timestamp sensors', async () => {
    const before = Date.now();
    await set('desk', 'ON');
    const on = await stateOf('desk', (s) => s.state === 'ON' && typeof s.on_since === 'string');
    expect(Date.parse(on.on_since!)).toBeGreaterThanOrEqual(before - 2_000);
    expect(Date.parse(on.on_since!)).toBeLessThanOrEqual(Date.now());
    expect(typeof on.last_seen).toBe('string');
    await set('desk', 'OFF');
    expect(await stateOf('desk', (s) => s.state === 'OFF')).toMatchObject({ on_since: null });
    const c = await components(DEVICES.desk.deviceId, (x) => 'on_since' in x && 'last_seen' in x);
    for (const key of ['on_since', 'last_seen']) {
      expect(c[key]).toMatchObject({ platform: 'sensor', device_class: 'timestamp', entity_category: 'diagnostic', enabled_by_default: false });
    }
  });

  it('"All outlets": one switch on the strip, ON when any outlet is; set goes to every outlet in one request', async () => {
    const all = (await components(DEVICES.strip.deviceId, (c) => 'all_outlets' in c))['all_outlets']!;
    expect(all).toMatchObject({ platform: 'switch', name: 'All outlets', command_topic: 'kasa/bench/set', payload_on: 'ON', payload_off: 'OFF' });
    const before = h.sim.count({ op: 'passthrough', deviceId: DEVICES.strip.deviceId });
    expect(await set('bench', 'ON')).toMatchObject({ status: 'ok' });
    expect(h.sim.count({ op: 'passthrough', deviceId: DEVICES.strip.deviceId })).toBe(before + 1);
    const children = device<StripDevice>('strip').sysinfo().children as { state: number }[];
    expect(children.every((c) => c.state === 1)).toBe(true);
    expect(await stateOf('bench', (s) => s.outlets_on === 3)).toMatchObject({ outlets_on: 3 });
    await set('bench', 'OFF');
    expect(await stateOf('bench', (s) => s.outlets_on === 0)).toMatchObject({ outlets_on: 0 });
  });

  it('energy today and this month are the device\'s own, in its zone (UTC−10 and UTC+13)', async () => {
    for (const key of ['heater', 'kettle'] as const) {
      const plug = device<RelayDevice>(key);
      plug.setState({ on: true, power_w: 500 });
      // The second read knows the device's offset from its clock.
      await refreshed(key);
      const state = await refreshed(key);
      const local = new Date(Date.now() + DEVICES[key].utcOffsetMinutes * 60_000);
      const year = local.getUTCFullYear();
      const month = local.getUTCMonth() + 1;
      const reply = plug.execute({ emeter: { get_daystat: { year, month }, get_monthstat: { year } } }) as {
        emeter: { get_daystat: { day_list: { day: number; energy_wh: number }[] }; get_monthstat: { month_list: { month: number; energy_wh: number }[] } };
      };
      const today = reply.emeter.get_daystat.day_list.find((d) => d.day === local.getUTCDate())!.energy_wh / 1000;
      const thisMonth = reply.emeter.get_monthstat.month_list.find((m) => m.month === month)!.energy_wh / 1000;
      // The meter keeps counting between the two reads: the published day is the device's, give or take a few Wh.
      expect(state.energy_today_kwh, key).toBeCloseTo(today, 2);
      expect(state.energy_month_kwh, key).toBeCloseTo(thisMonth, 2);
    }
  });

  it('announces only entities whose state key the node\'s state has carried', async () => {
    for (const [key, deviceId] of [['desk', DEVICES.desk.deviceId], ['lamp', DEVICES.lamp.deviceId], ['heater', DEVICES.heater.deviceId], ['bench', DEVICES.strip.deviceId], ['bench_plug_1', `${DEVICES.strip.deviceId}00`]] as const) {
      const state = (await h.obs.retained(`kasa/${key}`))!.json<Record<string, unknown>>();
      const config = (await h.obs.retained(configTopic(deviceId)))!.json<{ components: Record<string, Component> }>();
      for (const [name, component] of Object.entries(config.components)) {
        const template = String(component.value_template ?? '');
        // A template that tests `is defined` has its own default for a key the state lacks.
        if (template.includes('is defined')) continue;
        for (const [, stateKey] of template.matchAll(/value_json\.([a-z_]+)/g)) {
          expect(state, `${key}: ${name} reads ${stateKey}`).toHaveProperty(stateKey!);
        }
      }
    }
    // A bulb reports power but no voltage: no voltage sensor; a plain plug has no meter sensors at all.
    const lamp = await components(DEVICES.lamp.deviceId);
    expect(lamp).toHaveProperty('power');
    expect(lamp).not.toHaveProperty('voltage');
    expect(await components(DEVICES.desk.deviceId)).not.toHaveProperty('power');
  });
});
