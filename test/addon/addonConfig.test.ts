/**
 * The add-on repository (repository.yaml, kasa2mqtt/) checked without a Supervisor: against the
 * rules the Supervisor documents for add-on configs (required keys, slug, arch, schema types,
 * watchdog URL) and against the code (version, options ↔ configuration variables, health port).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { parse } from 'yaml';
import { OPTION_VARIABLES } from '../../src/addon/options.js';
import { DEFAULT_SUPERVISOR_CA_PATH, resolveAddonEnvironment } from '../../src/addon/start.js';
import { ConfigSchema, loadConfig } from '../../src/config.js';
import { bridgeDiscovery } from '../../src/ha/bridgeDiscovery.js';
import { parseDockerfile, runtimeStage } from '../docker/dockerfileModel.js';
import { cleanupDir } from '../helpers/broker.js';
import { startFakeSupervisor } from './fakeSupervisor.js';

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
const ADDON = 'kasa2mqtt';
const pkg = JSON.parse(read('package.json')) as { version: string; repository?: { url: string }; homepage?: string };

interface AddonConfig {
  name: string;
  version: string;
  slug: string;
  description: string;
  arch: string[];
  url?: string;
  image?: string;
  homeassistant?: string;
  startup?: string;
  boot?: string;
  init?: boolean;
  services?: string[];
  map?: unknown[];
  watchdog?: string;
  ports?: Record<string, number | null>;
  options: Record<string, unknown>;
  schema: Record<string, unknown>;
}
const config = parse(read(`${ADDON}/config.yaml`)) as AddonConfig;
const translations = parse(read(`${ADDON}/translations/en.yaml`)) as {
  configuration: Record<string, { name?: unknown; description?: unknown }>;
  network?: Record<string, unknown>;
};
const repository = parse(read('repository.yaml')) as Record<string, unknown>;

// The Supervisor's rules, as its documentation states them.
const SLUG = /^[-_.A-Za-z0-9]+$/;
const ARCHES = ['armhf', 'armv7', 'aarch64', 'amd64', 'i386'];
const STARTUP = ['initialize', 'system', 'services', 'application', 'once'];
const BOOT = ['auto', 'manual', 'manual_only'];
const SERVICE = /^(mqtt|mysql):(provide|want|need)$/;
const WATCHDOG = /^(?:(?<scheme>https?|tcp)|\[PROTO:\w+\]):\/\/\[HOST\]:\[PORT:(?<port>\d+)\](?<path>.*)$/;
/** The schema element types: str, bool, int, float (with ranges), email, url, password, port, match(), list(); `?` = optional. */
const SCHEMA_ELEMENT =
  /^(?:bool|email|url|port|device(?:\(subsystem=[a-z]+\))?|str(?:\(\d*,\d*\))?|password(?:\(\d*,\d*\))?|int(?:\(-?\d*,-?\d*\))?|float(?:\(-?\d*\.?\d*,-?\d*\.?\d*\))?|match\(.*\)|list\(.+\))\??$/;

const schemaType = (key: string) => String(config.schema[key]);
const isOptional = (key: string) => schemaType(key).endsWith('?');
const configProperty = (variable: string) => (ConfigSchema.properties as unknown as Record<string, Record<string, unknown>>)[variable]!;

/** Whether a value passes a schema element the way the Supervisor's validator would, for the kinds this add-on uses. */
function accepts(element: string, value: unknown): boolean {
  const type = element.replace(/\?$/, '');
  let m: RegExpExecArray | null;
  if (type === 'str' || type === 'password') return typeof value === 'string';
  if (type === 'email') return typeof value === 'string' && /^[^@\s]+@[^@\s]+$/.test(value);
  if ((m = /^float\((-?[\d.]*),(-?[\d.]*)\)$/.exec(type))) {
    const n = Number(value);
    return typeof value === 'number' && (m[1] === '' || n >= Number(m[1])) && (m[2] === '' || n <= Number(m[2]));
  }
  if ((m = /^list\((.+)\)$/.exec(type))) return m[1]!.split('|').includes(String(value));
  if ((m = /^match\((.*)\)$/.exec(type))) return typeof value === 'string' && new RegExp(m[1]!).test(value);
  throw new Error(`no check for schema type ${element}`);
}

function pngSize(path: string): { width: number; height: number } {
  const bytes = readFileSync(new URL(path, root));
  expect(bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])), `${path} is a PNG`).toBe(true);
  expect(bytes.subarray(12, 16).toString('ascii')).toBe('IHDR');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

describe('repository.yaml', () => {
  it('names the repository and points at this project', () => {
    expect(typeof repository.name).toBe('string');
    expect(repository.name).not.toBe('');
    expect(repository.url).toBe('https://github.com/kasa2mqtt/kasa2mqtt');
    expect(typeof repository.maintainer).toBe('string');
    expect(pkg.homepage).toBe(repository.url);
    expect(pkg.repository?.url).toBe(`git+${String(repository.url)}.git`);
  });

  it('holds exactly one add-on config: the Supervisor takes every config.yaml/.yml/.json outside dot folders', (ctx) => {
    const listed = spawnSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: fileURLToPath(root), encoding: 'utf8' });
    if (listed.status !== 0) ctx.skip('needs git to list the repository files');
    const configs = listed.stdout
      .split('\n')
      .filter((f) => /(^|\/)config\.(ya?ml|json)$/.test(f))
      .filter((f) => !f.split('/').some((part) => part.startsWith('.')));
    expect(configs).toEqual([`${ADDON}/config.yaml`]);
  });
});

