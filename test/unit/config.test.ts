import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, maskConfig, publicConfig } from '../../src/config.js';

const base = { KASA_USERNAME: 'me@example.com', KASA_PASSWORD: 'hunter2-secret' };

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig({ env, dotenv: false });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('fills the documented defaults', () => {
    const config = loadConfig({ env: base, dotenv: false });
    expect(config).toMatchObject({
      KASA_CLOUD_URL: 'https://n-wap.tplinkcloud.com',
      KASA_POLL_INTERVAL: 60,
      KASA_RATE_LIMIT: 60,
      KASA_RATE_BURST: 5,
      MQTT_URL: 'mqtt://localhost:1883',
      MQTT_BASE_TOPIC: 'kasa',
      HA_DISCOVERY: true,
      LOG_LEVEL: 'info',
      HEALTH_PORT: 0,
    });
  });

  it('reports every problem at once, each naming its variable', () => {
    const problems = problemsOf({
      KASA_POLL_INTERVAL: 'soon',
      LOG_LEVEL: 'loud',
      MQTT_URL: 'http://broker',
      KASA_CONCURRENCY: '0',
      HA_DISCOVERY: 'maybe',
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        'KASA_USERNAME: required',
        'KASA_PASSWORD: required (or KASA_PASSWORD_FILE)',
        expect.stringMatching(/^KASA_POLL_INTERVAL: must be a number >= 0\.1 \(got "soon"\)$/),
        expect.stringMatching(/^LOG_LEVEL: one of fatal, error, warn, info, debug, trace, silent/),
        expect.stringMatching(/^MQTT_URL: /),
        expect.stringMatching(/^KASA_CONCURRENCY: must be a whole number from 1 to 64/),
        expect.stringMatching(/^HA_DISCOVERY: must be true or false \(yes\/no, on\/off, 1\/0 also accepted\)/),
      ]),
    );
    expect(problems).toHaveLength(7);
  });

  it('never echoes the password of a mistyped MQTT_URL (a missing "//") in an error', () => {
    for (const url of ['mqtt:user:pw-in-url@broker', 'mqtt:/user:pw-in-url@broker:1883', 'user:pw-in-url@broker']) {
      const problems = problemsOf({ ...base, MQTT_URL: url });
      expect(problems, url).toEqual([expect.stringMatching(/^MQTT_URL: must match/)]);
      expect(problems.join('\n'), url).not.toContain('pw-in-url');
    }
  });

  it('never echoes a secret value in an error', () => {
    const problems = problemsOf({ ...base, MQTT_PASSWORD: 'x', MQTT_PASSWORD_FILE: '/nonexistent' });
    expect(problems.join('\n')).not.toContain('hunter2-secret');
    expect(problems).toEqual(['MQTT_PASSWORD: set either MQTT_PASSWORD or MQTT_PASSWORD_FILE, not both']);
  });

  it('reads secrets from *_FILE variables', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kasa2mqtt-cfg-'));
    writeFileSync(join(dir, 'pw'), 'from-a-file\n');
    const config = loadConfig({ env: { KASA_USERNAME: 'me@example.com', KASA_PASSWORD_FILE: join(dir, 'pw') }, dotenv: false });
    expect(config.KASA_PASSWORD).toBe('from-a-file');
    expect(problemsOf({ KASA_USERNAME: 'a', KASA_PASSWORD_FILE: join(dir, 'missing') })).toEqual([
      `KASA_PASSWORD_FILE: cannot read ${join(dir, 'missing')} (ENOENT)`,
    ]);
  });

  it('reads a .env file, with the environment taking precedence', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kasa2mqtt-cfg-'));
    writeFileSync(join(dir, '.env'), 'KASA_USERNAME=file@example.com\nKASA_PASSWORD=pw\nKASA_POLL_INTERVAL=90\n');
    const config = loadConfig({ env: { KASA_POLL_INTERVAL: '120' }, dotenv: { path: join(dir, '.env') } });
    expect(config.KASA_USERNAME).toBe('file@example.com');
    expect(config.KASA_POLL_INTERVAL).toBe(120);
  });

  it('a .env copied from config.example.env: its empty lines are unset, and *_FILE works from it too', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kasa2mqtt-cfg-'));
    writeFileSync(join(dir, 'pw'), 'from-a-file\n');
    writeFileSync(join(dir, '.env'), `KASA_USERNAME=me@example.com\nKASA_PASSWORD_FILE=${join(dir, 'pw')}\nMQTT_PASSWORD=\nMQTT_USERNAME=\n`);
    const config = loadConfig({ env: {}, dotenv: { path: join(dir, '.env') } });
    expect(config.KASA_PASSWORD).toBe('from-a-file');
    expect(config.MQTT_PASSWORD).toBeUndefined();
    expect(config.MQTT_USERNAME).toBeUndefined();
  });

  it('a .env line that is not NAME=value is an error naming its line, reported with the other problems; the next line still counts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kasa2mqtt-cfg-'));
    const path = join(dir, '.env');
    writeFileSync(path, '# account\nKASA_USERNAME=me@example.com\nKASA_POLL_INTERVAL 30\nKASA_PASSWORD=pw\nMULTI="a\nb"\n\n');
    let problems: string[] = [];
    try {
      loadConfig({ env: { LOG_LEVEL: 'loud' }, dotenv: { path } });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems = err.problems;
    }
    expect(problems).toEqual([`.env line 3: not NAME=value, a # comment or a blank line (${path})`, expect.stringMatching(/^LOG_LEVEL: one of/)]);
  });

  it('ignores a UTF-8 byte order mark at the start of .env', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kasa2mqtt-cfg-'));
    writeFileSync(join(dir, '.env'), '\uFEFFKASA_USERNAME=bom@example.com\r\nKASA_PASSWORD=pw\r\n');
    expect(loadConfig({ env: {}, dotenv: { path: join(dir, '.env') } }).KASA_USERNAME).toBe('bom@example.com');
  });

  it('warns about a misspelt variable in the environment or .env, naming the closest one, and still loads', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kasa2mqtt-cfg-'));
    writeFileSync(join(dir, '.env'), 'MQTT_BASE_TOPC=home\n');
    const warnings: string[] = [];
    const config = loadConfig({
      env: { ...base, KASA_POLL_INTERVALL: '30', KASA_PASSWORD_FILE: '', KASA2MQTT_ADDON_OPTIONS: '/x', HOME: '/root' },
      dotenv: { path: join(dir, '.env') },
      onWarning: (message) => warnings.push(message),
    });
    expect(config.KASA_POLL_INTERVAL).toBe(60);
    expect(warnings.sort()).toEqual([
      'KASA_POLL_INTERVALL is not a kasa2mqtt variable and is ignored; did you mean KASA_POLL_INTERVAL?',
      'MQTT_BASE_TOPC is not a kasa2mqtt variable and is ignored; did you mean MQTT_BASE_TOPIC?',
    ]);
  });

  it('holds only the configuration: other variables of the environment stay out of it', () => {
    const config = loadConfig({ env: { ...base, PATH: '/usr/bin', HOME: '/root' }, dotenv: false });
    expect(Object.keys(config).every((key) => /^(KASA|MQTT|HA|LOG|HEALTH|DATA)_/.test(key))).toBe(true);
  });

  it('names the rule a value breaks: whole numbers, lengths', () => {
    expect(problemsOf({ ...base, KASA_CONCURRENCY: '1.5' })).toEqual([expect.stringMatching(/^KASA_CONCURRENCY: must be a whole number from 1 to 64 \(got "1\.5"\)$/)]);
    expect(problemsOf({ ...base, MQTT_CLIENT_ID: 'x'.repeat(65) })).toEqual([expect.stringMatching(/^MQTT_CLIENT_ID: must be at most 64 characters/)]);
    expect(problemsOf({ ...base, KASA_POLL_INTERVAL: 'Infinity' })).toEqual([expect.stringMatching(/^KASA_POLL_INTERVAL: must be a number/)]);
  });

  it('accepts yes/no/1/0 for booleans and treats empty variables as unset', () => {
    const config = loadConfig({ env: { ...base, HA_DISCOVERY: 'no', MQTT_REJECT_UNAUTHORIZED: '0', MQTT_USERNAME: '' }, dotenv: false });
    expect(config.HA_DISCOVERY).toBe(false);
    expect(config.MQTT_REJECT_UNAUTHORIZED).toBe(false);
    expect(config.MQTT_USERNAME).toBeUndefined();
  });

  it('rejects a discovery prefix equal to the base topic and wildcard topics', () => {
    expect(problemsOf({ ...base, MQTT_BASE_TOPIC: 'x', HA_DISCOVERY_PREFIX: 'x' })).toEqual([
      'HA_DISCOVERY_PREFIX: must differ from MQTT_BASE_TOPIC',
    ]);
    expect(problemsOf({ ...base, MQTT_BASE_TOPIC: 'kasa/#' })[0]).toMatch(/^MQTT_BASE_TOPIC: must match/);
  });

  it('masks secrets for printing and removes them for publishing', () => {
    const config = loadConfig({ env: { ...base, MQTT_PASSWORD: 'mqtt-secret' }, dotenv: false });
    const masked = JSON.stringify(maskConfig(config));
    expect(masked).not.toContain('hunter2-secret');
    expect(masked).not.toContain('mqtt-secret');
    expect(maskConfig(config).KASA_PASSWORD).toBe('********');
    const pub = publicConfig(config);
    expect(pub).not.toHaveProperty('KASA_PASSWORD');
    expect(pub).not.toHaveProperty('MQTT_PASSWORD');
    expect(pub.KASA_USERNAME).toBe('m***@example.com');
  });

  it('an MQTT_URL that has the scheme but does not parse is a configuration error, its password not shown', () => {
    const problems = problemsOf({ ...base, MQTT_URL: 'mqtt://bob:very-secret@[broker' });
    expect(problems).toEqual(['MQTT_URL: not a valid URL (got "mqtt://[broker")']);
  });
});
