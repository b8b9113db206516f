/**
 * DATA_DIR as the running bridge uses it: a second daemon refused by the lock leaves the first
 * one's files alone, and a full disk (a real small tmpfs) neither loops token refreshes nor goes
 * unreported.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BridgeAuthPayload, BridgeDeviceEntry, BridgeStatePayload } from '../../src/api/types.js';
import { Bridge } from '../../src/bridge/bridge.js';
import { DataDirBusyError } from '../../src/dataDirLock.js';
import { createLogger } from '../../src/logger.js';
import { demoAccount } from '../../src/simulator/catalog.js';
import { freePort, startTestBroker, type TestBroker } from '../helpers/broker.js';
import { LogCapture, startHarness, type Harness } from '../helpers/bridgeHarness.js';
import { mountSmallDisk } from '../helpers/smallDisk.js';

const authenticated = (m: { json<T>(): T }) => m.json<BridgeAuthPayload>().state === 'authenticated';
const FILES = ['session.json', 'topic-keys.json', 'mqtt-client-id'];

describe('DATA_DIR of a running bridge', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startTestBroker();
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('a second daemon refused by the lock has not touched the first one\'s session, topic keys or client id', async () => {
    const account = demoAccount({ username: 'first@example.com', mfa: false });
    const h = await startHarness({ broker, account });
    try {
      await h.obs.next('kasa/bridge/auth', authenticated, 10_000);
      await h.obs.next('kasa/bedroom_desk_light/availability', (m) => m.text !== '', 10_000);
      const before = FILES.map((name) => readFileSync(join(h.dataDir, name), 'utf8'));
      expect(JSON.parse(before[0]!)).toMatchObject({ username: account.username, token: expect.any(String) });

      const other = { ...h.config, KASA_USERNAME: 'second@example.com', MQTT_BASE_TOPIC: 'kasa_second' };
      const second = async () => {
        const bridge = new Bridge({ config: other, logger: createLogger({ level: 'debug', destination: new LogCapture() }) });
        await bridge.start();
      };
      await expect(second()).rejects.toThrow(DataDirBusyError);
      expect(FILES.map((name) => readFileSync(join(h.dataDir, name), 'utf8'))).toEqual(before);
    } finally {
      await h.stop();
    }
  });

  it('with the disk full: one token refresh per expiry (not one per request), storage_error on bridge/state, /readyz and metrics, cleared by a later save', async (ctx) => {
    const disk = mountSmallDisk(ctx);
    const account = demoAccount({ username: 'full-disk@example.com', mfa: false });
    const port = await freePort();
    let h: Harness | undefined;
    try {
      h = await startHarness({ broker, account, dataDir: disk.dir, env: { HEALTH_PORT: String(port), MQTT_BASE_TOPIC: 'kasa_disk' } });
      const get = async (path: string) => {
        const res = await request(`http://127.0.0.1:${port}${path}`);
        return { status: res.statusCode, text: await res.body.text() };
      };
      const set = async (value: 'ON' | 'OFF') => {
        const answer = h!.obs.next('kasa_disk/bedroom_desk_light/response/set', undefined, 10_000);
        await h!.obs.publish('kasa_disk/bedroom_desk_light/set', value, { qos: 1 });
        return (await answer).json<{ status: string }>();
      };
      await h.obs.next('kasa_disk/bridge/auth', authenticated, 10_000);
      await h.obs.next('kasa_disk/bedroom_desk_light/availability', (m) => m.text === '{"state":"online"}', 10_000);
      // Every node, the strips' 6 + 3 outlets included, has its topic key (saved) before the disk
      // fills: only the session is written below.
      const outlets = (m: { json<T>(): T }) => m.json<BridgeDeviceEntry[]>().filter((e) => e.type === 'outlet').length === 9;
      await h.obs.next('kasa_disk/bridge/devices', outlets, 10_000);

      disk.fill(0);
      h.sim.expireAccessTokens();
      h.sim.clearRequests();
      const reported = h.obs.next('kasa_disk/bridge/state', (m) => m.json<BridgeStatePayload>().storage_error !== undefined, 10_000);
      for (const value of ['ON', 'OFF', 'ON', 'OFF', 'ON'] as const) expect(await set(value)).toMatchObject({ status: 'ok' });
      expect(h.sim.count({ op: 'refreshToken' })).toBe(1);
      expect((await reported).json<BridgeStatePayload>()).toEqual({ state: 'online', storage_error: 'session.json: not saved (ENOSPC)' });

      const ready = await get('/readyz');
      expect(ready.status).toBe(503);
      expect(JSON.parse(ready.text)).toMatchObject({ reasons: ['storage_error: session.json: not saved (ENOSPC)'] });
      expect((await get('/healthz')).status).toBe(200);
      expect((await get('/metrics')).text).toMatch(/^kasa2mqtt_storage_error 1$/m);
      const { token, refreshToken, terminalUUID } = JSON.parse(readFileSync(join(disk.dir, 'session.json'), 'utf8')) as Record<string, string>;
      for (const secret of [account.password, token!, refreshToken!, terminalUUID!]) expect(h.logs.text).not.toContain(secret);

      disk.free();
      h.sim.expireAccessTokens();
      const cleared = h.obs.next('kasa_disk/bridge/state', (m) => m.text === '{"state":"online"}', 10_000);
      expect(await set('OFF')).toMatchObject({ status: 'ok' });
      await cleared;
      expect((await get('/readyz')).status).toBe(200);
      expect((await get('/metrics')).text).toMatch(/^kasa2mqtt_storage_error 0$/m);
    } finally {
      await h?.stop();
    }
  });
});
