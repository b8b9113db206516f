import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { nextEvent, observe, waitFor, type Observer } from '../helpers/mqttObserver.js';
import type { IncomingMessage, MqttConnection, MqttConnectionOptions } from '../../src/mqtt/connection.js';
import { createLogger } from '../../src/logger.js';
import { LogCapture } from '../helpers/bridgeHarness.js';
import { makeConnection, uniqueBase } from './setup.js';

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

async function connected(
  overrides: (base: string) => Partial<MqttConnectionOptions> = () => ({}),
  filters: (base: string) => string[] = (base) => [`${base}/#`],
): Promise<{ conn: MqttConnection; base: string; obs: Observer }> {
  const base = uniqueBase();
  const obs = await observe(broker.url, filters(base), { protocolVersion: 5 });
  cleanups.push(() => obs.close());
  const conn = makeConnection(broker.url, { baseTopic: base, ...overrides(base) });
  cleanups.push(() => conn.stop());
  const ready = nextEvent(conn, 'connected');
  await conn.start();
  await ready;
  return { conn, base, obs };
}

const SKIP_REASON = 'needs an MQTT 5 broker (the embedded aedes broker speaks 3.1.1 only)';

describe('MQTT 5 features', () => {
  it('connects with MQTT 5', async (ctx) => {
    if (!broker.mqtt5) ctx.skip(SKIP_REASON);
    const { conn } = await connected();
    expect(conn.protocolVersion).toBe(5);
    expect(conn.mqtt5).toBe(true);
  });

  it('respond() answers on the fallback topic and on the response topic with the correlation data', async (ctx) => {
    if (!broker.mqtt5) ctx.skip(SKIP_REASON);
    const { conn, base, obs } = await connected(undefined, (b) => [`${b}/#`, `${b}client/#`]);
    await conn.subscribe(`${base}/bridge/request/#`, (m) => conn.respond(m, `${base}/bridge/response/health_check`, { status: 'ok' }));
    const correlationData = Buffer.from('req-42');
    await obs.publish(`${base}/bridge/request/health_check`, '{}', {
      qos: 1,
      properties: { responseTopic: `${base}client/replies/abc`, correlationData },
    });
    const fallback = await obs.next(`${base}/bridge/response/health_check`);
    expect(fallback.json()).toEqual({ status: 'ok' });
    expect(fallback.retain).toBe(false);
    const direct = await obs.next(`${base}client/replies/abc`);
    expect(direct.json()).toEqual({ status: 'ok' });
    expect(direct.retain).toBe(false);
    expect(direct.properties?.correlationData?.toString()).toBe('req-42');

    // without a response topic: only the fallback topic
    await obs.publish(`${base}/bridge/request/health_check`, '{}');
    await obs.next(`${base}/bridge/response/health_check`);
    await obs.barrier();
    expect(obs.on(`${base}client/replies/#`)).toHaveLength(1);
  });

  it('retain-as-published shows a live retained publish as retained, per subscription', async (ctx) => {
    if (!broker.mqtt5) ctx.skip(SKIP_REASON);
    const { conn, base, obs } = await connected();
    const rap: IncomingMessage[] = [];
    const plain: IncomingMessage[] = [];
    await conn.subscribe(`${base}/bridge/mfa`, (m) => void rap.push(m), { retainAsPublished: true });
    await conn.subscribe(`${base}/bridge/+`, (m) => void (m.topic.endsWith('/mfa') && plain.push(m)));
    await obs.publish(`${base}/bridge/mfa`, '123456', { qos: 1, retain: true });
    await obs.publish(`${base}/bridge/mfa`, '654321', { qos: 1 });
    await waitFor(() => rap.length === 2 && plain.length === 2);
    expect(rap.map((m) => [m.payload.toString(), m.retain])).toEqual([
      ['123456', true],
      ['654321', false],
    ]);
    // the overlapping subscription without the option sees the same live publish as not retained
    expect(plain.map((m) => [m.payload.toString(), m.retain])).toEqual([
      ['123456', false],
      ['654321', false],
    ]);
    await conn.publish(`${base}/bridge/mfa`, '', { retain: true });
  });

  it('no-local hides our own publishes from that subscription', async (ctx) => {
    if (!broker.mqtt5) ctx.skip(SKIP_REASON);
    const { conn, base, obs } = await connected();
    const got: string[] = [];
    await conn.subscribe(`${base}/echo`, (m) => void got.push(m.payload.toString()), { noLocal: true });
    await conn.publish(`${base}/echo`, 'mine');
    await obs.next(`${base}/echo`, (m) => m.text === 'mine');
    await obs.publish(`${base}/echo`, 'theirs');
    await waitFor(() => got.length === 1);
    expect(got).toEqual(['theirs']);
  });

  it('passes MQTT 5 publish properties through', async (ctx) => {
    if (!broker.mqtt5) ctx.skip(SKIP_REASON);
    const { conn, base, obs } = await connected();
    await conn.publish(`${base}/req`, 'x', { properties: { responseTopic: `${base}/back`, correlationData: Buffer.from([7]) } });
    const m = await obs.next(`${base}/req`);
    expect(m.properties?.responseTopic).toBe(`${base}/back`);
    expect([...(m.properties?.correlationData ?? [])]).toEqual([7]);
  });

  it('respond() never answers on a command topic, only on the fallback topic, with one warning per topic', async (ctx) => {
    if (!broker.mqtt5) ctx.skip(SKIP_REASON);
    const logs = new LogCapture();
    const logger = createLogger({ level: 'warn', destination: logs });
    const { conn, base, obs } = await connected((b) => ({ discoveryPrefix: `${b}ha`, logger }), () => ['#']);
    await conn.subscribe(`${base}/ask`, (m) => conn.respond(m, `${base}/bridge/response/health_check`, { status: 'ok' }));
    // Command topics of this bridge, zigbee2mqtt, Home Assistant (discovery prefix `<base>ha`) and Tasmota.
    const forbidden = [
      `${base}/bridge/request/devices/refresh`,
      `${base}/lamp/set`,
      `${base}/lamp/set/brightness`,
      `${base}/lamp/get`,
      `${base}z2m/bridge/request/restart`,
      `${base}z2m/kitchen_light/set`,
      `${base}z2m/kitchen_light/get`,
      `${base}ha/light/kitchen/config`,
      `cmnd/${base}tasmota/POWER`,
      `${base}tasmota/cmnd/POWER`,
      // The bridge's own topics: a forged state, availability, auth or answer, or its MFA input.
      base,
      `${base}/bridge/state`,
      `${base}/bridge/auth`,
      `${base}/bridge/mfa`,
      `${base}/bridge/event`,
      `${base}/bridge/response/device/rename`,
      `${base}/lamp`,
      `${base}/lamp/availability`,
      `${base}/replies/mine`,
    ];
    for (const responseTopic of [...forbidden, ...forbidden]) {
      await obs.publish(`${base}/ask`, '{}', { qos: 1, properties: { responseTopic, correlationData: Buffer.from('x') } });
    }
    // A harmless response topic afterwards: answered, and proof that the others were handled.
    await obs.publish(`${base}/ask`, '{}', { qos: 1, properties: { responseTopic: `${base}client/replies`, correlationData: Buffer.from('ok') } });
    expect((await obs.next(`${base}client/replies`)).properties?.correlationData?.toString()).toBe('ok');
    await obs.barrier();

    expect(obs.on(`${base}/bridge/response/health_check`)).toHaveLength(forbidden.length * 2 + 1);
    // (The connection's own retained `{"state":"online"}` has no correlation data; an answer would.)
    for (const topic of forbidden) expect(obs.on(topic).filter((m) => m.properties?.correlationData), topic).toEqual([]);
    const warnings = logs.lines.filter((l) => l.includes('refused an MQTT 5 response topic'));
    expect(warnings).toHaveLength(forbidden.length);
    for (const topic of forbidden) expect(warnings.filter((w) => w.includes(`"${topic}"`)), topic).toHaveLength(1);
  });

  it('remembers refused response topics in bounded memory, however long each topic is', async (ctx) => {
    if (!broker.mqtt5) ctx.skip(SKIP_REASON);
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const logger = createLogger({ level: 'silent' });
    const { conn, base, obs } = await connected(
      (b) => ({ logger, discoveryPrefix: `${b}ha` }),
      (b) => [`${b}client/#`],
    );
    await conn.subscribe(`${base}/ask`, (m) => conn.respond(m, `${base}/bridge/response/health_check`, { status: 'ok' }));
    gc();
    const before = process.memoryUsage().heapUsed;
    // 256 distinct refused topics (as many as are remembered), each near the 64 KiB topic limit.
    const long = 'x'.repeat(60_000);
    for (let i = 0; i < 256; i += 1) {
      await obs.publish(`${base}/ask`, '{}', { qos: 1, properties: { responseTopic: `${base}ha/${i}/${long}` } });
    }
    await obs.publish(`${base}/ask`, '{}', { qos: 1, properties: { responseTopic: `${base}client/replies` } });
    await obs.next(`${base}client/replies`);
    gc();
    // Kept whole, they were 15 MB for the life of the process.
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(4 * 2 ** 20);
  });
});
