import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { nextEvent, observe, waitFor, type Observer } from '../helpers/mqttObserver.js';
import type { IncomingMessage, MqttConnection } from '../../src/mqtt/connection.js';
import { NO_NODELAY_RECORD, makeConnection, noDelayOf, uniqueBase } from './setup.js';

let broker: TestBroker;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  broker = await startTestBroker();
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(async () => {
  await broker.stop();
});

/** Start a connection whose base topic an observer already watches. */
async function connected(): Promise<{ conn: MqttConnection; base: string; obs: Observer }> {
  const base = uniqueBase();
  const obs = await observe(broker.url, [`${base}/#`]);
  cleanups.push(() => obs.close());
  const conn = makeConnection(broker.url, { baseTopic: base });
  cleanups.push(() => conn.stop());
  const ready = nextEvent(conn, 'connected');
  await conn.start();
  await ready;
  return { conn, base, obs };
}

describe('MqttConnection lifecycle', () => {
  it('publishes online (retained) on connect and offline on stop', async () => {
    const { conn, base, obs } = await connected();
    expect(conn.connected).toBe(true);
    expect(conn.protocolVersion).toBe(broker.mqtt5 ? 5 : 4);
    expect((await obs.next(`${base}/bridge/state`)).json()).toEqual({ state: 'online' });
    expect((await obs.retained(`${base}/bridge/state`))?.json()).toEqual({ state: 'online' });

    await conn.stop();
    expect(conn.connected).toBe(false);
    expect((await obs.next(`${base}/bridge/state`)).json()).toEqual({ state: 'offline' });
    expect((await obs.retained(`${base}/bridge/state`))?.json()).toEqual({ state: 'offline' });
  });

  it('the last will marks the bridge offline when its socket dies, then it comes back online', async () => {
    const { conn, base, obs } = await connected();
    await obs.next(`${base}/bridge/state`, (m) => m.json<{ state: string }>().state === 'online');
    const back = nextEvent(conn, 'connected');
    const lost = nextEvent(conn, 'disconnected');
    conn.client!.stream.destroy(); // a crash, as far as the broker can tell
    await lost;
    const offline = await obs.next(`${base}/bridge/state`);
    expect(offline.json()).toEqual({ state: 'offline' });
    await back;
    expect((await obs.next(`${base}/bridge/state`)).json()).toEqual({ state: 'online' });
  });

  it('sets TCP_NODELAY on its socket at connect and again on the new socket after a reconnect', async (ctx) => {
    const { conn } = await connected();
    const first = conn.client!.stream;
    if (noDelayOf(first) === undefined) ctx.skip(NO_NODELAY_RECORD);
    expect(noDelayOf(first)).toBe(true);
    const back = nextEvent(conn, 'connected');
    first.destroy(); // as a network drop would
    await back;
    const second = conn.client!.stream;
    expect(second).not.toBe(first);
    expect(noDelayOf(second)).toBe(true);
  });

  it('waitForConnection resolves once connected and honours an abort signal', async () => {
    const conn = makeConnection(broker.url);
    cleanups.push(() => conn.stop());
    const aborted = new AbortController();
    aborted.abort(new Error('gave up'));
    await expect(conn.waitForConnection(aborted.signal)).rejects.toThrow('gave up');
    await conn.start();
    await conn.waitForConnection(AbortSignal.timeout(5000));
    expect(conn.connected).toBe(true);
  });
});

describe('MqttConnection publish and subscribe', () => {
  it('publishes QoS 1 JSON objects, strings and buffers; retain only when asked', async () => {
    const { conn, base, obs } = await connected();
    await conn.publish(`${base}/a`, { x: 1 }, { retain: true });
    await conn.publish(`${base}/b`, 'plain');
    await conn.publish(`${base}/c`, Buffer.from([1, 2, 3]));
    expect((await obs.next(`${base}/a`)).json()).toEqual({ x: 1 });
    expect((await obs.next(`${base}/b`)).text).toBe('plain');
    expect([...(await obs.next(`${base}/c`)).payload]).toEqual([1, 2, 3]);
    expect(await obs.retained(`${base}/a`)).toBeDefined();
    expect(await obs.retained(`${base}/b`)).toBeUndefined();
  });

  it('never throws on bad input', async () => {
    const { conn, base } = await connected();
    await expect(conn.publish(`${base}/+/x`, 'nope')).resolves.toBeUndefined();
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await expect(conn.publish(`${base}/x`, circular)).resolves.toBeUndefined();
    await expect(conn.subscribe(`${base}/#/x`, () => undefined)).rejects.toThrow('invalid MQTT topic filter');
  });

  it('dispatches by wildcard, to every matching handler, and unsubscribes', async () => {
    const { conn, base, obs } = await connected();
    const got: Record<string, string[]> = { plus: [], hash: [], exact: [] };
    const record = (name: string) => (m: IncomingMessage) => void got[name]!.push(`${m.topic}=${m.payload.toString()}`);
    const unPlus = await conn.subscribe(`${base}/+/set`, record('plus'));
    await conn.subscribe(`${base}/lamp/#`, record('hash'));
    await conn.subscribe(`${base}/lamp/set`, record('exact'));

    await obs.publish(`${base}/lamp/set`, 'ON');
    await obs.publish(`${base}/plug/set`, 'OFF');
    await obs.publish(`${base}/lamp/set/brightness`, '40');
    await obs.publish(`${base}/lamp`, 'x');
    await waitFor(() => got.hash!.length === 3 && got.plus!.length === 2);
    expect(got.plus).toEqual([`${base}/lamp/set=ON`, `${base}/plug/set=OFF`]);
    expect(got.hash).toEqual([`${base}/lamp/set=ON`, `${base}/lamp/set/brightness=40`, `${base}/lamp=x`]);
    expect(got.exact).toEqual([`${base}/lamp/set=ON`]);

    await unPlus();
    await obs.publish(`${base}/plug/set`, 'ON');
    await obs.publish(`${base}/lamp/set`, 'TOGGLE');
    await waitFor(() => got.exact!.length === 2);
    expect(got.plus).toHaveLength(2);
  });

  it('a throwing or rejecting handler does not stop the others', async () => {
    const { conn, base, obs } = await connected();
    const seen: string[] = [];
    await conn.subscribe(`${base}/cmd`, () => {
      throw new Error('boom');
    });
    await conn.subscribe(`${base}/cmd`, async () => {
      await Promise.resolve();
      throw new Error('async boom');
    });
    await conn.subscribe(`${base}/+`, (m) => void seen.push(m.payload.toString()));
    await obs.publish(`${base}/cmd`, '1');
    await obs.publish(`${base}/cmd`, '2');
    await waitFor(() => seen.length === 2);
    expect(seen).toEqual(['1', '2']);
    expect(conn.connected).toBe(true);
  });
});
