/**
 * docker-compose.yml and the Mosquitto config it mounts, checked without a Docker engine: the YAML
 * is parsed and its services, images, volumes and env file asserted; the broker config is read
 * and, when a `mosquitto` binary is installed (.ci/run installs it), loaded by a real Mosquitto 2.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { connectAsync } from 'mqtt';
import { describe, expect, it, onTestFinished } from 'vitest';
import { parseDocument } from 'yaml';
import { cleanupDir, freePort, hasMosquitto } from '../helpers/broker.js';
import { parseDockerfile, readRepoFile, repoFile, runtimeStage } from './dockerfileModel.js';

interface Service {
  image?: string;
  build?: string | { context: string };
  restart?: string;
  env_file?: string | (string | { path: string })[];
  environment?: Record<string, string | number | boolean | null> | string[];
  volumes?: (string | { type: string; source?: string; target: string; read_only?: boolean })[];
  ports?: (string | number)[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test: string | string[] };
  init?: boolean;
  profiles?: string[];
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const composeText = readRepoFile('docker-compose.yml');
const document = parseDocument(composeText);
const compose = document.toJS() as Compose;
const broker = compose.services.mosquitto!;
const bridge = compose.services.kasa2mqtt!;

interface Mount {
  source: string;
  target: string;
  readOnly: boolean;
}
function mounts(service: Service): Mount[] {
  return (service.volumes ?? []).map((v) => {
    if (typeof v !== 'string') return { source: v.source ?? '', target: v.target, readOnly: v.read_only === true };
    const [source = '', target = '', mode = ''] = v.split(':');
    return { source, target, readOnly: mode.split(',').includes('ro') };
  });
}
function mountAt(service: Service, target: string): Mount | undefined {
  return mounts(service).find((m) => m.target.replace(/\/$/, '') === target);
}
function environment(service: Service): Map<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) return new Map(env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  return new Map(Object.entries(env).map(([k, v]) => [k, String(v)]));
}
/** "127.0.0.1:1883:1883" → { host: "127.0.0.1", published: 1883, container: 1883 }. */
function ports(service: Service): { host: string | null; published: number; container: number }[] {
  return (service.ports ?? []).map((p) => {
    const parts = String(p).split(':');
    const container = Number(parts.at(-1));
    const published = parts.length >= 2 ? Number(parts.at(-2)) : container;
    return { host: parts.length === 3 ? parts[0]! : null, published, container };
  });
}

/**
 * What compose makes of `${VAR:-default}`, `${VAR-default}`, `${VAR}` and `$$`, given the variables
 * of the shell and .env.
 */
function interpolate(value: string, vars: Record<string, string>): string {
  return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}/g, (whole, name?: string, op?: string, fallback?: string) => {
    if (whole === '$$') return '$';
    const set = vars[name!];
    if (op === ':-') return set === undefined || set === '' ? (fallback ?? '') : set;
    if (op === '-') return set === undefined ? (fallback ?? '') : set;
    return set ?? '';
  });
}

/** The services `docker compose up` starts with these profiles active (COMPOSE_PROFILES / --profile). */
function started(profiles: string[]): string[] {
  return Object.entries(compose.services)
    .filter(([, service]) => !service.profiles || service.profiles.some((p) => profiles.includes(p)))
    .map(([name]) => name)
    .sort();
}

