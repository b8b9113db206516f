/**
 * The add-on start path as a function: options file + fake Supervisor → configuration variables,
 * and each way it refuses to start (one line, no secrets).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AddonStartError, isAddon, resolveAddonEnvironment } from '../../src/addon/index.js';
import { brokerVariables } from '../../src/addon/start.js';
import { loadConfig } from '../../src/config.js';
import { cleanupDir, freePort } from '../helpers/broker.js';
import { HANG, startFakeSupervisor, supervisorError, type FakeSupervisor } from './fakeSupervisor.js';

const TOKEN = 'supervisor-token-0123456789abcdef';
const KASA_PASSWORD = 'kasa-Secret-pw-1';
const BROKER_PASSWORD = 'broker-Secret-pw-2';
const MOSQUITTO_SERVICE = {
  addon: 'core_mosquitto',
  host: 'core-mosquitto',
  port: 1883,
  ssl: false,
  protocol: '3.1.1',
  username: 'addons',
  password: BROKER_PASSWORD,
};
const OPTIONS = {
  kasa_username: 'me@example.com',
  kasa_password: KASA_PASSWORD,
  poll_interval: 90,
  log_level: 'debug',
  base_topic: 'kasa_home',
  discovery_prefix: 'homeassistant',
};

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** An add-on data directory with options.json, a fake Supervisor, and the start options pointing at both. */
async function addon(options: unknown, supervisor: Parameters<typeof startFakeSupervisor>[0] | null = { token: TOKEN, mqtt: MOSQUITTO_SERVICE }) {
  const dataDir = mkdtempSync(join(tmpdir(), 'kasa2mqtt-addon-data-'));
  cleanups.push(() => cleanupDir(dataDir));
  const optionsPath = join(dataDir, 'options.json');
  writeFileSync(optionsPath, typeof options === 'string' ? options : JSON.stringify(options));
  let fake: FakeSupervisor | undefined;
  let supervisorUrl: string;
  if (supervisor) {
    fake = await startFakeSupervisor(supervisor);
    cleanups.push(() => fake!.close());
    supervisorUrl = fake.url;
  } else {
    // Nothing listens there: an unreachable Supervisor.
    supervisorUrl = `http://127.0.0.1:${await freePort()}`;
  }
  const env: NodeJS.ProcessEnv = { SUPERVISOR_TOKEN: TOKEN, DATA_DIR: '/data', HEALTH_PORT: '8080', HEALTH_HOST: '0.0.0.0' };
  return { dataDir, optionsPath, fake, start: { env, optionsPath, supervisorUrl, timeoutMs: 2000 } };
}

async function startError(start: Parameters<typeof resolveAddonEnvironment>[0]): Promise<AddonStartError> {
  const err = await resolveAddonEnvironment(start).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AddonStartError);
  const message = (err as AddonStartError).message;
  expect(message.split('\n')).toHaveLength(1);
  for (const secret of [TOKEN, KASA_PASSWORD, BROKER_PASSWORD]) expect(message).not.toContain(secret);
  return err as AddonStartError;
}

describe('add-on detection', () => {
  it('is an add-on only with SUPERVISOR_TOKEN set and the options file present', async () => {
    const { optionsPath, start } = await addon(OPTIONS);
    expect(isAddon(start)).toBe(true);
    expect(isAddon({ ...start, env: {} })).toBe(false);
    expect(isAddon({ ...start, env: { SUPERVISOR_TOKEN: '' } })).toBe(false);
    expect(isAddon({ ...start, optionsPath: `${optionsPath}.missing` })).toBe(false);
    expect(await resolveAddonEnvironment({ ...start, env: {} })).toBeUndefined();
  });

  it('defaults to /data/options.json and http://supervisor, as the Supervisor sets them up', () => {
    // Nothing of an add-on here: no token, so no request either.
    expect(isAddon({ env: {} })).toBe(false);
    expect(isAddon({ env: { SUPERVISOR_TOKEN: TOKEN, KASA2MQTT_ADDON_OPTIONS: '/nonexistent/options.json' } })).toBe(false);
  });
});

