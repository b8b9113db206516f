/**
 * `npm run demo` as a newcomer runs it: a child process, its printed instructions, and a real
 * MQTT client that completes the MFA round and switches a plug. Never the shared broker on 1883:
 * either a broker this test started on a free port, or nothing there so the demo starts aedes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_IDENTITY } from '../src/simulator/catalog.js';
import { cleanupDir, freePort, startTestBroker, type TestBroker } from './helpers/broker.js';
import { observe, type Observer } from './helpers/mqttObserver.js';

const demoEntry = fileURLToPath(new URL('../src/demo/index.ts', import.meta.url));
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
}

function startDemo(env: Record<string, string>, cwd: string): RunningDemo {
  // A clean environment (only PATH and what the test gives) and an empty working directory.
  const child = spawn(process.execPath, ['--import', tsx, demoEntry], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let errText = '';
  const listeners = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    for (const l of [...listeners]) l();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (errText += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => errText,
    exited,
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

/** The newcomer's path: instructions → MFA code → logged in → switch a plug → SIGTERM. */
async function newcomerFlow(demo: RunningDemo, url: string, protocolVersion: 4 | 5, observer?: Observer): Promise<string> {
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

  afterEach(async () => {
    for (const d of running.splice(0)) if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill('SIGKILL');
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

  it('starts its own MQTT 3.1.1 broker when nothing answers at MQTT_URL', { timeout: 90_000 }, async () => {
    const port = await freePort();
    const url = `mqtt://127.0.0.1:${port}`;
    const demo = startDemo({ MQTT_URL: url }, workDir());
    running.push(demo);
    await demo.waitForOutput(/Ctrl-C stops the demo\./);
    expect(demo.stdout()).toContain(`Broker     ${url}, started by the demo (aedes, MQTT 3.1.1`);
    await newcomerFlow(demo, url, 4);
  });
});
