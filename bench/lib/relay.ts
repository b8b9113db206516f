/**
 * Spawns `relayProcess.ts` (the command path's floor) with the bridge's node flags, and waits for
 * its `ready`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchNodeArgs, ROOT } from './bridgeProcess.js';

export interface Relay {
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

export async function startRelay(o: { mqttUrl: string; cloudUrl: string; username: string; password: string; deviceId: string }): Promise<Relay> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kasa2mqtt-bench-relay-'));
  const child = spawn(process.execPath, [...benchNodeArgs(), '--import', 'tsx', join(ROOT, 'bench', 'lib', 'relayProcess.ts')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      RELAY_MQTT_URL: o.mqttUrl,
      RELAY_CLOUD_URL: o.cloudUrl,
      RELAY_USERNAME: o.username,
      RELAY_PASSWORD: o.password,
      RELAY_DEVICE_ID: o.deviceId,
      RELAY_DATA_DIR: dataDir,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let errors = '';
  child.stderr?.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the relay did not start within 30 s\n${errors}`)), 30_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the relay exited (${code}) before it was ready\n${errors}`));
    });
  });
  return {
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(killer);
      }
      rmSync(dataDir, { recursive: true, force: true });
      if (errors) process.stderr.write(errors);
    },
  };
}
