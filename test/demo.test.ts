/**
 * `npm run demo` as a newcomer runs it: a child process (or npm itself), its printed instructions,
 * and a real MQTT client that completes the MFA round and switches a plug. Never the shared broker
 * on 1883: either a broker this test started on a free port, or nothing there so the demo starts
 * its own (mosquitto from PATH, else aedes).
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_IDENTITY } from '../src/simulator/catalog.js';
import { cleanupDir, freePort, hasMosquitto, startTestBroker, type TestBroker } from './helpers/broker.js';
import { observe, waitFor, type Observer } from './helpers/mqttObserver.js';

const demoEntry = fileURLToPath(new URL('../src/demo/index.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const tsx = import.meta.resolve('tsx');
const WAIT_MS = 30_000;
const PLUG = 'bedroom_desk_light';

interface RunningDemo {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with everything printed so far once stdout matches `pattern`. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<number | null>;
  /** Every process holding the demo's stderr has exited (npm, its shell and the demo). */
  closed: Promise<void>;
}

function startDemo(env: Record<string, string>, cwd: string): RunningDemo {
  // A clean environment (only PATH and what the test gives) and an empty working directory, also
  // its TMPDIR, so what a failing demo leaves goes with the test's directory.
  return watchDemo(
    spawn(process.execPath, ['--import', tsx, demoEntry], {
      cwd,
      env: { PATH: process.env.PATH ?? '', TMPDIR: cwd, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
}

/** `npm run demo` in the checkout, in a process group of its own as a terminal runs a job. */
function startDemoThroughNpm(env: Record<string, string>): RunningDemo {
  return watchDemo(
    spawn('npm', ['run', 'demo'], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    }),
  );
}

function watchDemo(child: ChildProcess & { stdout: NonNullable<ChildProcess['stdout']>; stderr: NonNullable<ChildProcess['stderr']> }): RunningDemo {
  let out = '';
  let errText = '';
  const listeners = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    for (const l of [...listeners]) l();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (errText += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const closed = new Promise<void>((resolve) => child.stderr.once('close', () => resolve()));
  return {
    child,
    stdout: () => out,
    stderr: () => errText,
    exited,
    closed,
    waitForOutput(pattern, timeoutMs = WAIT_MS) {
      return new Promise<string>((resolve, reject) => {
        const check = () => {
          if (!pattern.test(out)) return;
          cleanup();
          resolve(out);
        };
        const onExit = (code: number | null) => {
          cleanup();
          reject(new Error(`demo exited (${code}) before printing ${pattern}\nstdout:\n${out}\nstderr:\n${errText}`));
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`demo did not print ${pattern} within ${timeoutMs} ms\nstdout:\n${out}\nstderr:\n${errText}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
          child.off('exit', onExit);
        };
        listeners.add(check);
        child.once('exit', onExit);
        check();
      });
    },
  };
}

/** A broker of this test's own on a free port, never the shared one on 1883 (nor MQTT_TEST_URL). */
async function ownBroker(): Promise<TestBroker> {
  const saved = process.env.MQTT_TEST_URL;
  delete process.env.MQTT_TEST_URL;
  try {
    const broker = await startTestBroker();
    if (broker.port === 1883) {
      await broker.stop();
      throw new Error('refusing to run the demo test against a broker on port 1883');
    }
    return broker;
  } finally {
    if (saved !== undefined) process.env.MQTT_TEST_URL = saved;
  }
}

const state = (m: { json<T>(): T }) => m.json<{ state?: string }>().state;

/** The newcomer's path: instructions → MFA code → logged in → switch a plug → (`whileRunning`) → SIGTERM. */
async function newcomerFlow(
  demo: RunningDemo,
  url: string,
  protocolVersion: 4 | 5,
  observer?: Observer,
  whileRunning: () => Promise<void> = async () => {},
): Promise<string> {
  const port = new URL(url).port;
  const printed = await demo.waitForOutput(/Ctrl-C stops the demo\./);
  expect(printed).toContain(`mosquitto_sub -h 127.0.0.1 -p ${port} -v -t 'kasa/#'`);
  expect(printed).toContain(`the demo code is ${DEMO_IDENTITY.mfaCode}`);
  expect(printed).toContain(`mosquitto_pub -h 127.0.0.1 -p ${port} -t kasa/bridge/mfa -m ${DEMO_IDENTITY.mfaCode}`);
  expect(printed).toContain(`mosquitto_pub -h 127.0.0.1 -p ${port} -t kasa/${PLUG}/set -m ON`);
  expect(printed).toContain(`broker 127.0.0.1, port ${port}`);

  const obs = observer ?? (await observe(url, ['kasa/#'], { protocolVersion }));
  try {
    await obs.next('kasa/bridge/auth', (m) => state(m) === 'mfa_required', WAIT_MS);
    await obs.publish('kasa/bridge/mfa', DEMO_IDENTITY.mfaCode, { qos: 1 });
    await obs.next('kasa/bridge/auth', (m) => state(m) === 'authenticated', WAIT_MS);
    await obs.next(`kasa/${PLUG}/availability`, (m) => state(m) === 'online', WAIT_MS);

    await obs.publish(`kasa/${PLUG}/set`, 'ON', { qos: 1 });
    const response = await obs.next(`kasa/${PLUG}/response/set`, undefined, WAIT_MS);
    expect(response.json()).toMatchObject({ status: 'ok', data: { state: 'ON' } });
    await obs.next(`kasa/${PLUG}`, (m) => state(m) === 'ON', WAIT_MS);
    await demo.waitForOutput(/Logged in: 10 devices online \(1 offline, 1 not supported\)/);
    await whileRunning();

    demo.child.kill('SIGTERM');
    expect(await demo.exited).toBe(0);
    await obs.next('kasa/bridge/state', (m) => state(m) === 'offline', WAIT_MS);
  } finally {
    await obs.close();
  }
  expect(demo.stdout()).toContain('Stopped. Bye!');
  return demo.stdout();
}

describe('npm run demo', () => {
  const running: RunningDemo[] = [];
  const dirs: string[] = [];
  const brokers: TestBroker[] = [];
  const workDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'kasa2mqtt-demo-test-'));
    dirs.push(dir);
    return dir;
  };

  /** A demo on a free port with a TMPDIR of its own, once it has printed its instructions. */
  const runningDemo = async (start: (env: Record<string, string>) => RunningDemo): Promise<DemoRun> => {
    const tmp = workDir();
    const port = await freePort();
    const demo = start({ MQTT_URL: `mqtt://127.0.0.1:${port}`, TMPDIR: tmp });
    running.push(demo);
    await demo.waitForOutput(/Ctrl-C stops the demo\./);
    return { demo, port, tmp, dataDir: dataDirOf(demo) };
  };

  afterEach(async () => {
    for (const d of running.splice(0)) {
      if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill('SIGKILL');
      // A demo started through npm may outlive npm (that is what one test looks for).
      if (d.child.spawnargs[0] === 'npm' && groupAlive(d.child.pid!)) process.kill(-d.child.pid!, 'SIGKILL');
    }
    for (const b of brokers.splice(0)) await b.stop();
    for (const dir of dirs.splice(0)) cleanupDir(dir);
  });

  it('uses the broker that answers at MQTT_URL, completes MFA over MQTT and switches a plug', { timeout: 90_000 }, async () => {
    const broker = await ownBroker();
    brokers.push(broker);
    // Watch from before the demo starts, as a user with mosquitto_sub open would.
    const obs = await observe(broker.url, ['kasa/#'], { protocolVersion: broker.mqtt5 ? 5 : 4 });
    const demo = startDemo({ MQTT_URL: broker.url }, workDir());
    running.push(demo);
    const out = await newcomerFlow(demo, broker.url, broker.mqtt5 ? 5 : 4, obs);
    expect(out).toContain(`Broker     ${broker.url}, already running`);
    expect(out).toMatch(/\(fresh, removed on exit\)/);
    // The bridge's logs go to stderr, so stdout holds only the demo's own lines.
    expect(out).not.toMatch(/^\{"level"/m);
  });

  it('without mosquitto on PATH: starts its in-process MQTT 3.1.1 broker and says MQTT 5 features are not available', { timeout: 90_000 }, async () => {
    const port = await freePort();
    const url = `mqtt://127.0.0.1:${port}`;
    const demo = startDemo({ MQTT_URL: url, PATH: pathWithoutMosquitto() }, workDir());
    running.push(demo);
    await demo.waitForOutput(/Ctrl-C stops the demo\./);
    expect(demo.stdout()).toContain(`Broker     ${url}, started by the demo (aedes, MQTT 3.1.1`);
    expect(demo.stdout()).toContain('Note: mosquitto is not installed, so the demo runs its in-process broker, which speaks MQTT 3.1.1 only:');
    expect(demo.stdout()).toContain('MQTT 5 features (mosquitto_rr, response topics) are not available with it.');
    await newcomerFlow(demo, url, 4);
  });

  it('with mosquitto installed: starts it when nothing answers at MQTT_URL, mosquitto_rr works, and it stops with the demo', { timeout: 90_000 }, async (ctx) => {
    if (!hasMosquitto()) ctx.skip('mosquitto is not installed');
    if (spawnSync('mosquitto_rr', ['--help'], { stdio: 'ignore' }).error !== undefined) ctx.skip('mosquitto_rr is not installed');
    const port = await freePort();
    const url = `mqtt://127.0.0.1:${port}`;
    const demo = startDemo({ MQTT_URL: url }, workDir());
    running.push(demo);
    await demo.waitForOutput(/Ctrl-C stops the demo\./);
    expect(demo.stdout()).toContain(`Broker     ${url}, started by the demo (mosquitto; stops with the demo)`);
    expect(demo.stdout()).not.toContain('MQTT 5 features');
    await newcomerFlow(demo, url, 5, undefined, async () => {
      // The README's cookbook line, against the demo's broker.
      const answer = await mosquittoRr(['-h', '127.0.0.1', '-p', String(port), '-t', `kasa/${PLUG}/set`, '-e', 'my/replies', '-m', 'OFF', '-W', '10']);
      expect(JSON.parse(answer)).toMatchObject({ status: 'ok', data: { state: 'OFF' } });
    });
    expect(await accepts(port)).toBe(false);
  });

  it('npm run demo | tee, then Ctrl-C: no crash trace, its data dir removed, no process left', { timeout: 90_000 }, async () => {
    const run = await runningDemo(startDemoThroughNpm);
    expect(existsSync(run.dataDir)).toBe(true);
    // Ctrl-C reaches the whole job: tee stops reading, npm and the demo get SIGINT.
    run.demo.child.stdout?.destroy();
    process.kill(-run.demo.child.pid!, 'SIGINT');
    await settle(run.demo);
    await expectNothingLeft(run);
  });

  it("kill of npm's pid: the demo notices its parent is gone and stops everything it started", { timeout: 90_000 }, async () => {
    const run = await runningDemo(startDemoThroughNpm);
    process.kill(run.demo.child.pid!, 'SIGTERM');
    await settle(run.demo);
    expect(run.demo.stdout()).toContain('Stopped. Bye!');
    await expectNothingLeft(run);
  });

  it('| head: when nobody reads its output any more, the demo stops by itself at its next line, cleanly', { timeout: 90_000 }, async () => {
    const run = await runningDemo((env) => startDemo(env, workDir()));
    const { demo, port } = run;
    const url = `mqtt://127.0.0.1:${port}`;
    demo.child.stdout?.destroy();
    // The accepted code makes the demo print its next line, into the closed pipe.
    const obs = await observe(url, ['kasa/bridge/auth'], { protocolVersion: 4 });
    try {
      await obs.next('kasa/bridge/auth', (m) => state(m) === 'mfa_required', WAIT_MS);
      await obs.publish('kasa/bridge/mfa', DEMO_IDENTITY.mfaCode, { qos: 1 });
      expect(await demo.exited).toBe(0);
    } finally {
      await obs.close();
    }
    await expectNothingLeft(run);
  });
});

interface DemoRun {
  demo: RunningDemo;
  port: number;
  /** The demo's TMPDIR, this test's own. */
  tmp: string;
  dataDir: string;
}

/** No crash trace, the fresh data dir and the broker's files removed, the broker stopped. */
async function expectNothingLeft(run: DemoRun): Promise<void> {
  expect(run.demo.stderr()).not.toMatch(/EPIPE|^\s+at /m);
  expect(existsSync(run.dataDir)).toBe(false);
  expect(readdirSync(run.tmp).filter((name) => name.startsWith('kasa2mqtt-demo'))).toEqual([]);
  expect(await accepts(run.port)).toBe(false);
}

function pathWithoutMosquitto(): string {
  return (process.env.PATH ?? '')
    .split(':')
    .filter((dir) => dir !== '' && !existsSync(join(dir, 'mosquitto')))
    .join(':');
}

function mosquittoRr(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('mosquitto_rr', args, { timeout: 15_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)));
  });
}

/** The fresh data dir the demo printed. */
function dataDirOf(demo: RunningDemo): string {
  const dir = /Data dir {3}(\S+) \(fresh, removed on exit\)/.exec(demo.stdout())?.[1];
  if (dir === undefined) throw new Error(`the demo printed no fresh data dir:\n${demo.stdout()}`);
  return dir;
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** npm, its shell and the demo have all exited: stderr closed, and no process is left in the job's group. */
async function settle(demo: RunningDemo): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      demo.closed,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the demo did not stop\nstdout:\n${demo.stdout()}\nstderr:\n${demo.stderr()}`)), 20_000);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
  const group = demo.child.pid!;
  await waitFor(() => !groupAlive(group), 5000, `process group ${group} to be empty`);
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}
