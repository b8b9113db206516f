/**
 * Device management through a real broker and the simulated cloud: `bridge/devices`, topic keys
 * (made once, stored, stable), addressing by key or id, renames, device-list changes and
 * availability (docs/mqtt-api.md).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BridgeDeviceEntry, BridgeEvent, BridgeInfoPayload, SetResponse } from '../../src/api/types.js';
import { demoAccount, stableDeviceId } from '../../src/simulator/catalog.js';
import type { SimAccountSpec } from '../../src/simulator/types.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { bridgeRequest, startHarness, type Harness } from '../helpers/bridgeHarness.js';

/** Many refreshes in a row: a bucket big enough that none of them waits for tokens. */
const FAST_CLOUD = { KASA_RATE_LIMIT: '6000', KASA_RATE_BURST: '500' };
import { both, empty, nonEmpty, since, waitFor, type ObservedMessage} from '../helpers/mqttObserver.js';

const IDS = {
  deskLight: '2F50687F0187798768F86EAE340E844A660B2444', // HS103 "Bedroom Desk Light"
  hs110: '6572495E336088D1DF4BD661CAB8A89862DF6603', // HS110 "Bedroom Light"
  kp125: stableDeviceId('kp125'),
  hs200: 'A1B2C3D4E5F6A1B2C3D4E5F6A1B2C3D4A1B20001',
  hs220: stableDeviceId('hs220'),
  hs300: '5BFA53B31294DDA5AB4DEBA1B62582E8EC2F789E',
  kp303: stableDeviceId('kp303'),
  kl130: stableDeviceId('kl130'),
  kl110: stableDeviceId('kl110'),
  kl430: '140BED90F6EF82191649329403A40C66528411D2',
  garage: '9F231AD114D92FE98DEB7843ADC91D0EEEF2D0B8', // HS105, offline
  tapo: stableDeviceId('p100'),
  twinA: stableDeviceId('twin-a'),
  twinB: stableDeviceId('twin-b'),
} as const;

/** The demo account plus two plugs with the same alias (a key clash). */
function account(username: string): SimAccountSpec {
  const base = demoAccount({ username, mfa: false });
  return {
    ...base,
    devices: [
      ...(base.devices ?? []),
      { deviceId: IDS.twinA, model: 'HS103(US)', alias: 'Twin Plug' },
      { deviceId: IDS.twinB, model: 'HS103(US)', alias: 'Twin Plug' },
    ],
  };
}



const online = (m: ObservedMessage) => m.text === '{"state":"online"}';
const offline = (m: ObservedMessage) => m.text === '{"state":"offline"}';

/** Every node known: both strips' outlets are listed (they appear after the first sysinfo). */
const complete = (m: ObservedMessage) => {
  if (!nonEmpty(m)) return false;
  const list = m.json<BridgeDeviceEntry[]>();
  return list.filter((d) => d.type === 'outlet').length === 9;
};

async function devicesNow(h: Harness): Promise<BridgeDeviceEntry[]> {
  const retained = await h.obs.retained('kasa/bridge/devices');
  expect(retained, 'kasa/bridge/devices is retained').toBeDefined();
  return retained!.json<BridgeDeviceEntry[]>();
}

function byId(list: BridgeDeviceEntry[], id: string): BridgeDeviceEntry {
  const entry = list.find((d) => d.id === id);
  expect(entry, `bridge/devices lists ${id}`).toBeDefined();
  return entry!;
}

const request = bridgeRequest;

/** Publishes on `kasa/<given>/set` and returns the answer on `kasa/<given>/response/set`. */
async function set(h: Harness, given: string, payload: string): Promise<SetResponse> {
  const answer = h.obs.next(`kasa/${given}/response/set`, since(h.obs), 10_000);
  await h.obs.publish(`kasa/${given}/set`, payload, { qos: 1 });
  return (await answer).json<SetResponse>();
}

function storedKeys(h: Harness): Record<string, string> {
  const file = JSON.parse(readFileSync(join(h.dataDir, 'topic-keys.json'), 'utf8')) as { keys: Record<string, string> };
  return file.keys;
}

