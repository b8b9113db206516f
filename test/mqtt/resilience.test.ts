import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { nextEvent, observe, readRetained, waitFor } from '../helpers/mqttObserver.js';
import type { IncomingMessage } from '../../src/mqtt/connection.js';
import { makeConnection, uniqueBase } from './setup.js';

let broker: TestBroker;
let stopped = false;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  broker = await startTestBroker();
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  if (stopped) await broker.start(); // a test that failed mid-outage must not break the next one
  stopped = false;
});
afterAll(async () => {
  await broker.stop();
});

async function stopBroker(): Promise<void> {
  await broker.stop();
  stopped = true;
}
async function startBroker(): Promise<void> {
  await broker.start();
  stopped = false;
}

const SKIP_REASON = 'needs a broker that can be stopped and restarted (spawned mosquitto or embedded aedes)';

describe('broker outages', () => {
  it('a daemon started before its broker keeps retrying with backoff and connects when the broker appears', async (ctx) => {
    if (!broker.canRestart) ctx.skip(SKIP_REASON);
    await stopBroker();
    const base = uniqueBase();
    const conn = makeConnection(broker.url, { baseTopic: base, reconnectMinMs: 20, reconnectMaxMs: 80 });
    cleanups.push(() => conn.stop());
    await conn.start(); // resolves although nothing listens
    expect(conn.connected).toBe(false);
    void conn.publish(`${base}/early`, 'queued', { retain: true });
    // backoff doubles from the minimum up to the maximum while the broker is away
    await waitFor(() => conn.client?.options.reconnectPeriod === 80, 5000, 'backoff to reach its maximum');
    const ready = nextEvent(conn, 'connected');
    await startBroker();
    await ready;
    expect(conn.client?.options.reconnectPeriod).toBe(20);
    const retained = await readRetained(broker.url, `${base}/#`);
    expect(retained.get(`${base}/bridge/state`)?.json()).toEqual({ state: 'online' });
    expect(retained.get(`${base}/early`)?.text).toBe('queued');
  });

  it('after a broker restart without persistence: retained topics are restored and subscriptions work again', async (ctx) => {
    if (!broker.canRestart) ctx.skip(SKIP_REASON);
    const base = uniqueBase();
    const conn = makeConnection(broker.url, { baseTopic: base });
    cleanups.push(() => conn.stop());
    const first = nextEvent(conn, 'connected');
    await conn.start();
    await first;
    const got: string[] = [];
    await conn.subscribe(`${base}/+/set`, (m) => void got.push(`${m.topic}=${m.payload.toString()}`));
    for (let i = 0; i < 200; i++) void conn.publish(`${base}/dev${i}`, { state: i % 2 ? 'ON' : 'OFF', i }, { retain: true });
    await conn.publish(`${base}/gone`, 'x', { retain: true });
    await conn.publish(`${base}/gone`, '', { retain: true }); // cleared: must not come back
    await conn.publish(`${base}/event`, 'not retained');
    expect((await readRetained(broker.url, `${base}/#`)).size).toBe(201);

    const lost = nextEvent(conn, 'disconnected');
    await stopBroker();
    await lost;
    await startBroker(); // persistence is off: the broker comes back empty
    await conn.waitForConnection(AbortSignal.timeout(5000));

    const retained = await readRetained(broker.url, `${base}/#`);
    expect(retained.size).toBe(201);
    expect(retained.get(`${base}/bridge/state`)?.json()).toEqual({ state: 'online' });
    expect(retained.get(`${base}/dev7`)?.json()).toEqual({ state: 'ON', i: 7 });
    expect(retained.has(`${base}/gone`)).toBe(false);
    expect(retained.has(`${base}/event`)).toBe(false);

    const obs = await observe(broker.url);
    cleanups.push(() => obs.close());
    await obs.publish(`${base}/lamp/set`, 'ON');
    await waitFor(() => got.length === 1);
    expect(got).toEqual([`${base}/lamp/set=ON`]);
  });

  it('while disconnected, state is kept newest-per-topic and answers/events each; all flushed in order', async (ctx) => {
    if (!broker.canRestart) ctx.skip(SKIP_REASON);
    const base = uniqueBase();
    const conn = makeConnection(broker.url, { baseTopic: base });
    cleanups.push(() => conn.stop());
    await conn.start();
    await conn.waitForConnection();
    // The connection watches its own topics: its subscriptions are renewed before the flush on
    // the same socket, so it sees exactly what was flushed.
    const seen: IncomingMessage[] = [];
    await conn.subscribe(`${base}/out/#`, (m) => void seen.push(m));

    const lost = nextEvent(conn, 'disconnected');
    await stopBroker();
    await lost;
    const sends = [
      conn.publish(`${base}/out/a`, '1', { retain: true }),
      conn.publish(`${base}/out/b`, '1'),
      conn.publish(`${base}/out/a`, '2', { retain: true }),
      conn.publish(`${base}/out/c`, '1'),
      conn.publish(`${base}/out/b`, '2'),
      conn.publish(`${base}/out/q0`, '1', { qos: 0 }),
    ];
    await Promise.all(sends); // resolve at once: buffered
    expect(conn.bufferedCount).toBe(5);
    const back = nextEvent(conn, 'connected');
    await startBroker();
    await back;
    await waitFor(() => seen.length >= 5);
    await conn.publish(`${base}/out/end`, 'barrier');
    await waitFor(() => seen.some((m) => m.topic.endsWith('/end')));
    const flushed = seen.map((m) => `${m.topic.slice(base.length + 5)}=${m.payload.toString()}`);
    // MQTT orders messages per QoS level only (aedes delivers QoS 0 ahead of QoS 1), so the QoS 0
    // message is checked for presence and the QoS 1 ones for order.
    expect(flushed.filter((s) => s !== 'q0=1')).toEqual(['b=1', 'a=2', 'c=1', 'b=2', 'end=barrier']);
    expect(flushed.filter((s) => s === 'q0=1')).toHaveLength(1);
    expect(conn.bufferedCount).toBe(0);
  });

  it('stop() is bounded while the broker is away', async (ctx) => {
    if (!broker.canRestart) ctx.skip(SKIP_REASON);
    const conn = makeConnection(broker.url, { stopTimeoutMs: 500 });
    await conn.start();
    await conn.waitForConnection();
    const lost = nextEvent(conn, 'disconnected');
    await stopBroker();
    await lost;
    void conn.publish('x/y', 'pending');
    const t0 = Date.now();
    await conn.stop();
    expect(Date.now() - t0).toBeLessThan(600);
  });
});
