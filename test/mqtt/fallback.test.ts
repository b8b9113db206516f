import type { Socket } from 'node:net';
import { Aedes } from 'aedes';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../src/demo/embeddedBroker.js';
import { serveOnLoopback } from '../helpers/broker.js';
import { nextEvent, observe, readRetained, waitFor, type Observer } from '../helpers/mqttObserver.js';
import type { IncomingMessage, MqttConnection } from '../../src/mqtt/connection.js';
import { makeConnection, uniqueBase } from './setup.js';

// The in-process aedes broker answers an MQTT 5 CONNECT with a 3.1.1-style CONNACK, return code 1
// ("unacceptable protocol version"); the connection must fall back to 3.1.1 and keep it.
let broker: EmbeddedBroker;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  broker = await startEmbeddedBroker();
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(async () => {
  await broker.stop();
});

async function connected(url = broker.url): Promise<{ conn: MqttConnection; base: string; obs: Observer }> {
  const base = uniqueBase();
  const obs = await observe(url, [`${base}/#`]);
  cleanups.push(() => obs.close());
  const conn = makeConnection(url, { baseTopic: base });
  cleanups.push(() => conn.stop());
  const ready = nextEvent(conn, 'connected');
  await conn.start();
  await ready;
  return { conn, base, obs };
}

describe('fallback to MQTT 3.1.1 (embedded aedes broker)', () => {
  it('falls back on "unacceptable protocol version" and everything still works', async () => {
    const { conn, base, obs } = await connected();
    expect(conn.protocolVersion).toBe(4);
    expect(conn.mqtt5).toBe(false);
    expect((await obs.next(`${base}/bridge/state`)).json()).toEqual({ state: 'online' });

    // v5-only subscribe options are ignored, not fatal
    const got: IncomingMessage[] = [];
    await conn.subscribe(`${base}/bridge/mfa`, (m) => void got.push(m), { retainAsPublished: true, noLocal: true });
    await conn.subscribe(`${base}/bridge/request/+`, (m) => conn.respond(m, `${base}/bridge/response/health_check`, { status: 'ok' }));
    await obs.publish(`${base}/bridge/mfa`, '123456');
    await waitFor(() => got.length === 1);
    expect(got[0]!.retain).toBe(false);

    await obs.publish(`${base}/bridge/request/health_check`, '{}');
    expect((await obs.next(`${base}/bridge/response/health_check`)).json()).toEqual({ status: 'ok' });

    await conn.publish(`${base}/dev`, { state: 'ON' }, { retain: true });
    expect((await obs.retained(`${base}/dev`))?.json()).toEqual({ state: 'ON' });
  });

  it('last will, reconnect and stop under 3.1.1', async () => {
    const { conn, base, obs } = await connected();
    await obs.next(`${base}/bridge/state`, (m) => m.text.includes('online'));
    const back = nextEvent(conn, 'connected');
    conn.client!.stream.destroy();
    expect((await obs.next(`${base}/bridge/state`)).json()).toEqual({ state: 'offline' });
    await back;
    expect(conn.protocolVersion).toBe(4);
    expect((await obs.next(`${base}/bridge/state`)).json()).toEqual({ state: 'online' });
    await conn.stop();
    expect((await obs.next(`${base}/bridge/state`)).json()).toEqual({ state: 'offline' });
  });

  it('restores retained topics after the embedded broker restarts', async () => {
    const { conn, base } = await connected();
    await conn.publish(`${base}/dev`, 'kept', { retain: true });
    const port = broker.port;
    const lost = nextEvent(conn, 'disconnected');
    await broker.stop();
    await lost;
    const back = nextEvent(conn, 'connected');
    broker = await startEmbeddedBroker({ port });
    await back;
    expect(conn.protocolVersion).toBe(4);
    const retained = await readRetained(broker.url, `${base}/#`);
    expect(retained.get(`${base}/dev`)?.text).toBe('kept');
    expect(retained.get(`${base}/bridge/state`)?.json()).toEqual({ state: 'online' });
  });
});

/** An aedes broker behind a listener that drops any connection whose CONNECT says protocol 5. */
async function startV5DroppingBroker(): Promise<{ url: string; dropped: () => number; stop(): Promise<void> }> {
  const aedes = await Aedes.createBroker();
  let dropped = 0;
  const served = await serveOnLoopback(aedes, (socket: Socket) => {
    socket.once('data', (chunk: Buffer) => {
      // fixed header, remaining length (1–4 bytes), then "\0\4MQTT" and the protocol level
      let i = 1;
      while ((chunk[i]! & 0x80) !== 0) i++;
      const level = chunk[i + 7];
      if (level === 5) {
        dropped++;
        socket.destroy();
        return;
      }
      socket.pause();
      socket.unshift(chunk);
      aedes.handle(socket);
    });
  });
  return { ...served, dropped: () => dropped };
}

describe('fallback when the broker just closes an MQTT 5 connection', () => {
  it('tries 3.1.1 after a close without CONNACK and keeps it', async () => {
    const dropping = await startV5DroppingBroker();
    cleanups.push(() => dropping.stop());
    const { conn, base, obs } = await connected(dropping.url);
    expect(dropping.dropped()).toBe(1);
    expect(conn.protocolVersion).toBe(4);
    expect((await obs.next(`${base}/bridge/state`)).json()).toEqual({ state: 'online' });
  });
});
