/**
 * A device is one object that owns everything the bridge keeps of it (src/bridge/device.ts): when
 * it leaves the account, nothing of it stays behind — not in the registry, not in a part.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimAccountSpec } from '../../src/simulator/types.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { startHarness, type Harness } from '../helpers/bridgeHarness.js';
import { nonEmpty, since } from '../helpers/mqttObserver.js';

const STRIP = 'D0E1A2B3C4D5E6F7A8B9C0D1E2F3A4B5C6D7E8F9';
const PLUG = 'D1E1A2B3C4D5E6F7A8B9C0D1E2F3A4B5C6D7E8F9';
const account: SimAccountSpec = {
  username: 'removal@example.com',
  password: 'remove-Pa55',
  mfa: false,
  devices: [
    { deviceId: STRIP, model: 'HS300(US)', alias: 'Rack' },
    { deviceId: PLUG, model: 'HS110(US)', alias: 'Kettle' },
  ],
};

/** Node's collector, reachable once --expose-gc is set at run time. */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

describe('a device that leaves the account', () => {
  let broker: TestBroker;
  let h: Harness;

  beforeAll(async () => {
    broker = await startTestBroker();
    h = await startHarness({ broker, account, env: { KASA_RATE_LIMIT: '6000', KASA_RATE_BURST: '500', KASA_ENERGY_POLL_INTERVAL: '1' } });
    await h.obs.next('kasa/rack_plug_1', (m) => nonEmpty(m) && 'power_w' in m.json<Record<string, unknown>>(), 15_000);
    await h.obs.next('kasa/kettle', nonEmpty, 15_000);
  });

  afterAll(async () => {
    await h?.stop();
    await broker?.stop();
  });

  it('is dropped whole: its device, its outlets and everything kept of them are gone and collected', async () => {
    const { registry } = h.bridge.diagnostics();
    const outletIds = registry.children(registry.node(STRIP)!).map((n) => n.id);
    expect(outletIds).toHaveLength(6);
    // A set leaves a queue on the outlet's record while it runs; the strip has timers and reads due.
    const answered = h.obs.next('kasa/rack_plug_1/response/set', since(h.obs), 10_000);
    await h.obs.publish('kasa/rack_plug_1/set', 'ON', { qos: 1 });
    await answered;
    expect(registry.device(STRIP)?.pollTimers).toBeDefined();
    const gone = new WeakRef(registry.device(STRIP)!);
    const goneOutlet = new WeakRef(registry.record(outletIds[0]!)!);

    h.sim.removeDevice(STRIP);
    const removed = h.obs.next('kasa/bridge/event', (m) => m.text.includes('device_removed') && m.text.includes(STRIP), 10_000);
    await h.obs.publish('kasa/bridge/request/devices/refresh', '{}', { qos: 1 });
    await removed;

    expect(registry.device(STRIP)).toBeUndefined();
    for (const id of [STRIP, ...outletIds]) expect(registry.record(id), id).toBeUndefined();
    expect(registry.nodes().map((n) => n.id)).toEqual([PLUG]);

    const gc = collector();
    // Reads already in flight when it left finish first; then nothing may hold it. (No deref()
    // before the collections: a deref keeps its target alive for the rest of that job.)
    for (let i = 0; i < 10; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      gc();
    }
    expect(gone.deref(), 'something still holds the removed device').toBeUndefined();
    expect(goneOutlet.deref(), "something still holds a removed outlet's record").toBeUndefined();
    // The device that stayed keeps what the bridge knows of it.
    expect(registry.record(PLUG)?.state.hasBeenRead).toBe(true);
  });

  it('the parts keep nothing by device id: per-device state lives on the Device (device.ts), which the registry drops', () => {
    // Every collection a bridge part holds, with why it is not per device. A new one must be
    // added here, or its contents moved onto the Device / NodeRecord.
    const allowed: Record<string, string> = {
      'bridgeRequests.ts:#handlers': 'request name → handler',
      'eventBus.ts:#listeners': 'event name → listeners',
      'homeassistant.ts:#retainedAtStart': "configs retained by earlier runs, kept for the start-up orphan scan, then cleared",
      'partBase.ts:#timeouts': "a part's pending one-shot timers",
    };
    const dir = new URL('../../src/bridge/', import.meta.url);
    const found: string[] = [];
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts') && f !== 'device.ts' && f !== 'registry.ts')) {
      const text = readFileSync(new URL(file, dir), 'utf8');
      for (const match of text.matchAll(/readonly (#\w+) = new (?:Map|Set|WeakMap)/g)) found.push(`${file}:${match[1]}`);
    }
    expect(found.sort()).toEqual(Object.keys(allowed).sort());
  });
});