describe('add-on configuration', () => {
  it('takes the broker and its credentials from the Supervisor, the rest from the options, DATA_DIR from the options directory', async () => {
    const { dataDir, fake, start } = await addon(OPTIONS);
    const result = await resolveAddonEnvironment(start);
    expect(result?.env).toEqual({
      KASA_USERNAME: 'me@example.com',
      KASA_PASSWORD: KASA_PASSWORD,
      KASA_POLL_INTERVAL: '90',
      LOG_LEVEL: 'debug',
      MQTT_BASE_TOPIC: 'kasa_home',
      HA_DISCOVERY_PREFIX: 'homeassistant',
      MQTT_URL: 'mqtt://core-mosquitto:1883',
      MQTT_USERNAME: 'addons',
      MQTT_PASSWORD: BROKER_PASSWORD,
      DATA_DIR: dataDir,
      TZ: 'Europe/Amsterdam',
    });
    expect(fake!.requests.map((r) => `${r.method} ${r.path}`).sort()).toEqual(['GET /info', 'GET /services/mqtt']);
    expect(fake!.requests.every((r) => r.authorized)).toBe(true);
    expect(result?.summary).toContain('mqtt://core-mosquitto:1883');
    expect(result?.summary).toContain('Europe/Amsterdam');
    for (const secret of [TOKEN, KASA_PASSWORD, BROKER_PASSWORD]) expect(result?.summary).not.toContain(secret);

    // The variables make a valid configuration with the options in it.
    const config = loadConfig({ env: { ...start.env, ...result!.env }, dotenv: false });
    expect(config).toMatchObject({
      KASA_POLL_INTERVAL: 90,
      LOG_LEVEL: 'debug',
      MQTT_BASE_TOPIC: 'kasa_home',
      MQTT_USERNAME: 'addons',
      DATA_DIR: dataDir,
      HEALTH_PORT: 8080,
    });
  });

  it('lets the options override the broker: mqtt_url skips the MQTT service, user and password win', async () => {
    const { fake, start } = await addon({
      ...OPTIONS,
      mqtt_url: 'mqtts://broker.lan:8883',
      mqtt_username: 'kasa',
      mqtt_password: 'own-broker-pw',
    });
    const result = await resolveAddonEnvironment(start);
    expect(result?.env).toMatchObject({ MQTT_URL: 'mqtts://broker.lan:8883', MQTT_USERNAME: 'kasa', MQTT_PASSWORD: 'own-broker-pw' });
    expect(fake!.requests.map((r) => r.path)).toEqual(['/info']);
    expect(result?.summary).toContain('mqtt_url option');
  });

  it('refuses mqtt_username or mqtt_password without mqtt_url, naming the options, before asking the Supervisor', async () => {
    const { fake, start } = await addon({ ...OPTIONS, mqtt_username: 'kasa2mqtt', mqtt_password: 'own-user-pw' });
    const message = (await startError(start)).message;
    expect(message).toMatch(/^invalid add-on options: mqtt_username and mqtt_password without mqtt_url: .*set mqtt_url/);
    expect(message).not.toContain('own-user-pw');
    expect(fake!.requests).toEqual([]);
    const { start: userOnly } = await addon({ ...OPTIONS, mqtt_username: 'kasa2mqtt' });
    expect((await startError(userOnly)).message).toMatch(/^invalid add-on options: mqtt_username without mqtt_url: /);
  });

  it('uses TLS to a Supervisor broker with ssl: true, trusting the CA in /ssl (mapped by config.yaml)', async () => {
    const { dataDir, start } = await addon(OPTIONS, { token: TOKEN, mqtt: { ...MOSQUITTO_SERVICE, port: 8883, ssl: true } });
    const caPath = join(dataDir, 'ca.crt');
    writeFileSync(caPath, '-----BEGIN CERTIFICATE-----\n');
    const result = await resolveAddonEnvironment({ ...start, supervisorCaPath: caPath });
    expect(result?.env).toMatchObject({ MQTT_URL: 'mqtts://core-mosquitto:8883', MQTT_CA_FILE: caPath });
    expect(result?.warnings).toEqual([]);

    // No CA there: the system roots, and a warning that says how to give one.
    const missing = await resolveAddonEnvironment({ ...start, supervisorCaPath: join(dataDir, 'none.crt') });
    expect(missing?.env).not.toHaveProperty('MQTT_CA_FILE');
    expect(missing?.warnings).toEqual([expect.stringMatching(/uses TLS and .*none\.crt is missing: set mqtt_ca_file/)]);

    // mqtt_ca_file wins over the default, and must be readable.
    const { start: withOption } = await addon({ ...OPTIONS, mqtt_ca_file: caPath }, { token: TOKEN, mqtt: { ...MOSQUITTO_SERVICE, ssl: true } });
    expect((await resolveAddonEnvironment({ ...withOption, supervisorCaPath: join(dataDir, 'none.crt') }))?.env.MQTT_CA_FILE).toBe(caPath);
    const { start: unreadable } = await addon({ ...OPTIONS, mqtt_ca_file: join(dataDir, 'none.crt') });
    expect((await startError(unreadable)).message).toMatch(/^invalid add-on options: mqtt_ca_file: cannot read .*none\.crt \(ENOENT\)$/);
  });

  it('maps the MQTT service to a URL: TLS, IPv6 and a broker without credentials', () => {
    expect(brokerVariables({ host: 'core-mosquitto', port: 8883, ssl: true, username: 'u', password: 'p' })).toEqual({
      MQTT_URL: 'mqtts://core-mosquitto:8883',
      MQTT_USERNAME: 'u',
      MQTT_PASSWORD: 'p',
    });
    expect(brokerVariables({ host: 'fd00::1', port: 1883, ssl: false })).toEqual({ MQTT_URL: 'mqtt://[fd00::1]:1883' });
  });

  it('treats empty and null options as not set and ignores options it does not know', async () => {
    const { start } = await addon({ ...OPTIONS, mqtt_username: '', mqtt_password: null, removed_in_a_later_version: true });
    const result = await resolveAddonEnvironment(start);
    expect(result?.env.MQTT_USERNAME).toBe('addons');
    expect(result?.env).not.toHaveProperty('removed_in_a_later_version');
  });

  it.each([
    ['HTTP 500', supervisorError(500, 'Unknown error, see supervisor logs'), /failed on GET \/info \(HTTP 500: Unknown error, see supervisor logs\)/],
    ['HTTP 403', supervisorError(403, 'Forbidden'), /refused GET \/info \(HTTP 403: Forbidden\)/],
    ['no answer', HANG, /did not answer GET \/info within 0\.5 s/],
  ] as const)('starts in UTC with a warning when /info fails (%s), the broker as usual', async (_case, info, reason) => {
    const { start } = await addon(OPTIONS, { token: TOKEN, mqtt: MOSQUITTO_SERVICE, info });
    const result = await resolveAddonEnvironment({ ...start, timeoutMs: 500 });
    expect(result?.env).toMatchObject({ MQTT_URL: 'mqtt://core-mosquitto:1883', MQTT_USERNAME: 'addons' });
    expect(result?.env).not.toHaveProperty('TZ');
    expect(result?.warnings).toHaveLength(1);
    expect(result?.warnings[0]).toMatch(/^time zone unknown, using UTC: the Supervisor/);
    expect(result?.warnings[0]).toMatch(reason);
    expect(result?.warnings[0]).not.toContain(TOKEN);
  });

  it('starts without a time zone when Home Assistant has none', async () => {
    const { start } = await addon(OPTIONS, { token: TOKEN, mqtt: MOSQUITTO_SERVICE, timezone: '' });
    const result = await resolveAddonEnvironment(start);
    expect(result?.env).not.toHaveProperty('TZ');
    expect(result?.summary).toContain('time zone not set');
  });
});

