/**
 * A real mosquitto on a free port that admits one user with a password and nobody else, like
 * Home Assistant's Mosquitto broker add-on, optionally over TLS. Needs the `mosquitto` and `mosquitto_passwd` binaries.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { cleanupDir, freePort, hasMosquitto, waitForPort } from '../helpers/broker.js';
import type { TestTls } from '../helpers/tls.js';

export interface PasswordBroker {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  readonly username: string;
  readonly password: string;
  stop(): Promise<void>;
}

/** Why a password broker cannot be started here, or undefined when it can. */
export function passwordBrokerMissing(): string | undefined {
  if (!hasMosquitto()) return 'needs the mosquitto binary (apt-get install mosquitto)';
  if (spawnSync('mosquitto_passwd', ['-h'], { stdio: 'ignore' }).error !== undefined) {
    return 'needs mosquitto_passwd (apt-get install mosquitto)';
  }
  return undefined;
}

/** With `tls`, the listener speaks MQTT over TLS with its server certificate (url mqtts://localhost:…). */
export async function startPasswordBroker(username: string, password: string, tls?: TestTls): Promise<PasswordBroker> {
  const dir = mkdtempSync(join(tmpdir(), 'kasa2mqtt-addon-broker-'));
  const port = await freePort();
  const passwordFile = join(dir, 'passwd');
  writeFileSync(passwordFile, '', { mode: 0o600 });
  const made = spawnSync('mosquitto_passwd', ['-b', passwordFile, username, password], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`mosquitto_passwd failed: ${made.stderr}`);
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      `user ${userInfo().username}`,
      `listener ${port} 127.0.0.1`,
      ...(tls ? [`certfile ${join(tls.dir, 'server.pem')}`, `keyfile ${join(tls.dir, 'server.key')}`] : []),
      'allow_anonymous false',
      `password_file ${passwordFile}`,
      'persistence false',
      'log_dest none',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
  try {
    await waitForPort(port, child);
  } catch (err) {
    child.kill('SIGKILL');
    cleanupDir(dir);
    throw err;
  }
  return {
    host: tls ? 'localhost' : '127.0.0.1',
    port,
    url: tls ? `mqtts://localhost:${port}` : `mqtt://127.0.0.1:${port}`,
    username,
    password,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      cleanupDir(dir);
    },
  };
}
