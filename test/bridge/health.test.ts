import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BridgeAuthPayload, BridgeResponse } from '../../src/api/types.js';
import { runHealthcheck } from '../../src/health/healthcheck.js';
import { demoAccount } from '../../src/simulator/catalog.js';
import { freePort, startTestBroker, type TestBroker } from '../helpers/broker.js';
import { startHarness, type Harness } from '../helpers/bridgeHarness.js';

describe('health endpoint and metrics of the running bridge', () => {
  let broker: TestBroker;
  let h: Harness;
  let port: number;
  const account = demoAccount({ username: 'health@example.com' });
  const get = async (path: string) => {
    const res = await request(`http://127.0.0.1:${port}${path}`);
    return { status: res.statusCode, text: await res.body.text() };
  };

  beforeAll(async () => {
    broker = await startTestBroker();
    port = await freePort();
    h = await startHarness({ broker, account, env: { HEALTH_PORT: String(port) } });
  });
  afterAll(async () => {
    await h?.stop();
    await broker?.stop();
  });

  it('is alive but not ready while waiting for the MFA code: the watchdog and HEALTHCHECK see no reason to restart', async () => {
    await h.obs.next('kasa/bridge/auth', (m) => m.json<BridgeAuthPayload>().state === 'mfa_required');
    const live = await get('/healthz');
    expect(live.status).toBe(200);
    expect(await runHealthcheck({ HEALTH_PORT: String(port) })).toBe(0);
    const ready = await get('/readyz');
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.text)).toMatchObject({ status: 'unhealthy', reasons: ['mfa_required: waiting for the code on kasa/bridge/mfa'] });
  });

  it('is ready once logged in, and so says bridge/request/health_check', async () => {
    await h.obs.publish('kasa/bridge/mfa', account.mfaCode!, { qos: 1 });
    await h.obs.next('kasa/bridge/auth', (m) => m.json<BridgeAuthPayload>().state === 'authenticated');
    const res = await get('/readyz');
    expect(res.status).toBe(200);
    expect(await runHealthcheck({ HEALTH_PORT: String(port) })).toBe(0);
    await h.obs.publish('kasa/bridge/request/health_check', '{"transaction":"hc"}', { qos: 1 });
    const answer = (await h.obs.next('kasa/bridge/response/health_check')).json<BridgeResponse<{ healthy: boolean }>>();
    expect(answer).toMatchObject({ status: 'ok', transaction: 'hc', data: { healthy: true, mqtt: 'connected', auth: 'authenticated' } });
  });

  it('exports cloud requests, command latency and device counts in Prometheus format', async () => {
    await h.obs.next('kasa/bedroom_desk_light', (m) => m.text !== '', 15_000);
    await h.obs.publish('kasa/bedroom_desk_light/set', 'ON', { qos: 1 });
    await h.obs.next('kasa/bedroom_desk_light/response/set');
    const res = await get('/metrics');
    expect(res.status).toBe(200);
    // The first login answered "MFA required" (a cloud error); the code check then logged in.
    expect(res.text).toMatch(/kasa2mqtt_cloud_requests_total\{operation="login",result="cloud_error"\} 1/);
    expect(res.text).toMatch(/kasa2mqtt_cloud_requests_total\{operation="checkMFACodeAndLogin",result="ok"\} 1/);
    expect(res.text).toMatch(/kasa2mqtt_cloud_requests_total\{operation="passthrough",result="ok"\} [1-9]/);
    expect(res.text).toMatch(/kasa2mqtt_command_latency_seconds_count\{status="ok"\} 1/);
    expect(res.text).toMatch(/kasa2mqtt_session_state\{state="authenticated"\} 1/);
    expect(res.text).toMatch(/kasa2mqtt_mqtt_connected 1/);
    expect(res.text).toMatch(/kasa2mqtt_devices_online [1-9]/);
    expect(res.text).not.toContain(account.password);
  });
});