function event(type: BridgeEvent['type'], id: string, after: (m: ObservedMessage) => boolean) {
  return both(after, (m) => {
    const e = m.json<BridgeEvent>();
    return e.type === type && 'id' in e && e.id === id;
  });
}

describe('bridge/devices and topic keys', () => {
  let broker: TestBroker;
  let h: Harness;

  beforeAll(async () => {
    broker = await startTestBroker();
    h = await startHarness({ broker, account: account('devices-list@example.com'), env: FAST_CLOUD });
    await h.obs.next('kasa/bridge/devices', complete, 15_000);
  });
  afterAll(async () => {
    await h?.stop();
    await broker?.stop();
  });

  it('lists every node with its key, type, links, capabilities and online flag', async () => {
    const list = await devicesNow(h);
    const keys = Object.fromEntries(list.map((d) => [d.id, d.key]));
    expect(keys).toMatchObject({
      [IDS.deskLight]: 'bedroom_desk_light',
      [IDS.hs110]: 'bedroom_light',
      [IDS.kp125]: 'washing_machine',
      [IDS.hs200]: 'kitchen_light_switch',
      [IDS.hs220]: 'dining_room_dimmer',
      [IDS.hs300]: 'office_power_strip',
      [IDS.kp303]: 'desk_strip',
      [IDS.kl130]: 'living_room_lamp',
      [IDS.kl110]: 'hallway_bulb',
      [IDS.kl430]: 'tv_light_strip',
      [IDS.garage]: 'garage_plug',
      // outlets: "<strip alias> <outlet alias>", so "Plug 1" does not clash across strips
      [`${IDS.kp303}00`]: 'desk_strip_plug_1',
      [`${IDS.hs300}05`]: 'office_power_strip_plug_6',
    });
    // Two devices named "Twin Plug": one gets the plain slug, the other `_` + the last 4 hex of its id.
    const twins = [IDS.twinA, IDS.twinB].map((id) => ({ id, key: keys[id] }));
    expect(twins.map((t) => t.key).sort()).toEqual(
      ['twin_plug', `twin_plug_${twins.find((t) => t.key !== 'twin_plug')!.id.slice(-4).toLowerCase()}`].sort(),
    );
    expect(new Set(list.map((d) => d.key)).size).toBe(list.length);

    const types = Object.fromEntries(list.map((d) => [d.id, d.type]));
    expect(types).toMatchObject({
      [IDS.deskLight]: 'plug',
      [IDS.hs110]: 'plug',
      [IDS.hs200]: 'switch',
      [IDS.hs220]: 'dimmer',
      [IDS.hs300]: 'strip',
      [IDS.kp303]: 'strip',
      [`${IDS.kp303}02`]: 'outlet',
      [IDS.kl130]: 'bulb',
      [IDS.kl110]: 'bulb',
      [IDS.kl430]: 'lightstrip',
    });

    const hs300 = byId(list, IDS.hs300);
    expect(hs300.children).toEqual([0, 1, 2, 3, 4, 5].map((i) => `${IDS.hs300}0${i}`));
    for (const child of hs300.children!) {
      expect(byId(list, child)).toMatchObject({ type: 'outlet', parent_id: IDS.hs300, capabilities: ['onoff', 'energy'] });
    }
    expect(byId(list, `${IDS.kp303}01`)).toMatchObject({ alias: 'Plug 2', parent_id: IDS.kp303, capabilities: ['onoff'] });
    expect(byId(list, `${IDS.kp303}01`).mac).toBeUndefined();

    expect(byId(list, IDS.deskLight).capabilities).toEqual(['onoff', 'rssi']);
    expect(byId(list, IDS.hs110).capabilities).toEqual(['onoff', 'energy', 'rssi']);
    expect(byId(list, IDS.hs220).capabilities).toEqual(['onoff', 'brightness', 'rssi']);
    expect(byId(list, IDS.kl130).capabilities).toEqual(['onoff', 'brightness', 'color_temp', 'color', 'energy', 'rssi']);
    expect(byId(list, IDS.kl110).capabilities).toEqual(['onoff', 'brightness', 'energy', 'rssi']);

    const hs110 = byId(list, IDS.hs110);
    expect(hs110).toMatchObject({ alias: 'Bedroom Light', model: 'HS110(US)', online: true, supported: true });
    expect(hs110.fw).toMatch(/\d+\.\d+\.\d+/);
    expect(hs110.hw).toMatch(/^\d+\.\d+$/);
    expect(hs110.mac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);

    for (const d of list) if (d.id !== IDS.garage && d.supported) expect(d.online, d.key).toBe(true);
    expect(byId(list, IDS.garage).online).toBe(false);

    const tapo = byId(list, IDS.tapo);
    expect(tapo).toMatchObject({ supported: false, model: 'P100', capabilities: [] });
    // Tapo list entries carry the alias base64-encoded; subscribers see the name the user gave.
    expect(tapo.alias).toBe('Tapo Plug');
  });

  it('stores the keys in DATA_DIR and keeps them across an alias change and a restart', async () => {
    const before = storedKeys(h);
    expect(before[IDS.kl110]).toBe('hallway_bulb');
    expect(before[`${IDS.hs300}00`]).toBe('office_power_strip_plug_1');

    const after = since(h.obs);
    h.sim.device(IDS.kl110).alias = 'Landing Lamp';
    expect((await request(h, 'devices/refresh', {})).status).toBe('ok');
    await h.obs.next('kasa/bridge/event', event('alias_changed', IDS.kl110, after));
    expect(byId(await devicesNow(h), IDS.kl110)).toMatchObject({ alias: 'Landing Lamp', key: 'hallway_bulb' });

    const restarted = since(h.obs);
    await h.restartBridge();
    const list = (await h.obs.next('kasa/bridge/devices', both(restarted, complete), 15_000)).json<BridgeDeviceEntry[]>();
    expect(Object.fromEntries(list.filter((d) => d.supported).map((d) => [d.id, d.key]))).toEqual(before);
    expect(byId(list, IDS.kl110).alias).toBe('Landing Lamp');
    expect(storedKeys(h)).toEqual(before);
    // State keeps flowing on the old key.
    await h.obs.next('kasa/hallway_bulb', both(restarted, nonEmpty));
  });

  it('accepts the device id and an outlet child id in place of the key, answering on the topic as given', async () => {
    const plugResponse = await set(h, IDS.deskLight, 'ON');
    expect(plugResponse).toMatchObject({ status: 'ok', data: { state: 'ON' } });
    expect(h.sim.device(IDS.deskLight).sysinfo()).toMatchObject({ relay_state: 1 });

    const lowerCase = await set(h, IDS.deskLight.toLowerCase(), JSON.stringify({ state: 'OFF', transaction: 'lc' }));
    expect(lowerCase).toMatchObject({ status: 'ok', transaction: 'lc' });
    expect(h.sim.device(IDS.deskLight).sysinfo()).toMatchObject({ relay_state: 0 });

    const child = `${IDS.kp303}02`;
    const after = since(h.obs);
    const outletResponse = await set(h, child, 'ON');
    expect(outletResponse).toMatchObject({ status: 'ok', data: { state: 'ON' } });
    const outlets = h.sim.device(IDS.kp303).sysinfo().children as { state: number }[];
    expect(outlets.map((o) => o.state)).toEqual([0, 0, 1]);
    // The state is published under the key, not the id.
    expect((await h.obs.next('kasa/desk_strip_plug_3', both(after, nonEmpty))).json()).toMatchObject({ state: 'ON' });
    expect(h.obs.on(`kasa/${child}`)).toHaveLength(0);

    const unknown = await set(h, 'no_such_device', 'ON');
    expect(unknown).toMatchObject({ status: 'error', error: { code: 'unknown_device' } });
  });
});

