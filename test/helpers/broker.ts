import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../src/demo/embeddedBroker.js';

export type BrokerKind = 'external' | 'mosquitto' | 'container' | 'embedded';

export interface TestBroker {
  readonly kind: BrokerKind;
  readonly url: string;
  readonly port: number;
  /** MQTT 5 is available (not on the embedded aedes broker). */
  readonly mqtt5: boolean;
  /** The broker can be stopped and started again on the same port (fault tests). */
  readonly canRestart: boolean;
  stop(): Promise<void>;
  /** Start again on the same port after stop(); state is lost (no persistence), as after a crash. */
  start(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export function hasMosquitto(): boolean {
  return spawnSync('mosquitto', ['-h'], { stdio: 'ignore' }).error === undefined;
}

export async function waitForPort(port: number, child?: ChildProcess, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child && child.exitCode !== null) throw new Error(`mosquitto exited with code ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`broker did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function spawnMosquitto(port?: number): Promise<TestBroker> {
  const dir = mkdtempSync(join(tmpdir(), 'kasa2mqtt-mosquitto-'));
  const brokerPort = port ?? (await freePort());
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [`user ${userInfo().username}`, `listener ${brokerPort} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'log_dest none', ''].join(
      '\n',
    ),
  );
  let child: ChildProcess | undefined;
  const startChild = async () => {
    if (child && child.exitCode === null) return;
    child = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
    await waitForPort(brokerPort, child);
  };
  const stopChild = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await exited;
  };
  await startChild();
  return {
    kind: 'mosquitto',
    url: `mqtt://127.0.0.1:${brokerPort}`,
    port: brokerPort,
    mqtt5: true,
    canRestart: true,
    start: startChild,
    async stop() {
      await stopChild();
    },
  };
}

async function dockerAnswers(): Promise<boolean> {
  return spawnSync('docker', ['info'], { stdio: 'ignore', timeout: 3000 }).status === 0;
}

async function startContainer(): Promise<TestBroker> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const container = await new GenericContainer('eclipse-mosquitto:2')
    .withCommand(['mosquitto', '-c', '/mosquitto-no-auth.conf'])
    .withExposedPorts(1883)
    .withWaitStrategy(Wait.forLogMessage(/mosquitto version .+ running/))
    .start();
  const port = container.getMappedPort(1883);
  return {
    kind: 'container',
    url: `mqtt://${container.getHost()}:${port}`,
    port,
    mqtt5: true,
    canRestart: false,
    start: () => Promise.reject(new Error('container broker cannot be restarted')),
    async stop() {
      await container.stop();
    },
  };
}

async function startEmbedded(port?: number): Promise<TestBroker> {
  let broker: EmbeddedBroker | undefined = await startEmbeddedBroker(port === undefined ? {} : { port });
  const brokerPort = broker.port;
  return {
    kind: 'embedded',
    url: broker.url,
    port: brokerPort,
    mqtt5: false,
    canRestart: true,
    async start() {
      broker = await startEmbeddedBroker({ port: brokerPort });
    },
    async stop() {
      await broker?.stop();
      broker = undefined;
    },
  };
}

/**
 * A broker for one test file: `MQTT_TEST_URL` if set; else a spawned mosquitto; else a
 * mosquitto container when a Docker engine answers; else the in-process aedes broker
 * (MQTT 3.1.1 only — tests that need MQTT 5 skip themselves and say so).
 */
export async function startTestBroker(): Promise<TestBroker> {
  const external = process.env.MQTT_TEST_URL;
  if (external) {
    const port = Number(new URL(external).port || 1883);
    return {
      kind: 'external',
      url: external,
      port,
      mqtt5: true,
      canRestart: false,
      start: () => Promise.reject(new Error('external broker cannot be restarted')),
      stop: () => Promise.resolve(),
    };
  }
  if (hasMosquitto()) return spawnMosquitto();
  if (await dockerAnswers()) return startContainer();
  console.warn('kasa2mqtt tests: no mosquitto and no Docker; using the in-process aedes broker (MQTT 3.1.1 only)');
  return startEmbedded();
}

export function cleanupDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * An in-process aedes broker with test hooks, served on a free loopback port: `handle` gets each
 * socket (the broker's own handler unless a test wants to look first).
 */
export async function serveOnLoopback(
  broker: { handle: (socket: Socket) => void; close(done: () => void): void },
  handle: (socket: Socket) => void = (socket) => broker.handle(socket),
): Promise<{ url: string; stop(): Promise<void> }> {
  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    async stop() {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
