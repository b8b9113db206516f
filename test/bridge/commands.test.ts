import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeState, SetResponse } from '../../src/api/types.js';
import { demoAccount } from '../../src/simulator/catalog.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { bridgeRequest, startHarness, untilIdle, type Harness } from '../helpers/bridgeHarness.js';
import type { ObservedMessage } from '../helpers/mqttObserver.js';

const account = demoAccount({ username: 'commands@example.com', mfa: false });
const ids = Object.fromEntries(account.devices!.map((d) => [d.alias, d.deviceId!]));

const nonEmpty = (m: ObservedMessage) => m.text !== '';

describe('set, get and state through a real broker', () => {
  let broker: TestBroker;
  let h: Harness;

  /** Publishes a set and returns its response/set answer. */
  async function set(key: string, payload: string, attribute?: string): Promise<SetResponse> {
    const topic = attribute ? `kasa/${key}/set/${attribute}` : `kasa/${key}/set`;
    const marker = h.obs.on(`kasa/${key}/response/set`).length;
    await h.obs.publish(topic, payload, { qos: 1 });
    const answers = h.obs.on(`kasa/${key}/response/set`);
    if (answers.length > marker) return answers[marker]!.json<SetResponse>();
    return (await h.obs.next(`kasa/${key}/response/set`, (m) => h.obs.on(`kasa/${key}/response/set`).indexOf(m) >= marker)).json<SetResponse>();
  }

  /** The newest state published for a node. */
  async function stateOf(key: string, predicate: (s: NodeState) => boolean = () => true): Promise<NodeState> {
    const latest = h.obs.on(`kasa/${key}`).filter(nonEmpty).at(-1);
    if (latest && predicate(latest.json<NodeState>())) return latest.json<NodeState>();
    return (await h.obs.next(`kasa/${key}`, (m) => nonEmpty(m) && predicate(m.json<NodeState>()))).json<NodeState>();
  }

  const passthroughsTo = (deviceId: string) => h.sim.count({ op: 'passthrough', deviceId });

  beforeAll(async () => {
    broker = await startTestBroker();
    h = await startHarness({ broker, account });
    // Every supported, online device has published its first state.
    for (const key of ['bedroom_desk_light', 'dining_room_dimmer', 'desk_strip', 'living_room_lamp', 'tv_light_strip', 'washing_machine']) {
      await h.obs.next(`kasa/${key}`, nonEmpty, 15_000);
    }
    await untilIdle(h);
  });
  afterAll(async () => {
    await h?.stop();
    await broker?.stop();
  });

  it('switches a plug with JSON and every plain form, each in one cloud request', async () => {
    const plug = h.sim.device(ids['Bedroom Desk Light']!);
    const before = passthroughsTo(plug.deviceId);
    expect(await set('bedroom_desk_light', '{"state":"ON"}')).toMatchObject({ status: 'ok', data: { state: 'ON' } });
    expect(plug.sysinfo().relay_state).toBe(1);
    expect(await stateOf('bedroom_desk_light', (s) => s.state === 'ON')).toMatchObject({ state: 'ON' });
    expect(passthroughsTo(plug.deviceId)).toBe(before + 1);

    for (const [payload, expected] of [
      ['off', 'OFF'],
      ['TOGGLE', 'ON'],
      ['false', 'OFF'],
      ['1', 'ON'],
      ['0', 'OFF'],
      ['true', 'ON'],
    ] as const) {
      expect(await set('bedroom_desk_light', payload), payload).toMatchObject({ status: 'ok', data: { state: expected } });
      expect(plug.sysinfo().relay_state).toBe(expected === 'ON' ? 1 : 0);
    }
    expect(await set('bedroom_desk_light', 'OFF', 'state')).toMatchObject({ status: 'ok', data: { state: 'OFF' } });
    expect(passthroughsTo(plug.deviceId)).toBe(before + 8);
  });

  it('switches a wall switch', async () => {
    expect(await set('kitchen_light_switch', 'OFF')).toMatchObject({ status: 'ok', data: { state: 'OFF' } });
    expect(h.sim.device(ids['Kitchen Light Switch']!).sysinfo().relay_state).toBe(0);
    expect(await stateOf('kitchen_light_switch', (s) => s.state === 'OFF')).toMatchObject({ state: 'OFF' });
  });

  it('dims a dimmer with /set/brightness, which also turns it on', async () => {
    await set('dining_room_dimmer', 'OFF');
    expect(await set('dining_room_dimmer', '40', 'brightness')).toMatchObject({ status: 'ok', data: { state: 'ON', brightness: 40 } });
    const sysinfo = h.sim.device(ids['Dining Room Dimmer']!).sysinfo();
    expect(sysinfo).toMatchObject({ relay_state: 1, brightness: 40 });
    expect(await stateOf('dining_room_dimmer', (s) => s.brightness === 40)).toMatchObject({ state: 'ON', brightness: 40 });
  });

  it('switches one outlet of a strip through the child context, and the whole strip at once', async () => {
    const strip = h.sim.device(ids['Desk Strip']!);
    expect(await set('desk_strip', 'OFF')).toMatchObject({ status: 'ok' });
    expect(await stateOf('desk_strip', (s) => s.outlets_on === 0)).toMatchObject({ outlets_on: 0 });

    expect(await set('desk_strip_plug_2', 'ON')).toMatchObject({ status: 'ok', data: { state: 'ON' } });
    const children = strip.sysinfo().children as { state: number }[];
    expect(children.map((c) => c.state)).toEqual([0, 1, 0]);
    expect(await stateOf('desk_strip_plug_2', (s) => s.state === 'ON')).toMatchObject({ state: 'ON' });
    expect(await stateOf('desk_strip', (s) => s.outlets_on === 1)).toMatchObject({ outlets_on: 1 });
    const lastRequest = h.sim.requests.filter((r) => r.deviceId === strip.deviceId).at(-1)!;
    expect(lastRequest.requestData).toMatchObject({ context: { child_ids: [`${strip.deviceId}01`] } });

    expect(await set('desk_strip', '{"state":"ON"}')).toMatchObject({ status: 'ok' });
    expect((strip.sysinfo().children as { state: number }[]).map((c) => c.state)).toEqual([1, 1, 1]);
  });

  it('sets a bulb colour temperature and a hue/saturation colour', async () => {
    expect(await set('living_room_lamp', '{"color_temp":3000,"brightness":60}')).toMatchObject({
      status: 'ok',
      data: { state: 'ON', color_temp: 3000, brightness: 60 },
    });
    expect(await stateOf('living_room_lamp', (s) => s.color_temp === 3000)).toMatchObject({
      state: 'ON',
      color_mode: 'color_temp',
      brightness: 60,
    });
    expect(await set('living_room_lamp', '{"color":{"h":120,"s":50}}')).toMatchObject({ status: 'ok', data: { color: { h: 120, s: 50 } } });
    const state = await stateOf('living_room_lamp', (s) => s.color_mode === 'hs');
    expect(state).toMatchObject({ state: 'ON', color: { h: 120, s: 50 }, color_mode: 'hs' });
    const light = h.sim.device(ids['Living Room Lamp']!).sysinfo().light_state as Record<string, number>;
    expect(light).toMatchObject({ on_off: 1, hue: 120, saturation: 50, color_temp: 0 });
  });

  it('controls a light strip through its own module', async () => {
    expect(await set('tv_light_strip', '{"state":"ON","brightness":25,"color":{"h":240,"s":100}}')).toMatchObject({ status: 'ok' });
    expect(await stateOf('tv_light_strip', (s) => s.brightness === 25)).toMatchObject({ state: 'ON', color: { h: 240, s: 100 } });
    const lastRequest = h.sim.requests.filter((r) => r.deviceId === ids['TV Light Strip']).at(-1)!;
    expect(Object.keys(lastRequest.requestData as object)).toContain('smartlife.iot.lightStrip');
  });

  it('maps both meter firmware generations to W, V, A and kWh', async () => {
    const oldGen = h.sim.device(ids['Bedroom Light']!);
    const newGen = h.sim.device(ids['Washing Machine']!);
    for (const device of [oldGen, newGen]) device.setState({ on: true, power_w: 100, voltage_v: 120, total_kwh: 12.5 });
    await h.obs.publish('kasa/bedroom_light/get', '');
    await h.obs.publish('kasa/washing_machine/get', '');
    for (const key of ['bedroom_light', 'washing_machine']) {
      const state = await stateOf(key, (s) => s.power_w === 100);
      expect(state.voltage_v).toBeCloseTo(120, 2);
      expect(state.current_a).toBeCloseTo(100 / 120, 2);
      expect(state.energy_kwh).toBeCloseTo(12.5, 1);
      expect(state.state).toBe('ON');
    }
  });

  it('/get reads a change made at the device and republishes', async () => {
    h.sim.device(ids['Kitchen Light Switch']!).setState({ on: true });
    await h.obs.publish('kasa/kitchen_light_switch/get', 'now');
    expect(await stateOf('kitchen_light_switch', (s) => s.state === 'ON')).toMatchObject({ state: 'ON' });
  });

  it('answers an offline device without a cloud request', async () => {
    const garage = ids['Garage Plug']!;
    const before = passthroughsTo(garage);
    expect(await set('garage_plug', 'ON')).toMatchObject({ status: 'error', error: { code: 'device_offline' } });
    expect(passthroughsTo(garage)).toBe(before);
    expect((await h.obs.retained('kasa/garage_plug/availability'))?.text).toBe('{"state":"offline"}');
    expect(await h.obs.retained('kasa/garage_plug')).toBeUndefined();
  });

  it('answers invalid payloads with invalid_payload or unsupported and sends nothing', async () => {
    const commands = () => h.sim.requests.filter((r) => r.op === 'passthrough' && JSON.stringify(r.requestData).includes('"set_')).length;
    const before = commands();
    const cases: [string, string, string | undefined, string][] = [
      ['dining_room_dimmer', '0', 'brightness', 'invalid_payload'],
      ['dining_room_dimmer', '{"brightness":101}', undefined, 'invalid_payload'],
      ['living_room_lamp', '{"color_temp":12000}', undefined, 'invalid_payload'],
      ['living_room_lamp', '{"color":{"h":400,"s":50}}', undefined, 'invalid_payload'],
      ['living_room_lamp', '{"transition":-1,"state":"ON"}', undefined, 'invalid_payload'],
      ['bedroom_desk_light', 'maybe', undefined, 'invalid_payload'],
      ['bedroom_desk_light', '{"state":"ON","bogus":1}', undefined, 'invalid_payload'],
      ['bedroom_desk_light', '[1,2,3]', undefined, 'invalid_payload'],
      ['bedroom_desk_light', '{"brightness":50}', undefined, 'unsupported'],
      ['hallway_bulb', '{"color":{"h":10,"s":10}}', undefined, 'unsupported'],
    ];
    for (const [key, payload, attribute, code] of cases) {
      expect(await set(key, payload, attribute), `${key} ${payload}`).toMatchObject({ status: 'error', error: { code } });
    }
    await h.obs.publish('kasa/bedroom_desk_light/set', Buffer.from([0xff, 0xfe, 0x00, 0x80]), { qos: 1 });
    await h.obs.publish('kasa/bedroom_desk_light/set', 'x'.repeat(1024 * 1024), { qos: 1 });
    await h.obs.next('kasa/bedroom_desk_light/response/set', (m) => m.json<SetResponse>().error?.code === 'invalid_payload');
    await h.obs.barrier();
    expect(commands()).toBe(before);
    const failures = h.obs.on('kasa/bridge/event').filter((m) => m.json<{ type: string }>().type === 'command_failed');
    expect(failures.length).toBeGreaterThanOrEqual(cases.length);
  });

  it('answers an unknown device on the topic it was given', async () => {
    expect(await set('no_such_thing', 'ON')).toMatchObject({ status: 'error', error: { code: 'unknown_device' } });
  });

  it('echoes the transaction', async () => {
    expect(await set('bedroom_desk_light', '{"state":"ON","transaction":42}')).toMatchObject({ status: 'ok', transaction: 42 });
  });

  it('answers on an MQTT 5 response topic with correlation data', async (ctx) => {
    if (!broker.mqtt5) ctx.skip(`the ${broker.kind} broker speaks MQTT 3.1.1 only`);
    await h.obs.subscribe('my/replies');
    await h.obs.publish('kasa/bedroom_desk_light/set', 'OFF', {
      qos: 1,
      properties: { responseTopic: 'my/replies', correlationData: Buffer.from('abc') },
    });
    const answer = await h.obs.next('my/replies');
    expect(answer.json<SetResponse>()).toMatchObject({ status: 'ok', data: { state: 'OFF' } });
    expect(answer.properties?.correlationData?.toString()).toBe('abc');
  });

  it("never answers a set or a bridge request on another system's command topic", async (ctx) => {
    if (!broker.mqtt5) ctx.skip(`the ${broker.kind} broker speaks MQTT 3.1.1 only`);
    const victims = ['zigbee2mqtt/bridge/request/restart', 'zigbee2mqtt/garage_door/set', 'cmnd/tasmota_plug/POWER', 'homeassistant/switch/x/config'];
    for (const topic of victims) await h.obs.subscribe(topic);
    const sets = h.obs.on('kasa/bedroom_desk_light/response/set').length;
    const checks = h.obs.on('kasa/bridge/response/health_check').length;
    for (const responseTopic of victims) {
      const properties = { responseTopic, correlationData: Buffer.from('deputy') };
      await h.obs.publish('kasa/bedroom_desk_light/set', 'ON', { qos: 1, properties });
      await h.obs.publish('kasa/bridge/request/health_check', '{}', { qos: 1, properties });
    }
    // Each is still answered on its normal topic.
    await h.obs.next('kasa/bedroom_desk_light/response/set', () => h.obs.on('kasa/bedroom_desk_light/response/set').length >= sets + victims.length);
    await h.obs.next('kasa/bridge/response/health_check', () => h.obs.on('kasa/bridge/response/health_check').length >= checks + victims.length);
    await h.obs.barrier();
    for (const topic of victims) expect(h.obs.on(topic), topic).toEqual([]);
    expect(h.logs.lines.filter((l) => l.includes('refused an MQTT 5 response topic'))).toHaveLength(victims.length);
  });

  it('merges a burst of sets for one node into few requests; the last value wins', async () => {
    const dimmer = ids['Dining Room Dimmer']!;
    const before = passthroughsTo(dimmer);
    const marker = h.obs.on('kasa/dining_room_dimmer/response/set').length;
    // A slow device keeps the first request in flight while the rest arrive, however busy the
    // machine is: they must all merge into the next request.
    h.sim.device(dimmer).latencyMs = 500;
    try {
      for (let b = 1; b <= 20; b++) await h.obs.client.publishAsync('kasa/dining_room_dimmer/set', JSON.stringify({ brightness: b * 5 }), { qos: 1 });
      await h.obs.next('kasa/dining_room_dimmer/response/set', () => h.obs.on('kasa/dining_room_dimmer/response/set').length >= marker + 20, 10_000);
    } finally {
      h.sim.device(dimmer).latencyMs = 0;
    }
    const answers = h.obs.on('kasa/dining_room_dimmer/response/set').slice(marker);
    expect(answers.every((m) => m.json<SetResponse>().status === 'ok')).toBe(true);
    expect(h.sim.device(dimmer).sysinfo().brightness).toBe(100);
    expect(await stateOf('dining_room_dimmer', (s) => s.brightness === 100)).toMatchObject({ brightness: 100 });
    // The first set, then one request for the 19 merged ones (a read-back only if it disagreed).
    expect(passthroughsTo(dimmer) - before).toBeLessThanOrEqual(3);
  });

  it('publishes state only when it changed', async () => {
    // A device-list refresh reads every device once more.
    await bridgeRequest(h, 'devices/refresh');
    await h.obs.barrier();
    const count = h.obs.messages.filter((m) => m.topic === 'kasa/bedroom_desk_light').length;
    await bridgeRequest(h, 'devices/refresh');
    await h.obs.barrier();
    expect(h.obs.messages.filter((m) => m.topic === 'kasa/bedroom_desk_light').length).toBe(count);
  });
});