describe('device/rename', () => {
  let broker: TestBroker;
  let h: Harness;

  beforeAll(async () => {
    broker = await startTestBroker();
    h = await startHarness({ broker, account: account('devices-rename@example.com'), env: FAST_CLOUD });
    await h.obs.next('kasa/bridge/devices', complete, 15_000);
    await h.obs.next('kasa/bedroom_desk_light', nonEmpty);
    await h.obs.next('kasa/bedroom_desk_light/availability', online);
  });
  afterAll(async () => {
    await h?.stop();
    await broker?.stop();
  });

  it('moves a node to a new key: old retained topics cleared, new ones published, set works', async () => {
    const after = since(h.obs);
    const response = await request(h, 'device/rename', { from: 'bedroom_desk_light', to: 'desk', transaction: 'r1' });
    expect(response).toEqual({
      status: 'ok',
      data: { id: IDS.deskLight, from: 'bedroom_desk_light', to: 'desk' },
      transaction: 'r1',
    });

    await h.obs.next('kasa/bedroom_desk_light', both(after, empty));
    await h.obs.next('kasa/bedroom_desk_light/availability', both(after, empty));
    expect(await h.obs.retained('kasa/bedroom_desk_light')).toBeUndefined();
    expect(await h.obs.retained('kasa/bedroom_desk_light/availability')).toBeUndefined();

    expect((await h.obs.next('kasa/desk', both(after, nonEmpty))).json()).toMatchObject({ state: expect.stringMatching(/^(ON|OFF)$/) });
    await h.obs.next('kasa/desk/availability', both(after, online));
    expect((await h.obs.retained('kasa/desk'))?.json()).toMatchObject({ rssi: expect.any(Number) });

    const devices = (await h.obs.next('kasa/bridge/devices', after)).json<BridgeDeviceEntry[]>();
    expect(byId(devices, IDS.deskLight).key).toBe('desk');
    expect(byId(await devicesNow(h), IDS.deskLight).key).toBe('desk');

    const config = (await h.obs.retained(`homeassistant/device/kasa_${IDS.deskLight}/config`))!.json<{
      state_topic: string;
      components: { switch: { command_topic: string } };
    }>();
    expect(config.state_topic).toBe('kasa/desk');
    expect(config.components.switch.command_topic).toBe('kasa/desk/set');

    const setAfter = since(h.obs);
    expect(await set(h, 'desk', 'ON')).toMatchObject({ status: 'ok', data: { state: 'ON' } });
    expect((await h.obs.next('kasa/desk', both(setAfter, nonEmpty))).json()).toMatchObject({ state: 'ON' });
    expect(await set(h, 'bedroom_desk_light', 'OFF')).toMatchObject({ status: 'error', error: { code: 'unknown_device' } });
    expect(h.obs.on('kasa/bedroom_desk_light').filter(setAfter)).toHaveLength(0);
  });

  it('accepts the id as "id" and echoes the transaction as given', async () => {
    const answer = h.obs.next('kasa/bridge/response/device/rename', since(h.obs));
    await h.obs.publish('kasa/bridge/request/device/rename', JSON.stringify({ id: IDS.kl110, to: 'hall', transaction: 42 }));
    expect((await answer).json()).toEqual({ status: 'ok', data: { id: IDS.kl110, from: 'hallway_bulb', to: 'hall' }, transaction: 42 });
  });

  it('a rename to the key a node already has changes nothing', async () => {
    const after = since(h.obs);
    const response = await request(h, 'device/rename', { from: 'desk', to: 'desk' });
    expect(response).toMatchObject({ status: 'ok', data: { id: IDS.deskLight, from: 'desk', to: 'desk' } });
    await h.obs.barrier();
    expect(h.obs.on('kasa/desk/#').filter(after).filter(empty)).toEqual([]);
    expect(h.obs.on('kasa/desk').filter(after).filter(empty)).toEqual([]);
    expect((await h.obs.retained('kasa/desk'))?.json()).toMatchObject({ state: 'ON' });
    expect((await h.obs.retained('kasa/desk/availability'))?.text).toBe('{"state":"online"}');
  });

  it('refuses invalid renames with a clear error and changes nothing', async () => {
    const devicesBefore = JSON.stringify(await devicesNow(h));
    // The earlier renames' save waits for more renames to share it.
    await waitFor(() => storedKeys(h)[IDS.deskLight] === 'desk' && storedKeys(h)[IDS.kl110] === 'hall', 5_000, 'the earlier renames on disk');
    const keysBefore = storedKeys(h);
    const after = since(h.obs);

    const reserved = await request(h, 'device/rename', { from: 'desk', to: 'bridge' });
    expect(reserved).toMatchObject({ status: 'error', error: { code: 'invalid_payload', message: expect.stringMatching(/reserved/) } });

    const clash = await request(h, 'device/rename', { from: 'desk', to: 'bedroom_light' });
    expect(clash).toMatchObject({ status: 'error', error: { code: 'invalid_payload', message: expect.stringMatching(/already used/) } });

    const clashWithId = await request(h, 'device/rename', { from: 'desk', to: IDS.hs110.toLowerCase() });
    expect(clashWithId).toMatchObject({ status: 'error', error: { message: expect.stringMatching(/already used/) } });

    for (const bad of ['Desk Lamp', 'desk/lamp', 'desk+', 'désk', '', 'x'.repeat(65)]) {
      const response = await request(h, 'device/rename', { from: 'desk', to: bad });
      expect(response, JSON.stringify(bad)).toMatchObject({ status: 'error', error: { code: 'invalid_payload' } });
      expect(response.error!.message.length).toBeGreaterThan(10);
    }

    const unknown = await request(h, 'device/rename', { from: 'no_such_thing', to: 'fine' });
    expect(unknown).toMatchObject({ status: 'error', error: { code: 'unknown_device' } });
    const tapo = await request(h, 'device/rename', { from: IDS.tapo, to: 'tapo' });
    expect(tapo).toMatchObject({ status: 'error', error: { code: 'unknown_device' } });

    const missing = await request(h, 'device/rename', { to: 'fine' });
    expect(missing).toMatchObject({ status: 'error', error: { code: 'invalid_payload' } });

    await h.obs.barrier();
    expect(JSON.stringify(await devicesNow(h))).toBe(devicesBefore);
    expect(storedKeys(h)).toEqual(keysBefore);
    const published = h.obs.messages.filter(after).filter((m) => !m.topic.startsWith('kasa/bridge/response/'));
    expect(published.filter((m) => m.topic === 'kasa/bridge/devices' || m.payload.length === 0 || m.topic.startsWith('homeassistant/'))).toEqual([]);
    expect(await h.obs.retained('kasa/desk')).toBeDefined();
  });

  it('keeps the new key after a restart', async () => {
    expect(storedKeys(h)[IDS.deskLight]).toBe('desk');
    const restarted = since(h.obs);
    await h.restartBridge();
    const list = (await h.obs.next('kasa/bridge/devices', both(restarted, complete), 15_000)).json<BridgeDeviceEntry[]>();
    expect(byId(list, IDS.deskLight).key).toBe('desk');
    await h.obs.next('kasa/desk/availability', both(restarted, online));
    await h.obs.barrier();
    expect(h.obs.on('kasa/bedroom_desk_light').filter(restarted)).toHaveLength(0);
    expect(await h.obs.retained('kasa/bedroom_desk_light')).toBeUndefined();
  });
});

