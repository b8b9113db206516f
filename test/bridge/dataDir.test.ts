/**
 * DATA_DIR as the running bridge uses it: a second daemon refused by the lock leaves the first
 * one's files alone, and a full disk (a real small tmpfs) neither loops token refreshes nor goes
 * unreported.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BridgeAuthPayload, BridgeDeviceEntry, BridgeStatePayload } from '../../src/api/types.js';
import { Bridge } from '../../src/bridge/bridge.js';
import { DataDirBusyError, LOCK_FILE } from '../../src/dataDirLock.js';
import { createLogger } from '../../src/logger.js';
import { demoAccount } from '../../src/simulator/catalog.js';
import { freePort, startTestBroker, type TestBroker } from '../helpers/broker.js';
import { LogCapture, startHarness, type Harness } from '../helpers/bridgeHarness.js';
import { mountSmallDisk } from '../helpers/smallDisk.js';

const authenticated = (m: { json<T>(): T }) => m.json<BridgeAuthPayload>().state === 'authenticated';
const FILES = ['session.json', 'topic-keys.json', 'mqtt-client-id'];
const cli = new URL('../../src/cli.ts', import.meta.url).pathname;
const tsx = import.meta.resolve('tsx');

/** Runs a command as pid 1 of a new pid namespace (as in a container), or says why it cannot. */
function pidNamespaceProblem(): string | undefined {
  try {
    const pid = execFileSync('unshare', ['--pid', '--fork', '--mount-proc', 'sh', '-c', 'echo $$'], { stdio: 'pipe', timeout: 5_000 });
    return pid.toString().trim() === '1' ? undefined : 'unshare did not start a new pid namespace';
  } catch (err) {
    return `unshare --pid is not permitted here (${(err as Error).message.split('\n')[0]})`;
  }
}

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

  it('a restarted container starts although the lock names its own pid 1 (left by the crashed run), and releases it on SIGTERM', async (ctx) => {
    const problem = pidNamespaceProblem();
    if (problem) ctx.skip(problem);
    const account = demoAccount({ username: 'container@example.com', mfa: false });
    const h = await startHarness({ broker, account, start: false, env: { MQTT_BASE_TOPIC: 'kasa_container' } });
    const dataDir = mkdtempSync(join(tmpdir(), 'kasa2mqtt-container-'));
    try {
      // What the previous run of the container left: pid 1, the same hostname, a fresh heartbeat.
      writeFileSync(join(dataDir, LOCK_FILE), `${JSON.stringify({ pid: 1, host: hostname(), role: 'daemon', since: new Date().toISOString() })}\n`);
      const daemon = spawn('unshare', ['--pid', '--fork', '--mount-proc', '--kill-child', process.execPath, '--import', tsx, cli], {
        env: {
          PATH: process.env.PATH ?? '',
          KASA_USERNAME: account.username,
          KASA_PASSWORD: account.password,
          KASA_CLOUD_URL: h.sim.url,
          MQTT_URL: broker.url,
          MQTT_BASE_TOPIC: 'kasa_container',
          DATA_DIR: dataDir,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      daemon.stdout.on('data', (d: Buffer) => (output += d.toString()));
      daemon.stderr.on('data', (d: Buffer) => (output += d.toString()));
      const exited = new Promise<number | null>((resolve) => daemon.once('exit', (code) => resolve(code)));
      try {
        // A daemon started from source (tsx) under unshare: slow on a loaded two-core machine.
        const online = h.obs.next('kasa_container/bridge/state', (m) => m.text === '{"state":"online"}', 45_000);
        await Promise.race([online, exited.then((code) => Promise.reject(new Error(`daemon exited ${code}: ${output}`)))]);
        await h.obs.next('kasa_container/bridge/auth', authenticated, 20_000);
        expect(JSON.parse(readFileSync(join(dataDir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: 1, startTime: expect.any(String) });
        // The daemon is pid 1 inside; from here it is the child of unshare.
        const inner = Number(readFileSync(`/proc/${daemon.pid}/task/${daemon.pid}/children`, 'utf8').trim().split(' ')[0]);
        process.kill(inner, 'SIGTERM');
        expect(await exited, output).toBe(0);
        expect(existsSync(join(dataDir, LOCK_FILE))).toBe(false);
      } finally {
        daemon.kill('SIGKILL');
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
      await h.stop();
    }
  }, 90_000);
});
