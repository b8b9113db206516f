/**
 * Firmware and cloud connection end to end: the bridge asks each physical device's cloud module
 * once a day (and after a restart), publishes `update` and `cloud` in the node's state, and
 * announces a read-only HA update entity and a disabled connectivity sensor. A model without the
 * firmware list loses that capability quietly after its first "not supported" answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeState, SetResponse } from '../../src/api/types.js';
import type { SimAccountSpec, SimRequestLogEntry } from '../../src/simulator/types.js';
import type { SimDevice } from '../../src/simulator/devices/index.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { startHarness, untilIdle, type Harness } from '../helpers/bridgeHarness.js';
import { nodeWatch, type Component } from '../helpers/nodeWatch.js';
import { nonEmpty, since, waitFor } from '../helpers/mqttObserver.js';

const id = (n: number): string => `F1AA0000E5F6A1B2C3D4E5F6A1B2C3D4E5F6${String(n).padStart(4, '0')}`;
const OFFERED = '1.0.12 Build 240507 Rel.143458';
const DEVICES = {
  hall: { deviceId: id(1), model: 'KS200(US)', alias: 'Hall', availableFirmware: { version: OFFERED, releaseNotes: 'Reconnects faster after a power cut.' } },
  lamp: { deviceId: id(2), model: 'KL130(US)', alias: 'Lamp' },
  old: { deviceId: id(3), model: 'HS100(US)', alias: 'Old' },
  bench: { deviceId: id(4), model: 'KP303(US)', alias: 'Bench' },
} as const;
const account: SimAccountSpec = { username: 'firmware@example.com', password: 'firm-Pa55', mfa: false, devices: Object.values(DEVICES) };


describe('firmware and cloud connection through MQTT', () => {
  let broker: TestBroker;
  let h: Harness;

  const sim = (key: keyof typeof DEVICES) => h.sim.device(DEVICES[key].deviceId) as unknown as SimDevice;
  const watch = () => nodeWatch(h.obs, { timeoutMs: 15_000 });
  const stateOf = (key: string, predicate: (s: NodeState) => boolean = () => true) => watch().stateOf(key, predicate);
  const components = (deviceId: string, predicate?: (c: Record<string, Component>) => boolean) => watch().components(deviceId, predicate);
  const refreshed = (key: string) => watch().refreshed(key);
  const asks = (deviceId: string, method: string) => (r: SimRequestLogEntry) => r.op === 'passthrough' && r.deviceId === deviceId && JSON.stringify(r.requestData ?? '').includes(`"${method}"`);

  beforeAll(async () => {
    broker = await startTestBroker();
    h = await startHarness({ broker, account, simOptions: { rebootMs: 1_500 }, env: { KASA_RATE_LIMIT: '6000', KASA_RATE_BURST: '500' } });
    for (const key of ['hall', 'lamp', 'old', 'bench', 'bench_plug_1']) await h.obs.next(`kasa/${key}`, nonEmpty, 15_000);
  });
  afterAll(async () => {
    await h?.stop();
    await broker?.stop();
  });

  it('an offered firmware: update available with the offered version; HA gets a read-only update entity', async () => {
    const installed = sim('hall').identity.fwVer;
    expect(await stateOf('hall', (s) => s.update !== undefined)).toMatchObject({
      update: { state: 'available', installed_version: installed, latest_version: OFFERED, release_notes: 'Reconnects faster after a power cut.' },
    });
    const firmware = (await components(DEVICES.hall.deviceId, (c) => 'firmware' in c))['firmware']!;
    expect(firmware).toMatchObject({ platform: 'update', device_class: 'firmware', entity_category: 'diagnostic' });
    expect(firmware['command_topic']).toBeUndefined();
    expect(firmware['payload_install']).toBeUndefined();
  });

  it('nothing offered: idle, latest = installed (bulbs through their own cloud module)', async () => {
    const installed = sim('lamp').identity.fwVer;
    expect(await stateOf('lamp', (s) => s.update !== undefined)).toMatchObject({
      update: { state: 'idle', installed_version: installed, latest_version: installed },
    });
    expect(h.sim.requests.some(asks(DEVICES.lamp.deviceId, 'smartlife.iot.common.cloud'))).toBe(true);
    expect(h.sim.requests.some(asks(DEVICES.lamp.deviceId, 'cnCloud'))).toBe(false);
  });

  it('the cloud connection: state cloud and a disabled diagnostic connectivity sensor', async () => {
    expect(await stateOf('hall', (s) => s.cloud !== undefined)).toMatchObject({ cloud: { connected: true, bound: true, server: expect.any(String) } });
    const sensor = (await components(DEVICES.hall.deviceId, (c) => 'cloud_connection' in c))['cloud_connection']!;
    expect(sensor).toMatchObject({ platform: 'binary_sensor', device_class: 'connectivity', entity_category: 'diagnostic', enabled_by_default: false });
    expect(JSON.stringify(await stateOf('hall', (s) => s.cloud !== undefined))).not.toContain(account.username);
  });

  it('a strip has both; its outlets have neither', async () => {
    expect(await stateOf('bench', (s) => s.update !== undefined && s.cloud !== undefined)).toMatchObject({ update: { state: 'idle' }, cloud: { connected: true } });
    const outlet = await refreshed('bench_plug_1');
    expect(outlet.update).toBeUndefined();
    expect(outlet.cloud).toBeUndefined();
    const c = await components(`${DEVICES.bench.deviceId}00`);
    expect(c['firmware']).toBeUndefined();
    expect(c['cloud_connection']).toBeUndefined();
  });

  it('a model without a firmware list: asked once, then left alone; no update key or entity, the cloud sensor stays', async () => {
    expect(await stateOf('old', (s) => s.cloud !== undefined)).toMatchObject({ cloud: { connected: true } });
    await refreshed('old');
    await refreshed('old');
    expect(h.sim.requests.filter(asks(DEVICES.old.deviceId, 'get_intl_fw_list'))).toHaveLength(1);
    expect((await refreshed('old')).update).toBeUndefined();
    const c = await components(DEVICES.old.deviceId, (x) => 'cloud_connection' in x);
    expect(c['firmware']).toBeUndefined();
  });

  it('read once a day, not with every poll', async () => {
    await stateOf('lamp', (s) => s.update !== undefined);
    const before = h.sim.requests.filter(asks(DEVICES.lamp.deviceId, 'get_intl_fw_list')).length;
    await refreshed('lamp');
    const later = await refreshed('lamp');
    expect(h.sim.requests.filter(asks(DEVICES.lamp.deviceId, 'get_intl_fw_list'))).toHaveLength(before);
    // A poll that did not read them keeps them: no flapping key, no withdrawn entity.
    expect(later).toMatchObject({ update: { state: 'idle' }, cloud: { connected: true } });
    expect(Object.keys(await components(DEVICES.lamp.deviceId))).toEqual(expect.arrayContaining(['firmware', 'cloud_connection']));
  });

  it('a bridge restart keeps the entities the previous run announced: no config goes out without them', async () => {
    const lamp = DEVICES.lamp.deviceId;
    const topic = `homeassistant/device/kasa_${lamp}/config`;
    await components(lamp, (c) => 'firmware' in c && 'power' in c);
    const from = h.obs.messages.length;
    const afterRestart = since(h.obs);
    await h.restartBridge();
    // The lamp is read again and its daily reads are answered (a state carrying `update` after the restart).
    await h.obs.next('kasa/lamp', (m) => afterRestart(m) && nonEmpty(m) && m.json<NodeState>().update !== undefined, 15_000);
    await untilIdle(h);
    const configs = h.obs.messages.slice(from).filter((m) => m.topic === topic && nonEmpty(m));
    for (const config of configs) {
      expect(Object.keys(config.json<{ components: Record<string, unknown> }>().components)).toEqual(
        expect.arrayContaining(['firmware', 'cloud_connection', 'power', 'rssi', 'light']),
      );
    }
  });

  it('after the update is installed and the device restarts, the state shows the new version, idle', async () => {
    await stateOf('hall', (s) => s.update?.state === 'available');
    const device = sim('hall');
    // As the Kasa app would: the device runs the offered firmware, the cloud offers nothing more.
    device.identity.fwVer = OFFERED;
    device.availableFirmware = undefined;
    const answer = h.obs.next('kasa/hall/response/set', since(h.obs), 10_000);
    await h.obs.publish('kasa/hall/set', '{"restart":true}', { qos: 1 });
    expect((await answer).json<SetResponse>()).toMatchObject({ status: 'ok' });
    await waitFor(() => device.reachable, 5_000, 'the end of the reboot');
    // Its next answer (here a /get; else the next poll) brings the daily reads again.
    await h.obs.publish('kasa/hall/get', '', { qos: 1 });
    expect(await stateOf('hall', (s) => s.update?.state === 'idle')).toMatchObject({
      update: { state: 'idle', installed_version: OFFERED, latest_version: OFFERED },
    });
  });
});
