/**
 * Home Assistant discovery through a real broker and the simulated cloud (docs/home-assistant.md):
 * what a subscriber on `homeassistant/#` sees, and that the topics in it lead to real bridge topics.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BridgeDeviceEntry, BridgeResponse, SetResponse } from '../../src/api/types.js';
import { demoAccount, stableDeviceId } from '../../src/simulator/catalog.js';
import { VERSION } from '../../src/version.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { startHarness, type Harness } from '../helpers/bridgeHarness.js';

/** Many refreshes in a row: a bucket big enough that none of them waits for tokens. */
const FAST_CLOUD = { KASA_RATE_LIMIT: '6000', KASA_RATE_BURST: '500' };
import { both, empty, nonEmpty, since, waitFor, type ObservedMessage} from '../helpers/mqttObserver.js';

interface Component {
  platform: string;
  unique_id: string;
  default_entity_id: string;
  name?: string | null;
  [key: string]: unknown;
}

interface DeviceConfig {
  device: Record<string, unknown>;
  origin: { name: string; sw_version: string; support_url?: string };
  availability?: { topic: string; value_template: string }[];
  availability_mode?: string;
  state_topic?: string;
  qos: number;
  components: Record<string, Component>;
}

const IDS = {
  hs103: '2F50687F0187798768F86EAE340E844A660B2444',
  hs110: '6572495E336088D1DF4BD661CAB8A89862DF6603',
  kp125: stableDeviceId('kp125'),
  hs200: 'A1B2C3D4E5F6A1B2C3D4E5F6A1B2C3D4A1B20001',
  hs220: stableDeviceId('hs220'),
  hs300: '5BFA53B31294DDA5AB4DEBA1B62582E8EC2F789E',
  kp303: stableDeviceId('kp303'),
  kl130: stableDeviceId('kl130'),
  kl110: stableDeviceId('kl110'),
  kl430: '140BED90F6EF82191649329403A40C66528411D2',
  garage: '9F231AD114D92FE98DEB7843ADC91D0EEEF2D0B8',
  tapo: stableDeviceId('p100'),
} as const;

const NODE_COUNT = 20; // 11 supported devices + 6 HS300 outlets + 3 KP303 outlets

const configTopic = (id: string) => `homeassistant/device/kasa_${id}/config`;



const complete = (m: ObservedMessage) =>
  nonEmpty(m) && m.json<BridgeDeviceEntry[]>().filter((d) => d.type === 'outlet').length === 9;

async function retainedConfig(h: Harness, id: string): Promise<DeviceConfig> {
  const m = await h.obs.retained(configTopic(id));
  expect(m, `${configTopic(id)} is retained`).toBeDefined();
  expect(m!.text).not.toContain('object_id');
  return m!.json<DeviceConfig>();
}

/** The config topics of every node, seen on the observer (published once per start at least). */
async function waitForAllConfigs(h: Harness, after: (m: ObservedMessage) => boolean = () => true): Promise<void> {
  await waitFor(
    () => new Set(h.obs.on('homeassistant/device/+/config').filter((m) => nonEmpty(m) && after(m)).map((m) => m.topic)).size >= NODE_COUNT + 1,
    10_000,
    'every discovery config',
  );
}

/** The running bridge's own config topic: the bridge config topic whose latest message is not a clearing. */
function bridgeConfigTopic(h: Harness): string {
  const latest = new Map<string, ObservedMessage>();
  for (const m of h.obs.on('homeassistant/device/+/config')) if (m.topic.includes('/kasa_bridge_')) latest.set(m.topic, m);
  const live = [...latest.values()].filter(nonEmpty).map((m) => m.topic);
  expect(live, 'the bridge discovery config was published').toHaveLength(1);
  return live[0]!;
}

async function request(h: Harness, topic: string, payload: string, responseTopic: string): Promise<BridgeResponse> {
  const answer = h.obs.next(responseTopic, since(h.obs), 10_000);
  await h.obs.publish(topic, payload, { qos: 1 });
  return (await answer).json<BridgeResponse>();
}

