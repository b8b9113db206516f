/**
 * A mosquitto for one benchmark scenario, spawned on a free port with the queue limits lifted
 * (the stock 1,000-message queue would drop state messages of a 1,000-device start-up on a QoS 1
 * subscription). Falls back to MQTT_BENCH_URL when set (an external broker the caller owns).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export interface BenchBroker {
  readonly url: string;
  readonly kind: 'mosquitto' | 'external';
  /** mosquitto's pid (undefined for an external broker). */
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

export function hasMosquitto(): boolean {
  return spawnSync('mosquitto', ['-h'], { stdio: 'ignore' }).error === undefined;
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

async function waitForPort(port: number, child: ChildProcess, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited with code ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function startBroker(): Promise<BenchBroker> {
  const external = process.env.MQTT_BENCH_URL;
  if (external) return { url: external, kind: 'external', pid: undefined, stop: () => Promise.resolve() };
  if (!hasMosquitto()) {
    throw new Error('the benchmark needs mosquitto on PATH (apt-get install -y mosquitto) or MQTT_BENCH_URL');
  }
  const dir = mkdtempSync(join(tmpdir(), 'kasa2mqtt-bench-mosquitto-'));
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      `user ${userInfo().username}`,
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      'log_dest none',
      'max_queued_messages 0',
      'max_inflight_messages 0',
      ...(process.env.BENCH_NAGLE === '1' ? [] : ['set_tcp_nodelay true']),
      '',
    ].join('\n'),
  );
  const child = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
  await waitForPort(port, child);
  return {
    url: `mqtt://127.0.0.1:${port}`,
    kind: 'mosquitto',
    pid: child.pid,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