describe('add-on start errors', () => {
  it('no MQTT service: says to install the Mosquitto add-on or set mqtt_url', async () => {
    const { start } = await addon(OPTIONS, { token: TOKEN });
    const err = await startError(start);
    expect(err.message).toMatch(/no MQTT service \(HTTP 400: No mqtt service available\).*Mosquitto broker add-on.*mqtt_url/);
    // A Supervisor without the services endpoint.
    const { start: older } = await addon(OPTIONS, { token: TOKEN, mqtt: supervisorError(404, 'Not found') });
    expect((await startError(older)).message).toMatch(/^the Supervisor has no MQTT service \(HTTP 404: Not found\)/);
  });

  it('an MQTT service answer without host and port counts as no service', async () => {
    const { start } = await addon(OPTIONS, { token: TOKEN, mqtt: { ssl: false, username: 'addons', password: BROKER_PASSWORD } });
    expect((await startError(start)).message).toContain('no MQTT service (its answer has no usable host and port)');
  });

  it('unreachable Supervisor: names the URL and the cause', async () => {
    const { start } = await addon(OPTIONS, null);
    expect((await startError(start)).message).toMatch(/^cannot reach the Supervisor at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)$/);
  });

  it('a token the Supervisor refuses', async () => {
    const { start } = await addon(OPTIONS, { token: 'another-token', mqtt: MOSQUITTO_SERVICE });
    expect((await startError(start)).message).toBe(
      'the Supervisor refused GET /services/mqtt (HTTP 401: Unauthorized): it did not accept the add-on token, ' +
        'or the add-on lacks `services: mqtt:need` in its config.yaml',
    );
  });

  it.each([
    ['403', supervisorError(403, 'Forbidden'), /^the Supervisor refused GET \/services\/mqtt \(HTTP 403: Forbidden\): .*add-on token.*`services: mqtt:need`/],
    ['500', supervisorError(500, 'Unknown error'), /^the Supervisor failed on GET \/services\/mqtt \(HTTP 500: Unknown error\): an error of the Supervisor itself/],
    ['502', { status: 502, body: undefined }, /^the Supervisor failed on GET \/services\/mqtt \(HTTP 502\): an error of the Supervisor itself/],
    ['no answer', HANG, /^the Supervisor at http:\/\/127\.0\.0\.1:\d+ did not answer GET \/services\/mqtt within 0\.5 s$/],
  ] as const)('the MQTT service answering %s: says what that status means there', async (_case, mqtt, expected) => {
    const { start } = await addon(OPTIONS, { token: TOKEN, mqtt });
    const message = (await startError({ ...start, timeoutMs: 500 })).message;
    expect(message).toMatch(expected);
  });

  it('invalid options: every problem in one line, by option name, secrets left out', async () => {
    const { kasa_password: _password, ...withoutPassword } = OPTIONS;
    const { start } = await addon({ ...withoutPassword, poll_interval: 0, base_topic: 'kasa/#', log_level: 'loud' });
    const message = (await startError(start)).message;
    expect(message).toMatch(/^invalid add-on options \(.*options\.json\): /);
    expect(message).toContain('kasa_password: required');
    expect(message).not.toContain('KASA_PASSWORD_FILE');
    expect(message).toContain('poll_interval: must be a number >= 0.1 (got "0")');
    expect(message).toContain('base_topic: must match');
    expect(message).toContain('log_level: one of');
  });

  it('a base topic equal to the discovery prefix, named by option', async () => {
    const { start } = await addon({ ...OPTIONS, base_topic: 'homeassistant' });
    expect((await startError(start)).message).toContain('discovery_prefix: must differ from base_topic');
  });

  it('an option that is a list or an object', async () => {
    const { start } = await addon({ ...OPTIONS, base_topic: ['kasa'] });
    expect((await startError(start)).message).toBe('invalid add-on options: base_topic: must be a single value, not a list');
  });

  it('an options file that is not JSON', async () => {
    const { optionsPath, start } = await addon('{"kasa_username": ');
    expect((await startError(start)).message).toBe(`the add-on options ${optionsPath} are not valid JSON`);
  });
});
