import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoAccount } from '../../src/simulator/catalog.js';
import { startSimulator } from '../../src/simulator/index.js';
import type { Simulator } from '../../src/simulator/types.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { observe, type Observer } from '../helpers/mqttObserver.js';

const cli = new URL('../../src/cli.ts', import.meta.url).pathname;
const tsx = import.meta.resolve('tsx');
const account = demoAccount({ username: 'lifecycle@example.com', mfa: false });

function startDaemon(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', tsx, cli], {
    env: { PATH: process.env.PATH ?? '', ...env },
    cwd: tmpdir(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function waitUntil(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

function outputContains(child: ChildProcess, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      if (seen.includes(text)) {
        child.stdout?.off('data', onData);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', () => reject(new Error(`daemon exited before printing ${text}`)));
  });
}

describe('daemon lifecycle', () => {
  let broker: TestBroker;
  let sim: Simulator;
  let obs: Observer;
  let dataDir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    broker = await startTestBroker();
    sim = await startSimulator({ accounts: [account] });
    obs = await observe(broker.url, ['kasa/bridge/#']);
    dataDir = mkdtempSync(join(tmpdir(), 'kasa2mqtt-life-'));
    env = {
      KASA_USERNAME: account.username,
      KASA_PASSWORD: account.password,
      KASA_CLOUD_URL: sim.url,
      MQTT_URL: broker.url,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
    };
  });
  afterAll(async () => {
    await obs?.close();
    await sim?.stop();
    await broker?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('SIGTERM publishes offline and exits 0 within 5 s, leaving auth as it was', async () => {
    const child = startDaemon(env);
    await obs.next('kasa/bridge/auth', (m) => m.text.includes('"authenticated"'), 15_000);
    await obs.next('kasa/bridge/devices', (m) => m.text.startsWith('[{'), 15_000);
    const stoppedAt = Date.now();
    child.kill('SIGTERM');
    const { code } = await exited(child);
    expect(code).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(5_000);
    expect((await obs.retained('kasa/bridge/state'))?.text).toBe('{"state":"offline"}');
    expect((await obs.retained('kasa/bridge/auth'))?.json()).toMatchObject({ state: 'authenticated' });
  });

  it('SIGTERM with cloud requests in flight still publishes offline and exits 0 within 5 s', async () => {
    const child = startDaemon(env);
    await obs.next('kasa/bridge/devices', (m) => m.text.startsWith('[{'), 15_000);
    const devices = await observe(broker.url, ['kasa/+/response/set']);
    try {
      sim.faults.delayMs = 30_000;
      sim.clearRequests();
      await devices.publish('kasa/bedroom_desk_light/set', 'ON', { qos: 1 });
      await waitUntil(() => sim.inFlight > 0);
      const stoppedAt = Date.now();
      child.kill('SIGTERM');
      const { code } = await exited(child);
      expect(code).toBe(0);
      expect(Date.now() - stoppedAt).toBeLessThan(5_000);
      expect((await obs.retained('kasa/bridge/state'))?.text).toBe('{"state":"offline"}');
    } finally {
      sim.resetFaults();
      await devices.close();
    }
  });

  it('DEBUG=* does not print the MQTT password (the MQTT library logs every packet, CONNECT included)', async () => {
    const password = 'mqtt-Pa55-not-for-logs';
    const child = startDaemon({ ...env, DEBUG: '*', MQTT_USERNAME: 'bridge', MQTT_PASSWORD: password });
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    await waitUntil(() => output.includes('"msg":"MQTT connected"'), 15_000);
    child.kill('SIGTERM');
    await exited(child);
    expect(output).not.toContain(password);
  });

  it('an unusable DATA_DIR is a clear error, exit 2, before anything is published', async () => {
    const base = 'kasa_unusable';
    const watcher = await observe(broker.url, [`${base}/#`]);
    try {
      const child = startDaemon({ ...env, DATA_DIR: '/etc/passwd/data', MQTT_BASE_TOPIC: base });
      let stderr = '';
      child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      const { code } = await exited(child);
      expect(code).toBe(2);
      expect(stderr).toMatch(/DATA_DIR \/etc\/passwd\/data cannot be created or used \(ENOTDIR\)/);
      await watcher.barrier();
      expect(watcher.messages.filter((m) => m.topic.startsWith(`${base}/`))).toEqual([]);
    } finally {
      await watcher.close();
    }
  });

  it('a crash leaves the broker to publish the last will; the next start resumes the session', async () => {
    const child = startDaemon(env);
    await obs.next('kasa/bridge/state', (m) => m.text === '{"state":"online"}', 15_000);
    child.kill('SIGKILL');
    await exited(child);
    await obs.next('kasa/bridge/state', (m) => m.text === '{"state":"offline"}', 15_000);
    sim.clearRequests();
    const again = startDaemon(env);
    try {
      await obs.next('kasa/bridge/state', (m) => m.text === '{"state":"online"}', 15_000);
      await obs.next('kasa/bridge/devices', (m) => m.text.startsWith('[{'), 15_000);
      expect(sim.count({ op: 'login' })).toBe(0);
    } finally {
      again.kill('SIGTERM');
      await exited(again);
    }
  });

  it('a daemon started before its broker waits and comes up when the broker appears', async (ctx) => {
    if (!broker.canRestart) ctx.skip(`the ${broker.kind} broker cannot be stopped and started again`);
    await broker.stop();
    const child = startDaemon(env);
    try {
      // The daemon is up (it logged its start) while nothing listens: it must keep trying.
      await outputContains(child, 'kasa2mqtt starting');
      expect(child.exitCode).toBeNull();
      await broker.start();
      const late = await observe(broker.url, ['kasa/bridge/state']);
      try {
        await late.next('kasa/bridge/state', (m) => m.text === '{"state":"online"}', 15_000);
      } finally {
        await late.close();
      }
    } finally {
      child.kill('SIGTERM');
      await exited(child);
    }
  });
});
