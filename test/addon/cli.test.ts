/**
 * The add-on start path end to end, through the real command line: a fake Supervisor hands out a
 * real password-protected mosquitto, the options file configures the bridge, the simulated Kasa
 * cloud stands in for TP-Link. What the Supervisor would do (write options.json, set
 * SUPERVISOR_TOKEN, run the container) is done by the test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { BridgeAuthPayload } from '../../src/api/types.js';
import { demoAccount } from '../../src/simulator/catalog.js';
import { startSimulator } from '../../src/simulator/index.js';
import type { Simulator } from '../../src/simulator/types.js';
import { cleanupDir, freePort } from '../helpers/broker.js';
import { observe, type Observer } from '../helpers/mqttObserver.js';
import { makeTestTls } from '../helpers/tls.js';
import { HANG, startFakeSupervisor, type FakeSupervisor, type FakeSupervisorOptions } from './fakeSupervisor.js';
import { passwordBrokerMissing, startPasswordBroker, type PasswordBroker } from './passwordBroker.js';

const cli = new URL('../../src/cli.ts', import.meta.url).pathname;
const tsx = import.meta.resolve('tsx');
const TOKEN = 'supervisor-token-for-the-cli-test';
const BROKER_USER = 'addons';
const BROKER_PASSWORD = 'Mosquitto-addon-pw-9';
const account = demoAccount({ username: 'addon@example.com', password: 'Kasa-addon-pw-7', mfa: false });
const SECRETS = [TOKEN, BROKER_PASSWORD, account.password];

interface Run {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts `kasa2mqtt` the way the add-on container does, with the test's Supervisor and data directory. */
function startCli(env: Record<string, string>): Run {
  const child = spawn(process.execPath, ['--import', tsx, cli], {
    // A clean environment and an empty working directory: no developer variable or .env leaks in.
    env: { PATH: process.env.PATH ?? '', SUPERVISOR_TOKEN: TOKEN, ...env },
    cwd: mkdtempSync(join(tmpdir(), 'kasa2mqtt-addon-cwd-')),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  onTestFinished(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  return { child, output: () => output, exited };
}

function dataDirWith(options: object): { dataDir: string; optionsPath: string } {
  const dataDir = mkdtempSync(join(tmpdir(), 'kasa2mqtt-addon-data-'));
  onTestFinished(() => cleanupDir(dataDir));
  const optionsPath = join(dataDir, 'options.json');
  writeFileSync(optionsPath, JSON.stringify(options));
  return { dataDir, optionsPath };
}

async function supervisor(options: Omit<FakeSupervisorOptions, 'token'>): Promise<FakeSupervisor> {
  const fake = await startFakeSupervisor({ token: TOKEN, ...options });
  onTestFinished(() => fake.close());
  return fake;
}

const missing = passwordBrokerMissing();

describe('kasa2mqtt started as a Home Assistant add-on', () => {
  let broker: PasswordBroker | undefined;
  let sim: Simulator;

  beforeAll(async () => {
    if (!missing) broker = await startPasswordBroker(BROKER_USER, BROKER_PASSWORD);
    sim = await startSimulator({ accounts: [account] });
  });
  afterAll(async () => {
    await broker?.stop();
    await sim?.stop();
  });

  // A whole daemon start through tsx: generous under a loaded machine; the waits inside are on events.
  it('connects with the credentials the Supervisor gave and runs with the options as its configuration', { timeout: 60_000 }, async (ctx) => {
    if (!broker) ctx.skip(`the password-protected broker ${missing}`);
    const { host, port, url } = broker!;
    // The broker admits nobody without the Supervisor's credentials.
    await expect(connectAsync(url, { reconnectPeriod: 0, connectTimeout: 3000 })).rejects.toThrow(/Not authorized|Bad username or password/i);

    const fake = await supervisor({
      mqtt: { addon: 'core_mosquitto', host, port, ssl: false, protocol: '3.1.1', username: BROKER_USER, password: BROKER_PASSWORD },
      timezone: 'America/New_York',
    });
    const { dataDir, optionsPath } = dataDirWith({
      kasa_username: account.username,
      kasa_password: account.password,
      poll_interval: 45,
      log_level: 'info',
      base_topic: 'kasa_addon',
      discovery_prefix: 'ha_addon',
    });
    const obs: Observer = await observe(url, ['kasa_addon/#', 'ha_addon/#'], {
      clientOptions: { username: BROKER_USER, password: BROKER_PASSWORD },
    });
    onTestFinished(() => obs.close());
    const healthPort = await freePort();

    const run = startCli({
      KASA2MQTT_ADDON_OPTIONS: optionsPath,
      KASA2MQTT_SUPERVISOR_URL: fake.url,
      // Not add-on options: the simulated cloud instead of TP-Link's, and a free health port.
      KASA_CLOUD_URL: sim.url,
      HEALTH_PORT: String(healthPort),
      HEALTH_HOST: '127.0.0.1',
    });

    const state = await obs.next('kasa_addon/bridge/state', (m) => m.text.includes('online'), 20_000);
    expect(state.json()).toEqual({ state: 'online' });
    await obs.next('kasa_addon/bridge/auth', (m) => m.json<BridgeAuthPayload>().state === 'authenticated', 15_000);
    const info = await obs.next('kasa_addon/bridge/info', (m) => m.text !== '', 15_000);
    expect(info.json<{ config: Record<string, unknown> }>().config).toMatchObject({
      KASA_POLL_INTERVAL: 45,
      LOG_LEVEL: 'info',
      MQTT_BASE_TOPIC: 'kasa_addon',
      HA_DISCOVERY_PREFIX: 'ha_addon',
      MQTT_URL: url,
      MQTT_USERNAME: BROKER_USER,
      DATA_DIR: dataDir,
    });
    // Discovery under the configured prefix, the session stored in the add-on's data directory.
    await obs.next('ha_addon/device/+/config', (m) => m.text.includes('"kasa_addon/'), 15_000);
    expect(existsSync(join(dataDir, 'session.json'))).toBe(true);
    expect(fake.requests.filter((r) => r.authorized).map((r) => r.path).sort()).toEqual(['/info', '/services/mqtt']);

    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    const output = run.output();
    expect(output).toContain(`kasa2mqtt: Home Assistant add-on: options from ${optionsPath}, broker ${url} (user ${BROKER_USER})`);
    expect(output).toContain('time zone America/New_York');
    for (const secret of SECRETS) expect(output).not.toContain(secret);
  });

  it('mqtt_url with user:password in it: connects with them, and no log line or bridge/info shows the password', { timeout: 60_000 }, async (ctx) => {
    if (!broker) ctx.skip(`the password-protected broker ${missing}`);
    const { host, port, url } = broker!;
    const fake = await supervisor({ timezone: 'UTC' });
    const { optionsPath } = dataDirWith({
      kasa_username: account.username,
      kasa_password: account.password,
      base_topic: 'kasa_userinfo',
      mqtt_url: `mqtt://${BROKER_USER}:${BROKER_PASSWORD}@${host}:${port}`,
    });
    const obs: Observer = await observe(url, ['kasa_userinfo/bridge/#'], {
      clientOptions: { username: BROKER_USER, password: BROKER_PASSWORD },
    });
    onTestFinished(() => obs.close());
    const run = startCli({ KASA2MQTT_ADDON_OPTIONS: optionsPath, KASA2MQTT_SUPERVISOR_URL: fake.url, KASA_CLOUD_URL: sim.url });

    // Online on a broker that admits nobody else: the URL's credentials were used.
    await obs.next('kasa_userinfo/bridge/state', (m) => m.text.includes('online'), 20_000);
    const info = await obs.next('kasa_userinfo/bridge/info', (m) => m.text !== '', 15_000);
    expect(info.json<{ config: Record<string, unknown> }>().config.MQTT_URL).toBe(`mqtt://${host}:${port}`);
    expect(info.text).not.toContain(BROKER_PASSWORD);

    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    const output = run.output();
    expect(output).toContain(`broker mqtt://${host}:${port} (no user name) from the mqtt_url option`);
    expect(output).toContain(`"mqtt":"mqtt://${host}:${port}"`);
    for (const secret of SECRETS) expect(output).not.toContain(secret);
  });

  it('connects over TLS to a Supervisor broker with ssl: true, trusting the CA of mqtt_ca_file', { timeout: 60_000 }, async (ctx) => {
    if (missing) ctx.skip(`the password-protected broker ${missing}`);
    const tls = makeTestTls();
    onTestFinished(() => tls.cleanup());
    const tlsBroker = await startPasswordBroker(BROKER_USER, BROKER_PASSWORD, tls);
    onTestFinished(() => tlsBroker.stop());
    const fake = await supervisor({
      mqtt: { addon: 'core_mosquitto', host: tlsBroker.host, port: tlsBroker.port, ssl: true, username: BROKER_USER, password: BROKER_PASSWORD },
    });
    const { optionsPath } = dataDirWith({
      kasa_username: account.username,
      kasa_password: account.password,
      base_topic: 'kasa_tls',
      mqtt_ca_file: tls.caFile,
    });
    const obs = await observe(tlsBroker.url, ['kasa_tls/bridge/state'], {
      clientOptions: { ca: tls.caPem, username: BROKER_USER, password: BROKER_PASSWORD },
    });
    onTestFinished(() => obs.close());

    const run = startCli({ KASA2MQTT_ADDON_OPTIONS: optionsPath, KASA2MQTT_SUPERVISOR_URL: fake.url, KASA_CLOUD_URL: sim.url });
    const state = await obs.next('kasa_tls/bridge/state', (m) => m.text.includes('online'), 20_000);
    expect(state.json()).toEqual({ state: 'online' });
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.output()).toContain(`broker ${tlsBroker.url} (user ${BROKER_USER}) from the Supervisor's MQTT service`);
    for (const secret of SECRETS) expect(run.output()).not.toContain(secret);
  });

  it('exits 0 when stopped (SIGTERM) while it waits for the Supervisor', { timeout: 30_000 }, async () => {
    const fake = await supervisor({ mqtt: HANG });
    const { optionsPath } = dataDirWith({ kasa_username: account.username, kasa_password: account.password });
    const run = startCli({ KASA2MQTT_ADDON_OPTIONS: optionsPath, KASA2MQTT_SUPERVISOR_URL: fake.url });
    await fake.requested('/services/mqtt');
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.child.signalCode).toBeNull();
  });

  it('exits 2 with one line naming mqtt_username when it is set without mqtt_url', { timeout: 30_000 }, async () => {
    const fake = await supervisor({ mqtt: { host: 'core-mosquitto', port: 1883, ssl: false, username: BROKER_USER, password: BROKER_PASSWORD } });
    const { optionsPath } = dataDirWith({ kasa_username: account.username, kasa_password: account.password, mqtt_username: 'kasa2mqtt' });
    const run = startCli({ KASA2MQTT_ADDON_OPTIONS: optionsPath, KASA2MQTT_SUPERVISOR_URL: fake.url });
    expect(await run.exited).toBe(2);
    const lines = run.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^kasa2mqtt: invalid add-on options: mqtt_username without mqtt_url: /);
  });

  it('exits 2 with one line when the Supervisor has no MQTT service', { timeout: 30_000 }, async () => {
    const fake = await supervisor({});
    const { optionsPath } = dataDirWith({ kasa_username: account.username, kasa_password: account.password });
    const run = startCli({ KASA2MQTT_ADDON_OPTIONS: optionsPath, KASA2MQTT_SUPERVISOR_URL: fake.url });
    expect(await run.exited).toBe(2);
    expect(run.output().trim().split('\n')).toEqual([
      'kasa2mqtt: the Supervisor has no MQTT service (HTTP 400: No mqtt service available): install and start the Mosquitto broker add-on, or set mqtt_url in the add-on options',
    ]);
  });

  it('exits 2 with one line when the Supervisor cannot be reached', { timeout: 30_000 }, async () => {
    const { optionsPath } = dataDirWith({ kasa_username: account.username, kasa_password: account.password });
    const url = `http://127.0.0.1:${await freePort()}`;
    const run = startCli({ KASA2MQTT_ADDON_OPTIONS: optionsPath, KASA2MQTT_SUPERVISOR_URL: url });
    expect(await run.exited).toBe(2);
    expect(run.output().trim().split('\n')).toEqual([`kasa2mqtt: cannot reach the Supervisor at ${url} (ECONNREFUSED)`]);
  });

  it('exits 2 with one line naming the invalid options, without their secrets', { timeout: 30_000 }, async () => {
    const fake = await supervisor({ mqtt: { host: 'core-mosquitto', port: 1883, ssl: false, username: BROKER_USER, password: BROKER_PASSWORD } });
    const { optionsPath } = dataDirWith({ kasa_username: account.username, kasa_password: account.password, poll_interval: -1 });
    const run = startCli({ KASA2MQTT_ADDON_OPTIONS: optionsPath, KASA2MQTT_SUPERVISOR_URL: fake.url });
    expect(await run.exited).toBe(2);
    const lines = run.output().trim().split('\n');
    expect(lines).toEqual([`kasa2mqtt: invalid add-on options (${optionsPath}): poll_interval: must be a number >= 0.1 (got "-1")`]);
    for (const secret of SECRETS) expect(lines[0]).not.toContain(secret);
  });
});
