import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const cli = new URL('../src/cli.ts', import.meta.url).pathname;
const tsx = import.meta.resolve('tsx');
// An empty working directory, so no developer .env is read.
const cwd = mkdtempSync(join(tmpdir(), 'kasa2mqtt-cli-'));

function runCli(args: string[], env: Record<string, string> = {}, dir = cwd) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['--import', tsx, cli, ...args],
      // A clean environment: only PATH, so no developer variable or .env leaks in.
      { env: { PATH: process.env.PATH ?? '', ...env }, cwd: dir },
      (err, stdout, stderr) => resolve({ code: err ? (err.code as number) : 0, stdout, stderr }),
    );
  });
}

describe('command line', () => {
  it('--version prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    const { code, stdout } = await runCli(['--version']);
    expect(code).toBe(0);
    expect(stdout.trim()).toBe(pkg.version);
  });

  it('--check-config prints the effective config with secrets masked', async () => {
    const { code, stdout } = await runCli(['--check-config'], {
      KASA_USERNAME: 'me@example.com',
      KASA_PASSWORD: 'pw-very-secret',
      MQTT_PASSWORD: 'mqtt-very-secret',
      KASA_POLL_INTERVAL: '30',
    });
    expect(code).toBe(0);
    expect(stdout).not.toContain('very-secret');
    const printed = JSON.parse(stdout) as Record<string, unknown>;
    expect(printed).toMatchObject({ KASA_POLL_INTERVAL: 30, KASA_PASSWORD: '********', MQTT_PASSWORD: '********' });
  });

  it('--check-config and its errors show URLs without their user name and password', async () => {
    const env = { KASA_USERNAME: 'me@example.com', KASA_PASSWORD: 'pw', KASA_CLOUD_URL: 'https://cloud-user:cloud-very-secret@cloud.example' };
    const ok = await runCli(['--check-config'], { ...env, MQTT_URL: 'mqtts://broker-user:mqtt-very-secret@broker.example:8883' });
    expect(ok.code).toBe(0);
    expect(ok.stdout).not.toContain('very-secret');
    expect(JSON.parse(ok.stdout)).toMatchObject({ MQTT_URL: 'mqtts://broker.example:8883', KASA_CLOUD_URL: 'https://cloud.example/' });

    const bad = await runCli(['--check-config'], { ...env, KASA_CLOUD_URL: 'ftp://u:cloud-very-secret@x', MQTT_URL: 'http://u:mqtt-very-secret@broker' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).not.toContain('very-secret');
    expect(bad.stderr).toContain('MQTT_URL: must match ^(mqtts?|wss?):// (got "http://broker/")');

    // The scheme forgotten: the value is refused, and still shown without the password.
    const noScheme = await runCli(['--check-config'], { ...env, KASA_CLOUD_URL: 'https://cloud.example', MQTT_URL: 'broker-user:mqtt-very-secret@broker:1883' });
    expect(noScheme.code).toBe(2);
    expect(noScheme.stderr).not.toContain('very-secret');
    expect(noScheme.stderr).toContain('MQTT_URL: must match ^(mqtts?|wss?):// (got "broker:1883")');
  });

  it('exits 2 naming each bad variable, before connecting to anything', async () => {
    const { code, stderr, stdout } = await runCli([], { KASA_USERNAME: 'me@example.com', KASA_RATE_LIMIT: 'lots' });
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('KASA_PASSWORD: required');
    expect(stderr).toContain('KASA_RATE_LIMIT: must be a whole number >= 1 (got "lots")');
  });

  it('warns on standard error about a misspelt variable, naming the closest, and runs', async () => {
    const { code, stderr } = await runCli(['--check-config'], { KASA_USERNAME: 'me@example.com', KASA_PASSWORD: 'pw', KASA_POLL_INTERVALL: '30' });
    expect(code).toBe(0);
    expect(stderr).toBe('kasa2mqtt: warning: KASA_POLL_INTERVALL is not a kasa2mqtt variable and is ignored; did you mean KASA_POLL_INTERVAL?\n');
  });

  it('healthcheck takes HEALTH_PORT from ./.env, as the daemon does (an npm install keeps it there)', async () => {
    const server = createServer((_req, res) => res.writeHead(200).end('{"status":"ok","reasons":[]}'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      const dir = mkdtempSync(join(tmpdir(), 'kasa2mqtt-cli-hc-'));
      writeFileSync(join(dir, '.env'), `KASA_USERNAME=me@example.com\nHEALTH_PORT=${port}\n`);
      const fromFile = await runCli(['healthcheck'], {}, dir);
      expect(fromFile.stderr).toBe('');
      expect(fromFile.code).toBe(0);
      // The environment wins over .env.
      const overridden = await runCli(['healthcheck'], { HEALTH_PORT: '0' }, dir);
      expect(overridden.code).toBe(1);
      expect(overridden.stderr).toContain('HEALTH_PORT is not set');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('simulator: a bad argument is a usage error, exit 2 and one line', async () => {
    const { code, stderr, stdout } = await runCli(['simulator', '--mfa-dialect', 'bogus']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe('kasa2mqtt simulator: --mfa-dialect must be one of tapo, kasa, nested, wiki\n');
  });

  it('--help points to files an npm install has', { timeout: 60_000 }, async () => {
    const { stdout } = await runCli(['--help']);
    const named = [...stdout.matchAll(/\b(README\.md|config\.example\.env)\b/g)].map((m) => m[1]!);
    expect(named).toContain('config.example.env');
    const packed = await new Promise<string>((resolve, reject) => {
      execFile('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: new URL('..', import.meta.url).pathname }, (err, out) => {
        if (err) reject(new Error(`npm pack: ${err.message}`));
        else resolve(out);
      });
    });
    const paths = (JSON.parse(packed) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
    for (const file of named) expect(paths, file).toContain(file);
  });

  it('rejects unknown arguments with usage and exit 2', async () => {
    const { code, stderr } = await runCli(['--frobnicate']);
    expect(code).toBe(2);
    expect(stderr).toContain('unknown argument "--frobnicate"');
  });
});
