/**
 * MQTT 5 response topics that name another system's command topic (confused deputy): the bridge
 * must not publish its answer there with its own broker rights, only on its normal answer topic.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import type { MqttConnection } from '../../src/mqtt/connection.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { LogCapture } from '../helpers/bridgeHarness.js';
import { nextEvent, observe, type Observer } from '../helpers/mqttObserver.js';
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

/** Command topics of this bridge, zigbee2mqtt, Home Assistant (prefix `ha`) and Tasmota. */
const COMMAND_TOPICS = (base: string) => [
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
];

async function answering(base: string, logs: LogCapture): Promise<{ conn: MqttConnection; obs: Observer }> {
  const obs = await observe(broker.url, ['#'], { protocolVersion: 5 });
  cleanups.push(() => obs.close());
  const conn = makeConnection(broker.url, {
    baseTopic: base,
    discoveryPrefix: `${base}ha`,
    logger: createLogger({ level: 'warn', destination: logs }),
  });
  cleanups.push(() => conn.stop());
  const ready = nextEvent(conn, 'connected');
  await conn.start();
  await ready;
  await conn.subscribe(`${base}/ask`, (m) => conn.respond(m, `${base}/bridge/response/health_check`, { status: 'ok' }));
  return { conn, obs };
}

describe('MQTT 5 response topics', () => {
  it('never answers on a command topic, only on the normal response topic, with one warning per topic', async (ctx) => {
    if (!broker.mqtt5) ctx.skip('needs an MQTT 5 broker (response topics are MQTT 5)');
    const base = uniqueBase();
    const logs = new LogCapture();
    const { obs } = await answering(base, logs);
    const forbidden = COMMAND_TOPICS(base);
    for (const responseTopic of [...forbidden, ...forbidden]) {
      await obs.publish(`${base}/ask`, '{}', { qos: 1, properties: { responseTopic, correlationData: Buffer.from('x') } });
    }
    // A harmless response topic afterwards: it is answered, and proves the others were handled.
    await obs.publish(`${base}/ask`, '{}', { qos: 1, properties: { responseTopic: `${base}/replies/mine`, correlationData: Buffer.from('ok') } });
    const reply = await obs.next(`${base}/replies/mine`);
    expect(reply.properties?.correlationData?.toString()).toBe('ok');
    await obs.barrier();

    expect(obs.on(`${base}/bridge/response/health_check`)).toHaveLength(forbidden.length * 2 + 1);
    for (const topic of forbidden) expect(obs.on(topic), topic).toEqual([]);
    const warnings = logs.lines.filter((l) => l.includes('refused an MQTT 5 response topic'));
    expect(warnings).toHaveLength(forbidden.length);
    for (const topic of forbidden) expect(warnings.filter((w) => w.includes(`"${topic}"`)), topic).toHaveLength(1);
  });
});