/** `{{ value_json.power_w }}` → `power_w`. */
function templateKey(template: unknown): string | undefined {
  return typeof template === 'string' ? /^\{\{ value_json\.([a-z_]+) \}\}$/.exec(template)?.[1] : undefined;
}

describe('Home Assistant discovery', () => {
  let broker: TestBroker;
  let h: Harness;
  let devices: BridgeDeviceEntry[];

  beforeAll(async () => {
    broker = await startTestBroker();
    h = await startHarness({ broker, account: demoAccount({ username: 'ha-discovery@example.com', mfa: false }), env: FAST_CLOUD });
    devices = (await h.obs.next('kasa/bridge/devices', complete, 15_000)).json<BridgeDeviceEntry[]>();
    await waitForAllConfigs(h);
  });
  afterAll(async () => {
    await h?.stop();
    await broker?.stop();
  });

  it('publishes one retained device config per node with origin, device block and availability', async () => {
    const nodes = devices.filter((d) => d.supported);
    expect(nodes).toHaveLength(NODE_COUNT);
    for (const node of nodes) {
      const config = await retainedConfig(h, node.id);
      expect(config.origin).toMatchObject({ name: 'kasa2mqtt', sw_version: VERSION });
      const parent = node.parent_id ? devices.find((d) => d.id === node.parent_id) : undefined;
      expect(config.device, node.key).toMatchObject({
        identifiers: [`kasa_${node.id}`],
        name: parent ? `${parent.alias} ${node.alias}` : node.alias,
        manufacturer: 'TP-Link',
        model: node.model.replace(/\(.*\)$/, ''),
        model_id: node.model,
        sw_version: node.fw,
        hw_version: node.hw,
      });
      expect(node.fw).toBeTruthy();
      if (parent) {
        expect(config.device.via_device).toBe(`kasa_${parent.id}`);
        expect(config.device.connections, `${node.key}: the MAC belongs to the strip`).toBeUndefined();
      } else {
        expect(config.device.connections).toEqual([['mac', node.mac]]);
        expect(node.mac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
      }
      expect(config.availability).toEqual([
        { topic: 'kasa/bridge/state', value_template: '{{ value_json.state }}' },
        { topic: `kasa/${node.key}/availability`, value_template: '{{ value_json.state }}' },
      ]);
      expect(config.availability_mode).toBe('all');
      expect(config.state_topic).toBe(`kasa/${node.key}`);
      expect(Object.keys(config.components).length).toBeGreaterThan(0);
      for (const [feature, component] of Object.entries(config.components)) {
        expect(component.unique_id).toBe(`kasa_${node.id}_${feature}`);
        expect(component.default_entity_id).toMatch(new RegExp(`^${component.platform}\\.kasa_${node.key}(_[a-z0-9_]+)?$`));
        expect(component).not.toHaveProperty('object_id');
        if ('command_topic' in component) expect(component.command_topic).toBe(`kasa/${node.key}/set`);
        for (const [k, v] of Object.entries(component)) if (k.endsWith('_topic')) expect(String(v)).toMatch(new RegExp(`^kasa/${node.key}(/|$)`));
      }
    }
    // unique ids are unique across the whole bridge
    const all = await Promise.all(nodes.map((n) => retainedConfig(h, n.id)));
    const uniqueIds = all.flatMap((c) => Object.values(c.components).map((x) => x.unique_id));
    expect(new Set(uniqueIds).size).toBe(uniqueIds.length);
    // The Tapo device is listed but not discovered.
    expect(await h.obs.retained(configTopic(IDS.tapo))).toBeUndefined();
  });

  it('gives each family the components of docs/home-assistant.md', async () => {
    const switchOf = async (id: string) => (await retainedConfig(h, id)).components;
    for (const id of [IDS.hs103, IDS.hs110, IDS.kp125, IDS.garage, `${IDS.hs300}00`, `${IDS.kp303}02`]) {
      expect((await switchOf(id)).switch, id).toMatchObject({ platform: 'switch', name: null, device_class: 'outlet', payload_on: 'ON', payload_off: 'OFF' });
    }
    const wall = (await retainedConfig(h, IDS.hs200)).components;
    expect(wall.switch).toMatchObject({ platform: 'switch', name: null, device_class: 'switch', value_template: '{{ value_json.state }}' });
    expect(wall.light).toBeUndefined();

    const dimmer = (await retainedConfig(h, IDS.hs220)).components;
    expect(dimmer.light).toMatchObject({ platform: 'light', name: null, schema: 'json', supported_color_modes: ['brightness'], brightness_scale: 100 });
    expect(dimmer.light).not.toHaveProperty('color_temp_kelvin');
    expect(dimmer.switch).toBeUndefined();

    const colour = (await retainedConfig(h, IDS.kl130)).components.light;
    expect(colour).toMatchObject({ schema: 'json', brightness_scale: 100, color_temp_kelvin: true, min_kelvin: 2500, max_kelvin: 9000 });
    expect([...(colour!.supported_color_modes as string[])].sort()).toEqual(['color_temp', 'hs']);
    const white = (await retainedConfig(h, IDS.kl110)).components.light;
    expect(white).toMatchObject({ schema: 'json', brightness_scale: 100, supported_color_modes: ['brightness'] });
    expect(white).not.toHaveProperty('min_kelvin');
    const strip = (await retainedConfig(h, IDS.kl430)).components.light;
    expect(strip).toMatchObject({ schema: 'json', brightness_scale: 100, color_temp_kelvin: true, min_kelvin: 2500, max_kelvin: 9000 });
    expect([...(strip!.supported_color_modes as string[])].sort()).toEqual(['color_temp', 'hs']);

    const metered = (await retainedConfig(h, IDS.hs110)).components;
    expect(metered.power).toMatchObject({ platform: 'sensor', device_class: 'power', unit_of_measurement: 'W', state_class: 'measurement' });
    expect(metered.voltage).toMatchObject({ device_class: 'voltage', unit_of_measurement: 'V', state_class: 'measurement' });
    expect(metered.current).toMatchObject({ device_class: 'current', unit_of_measurement: 'A', state_class: 'measurement' });
    for (const key of ['energy', 'energy_today', 'energy_month']) {
      expect(metered[key], key).toMatchObject({ device_class: 'energy', unit_of_measurement: 'kWh', state_class: 'total_increasing' });
    }
    expect(metered.rssi).toMatchObject({
      device_class: 'signal_strength',
      unit_of_measurement: 'dBm',
      entity_category: 'diagnostic',
      enabled_by_default: false,
    });
    const outlet = (await retainedConfig(h, `${IDS.hs300}03`)).components;
    expect(Object.keys(outlet).sort()).toEqual([
      'countdown', 'current', 'energy', 'energy_month', 'energy_today', 'last_seen', 'on_since', 'power', 'switch', 'voltage',
    ]);
    expect(Object.keys((await retainedConfig(h, `${IDS.kp303}00`)).components).sort()).toEqual(['countdown', 'last_seen', 'on_since', 'switch']);
    expect(Object.keys((await retainedConfig(h, IDS.hs103)).components).sort()).toEqual([
      'cloud_connection', 'countdown', 'firmware', 'last_seen', 'led', 'on_since', 'restart', 'rssi', 'switch',
    ]);
    const bulb = (await retainedConfig(h, IDS.kl110)).components;
    expect(bulb.power).toMatchObject({ device_class: 'power', unit_of_measurement: 'W' });
    expect(bulb.energy).toMatchObject({ device_class: 'energy', unit_of_measurement: 'kWh', state_class: 'total_increasing' });
  });

  it('value templates read keys the node state actually carries', async () => {
    for (const node of devices.filter((d) => d.supported && d.online)) {
      const config = await retainedConfig(h, node.id);
      const keys = Object.values(config.components).map((c) => templateKey(c.value_template)).filter((k): k is string => k !== undefined);
      await waitFor(
        () => h.obs.on(`kasa/${node.key}`).some((m) => nonEmpty(m) && keys.every((k) => k in m.json<Record<string, unknown>>())),
        5000,
        `${node.key} state with ${keys.join(', ')}`,
      );
    }
  });

  it('command topics in the discovery drive the devices', async () => {
    const wall = (await retainedConfig(h, IDS.hs200)).components.switch!;
    const before = since(h.obs);
    await h.obs.publish(wall.command_topic as string, wall.payload_off as string, { qos: 1 });
    expect((await h.obs.next('kasa/kitchen_light_switch/response/set', before)).json<SetResponse>()).toMatchObject({ status: 'ok' });
    expect((await h.obs.next('kasa/kitchen_light_switch', both(before, nonEmpty))).json()).toMatchObject({ state: 'OFF' });
    expect(h.sim.device(IDS.hs200).sysinfo()).toMatchObject({ relay_state: 0 });

    const light = (await retainedConfig(h, IDS.kl130)).components.light!;
    const lightBefore = since(h.obs);
    await h.obs.publish(light.command_topic as string, JSON.stringify({ state: 'ON', brightness: 40, color_temp: 3000 }), { qos: 1 });
    expect((await h.obs.next('kasa/living_room_lamp/response/set', lightBefore)).json<SetResponse>()).toMatchObject({ status: 'ok' });
    const state = await h.obs.next('kasa/living_room_lamp', both(lightBefore, nonEmpty, (m) => m.json<{ state: string }>().state === 'ON'));
    expect(state.json()).toMatchObject({ state: 'ON', brightness: 40, color_temp: 3000, color_mode: 'color_temp' });
  });

  it('describes the bridge itself: connectivity, login problem, MFA code entry and buttons', async () => {
    const topic = bridgeConfigTopic(h);
    const config = (await h.obs.retained(topic))!.json<DeviceConfig>();
    expect(config.origin.name).toBe('kasa2mqtt');
    expect(config.device).toMatchObject({ name: expect.any(String), sw_version: VERSION });
    const c = config.components;
    expect(c.connection_state).toMatchObject({ platform: 'binary_sensor', device_class: 'connectivity', state_topic: 'kasa/bridge/state' });
    expect(c.login_required).toMatchObject({ platform: 'binary_sensor', device_class: 'problem', name: 'Cloud login required', state_topic: 'kasa/bridge/auth' });
    expect(c.mfa_code).toMatchObject({ platform: 'text', name: 'MFA code', mode: 'password', command_topic: 'kasa/bridge/mfa' });
    expect(c.mfa_code).not.toHaveProperty('state_topic');
    expect(c.login).toMatchObject({ platform: 'button', name: 'Log in', command_topic: 'kasa/bridge/request/auth/login' });
    expect(c.refresh_devices).toMatchObject({ platform: 'button', name: 'Refresh devices', command_topic: 'kasa/bridge/request/devices/refresh' });
    const identifier = (config.device.identifiers as string[])[0]!;
    for (const [feature, component] of Object.entries(c)) {
      expect(component.unique_id).toBe(`${identifier}_${feature}`);
      expect(component).not.toHaveProperty('object_id');
      expect(component.default_entity_id).toMatch(new RegExp(`^${component.platform}\\.`));
    }
    // Every node device hangs below the bridge.
    expect((await retainedConfig(h, IDS.hs103)).device.via_device).toBe(identifier);

    // The problem sensor's template against the real auth payload.
    const auth = (await h.obs.retained('kasa/bridge/auth'))!.json<{ state: string }>();
    expect(auth.state).toBe('authenticated');
    expect(c.login_required!.value_template).toContain("value_json.state == 'authenticated'");
  });

  it('its buttons publish real bridge requests', async () => {
    const c = (await h.obs.retained(bridgeConfigTopic(h)))!.json<DeviceConfig>().components;
    for (const button of [c.login!, c.refresh_devices!]) {
      const cmd = (button.command_topic as string).replace('kasa/bridge/request/', '');
      const response = await request(h, button.command_topic as string, (button.payload_press as string | undefined) ?? 'PRESS', `kasa/bridge/response/${cmd}`);
      expect(response, cmd).toMatchObject({ status: 'ok' });
    }
  });

  it('republishes discovery, availability and state when Home Assistant comes online', async () => {
    const after = since(h.obs);
    await h.obs.publish('homeassistant/status', 'online', { qos: 1 });
    await waitForAllConfigs(h, after);
    for (const node of devices.filter((d) => d.supported)) {
      const availability = await h.obs.next(`kasa/${node.key}/availability`, after);
      expect(availability.json(), node.key).toEqual({ state: node.online ? 'online' : 'offline' });
      if (node.online) expect((await h.obs.next(`kasa/${node.key}`, both(after, nonEmpty))).json(), node.key).toHaveProperty('last_seen');
    }
    expect(h.obs.on('kasa/garage_plug')).toEqual([]);
  });

  it('homeassistant/rediscover republishes every config', async () => {
    const after = since(h.obs);
    const response = await request(h, 'kasa/bridge/request/homeassistant/rediscover', '{"transaction":"hr"}', 'kasa/bridge/response/homeassistant/rediscover');
    expect(response).toMatchObject({ status: 'ok', transaction: 'hr' });
    await waitForAllConfigs(h, after);
    const topics = h.obs.on('homeassistant/device/+/config').filter(after).map((m) => m.topic);
    expect(new Set(topics)).toEqual(new Set([...devices.filter((d) => d.supported).map((d) => configTopic(d.id)), bridgeConfigTopic(h)]));
  });

  it('never clears discovery on shutdown', async () => {
    const after = since(h.obs);
    await h.bridge.stop();
    await h.obs.next('kasa/bridge/state', both(after, (m) => m.text === '{"state":"offline"}'));
    await h.obs.barrier();
    expect(h.obs.on('homeassistant/#').filter(after)).toEqual([]);
    for (const node of devices.filter((d) => d.supported)) expect(await h.obs.retained(configTopic(node.id)), node.key).toBeDefined();
    expect(await h.obs.retained(bridgeConfigTopic(h))).toBeDefined();
  });
});

describe('Home Assistant orphan clean-up', () => {
  let broker: TestBroker;
  let h: Harness;
  const orphanId = 'DEADBEEF00000000000000000000000000000001';
  const foreignId = 'DEADBEEF00000000000000000000000000000002';

  beforeAll(async () => {
    broker = await startTestBroker();
  });
  afterAll(async () => {
    await h?.stop();
    await broker?.stop();
  });

  it('clears retained configs of gone devices that point at our base topic, and nothing else', async () => {
    h = await startHarness({ broker, account: demoAccount({ username: 'ha-orphans@example.com', mfa: false }), env: FAST_CLOUD, start: false });
    const orphan = {
      device: { identifiers: [`kasa_${orphanId}`], name: 'Old plug' },
      origin: { name: 'kasa2mqtt' },
      availability: [{ topic: 'kasa/bridge/state' }, { topic: 'kasa/old_plug/availability' }],
      state_topic: 'kasa/old_plug',
      components: { switch: { platform: 'switch', unique_id: `kasa_${orphanId}_switch`, command_topic: 'kasa/old_plug/set' } },
    };
    const foreign = {
      device: { identifiers: [`kasa_${foreignId}`], name: 'Another bridge' },
      origin: { name: 'kasa2mqtt' },
      availability: [{ topic: 'kasa_upstairs/bridge/state' }],
      state_topic: 'kasa_upstairs/lamp',
      components: { switch: { platform: 'switch', unique_id: `kasa_${foreignId}_switch`, command_topic: 'kasa_upstairs/lamp/set' } },
    };
    const unrelated = { device: { identifiers: ['zigbee_1'] }, state_topic: 'kasa/whatever', components: {} };
    // The bridge device of an earlier run under another client id (DATA_DIR lost, MQTT_CLIENT_ID changed).
    const oldBridgeTopic = 'homeassistant/device/kasa_bridge_kasa2mqtt_0123abcd/config';
    const oldBridge = {
      device: { identifiers: ['kasa_bridge_kasa2mqtt_0123abcd'], name: 'Kasa2MQTT Bridge' },
      origin: { name: 'kasa2mqtt' },
      components: { connection_state: { platform: 'binary_sensor', unique_id: 'kasa_bridge_kasa2mqtt_0123abcd_connection_state', state_topic: 'kasa/bridge/state' } },
    };
    await h.obs.publish(oldBridgeTopic, JSON.stringify(oldBridge), { qos: 1, retain: true });
    await h.obs.publish(configTopic(orphanId), JSON.stringify(orphan), { qos: 1, retain: true });
    await h.obs.publish(configTopic(foreignId), JSON.stringify(foreign), { qos: 1, retain: true });
    await h.obs.publish('homeassistant/device/zigbee_1/config', JSON.stringify(unrelated), { qos: 1, retain: true });
    // A config of a device still in the account, left by an earlier run: kept (and refreshed).
    await h.obs.publish(configTopic(IDS.hs103), JSON.stringify({ ...orphan, state_topic: 'kasa/bedroom_desk_light' }), { qos: 1, retain: true });
    await h.obs.barrier();

    const after = since(h.obs);
    await h.bridge.start();
    await h.obs.next(configTopic(orphanId), both(after, empty), 10_000);
    expect(await h.obs.retained(configTopic(orphanId))).toBeUndefined();
    await h.obs.next(oldBridgeTopic, both(after, empty));
    expect(await h.obs.retained(bridgeConfigTopic(h))).toBeDefined();
    await h.obs.barrier();
    expect(h.obs.on(configTopic(foreignId)).filter(after)).toEqual([]);
    expect((await h.obs.retained(configTopic(foreignId)))?.json()).toEqual(foreign);
    expect((await h.obs.retained('homeassistant/device/zigbee_1/config'))?.json()).toEqual(unrelated);
    const current = (await h.obs.retained(configTopic(IDS.hs103)))!.json<DeviceConfig>();
    expect(current.device.name).toBe('Bedroom Desk Light');
    expect(h.obs.on(configTopic(IDS.hs103)).filter(after).some(empty)).toBe(false);
  });
});

describe('HA_DISCOVERY=false', () => {
  let broker: TestBroker;
  let h: Harness;

  beforeAll(async () => {
    broker = await startTestBroker();
    h = await startHarness({
      broker,
      account: demoAccount({ username: 'ha-off@example.com', mfa: false }),
      env: { ...FAST_CLOUD, HA_DISCOVERY: 'false' },
    });
    await h.obs.next('kasa/bridge/devices', complete, 15_000);
  });
  afterAll(async () => {
    await h?.stop();
    await broker?.stop();
  });

  it('publishes no discovery, and rediscover says so', async () => {
    await h.obs.next('kasa/bedroom_desk_light', nonEmpty);
    const response = await request(h, 'kasa/bridge/request/homeassistant/rediscover', '{}', 'kasa/bridge/response/homeassistant/rediscover');
    expect(response).toMatchObject({ status: 'error', error: { code: 'unsupported' } });
    await h.obs.publish('homeassistant/status', 'online', { qos: 1 });
    // The devices/refresh round trip outlasts the (fast) birth delay.
    const refreshed = await request(h, 'kasa/bridge/request/devices/refresh', '{}', 'kasa/bridge/response/devices/refresh');
    expect(refreshed.status).toBe('ok');
    await h.obs.barrier();
    expect(h.obs.on('homeassistant/#').filter((m) => m.topic !== 'homeassistant/status')).toEqual([]);
  });
});

describe('discovery across restarts', () => {
  let broker: TestBroker;
  let h: Harness;
  const marker = (n: number) => `DEADBEEF000000000000000000000000000000${String(n).padStart(2, '0')}`;
  const markerConfig = (n: number) =>
    JSON.stringify({
      device: { identifiers: [`kasa_${marker(n)}`] },
      origin: { name: 'kasa2mqtt' },
      state_topic: `kasa/gone_${n}`,
      components: { switch: { platform: 'switch', unique_id: `kasa_${marker(n)}_switch`, command_topic: `kasa/gone_${n}/set` } },
    });

  beforeAll(async () => {
    broker = await startTestBroker();
    h = await startHarness({ broker, account: demoAccount({ username: 'ha-restarts@example.com', mfa: false }), env: FAST_CLOUD });
    await h.obs.next('kasa/bridge/devices', complete, 15_000);
    await waitForAllConfigs(h);
  });
  afterAll(async () => {
    await h?.stop();
    await broker?.stop();
  });

  it('an offline strip keeps its outlets: discovery not cleared, availability offline', async () => {
    h.sim.device(IDS.kp303).online = false;
    await h.obs.publish(configTopic(marker(1)), markerConfig(1), { qos: 1, retain: true });
    const after = since(h.obs);
    await h.restartBridge();
    // The orphan scan has run once the marker (a really gone device) is cleared.
    await h.obs.next(configTopic(marker(1)), both(after, empty), 10_000);
    await h.obs.barrier();
    for (const i of [0, 1, 2]) {
      const id = `${IDS.kp303}0${i}`;
      expect(h.obs.on(configTopic(id)).filter(after).filter(empty), id).toEqual([]);
      expect(await h.obs.retained(configTopic(id)), id).toBeDefined();
      expect((await h.obs.retained(`kasa/desk_strip_plug_${i + 1}/availability`))?.text, id).toBe('{"state":"offline"}');
    }
    expect((await h.obs.retained('kasa/desk_strip/availability'))?.text).toBe('{"state":"offline"}');

    // Back online: the outlets come back on their keys.
    h.sim.device(IDS.kp303).online = true;
    const back = since(h.obs);
    const refreshed = await request(h, 'kasa/bridge/request/devices/refresh', '{}', 'kasa/bridge/response/devices/refresh');
    expect(refreshed.status).toBe('ok');
    await h.obs.next('kasa/desk_strip_plug_1/availability', both(back, (m) => m.text === '{"state":"online"}'));
  });

  it('an empty device list right after a restart clears nothing', async () => {
    const devicesBefore = (await h.obs.retained('kasa/bridge/devices'))!.json<BridgeDeviceEntry[]>();
    expect(devicesBefore.length).toBeGreaterThan(NODE_COUNT);
    await h.obs.publish(configTopic(marker(2)), markerConfig(2), { qos: 1, retain: true });
    await h.bridge.stop();
    h.sim.faults.emptyDeviceList = true;
    const after = since(h.obs);
    const lists = h.sim.count({ op: 'getDeviceList' });
    const restarting = h.restartBridge();
    try {
      await waitFor(() => h.sim.count({ op: 'getDeviceList' }) > lists, 5000, 'the first device list after the restart');
    } finally {
      h.sim.faults.emptyDeviceList = false;
    }
    await restarting;
    await h.obs.next(configTopic(marker(2)), both(after, empty), 15_000);
    await h.obs.barrier();
    const cleared = h.obs.on('homeassistant/device/+/config').filter(after).filter(empty).map((m) => m.topic);
    expect(cleared).toEqual([configTopic(marker(2))]);
    expect(h.obs.on('kasa/bridge/devices').filter(after).filter((m) => m.json<unknown[]>().length === 0)).toEqual([]);
    expect(h.obs.on('kasa/bridge/event').filter(after).filter((m) => m.text.includes('device_removed'))).toEqual([]);
  });
});
