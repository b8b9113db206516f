/**
 * README "Several accounts": one kasa2mqtt per TP-Link account, each with its own DATA_DIR,
 * MQTT_BASE_TOPIC and client id, all on one broker and one Home Assistant discovery prefix. The
 * two bridges must keep to their own topics and discovery configs, and neither may clear the
 * other's retained configs when it starts (its orphan scan sees them all).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BridgeDeviceEntry, BridgeResponse } from '../../src/api/types.js';
import { demoAccount, manyDevices, stableDeviceId } from '../../src/simulator/catalog.js';
import { startSimulator } from '../../src/simulator/index.js';
import type { SimAccountSpec, Simulator } from '../../src/simulator/types.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { startHarness, type Harness } from '../helpers/bridgeHarness.js';
import { empty, nonEmpty, observe, readRetained, since, waitFor, type ObservedMessage, type Observer } from '../helpers/mqttObserver.js';

const CONFIGS = 'homeassistant/device/+/config';
const home: SimAccountSpec = demoAccount({ username: 'home@example.com', password: 'home-pw', mfa: false });
const cabin: SimAccountSpec = { username: 'cabin@example.com', password: 'cabin-pw', mfa: false, devices: manyDevices(4) };

interface Instance {
  h: Harness;
  base: string;
  clientId: string;
  devices: BridgeDeviceEntry[];
}

/** Every `<base>/…` topic a discovery config points at (state, command, availability …). */
function topicsIn(config: ObservedMessage): string[] {
  return [...config.text.matchAll(/"([^"\s]+\/[^"\s]*)"/g)].map((m) => m[1]!).filter((t) => !t.startsWith('http'));
}
const basesIn = (config: ObservedMessage) => new Set(topicsIn(config).map((t) => t.split('/')[0]));

