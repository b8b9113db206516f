/**
 * README "Installation": the four ways in, in order, each with commands, and what they say checked
 * against the files they describe (add-on, compose, workflows, package.json, configuration).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config.js';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const readme = read('README.md');
const pkg = JSON.parse(read('package.json')) as { version: string; engines: { node: string } };
const compose = parse(read('docker-compose.yml')) as { services: Record<string, { image?: string; profiles?: string[] }> };
const addon = parse(read('kasa2mqtt/config.yaml')) as { homeassistant: string };
const repository = parse(read('repository.yaml')) as { url: string };

/** The text of `## Installation` up to the next `## `. */
const installation = /^## Installation\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1] ?? '';
/** `### <title>` → its text. */
const sections = new Map([...installation.matchAll(/^### (.+)\n([\s\S]*?)(?=^### |(?![\s\S]))/gm)].map((m) => [m[1]!, m[2]!]));
const blocks = (text: string, lang: string) => [...text.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);

describe('README installation', () => {
  it('has the four ways in, in order, then upgrading and several accounts', () => {
    expect([...sections.keys()]).toEqual([
      'Home Assistant OS: the add-on',
      'Docker with the broker you already have',
      'Docker with the bundled broker',
      'npm',
      'Upgrading',
      'Several accounts',
    ]);
  });

  it('states the minimum versions the add-on and package.json enforce', () => {
    expect(installation).toContain('Home Assistant **2025.1**');
    expect(addon.homeassistant).toMatch(/^2025\.1\b/);
    expect(pkg.engines.node).toBe('>=20.19');
    expect(installation).toContain('**20.19** or **22**');
  });

  it('lists the image tags and the architectures release.yml builds', () => {
    const release = read('.github/workflows/release.yml');
    for (const platform of ['linux/amd64', 'linux/arm64', 'linux/arm/v7']) {
      expect(installation).toContain(`\`${platform}\``);
      expect(release).toContain(platform);
    }
    expect(installation).toContain('`ghcr.io/kasa2mqtt/kasa2mqtt`');
    expect(installation).toContain('`latest`');
  });

  it('add-on: the repository URL of repository.yaml and the MFA code box', () => {
    const text = sections.get('Home Assistant OS: the add-on')!;
    expect(text).toContain(`\`${repository.url}\``);
    expect(text).toContain('**MFA code**');
    expect(text).toContain('kasa2mqtt/DOCS.md');
  });

  it('Docker with an existing broker: a Home Assistant user and the three variables make a valid configuration', () => {
    const text = sections.get('Docker with the broker you already have')!;
    expect(text).toMatch(/Settings → People → \*\*Users\*\*/);
    const env = Object.fromEntries(
      blocks(text, 'sh')
        .flatMap((b) => b.split('\n'))
        .filter((l) => /^[A-Z_]+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    expect(Object.keys(env)).toEqual(expect.arrayContaining(['MQTT_URL', 'MQTT_USERNAME', 'MQTT_PASSWORD']));
    expect(loadConfig({ env, dotenv: false })).toMatchObject({ MQTT_URL: env.MQTT_URL, MQTT_USERNAME: env.MQTT_USERNAME });
    expect(blocks(text, 'sh').join('\n')).toContain('docker compose up -d');
    expect(blocks(text, 'sh').join('\n')).not.toContain('COMPOSE_PROFILES');
  });

  it('Docker with the bundled broker: turns on the profile docker-compose.yml puts the broker in', () => {
    const text = sections.get('Docker with the bundled broker')!;
    const commands = blocks(text, 'sh').join('\n');
    const profile = compose.services.mosquitto?.profiles?.[0];
    expect(commands).toContain(`COMPOSE_PROFILES=${profile} >> .env`);
    expect(commands).toContain('docker compose up -d');
  });

  it('npm: install and run commands', () => {
    const commands = blocks(sections.get('npm')!, 'sh').join('\n');
    expect(commands).toContain('npm install -g kasa2mqtt');
    expect(commands).toMatch(/^kasa2mqtt$/m);
  });

  it('upgrading: pull and restart, DATA_DIR kept, nothing to pair again', () => {
    const text = sections.get('Upgrading')!;
    expect(text).toContain('docker compose pull && docker compose up -d');
    expect(text).toContain('`DATA_DIR`');
    expect(text).toContain('nothing to pair or verify again');
  });

  it('several accounts: a compose example with its own data directory, base topic and client id per account', () => {
    const [example] = blocks(sections.get('Several accounts')!, 'yaml');
    const services = Object.values(
      (parse(example!) as { services: Record<string, { image: string; volumes: string[]; environment: Record<string, string> }> }).services,
    );
    expect(services.length).toBeGreaterThanOrEqual(2);
    const distinct = (values: string[]) => expect(new Set(values).size).toBe(services.length);
    distinct(services.map((s) => s.volumes.find((v) => v.endsWith(':/data'))!));
    distinct(services.map((s) => s.environment.MQTT_BASE_TOPIC!));
    distinct(services.map((s) => s.environment.MQTT_CLIENT_ID!));
    for (const service of services) expect(service.image).toBe(compose.services.kasa2mqtt?.image);
  });
});