describe(`${ADDON}/config.yaml`, () => {
  it('has the keys the Supervisor requires, with a valid slug and architectures', () => {
    for (const key of ['name', 'version', 'slug', 'description', 'arch'] as const) expect(config[key], key).toBeTruthy();
    expect(typeof config.version).toBe('string');
    expect(config.slug).toMatch(SLUG);
    expect(config.slug).toBe(ADDON);
    // Home Assistant no longer supports 32-bit systems: no armv7 add-on (the Docker image keeps arm/v7).
    expect([...config.arch].sort()).toEqual(['aarch64', 'amd64']);
    for (const arch of config.arch) expect(ARCHES).toContain(arch);
    expect(STARTUP).toContain(config.startup);
    expect(BOOT).toContain(config.boot);
    expect(config.url).toMatch(/^https:\/\/github\.com\/kasa2mqtt\/kasa2mqtt\b/);
  });

  it('has a released version, never one ahead of package.json: release.yml raises it once its images are pushed', () => {
    const parts = (version: string) => version.split(/[.-]/).slice(0, 3).map(Number);
    const [major, minor, patch] = parts(config.version);
    const [pkgMajor, pkgMinor, pkgPatch] = parts(pkg.version);
    expect(config.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(major! * 1e6 + minor! * 1e3 + patch!).toBeLessThanOrEqual(pkgMajor! * 1e6 + pkgMinor! * 1e3 + pkgPatch!);
    expect(read(`${ADDON}/CHANGELOG.md`)).toMatch(new RegExp(`^## ${config.version.replace(/\./g, '\\.')}$`, 'm'));
  });

  it('maps Home Assistant\'s ssl folder read-only, where the start path looks for the TLS broker\'s CA', () => {
    expect(config.map).toEqual([{ type: 'ssl', read_only: true }]);
    expect(DEFAULT_SUPERVISOR_CA_PATH).toMatch(/^\/ssl\/[^/]+$/);
  });

  it('pulls the per-architecture image that release.yml publishes', () => {
    expect(config.image).toBe('ghcr.io/kasa2mqtt/{arch}-kasa2mqtt');
    const release = read('.github/workflows/release.yml');
    expect(release).toContain('ghcr.io/kasa2mqtt');
    expect(release).toMatch(/\$\{\{ matrix\.arch \}\}-kasa2mqtt/);
  });

  it('needs the MQTT service, brings its own init and wants Home Assistant 2025.1 or later', () => {
    expect(config.services).toEqual(['mqtt:need']);
    for (const service of config.services ?? []) expect(service).toMatch(SERVICE);
    expect(config.init).toBe(false);
    // The image's ENTRYPOINT is that init.
    expect(runtimeStage(parseDockerfile()).entrypoint).toEqual(['/sbin/tini', '--']);
    const [year, month] = (config.homeassistant ?? '').split('.').map(Number);
    expect(year! * 100 + month!).toBeGreaterThanOrEqual(202501);
  });

  it('watches /healthz on the health port the image listens on', () => {
    const watchdog = WATCHDOG.exec(config.watchdog ?? '');
    expect(watchdog?.groups).toMatchObject({ scheme: 'http', path: '/healthz' });
    const image = runtimeStage(parseDockerfile());
    expect(watchdog?.groups?.port).toBe(image.env.get('HEALTH_PORT'));
    expect(image.env.get('HEALTH_HOST')).toBe('0.0.0.0');
    expect(Object.keys(config.ports ?? {})).toEqual([`${image.env.get('HEALTH_PORT')}/tcp`]);
    // Not published on the host unless the user asks for it.
    expect(Object.values(config.ports ?? {})).toEqual([null]);
  });

  it('has a schema entry of a valid type for every option, and one option per start-path setting', () => {
    for (const key of Object.keys(config.options)) expect(config.schema, key).toHaveProperty(key);
    for (const [key, element] of Object.entries(config.schema)) {
      expect(typeof element, key).toBe('string');
      expect(element, key).toMatch(SCHEMA_ELEMENT);
    }
    expect(Object.keys(config.schema).sort()).toEqual(Object.keys(OPTION_VARIABLES).sort());
  });

  it('requires exactly what the configuration requires: the account e-mail and password', () => {
    const required = Object.keys(config.schema).filter((key) => !isOptional(key) && !(key in config.options));
    expect(required.sort()).toEqual(['kasa_password', 'kasa_username']);
    const requiredVariables = (ConfigSchema as unknown as { required: string[] }).required;
    for (const key of required) expect(requiredVariables).toContain(OPTION_VARIABLES[key as keyof typeof OPTION_VARIABLES]);
    // Optional options without a default leave their variable to the Supervisor or the image.
    for (const key of Object.keys(config.schema).filter(isOptional)) expect(config.options).not.toHaveProperty(key);
    expect(schemaType('kasa_password')).toBe('password');
    expect(schemaType('mqtt_password')).toBe('password?');
  });

  it('defaults each option to the configuration default, and the schema accepts the defaults', () => {
    for (const [key, value] of Object.entries(config.options)) {
      const variable = OPTION_VARIABLES[key as keyof typeof OPTION_VARIABLES];
      expect(value, key).toBe(configProperty(variable).default);
      expect(accepts(schemaType(key), value), `${key}: ${String(value)}`).toBe(true);
    }
  });

  it('allows the same values as the configuration schema (log levels, topic patterns, URL schemes)', () => {
    expect(schemaType('log_level')).toBe(`list(${(configProperty('LOG_LEVEL').enum as string[]).join('|')})`);
    for (const key of ['base_topic', 'discovery_prefix'] as const) {
      expect(schemaType(key)).toBe(`match(${String(configProperty(OPTION_VARIABLES[key]).pattern)})`);
    }
    for (const url of ['mqtt://core-mosquitto:1883', 'mqtts://broker.lan:8883', 'ws://b:9001', 'wss://b/mqtt']) {
      expect(accepts(schemaType('mqtt_url'), url), url).toBe(true);
    }
    for (const url of ['http://broker', 'core-mosquitto:1883', 'mqtt://']) expect(accepts(schemaType('mqtt_url'), url), url).toBe(false);
    expect(accepts(schemaType('poll_interval'), 0.05)).toBe(false);
    expect(configProperty('KASA_POLL_INTERVAL').minimum).toBe(0.1);
  });

  it('starts with its default options plus an e-mail and a password', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kasa2mqtt-addon-defaults-'));
    onTestFinished(() => cleanupDir(dir));
    writeFileSync(join(dir, 'options.json'), JSON.stringify({ ...config.options, kasa_username: 'me@example.com', kasa_password: 'pw' }));
    const fake = await startFakeSupervisor({ token: 't', mqtt: { host: 'core-mosquitto', port: 1883, ssl: false, username: 'addons', password: 'x' } });
    onTestFinished(() => fake.close());
    const started = await resolveAddonEnvironment({ env: { SUPERVISOR_TOKEN: 't' }, optionsPath: join(dir, 'options.json'), supervisorUrl: fake.url });
    const loaded = loadConfig({ env: started!.env, dotenv: false });
    expect(loaded).toMatchObject({ KASA_POLL_INTERVAL: 60, LOG_LEVEL: 'info', MQTT_BASE_TOPIC: 'kasa', HA_DISCOVERY_PREFIX: 'homeassistant', DATA_DIR: dir });
  });
});