describe('device-list changes', () => {
  let broker: TestBroker;
  let h: Harness;
  const username = 'devices-changes@example.com';
  const pumpId = stableDeviceId('garden-pump');

  beforeAll(async () => {
    broker = await startTestBroker();
    h = await startHarness({ broker, account: account(username), env: FAST_CLOUD });
    await h.obs.next('kasa/bridge/devices', complete, 15_000);
  });
  afterAll(async () => {
    await h?.stop();
    await broker?.stop();
  });

  it('a device added in the account appears after devices/refresh', async () => {
    const countBefore = (await h.obs.retained('kasa/bridge/info'))!.json<BridgeInfoPayload>().device_count;
    const after = since(h.obs);
    h.sim.addDevice(username, { deviceId: pumpId, model: 'KP125(US)', alias: 'Garden Pump' });
    const response = await request(h, 'devices/refresh', {});
    expect(response).toMatchObject({ status: 'ok', data: { device_count: countBefore + 1 } });

    const added = (await h.obs.next('kasa/bridge/event', event('device_added', pumpId, after))).json();
    expect(added).toEqual({ type: 'device_added', id: pumpId, key: 'garden_pump', alias: 'Garden Pump' });
    const config = await h.obs.next(`homeassistant/device/kasa_${pumpId}/config`, both(after, nonEmpty));
    expect(config.json()).toMatchObject({ device: { name: 'Garden Pump', model: 'KP125', model_id: 'KP125(US)' }, state_topic: 'kasa/garden_pump' });
    expect((await h.obs.next('kasa/garden_pump', both(after, nonEmpty))).json()).toMatchObject({ state: 'OFF', power_w: expect.any(Number) });
    await h.obs.next('kasa/garden_pump/availability', both(after, online));
    const info = await h.obs.next('kasa/bridge/info', after);
    expect(info.json<BridgeInfoPayload>().device_count).toBe(countBefore + 1);
    expect(byId(await devicesNow(h), pumpId)).toMatchObject({ key: 'garden_pump', type: 'plug', online: true });
  });

  it('an alias changed in the app updates names and emits alias_changed; topics stay', async () => {
    const after = since(h.obs);
    h.sim.device(pumpId).alias = 'Pool Pump';
    expect((await request(h, 'devices/refresh', {})).status).toBe('ok');
    const changed = (await h.obs.next('kasa/bridge/event', event('alias_changed', pumpId, after))).json();
    expect(changed).toEqual({ type: 'alias_changed', id: pumpId, key: 'garden_pump', from: 'Garden Pump', to: 'Pool Pump' });
    expect(byId(await devicesNow(h), pumpId)).toMatchObject({ alias: 'Pool Pump', key: 'garden_pump' });
    const config = await h.obs.next(`homeassistant/device/kasa_${pumpId}/config`, both(after, nonEmpty));
    expect(config.json()).toMatchObject({
      device: { name: 'Pool Pump' },
      state_topic: 'kasa/garden_pump',
      components: { switch: { command_topic: 'kasa/garden_pump/set' } },
    });
    await h.obs.barrier();
    expect(h.obs.messages.filter(after).filter((m) => m.topic.startsWith('kasa/pool_pump'))).toEqual([]);
    expect(storedKeys(h)[pumpId]).toBe('garden_pump');
  });

  it('a strip alias change renames its outlets but keeps their keys', async () => {
    const after = since(h.obs);
    h.sim.device(IDS.kp303).alias = 'Work Strip';
    expect((await request(h, 'devices/refresh', {})).status).toBe('ok');
    await h.obs.next('kasa/bridge/event', event('alias_changed', IDS.kp303, after));
    const outletConfig = await h.obs.next(`homeassistant/device/kasa_${IDS.kp303}00/config`, both(after, nonEmpty));
    expect(outletConfig.json()).toMatchObject({ device: { name: 'Work Strip Plug 1' }, state_topic: 'kasa/desk_strip_plug_1' });
    expect(byId(await devicesNow(h), `${IDS.kp303}00`)).toMatchObject({ key: 'desk_strip_plug_1', alias: 'Plug 1' });
  });

  it('an outlet renamed in the app emits alias_changed and renames its HA device; the key stays', async () => {
    const after = since(h.obs);
    h.sim.device(IDS.hs300).setState({ outlet: 1, alias: 'Printer' });
    expect((await request(h, 'devices/refresh', {})).status).toBe('ok');
    const changed = (await h.obs.next('kasa/bridge/event', event('alias_changed', `${IDS.hs300}01`, after))).json();
    expect(changed).toEqual({ type: 'alias_changed', id: `${IDS.hs300}01`, key: 'office_power_strip_plug_2', from: 'Plug 2', to: 'Printer' });
    const config = await h.obs.next(`homeassistant/device/kasa_${IDS.hs300}01/config`, both(after, nonEmpty));
    expect(config.json()).toMatchObject({ device: { name: 'Office Power Strip Printer' }, state_topic: 'kasa/office_power_strip_plug_2' });
    expect(byId(await devicesNow(h), `${IDS.hs300}01`)).toMatchObject({ alias: 'Printer', key: 'office_power_strip_plug_2' });
  });

  it('a device removed from the account is cleared after devices/refresh', async () => {
    const countBefore = (await h.obs.retained('kasa/bridge/info'))!.json<BridgeInfoPayload>().device_count;
    expect(await h.obs.retained('kasa/garden_pump')).toBeDefined();
    const after = since(h.obs);
    h.sim.removeDevice(pumpId);
    expect((await request(h, 'devices/refresh', {})).status).toBe('ok');
    const removed = (await h.obs.next('kasa/bridge/event', event('device_removed', pumpId, after))).json();
    expect(removed).toEqual({ type: 'device_removed', id: pumpId, key: 'garden_pump', alias: 'Pool Pump' });
    await h.obs.next(`homeassistant/device/kasa_${pumpId}/config`, both(after, empty));
    await h.obs.next('kasa/garden_pump', both(after, empty));
    await h.obs.next('kasa/garden_pump/availability', both(after, empty));
    expect(await h.obs.retained(`homeassistant/device/kasa_${pumpId}/config`)).toBeUndefined();
    expect(await h.obs.retained('kasa/garden_pump')).toBeUndefined();
    expect(await h.obs.retained('kasa/garden_pump/availability')).toBeUndefined();
    expect((await devicesNow(h)).find((d) => d.id === pumpId)).toBeUndefined();
    expect((await h.obs.retained('kasa/bridge/info'))!.json<BridgeInfoPayload>().device_count).toBe(countBefore - 1);
    expect(await set(h, 'garden_pump', 'ON')).toMatchObject({ status: 'error', error: { code: 'unknown_device' } });
  });

  it('a removed strip takes its outlets with it', async () => {
    const after = since(h.obs);
    h.sim.removeDevice(IDS.kp303);
    expect((await request(h, 'devices/refresh', {})).status).toBe('ok');
    for (const [i, key] of ['desk_strip_plug_1', 'desk_strip_plug_2', 'desk_strip_plug_3'].entries()) {
      const id = `${IDS.kp303}0${i}`;
      await h.obs.next('kasa/bridge/event', event('device_removed', id, after));
      await h.obs.next(`homeassistant/device/kasa_${id}/config`, both(after, empty));
      expect(await h.obs.retained(`kasa/${key}`)).toBeUndefined();
    }
    expect(await h.obs.retained('kasa/desk_strip')).toBeUndefined();
    expect(await h.obs.retained(`homeassistant/device/kasa_${IDS.kp303}/config`)).toBeUndefined();
  });

  it('an empty device list answered once removes nothing; only a second one in a row is believed', async () => {
    const devicesBefore = await devicesNow(h);
    const after = since(h.obs);
    h.sim.faults.emptyDeviceList = true;
    try {
      expect((await request(h, 'devices/refresh', {})).status).toBe('ok');
      await h.obs.barrier();
      expect(h.obs.messages.filter(after).filter((m) => m.topic === 'kasa/bridge/event' && m.text.includes('device_removed'))).toEqual([]);
      expect(await devicesNow(h)).toEqual(devicesBefore);
      expect(await h.obs.retained('kasa/bedroom_light')).toBeDefined();
      expect(await h.obs.retained(`homeassistant/device/kasa_${IDS.hs110}/config`)).toBeDefined();

      // Confirmed: the account really is empty now.
      expect((await request(h, 'devices/refresh', {})).status).toBe('ok');
      await h.obs.next('kasa/bridge/event', event('device_removed', IDS.hs110, after));
      await h.obs.next('kasa/bridge/devices', both(after, (m) => m.json<BridgeDeviceEntry[]>().length === 0));
    } finally {
      h.sim.faults.emptyDeviceList = false;
    }
    // The devices come back on their old keys.
    const back = since(h.obs);
    expect((await request(h, 'devices/refresh', {})).status).toBe('ok');
    const added = (await h.obs.next('kasa/bridge/event', event('device_added', IDS.hs110, back))).json();
    expect(added).toMatchObject({ key: 'bedroom_light' });
    await h.obs.next('kasa/bedroom_light', both(back, nonEmpty));
    await h.obs.next('kasa/bedroom_light/availability', both(back, online));
    await h.obs.next(`homeassistant/device/kasa_${IDS.hs110}/config`, both(back, nonEmpty));
  });
});

