/**
 * A mosquitto for one benchmark scenario, spawned on a free port. Stock settings, as most installs
 * run it (the Home Assistant add-on included): Nagle's algorithm stays on on the broker's sockets,
 * so the command path measures what users get. Only the queue limits are lifted (the stock
 * 1,000-message queue would drop state messages of a 1,000-device start-up on a QoS 1
 * subscription; that is a counting problem, not a latency one). BENCH_TUNED_BROKER=1 adds
 * `set_tcp_nodelay true`. Falls back to MQTT_BENCH_URL when set (an external broker the caller
 * owns).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort, hasMosquitto, waitForPort } from '../../test/helpers/broker.js';

export { freePort, hasMosquitto };

export interface BenchBroker {
  readonly url: string;
  readonly kind: 'mosquitto' | 'external';
  /** mosquitto's pid (undefined for an external broker). */
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

export function tunedBroker(): boolean {
  return process.env.BENCH_TUNED_BROKER === '1';
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
      ...(tunedBroker() ? ['set_tcp_nodelay true'] : []),
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
