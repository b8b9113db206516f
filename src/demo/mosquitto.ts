/**
 * The demo's preferred broker: a `mosquitto` from PATH, spawned on the demo's address with a
 * throw-away configuration (anonymous, no persistence), so MQTT 5 (mosquitto_rr, response topics)
 * works as the README shows.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export interface SpawnedMosquitto {
  readonly port: number;
  stop(): Promise<void>;
}

export type MosquittoStart = { kind: 'started'; broker: SpawnedMosquitto } | { kind: 'unavailable'; reason: string };

const READY_LIMIT_MS = 5000;
const READY_POLL_MS = 25;
const STOP_LIMIT_MS = 3000;

export async function startMosquitto(host: string, port: number): Promise<MosquittoStart> {
  const dir = mkdtempSync(join(tmpdir(), 'kasa2mqtt-demo-mosquitto-'));
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, configuration(host, port));
  // Its own process group: a Ctrl-C in the terminal reaches the demo only, which stops the bridge
  // (it publishes `offline`) before it stops the broker.
  const child = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let errorText = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (errorText = `${errorText}${chunk}`.slice(-400)));
  // A demo that exits without its clean-up (a second Ctrl-C, the shutdown time limit) still ends it.
  const killOnExit = () => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const removeAll = () => {
    process.off('exit', killOnExit);
    rmSync(dir, { recursive: true, force: true });
  };

  const starting = new AbortController();
  const failure = await Promise.race([
    new Promise<string>((resolve) => child.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ENOENT' ? 'mosquitto is not installed' : err.message))),
    exited.then(() => `mosquitto exited at start (${errorText.trim() || `exit code ${child.exitCode}`})`),
    listening(host, port, starting.signal).then((ok) => (ok ? undefined : `mosquitto did not listen on ${host}:${port} within ${READY_LIMIT_MS} ms`)),
  ]);
  starting.abort();
  if (failure !== undefined) {
    child.kill('SIGKILL');
    removeAll();
    return { kind: 'unavailable', reason: failure };
  }
  return {
    kind: 'started',
    broker: {
      port,
      async stop() {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const limit = setTimeout(() => child.kill('SIGKILL'), STOP_LIMIT_MS);
          await exited;
          clearTimeout(limit);
        }
        removeAll();
      },
    },
  };
}

function configuration(host: string, port: number): string {
  const lines = [`listener ${port} ${host}`, 'allow_anonymous true', 'persistence false', 'log_dest stderr', 'log_type error'];
  // Started as root, mosquitto would switch to the user "mosquitto"; stay who we are.
  try {
    lines.unshift(`user ${userInfo().username}`);
  } catch {
    // no passwd entry for this uid: mosquitto keeps it as it is
  }
  return `${lines.join('\n')}\n`;
}

/** Resolves true once a TCP connection to host:port succeeds; false after READY_LIMIT_MS or when aborted. */
async function listening(host: string, port: number, aborted: AbortSignal): Promise<boolean> {
  const deadline = Date.now() + READY_LIMIT_MS;
  while (Date.now() < deadline && !aborted.aborted) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, host);
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, READY_POLL_MS));
  }
  return false;
}