/** Mosquitto config directives, comments dropped: `listener 1883` → ['listener', ['1883']]. */
function directives(conf: string): [string, string[]][] {
  return conf
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const [name = '', ...args] = l.split(/\s+/);
      return [name, args];
    });
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port; rejects if the child exits first. */
async function waitForListener(port: number, child: ChildProcess, log: () => string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited with ${child.exitCode}:\n${log()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${port} within ${timeoutMs} ms:\n${log()}`);
    await delay(20); // poll interval, not a wait for an outcome
  }
}

const configMount = mountAt(broker, '/mosquitto/config');
const confPath = configMount ? repoFile(`${configMount.source.replace(/^\.\//, '')}/mosquitto.conf`) : undefined;
const conf = confPath && existsSync(confPath) ? readFileSync(confPath, 'utf8') : '';
const confDirectives = directives(conf);
const directive = (name: string) => confDirectives.filter(([n]) => n === name).map(([, args]) => args);

describe('docker-compose.yml', () => {
  it('is valid YAML with the broker and the bridge', () => {
    expect(document.errors).toEqual([]);
    expect(document.warnings).toEqual([]);
    expect(Object.keys(compose.services).sort()).toEqual(['kasa2mqtt', 'mosquitto']);
  });

  it('uses only top-level keys that docker-compose 1.29 (Debian 12) also accepts', () => {
    // 1.29 rejects `name:` ("'name' does not match any of the regexes: '^x-'"); `version:` is obsolete in v2.
    expect(Object.keys(compose).filter((k) => !k.startsWith('x-'))).toEqual(['services', 'volumes']);
  });

  it('runs Mosquitto 2 with its config from docker/mosquitto and a data volume', () => {
    expect(broker.image).toBe('eclipse-mosquitto:2');
    expect(configMount).toMatchObject({ source: './docker/mosquitto/config', readOnly: true });
    const data = mountAt(broker, '/mosquitto/data');
    expect(data).toBeDefined();
    // A named volume declared at the top level (not a bind mount into the repository).
    expect(Object.keys(compose.volumes ?? {})).toContain(data?.source);
    expect(broker.restart).toBe('unless-stopped');
  });

  it('publishes the broker on every interface, so Home Assistant on another machine can connect', () => {
    expect(ports(broker)).toEqual([{ host: '0.0.0.0', published: 1883, container: 1883 }]);
  });

  it('starts the bundled broker only with the `broker` profile: with an existing broker only kasa2mqtt starts', () => {
    expect(broker.profiles).toEqual(['broker']);
    expect(bridge.profiles).toBeUndefined();
    expect(started([])).toEqual(['kasa2mqtt']);
    expect(started(['broker'])).toEqual(['kasa2mqtt', 'mosquitto']);
    // A dependency on a service that is not started would stop `up` (compose 1.29 cannot mark it optional).
    expect(bridge.depends_on).toBeUndefined();
  });

  it('health-checks the broker with mosquitto_sub on $SYS (escaped as $$ for compose)', () => {
    const test = broker.healthcheck?.test;
    expect(Array.isArray(test)).toBe(true);
    const argv = test as string[];
    expect(argv.slice(0, 2)).toEqual(['CMD', 'mosquitto_sub']);
    expect(argv[argv.indexOf('-t') + 1]).toMatch(/^\$\$SYS\//);
    // It must end: one message (-C 1) or a timeout (-W).
    expect(argv).toEqual(expect.arrayContaining(['-C', '1', '-W']));
  });

  it('runs the published image of this version, and can still build it from this repository', () => {
    const pkg = JSON.parse(readRepoFile('package.json')) as { version: string };
    expect(bridge.image).toBe(`ghcr.io/kasa2mqtt/kasa2mqtt:${pkg.version}`);
    // The name release.yml pushes: ${REGISTRY}/kasa2mqtt:<version>.
    const release = parseDocument(readRepoFile('.github/workflows/release.yml')).toJS() as { env: { REGISTRY: string } };
    expect(bridge.image?.startsWith(`${release.env.REGISTRY}/kasa2mqtt:`)).toBe(true);
    const context = typeof bridge.build === 'string' ? bridge.build : bridge.build?.context;
    expect(context).toBe('.');
    expect(existsSync(repoFile('Dockerfile'))).toBe(true);
  });

  it('configures the bridge from .env, which git ignores', () => {
    const files = [bridge.env_file ?? []].flat().map((f) => (typeof f === 'string' ? f : f.path));
    expect(files).toEqual(['.env']);
    expect(readRepoFile('.gitignore').split('\n').map((l) => l.trim())).toContain('.env');
  });

  it('without MQTT_URL in .env, points the bridge at the bundled broker, on the port its listener uses', () => {
    const url = new URL(interpolate(environment(bridge).get('MQTT_URL') ?? '', {}));
    expect(url.protocol).toBe('mqtt:');
    expect(compose.services[url.hostname]).toBe(broker);
    expect(directive('listener').map(([port]) => port)).toContain(url.port || '1883');
    expect(interpolate(environment(bridge).get('MQTT_URL') ?? '', { MQTT_URL: '' })).toBe(url.href.replace(/\/$/, ''));
  });

  it('with MQTT_URL in .env (an existing broker), the bridge uses that one', () => {
    const existing = 'mqtt://192.168.1.10:1883';
    expect(interpolate(environment(bridge).get('MQTT_URL') ?? '', { MQTT_URL: existing })).toBe(existing);
    // Credentials for it come from .env through env_file; compose sets none that would override them.
    for (const name of ['MQTT_USERNAME', 'MQTT_PASSWORD']) expect(environment(bridge).has(name), name).toBe(false);
  });

  it('sets the time zone from TZ in .env, UTC otherwise', () => {
    const tz = environment(bridge).get('TZ') ?? '';
    expect(interpolate(tz, {})).toBe('Etc/UTC');
    expect(interpolate(tz, { TZ: 'Europe/Amsterdam' })).toBe('Europe/Amsterdam');
  });

  it('keeps the bridge state in ./data, mounted where the image keeps DATA_DIR', () => {
    const image = runtimeStage(parseDockerfile());
    const dataDir = image.env.get('DATA_DIR');
    expect(dataDir).toBe('/data');
    expect(image.volumes).toContain(dataDir);
    expect(mountAt(bridge, dataDir!)).toEqual({ source: './data', target: '/data', readOnly: false });
    expect(environment(bridge).has('DATA_DIR')).toBe(false);
    expect(readRepoFile('.gitignore').split('\n').map((l) => l.trim())).toContain('data/');
  });

  it('restarts the bridge unless stopped (it retries the broker by itself, so no depends_on)', () => {
    expect(bridge.restart).toBe('unless-stopped');
    expect(bridge.depends_on).toBeUndefined();
    // The image's ENTRYPOINT is tini; compose's init would be a second one.
    expect(bridge.init).toBeUndefined();
  });

  it('publishes the health/metrics port on localhost only, matching the image', () => {
    const port = Number(runtimeStage(parseDockerfile()).env.get('HEALTH_PORT'));
    expect(ports(bridge)).toEqual([{ host: '127.0.0.1', published: port, container: port }]);
  });
});

describe('docker/mosquitto/config/mosquitto.conf', () => {
  it('exists where docker-compose.yml mounts it from', () => {
    expect(confPath && existsSync(confPath)).toBe(true);
  });

  it('keeps retained messages: persistence on, stored in the data volume', () => {
    expect(directive('persistence')).toEqual([['true']]);
    expect(directive('persistence_location')).toEqual([['/mosquitto/data/']]);
    expect(mountAt(broker, '/mosquitto/data')).toBeDefined();
  });

  it('has a listener on 1883 for the bridge, logs to stdout, and explains the password setup', () => {
    expect(directive('listener')).toContainEqual(['1883']);
    expect(directive('log_dest')).toContainEqual(['stdout']);
    // Mosquitto 2 refuses remote clients on a listener without explicit auth settings.
    expect(directive('allow_anonymous')).toEqual([['true']]);
    expect(directive('password_file')).toEqual([]);
    expect(conf).toMatch(/^#\s*password_file \/mosquitto\/config\/\S+$/m);
    expect(conf).toMatch(/^#.*mosquitto_passwd[^\n]*\\\n(#[^\n]*\\\n)*#[^\n]*-c \/mosquitto\/config\/passwd\b/m);
  });

  it.skipIf(!hasMosquitto())('is accepted by a real Mosquitto 2, which then serves $SYS and saves its database', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kasa2mqtt-compose-mosquitto-'));
    const port = await freePort();
    // The same file with the container paths mapped to a temporary directory and a free port.
    const local = conf
      .replace(/^persistence_location .*$/m, `persistence_location ${dir}/`)
      .replace(/^listener 1883$/m, `listener ${port} 127.0.0.1`);
    writeFileSync(join(dir, 'mosquitto.conf'), `user ${userInfo().username}\n${local}`);
    const child = spawn('mosquitto', ['-c', join(dir, 'mosquitto.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (chunk: Buffer) => (log += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    // Also when the test times out (a `finally` would then never run).
    onTestFinished(() => {
      child.kill('SIGKILL');
      cleanupDir(dir);
    });
    // Mosquitto block-buffers its log on a pipe, so wait for the port instead of a log line.
    await waitForListener(port, child, () => log);
    const client = await connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 });
    const uptime = new Promise<string>((resolve) => client.once('message', (topic) => resolve(topic)));
    await client.subscribeAsync('$SYS/broker/uptime');
    expect(await uptime).toBe('$SYS/broker/uptime');
    await client.endAsync();
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(readdirSync(dir)).toContain('mosquitto.db');
  });
});