describe('availability', () => {
  let broker: TestBroker;
  let h: Harness;
  const username = 'devices-availability@example.com';

  beforeAll(async () => {
    broker = await startTestBroker();
    h = await startHarness({ broker, account: account(username), env: FAST_CLOUD });
    await h.obs.next('kasa/bridge/devices', complete, 15_000);
  });
  afterAll(async () => {
    await h?.stop();
    await broker?.stop();
  });

  it('an offline device is offline and never gets a state message', async () => {
    expect((await h.obs.retained('kasa/garage_plug/availability'))?.text).toBe('{"state":"offline"}');
    expect((await request(h, 'devices/refresh', {})).status).toBe('ok');
    await h.obs.publish('kasa/garage_plug/get', '', { qos: 1 });
    expect(await set(h, 'garage_plug', 'ON')).toMatchObject({ status: 'error', error: { code: 'device_offline' } });
    await h.obs.barrier();
    expect(h.obs.on('kasa/garage_plug')).toEqual([]);
    expect(await h.obs.retained('kasa/garage_plug')).toBeUndefined();
    expect(h.obs.on('kasa/garage_plug/availability').every(offline)).toBe(true);
  });

  it('a device the cloud reports offline goes offline, and online again when it answers', async () => {
    const after = since(h.obs);
    h.sim.device(IDS.kl110).online = false;
    expect((await request(h, 'devices/refresh', {})).status).toBe('ok');
    await h.obs.next('kasa/hallway_bulb/availability', both(after, offline));
    expect(byId(await devicesNow(h), IDS.kl110).online).toBe(false);
    expect(await set(h, 'hallway_bulb', 'ON')).toMatchObject({ status: 'error', error: { code: 'device_offline' } });

    const back = since(h.obs);
    h.sim.device(IDS.kl110).online = true;
    expect((await request(h, 'devices/refresh', {})).status).toBe('ok');
    await h.obs.next('kasa/hallway_bulb/availability', both(back, online));
    expect(byId(await devicesNow(h), IDS.kl110).online).toBe(true);
  });

  it('every node goes offline while the session is unusable and comes back after login', async () => {
    const nodes = (await devicesNow(h)).filter((d) => d.supported && d.online);
    for (const n of nodes) await waitFor(() => h.obs.on(`kasa/${n.key}/availability`).some(online), 5000, `${n.key} online`);

    // Session lost: tokens expire and the relogin now needs a code.
    const after = since(h.obs);
    h.sim.setMfa(username, true);
    h.sim.untrustTerminals(username);
    h.sim.expireAccessTokens();
    h.sim.expireRefreshTokens();
    const refresh = await request(h, 'devices/refresh', {});
    expect(refresh.status).toBe('error');
    await h.obs.next('kasa/bridge/auth', both(after, (m) => m.json<{ state: string }>().state === 'mfa_required'));
    for (const n of nodes) await h.obs.next(`kasa/${n.key}/availability`, both(after, offline));
    for (const n of nodes) expect((await h.obs.retained(`kasa/${n.key}/availability`))?.text, n.key).toBe('{"state":"offline"}');

    const back = since(h.obs);
    await h.obs.publish('kasa/bridge/mfa', h.sim.lastMfaCode(username)!, { qos: 1 });
    await h.obs.next('kasa/bridge/auth', both(back, (m) => m.json<{ state: string }>().state === 'authenticated'));
    for (const n of nodes) await h.obs.next(`kasa/${n.key}/availability`, both(back, online), 10_000);
    expect((await h.obs.retained('kasa/garage_plug/availability'))?.text).toBe('{"state":"offline"}');
  });
});
