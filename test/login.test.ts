/**
 * `kasa2mqtt login` as a user runs it: a child process with the daemon's configuration, the code
 * piped on standard input, against the simulator over real sockets; then a bridge that reuses the
 * stored session.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BridgeAuthPayload } from '../src/api/types.js';
import { startSimulator } from '../src/simulator/index.js';
import type { SimAccountSpec, Simulator } from '../src/simulator/types.js';
import { startTestBroker, type TestBroker } from './helpers/broker.js';
import { startHarness, type Harness } from './helpers/bridgeHarness.js';

const cli = new URL('../src/cli.ts', import.meta.url).pathname;
const tsx = import.meta.resolve('tsx');
const cwd = mkdtempSync(join(tmpdir(), 'kasa2mqtt-login-cwd-'));

const ACCOUNT: SimAccountSpec = {
  username: 'terminal.user@example.com',
  password: 'Terminal-Pa55word',
  mfa: true,
  mfaCode: '482913',
  devices: [
    { deviceId: '8006A1B2C3D4E5F6A1B2C3D4E5F6A1B2C3D4E601', model: 'HS103(US)', alias: 'Reading lamp' },
    { deviceId: '8006A1B2C3D4E5F6A1B2C3D4E5F6A1B2C3D4E602', model: 'KL130(US)', alias: 'Hall bulb', online: false },
  ],
};

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `readerGoneAfter`: like `| head`, stop reading stdout once it shows this text, and only then send `input`. */
function runLogin(args: string[], env: Record<string, string>, input: string | undefined, options: { readerGoneAfter?: string } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', tsx, cli, 'login', ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const send = () => {
      if (input !== undefined) child.stdin.write(input);
      child.stdin.end();
    };
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
      if (options.readerGoneAfter !== undefined && stdout.includes(options.readerGoneAfter) && !child.stdout.destroyed) {
        child.stdout.destroy();
        send();
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    if (options.readerGoneAfter === undefined) send();
  });
}

let sim: Simulator;
let dataDir: string;
const envFor = (account: SimAccountSpec, dir: string): Record<string, string> => ({
  KASA_USERNAME: account.username,
  KASA_PASSWORD: account.password,
  KASA_CLOUD_URL: sim.url,
  DATA_DIR: dir,
});
const env = (): Record<string, string> => envFor(ACCOUNT, dataDir);

beforeAll(async () => {
  sim = await startSimulator({ accounts: [ACCOUNT] });
});
afterAll(async () => {
  await sim?.stop();
  rmSync(cwd, { recursive: true, force: true });
});