describe('two bridges (two accounts) on one broker', () => {
  let broker: TestBroker;
  let sim: Simulator;
  let all: Observer;
  const instances: Instance[] = [];

  async function start(account: SimAccountSpec, base: string, clientId: string): Promise<Instance> {
    const h = await startHarness({
      broker,
      account,
      sim,
      env: { MQTT_BASE_TOPIC: base, MQTT_CLIENT_ID: clientId, KASA_RATE_LIMIT: '6000', KASA_RATE_BURST: '500' },
    });
    const devices = (await h.obs.next(`${base}/bridge/devices`, (m) => nonEmpty(m) && m.json<unknown[]>().length === (account.devices?.length ?? 0) + outlets(account), 15_000)).json<BridgeDeviceEntry[]>();
    return { h, base, clientId, devices };
  }
  /** Outlets appear as their own nodes once their strip has answered. */
  function outlets(account: SimAccountSpec): number {
    return account === home ? 9 : 0;
  }
  /** The retained configs that point at `base`, once every node of the bridge has one. */
  async function configsOf(instance: Instance): Promise<Map<string, ObservedMessage>> {
    const nodes = instance.devices.filter((d) => d.supported).length;
    let configs = new Map<string, ObservedMessage>();
    await waitFor(
      async () => {
        const retained = await readRetained(broker.url, CONFIGS);
        configs = new Map([...retained].filter(([, m]) => nonEmpty(m) && basesIn(m).has(instance.base)));
        return configs.size === nodes + 1; // + the bridge device
      },
      15_000,
      `every discovery config of ${instance.base}`,
    );
    return configs;
  }

  beforeAll(async () => {
    broker = await startTestBroker();
    sim = await startSimulator({ accounts: [home, cabin] });
    all = await observe(broker.url, ['#'], { protocolVersion: broker.mqtt5 ? 5 : 4 });
    instances.push(await start(home, 'kasa_home', 'kasa2mqtt_home'), await start(cabin, 'kasa_cabin', 'kasa2mqtt_cabin'));
  }, 60_000);
  afterAll(async () => {
    for (const { h } of instances) await h.stop();
    await all?.close();
    await sim?.stop();
    await broker?.stop();
  });

  it('run side by side: own data directory and client id, both online', async () => {
    const [a, b] = instances as [Instance, Instance];
    expect(a.h.dataDir).not.toBe(b.h.dataDir);
    for (const instance of instances) {
      const info = await a.h.obs.retained(`${instance.base}/bridge/info`);
      expect(info?.json<{ config: Record<string, unknown> }>().config).toMatchObject({
        MQTT_BASE_TOPIC: instance.base,
        MQTT_CLIENT_ID: instance.clientId,
      });
      expect((await a.h.obs.retained(`${instance.base}/bridge/state`))?.json()).toEqual({ state: 'online' });
    }
    // Neither was kicked off the broker by the other (same client id would do that).
    expect(all.messages.filter((m) => m.topic.endsWith('/bridge/state') && m.text.includes('offline'))).toEqual([]);
  });

  it('publish each account under its own base topic only', () => {
    const [a, b] = instances as [Instance, Instance];
    const keysUnder = (base: string) =>
      new Set(all.messages.filter((m) => m.topic.startsWith(`${base}/`) && !m.topic.startsWith(`${base}/bridge/`)).map((m) => m.topic.split('/')[1]));
    const keysOf = (i: Instance) => new Set(i.devices.map((d) => d.key));
    for (const [mine, other] of [[a, b], [b, a]] as const) {
      const seen = keysUnder(mine.base);
      expect(seen.size).toBeGreaterThan(0);
      for (const key of seen) expect(keysOf(mine).has(key!), `${mine.base}/${key}`).toBe(true);
      for (const id of other.devices.map((d) => d.id)) expect(mine.devices.map((d) => d.id)).not.toContain(id);
    }
    // Nothing else on the broker besides the two base topics and discovery (and the test's own barriers).
    const roots = new Set(all.messages.map((m) => m.topic.split('/')[0]));
    expect([...roots].filter((r) => r !== 'test').sort()).toEqual(['homeassistant', 'kasa_cabin', 'kasa_home']);
  });

  it('publish discovery configs that point at one bridge each, with distinct bridge devices', async () => {
    const [a, b] = instances as [Instance, Instance];
    const configsA = await configsOf(a);
    const configsB = await configsOf(b);
    for (const [topic, config] of [...configsA, ...configsB]) expect([...basesIn(config)], topic).toHaveLength(1);
    const bridgeTopics = [...configsA.keys(), ...configsB.keys()].filter((t) => t.includes('/kasa_bridge_'));
    expect(new Set(bridgeTopics).size).toBe(2);
    expect([...configsA.keys()].filter((t) => configsB.has(t))).toEqual([]);
  });

  it('a bridge that restarts clears its own orphans, never the other bridge’s configs', { timeout: 60_000 }, async () => {
    for (const [index, other] of [[0, 1], [1, 0]] as const) {
      const me = instances[index]!;
      const them = instances[other]!;
      const theirs = await configsOf(them);
      // A device this bridge published once and that is no longer in its account.
      const goneId = stableDeviceId(`gone-from-${me.base}`);
      const orphan = `homeassistant/device/kasa_${goneId}/config`;
      await all.publish(
        orphan,
        JSON.stringify({ device: { identifiers: [`kasa_${goneId}`] }, state_topic: `${me.base}/gone_plug`, components: {} }),
        { qos: 1, retain: true },
      );

      const after = since(all);
      await me.h.restartBridge();
      await all.next(orphan, (m) => after(m) && empty(m), 15_000);
      // The scan clears in one pass; a request answered after it proves every clearing has arrived.
      const answered = all.next(`${me.base}/bridge/response/health_check`, after, 10_000);
      await all.publish(`${me.base}/bridge/request/health_check`, '{}', { qos: 1 });
      expect((await answered).json<BridgeResponse>().status).toBe('ok');

      const cleared = all.messages.filter((m) => after(m) && empty(m) && m.topic.startsWith('homeassistant/')).map((m) => m.topic);
      expect(cleared).toEqual([orphan]);
      const still = await readRetained(broker.url, CONFIGS);
      for (const topic of theirs.keys()) expect(still.get(topic)?.text, topic).toBe(theirs.get(topic)!.text);
      expect((await me.h.obs.retained(`${me.base}/bridge/state`))?.json()).toEqual({ state: 'online' });
    }
  });
});