describe(`${ADDON}/translations/en.yaml`, () => {
  it('names and describes every option, and nothing else', () => {
    expect(Object.keys(translations.configuration).sort()).toEqual(Object.keys(config.schema).sort());
    for (const [key, entry] of Object.entries(translations.configuration)) {
      expect(typeof entry.name, key).toBe('string');
      expect(typeof entry.description, key).toBe('string');
    }
  });

  it('describes every port', () => {
    expect(Object.keys(translations.network ?? {})).toEqual(Object.keys(config.ports ?? {}));
  });
});

describe(`${ADDON}/ files the add-on store shows`, () => {
  it('has an icon (square) and a logo (the store shows them at 128×128 and 250×100)', () => {
    expect(pngSize(`${ADDON}/icon.png`)).toEqual({ width: 128, height: 128 });
    expect(pngSize(`${ADDON}/logo.png`)).toEqual({ width: 250, height: 100 });
  });

  it('has a README.md (the store page) that links DOCS.md', () => {
    const readme = read(`${ADDON}/README.md`);
    expect(readme).toMatch(/^# /);
    expect(readme).toContain('](DOCS.md)');
  });

  it('has DOCS.md, and a CHANGELOG.md with an entry for this version', () => {
    expect(existsSync(new URL(`${ADDON}/DOCS.md`, root))).toBe(true);
    expect(read(`${ADDON}/CHANGELOG.md`)).toMatch(new RegExp(`^## ${pkg.version.replace(/\./g, '\\.')}$`, 'm'));
  });

  it('DOCS.md walks through two-step verification with the bridge device entities Home Assistant shows', () => {
    const docs = read(`${ADDON}/DOCS.md`);
    const bridge = bridgeDiscovery({ baseTopic: 'kasa', prefix: 'homeassistant', version: pkg.version, bridgeId: 'docs' });
    expect(docs).toContain(String(bridge.device.name));
    for (const feature of ['mfa_code', 'login', 'login_required', 'cloud_session']) {
      expect(docs, feature).toContain(`**${String(bridge.components[feature]?.name)}**`);
    }
    for (const option of Object.keys(config.schema)) expect(docs, option).toContain(`\`${option}\``);
  });
});