describe('kasa2mqtt login', () => {
  let broker: TestBroker | undefined;
  let h: Harness | undefined;

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'kasa2mqtt-login-'));
  });
  afterEach(async () => {
    await h?.stop();
    h = undefined;
  });
  afterAll(async () => {
    await broker?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('a wrong code: exit 1 with the cause in one line, nothing stored', async () => {
    sim.untrustTerminals(ACCOUNT.username);
    const run = await runLogin([], env(), '000000\n');
    expect(run.code).toBe(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^kasa2mqtt login: .*verification code is wrong/);
    const session = JSON.parse(readFileSync(join(dataDir, 'session.json'), 'utf8')) as Record<string, unknown>;
    expect(session).not.toHaveProperty('token');
  });

  it('no code on standard input: exit 1, and the message says what DATA_DIR holds (the terminal id, no session)', async () => {
    const run = await runLogin([], env(), '');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/no code was given/);
    expect(run.stderr).toContain(`no session was stored (${join(dataDir, 'session.json')} holds only this terminal's id)`);
    const session = JSON.parse(readFileSync(join(dataDir, 'session.json'), 'utf8')) as Record<string, unknown>;
    expect(Object.keys(session).sort()).toEqual(['terminalUUID', 'username']);
  });

  it('echo CODE | kasa2mqtt login: says where the code went, stores the session, lists the devices, exit 0', async () => {
    sim.clearRequests();
    const run = await runLogin([], env(), `${ACCOUNT.mfaCode}\n`);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/e-mailed a code to t\*\*\*@e\*\*\*\.com/);
    expect(run.stdout).toMatch(/Reading lamp\s+HS103\(US\)\s+plug\s+online/);
    expect(run.stdout).toMatch(/Hall bulb\s+KL130\(US\)\s+bulb\s+offline/);
    expect(run.stdout).not.toContain(ACCOUNT.password);
    expect(run.stdout).not.toContain(ACCOUNT.username);
    expect(sim.count({ op: 'checkMFACodeAndLogin', errorCode: 0 })).toBe(1);
    const session = JSON.parse(readFileSync(join(dataDir, 'session.json'), 'utf8')) as Record<string, unknown>;
    expect(session).toMatchObject({ token: expect.any(String), refreshToken: expect.any(String) });
  });

  it('a daemon started afterwards reuses the session: no code, no password login', async () => {
    broker = await startTestBroker();
    sim.clearRequests();
    h = await startHarness({ broker, account: ACCOUNT, sim, dataDir, env: { MQTT_BASE_TOPIC: 'kasa_login' } });
    const auth = await h.obs.next('kasa_login/bridge/auth', (m) => m.text !== '', 10_000);
    expect(auth.json<BridgeAuthPayload>().state).toBe('authenticated');
    await h.obs.next('kasa_login/reading_lamp/availability', (m) => m.text === '{"state":"online"}', 10_000);
    expect(sim.count({ op: 'login' })).toBe(0);
    expect(sim.count({ op: 'getEmailVC4TerminalMFA' })).toBe(0);
  });

  it('refuses while a daemon holds the same DATA_DIR', async () => {
    broker ??= await startTestBroker();
    h = await startHarness({ broker, account: ACCOUNT, sim, dataDir, env: { MQTT_BASE_TOPIC: 'kasa_login' } });
    sim.clearRequests();
    const run = await runLogin([], env(), `${ACCOUNT.mfaCode}\n`);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/is in use by the kasa2mqtt daemon \(pid \d+ on .*\); stop it first/);
    expect(sim.count({ op: 'getAccountStatusAndUrl' })).toBe(0);
    expect(sim.count({ op: 'login' })).toBe(0);
  });

  it('refused by the lock, it has not touched the daemon\'s session: another account\'s tokens stay stored', async () => {
    broker ??= await startTestBroker();
    h = await startHarness({ broker, account: ACCOUNT, sim, dataDir, env: { MQTT_BASE_TOPIC: 'kasa_login' } });
    await h.obs.next('kasa_login/bridge/auth', (m) => m.json<BridgeAuthPayload>().state === 'authenticated', 10_000);
    const before = readFileSync(join(dataDir, 'session.json'), 'utf8');
    expect(JSON.parse(before)).toMatchObject({ username: ACCOUNT.username, token: expect.any(String) });
    const run = await runLogin([], { ...env(), KASA_USERNAME: 'someone.else@example.com' }, undefined);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/is in use by the kasa2mqtt daemon/);
    expect(readFileSync(join(dataDir, 'session.json'), 'utf8')).toBe(before);
  });

  it('a configuration error exits 2 naming the variable', async () => {
    const run = await runLogin([], { ...env(), KASA_PASSTHROUGH_TIMEOUT: 'slow' }, undefined);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('KASA_PASSTHROUGH_TIMEOUT');
  });

  it('a wrong password exits 1 with the cause in one line', async () => {
    const run = await runLogin([], { ...env(), KASA_PASSWORD: 'not-the-password' }, undefined);
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^kasa2mqtt login: .*incorrect e-mail or password/)]);
    expect(run.stderr).not.toContain('not-the-password');
    sim.unlock(ACCOUNT.username);
  });

  it('--trace writes one redacted JSON line per exchange to stderr', async () => {
    const run = await runLogin(['--trace'], env(), undefined);
    expect(run.code).toBe(0);
    const lines = run.stderr.trim().split('\n').map((l) => JSON.parse(l) as { op: string; path: string });
    expect(lines.map((l) => l.op)).toEqual(['getAccountStatusAndUrl', 'login', 'getDeviceList']);
    expect(run.stderr).not.toContain(ACCOUNT.password);
    expect(run.stderr).not.toContain(ACCOUNT.username);
  });
});

describe('kasa2mqtt login output', () => {
  const TAPO_ALIAS = 'Küche Steckdose';
  const account: SimAccountSpec = {
    ...ACCOUNT,
    username: 'output.user@example.com',
    devices: [
      { deviceId: '8006A1B2C3D4E5F6A1B2C3D4E5F6A1B2C3D4E611', model: 'HS103(US)', alias: 'Desk fan' },
      { deviceId: '8006A1B2C3D4E5F6A1B2C3D4E5F6A1B2C3D4E612', model: 'P100', alias: TAPO_ALIAS },
    ],
  };
  let outputDir: string;
  const outputEnv = (): Record<string, string> => envFor(account, outputDir);

  beforeAll(() => {
    sim.addAccount(account);
  });
  beforeEach(() => {
    // A fresh terminal each time, so every run goes through the code prompt.
    outputDir = mkdtempSync(join(tmpdir(), 'kasa2mqtt-login-output-'));
  });
  afterEach(() => {
    rmSync(outputDir, { recursive: true, force: true });
  });

  it('a piped code: the prompt and "Code accepted" are separate lines, and the code is not echoed', async () => {
    const run = await runLogin([], outputEnv(), `${account.mfaCode}\n`);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines).toContain('Code: ');
    expect(lines.some((l) => l.startsWith('Code accepted'))).toBe(true);
    expect(run.stdout).not.toContain(account.mfaCode);
  });

  it('lists a Tapo device by its alias, not by the base64 form the cloud sends', async () => {
    const run = await runLogin([], outputEnv(), `${account.mfaCode}\n`);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^Küche Steckdose\s+P100\s/m);
    expect(run.stdout).not.toContain(Buffer.from(TAPO_ALIAS, 'utf8').toString('base64'));
  });

  it('kasa2mqtt login | head: the reader going away early ends nothing badly: no trace, exit 0, the session stored', async () => {
    const run = await runLogin([], outputEnv(), `${account.mfaCode}\n`, { readerGoneAfter: 'Code: ' });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const session = JSON.parse(readFileSync(join(outputDir, 'session.json'), 'utf8')) as Record<string, unknown>;
    expect(session).toMatchObject({ token: expect.any(String) });
  });
});
