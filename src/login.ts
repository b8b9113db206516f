/**
 * `kasa2mqtt login [--trace]`: two-step verification from a terminal instead of over MQTT. Logs
 * in with the daemon's configuration, reads the e-mailed code from standard input (one line, so
 * `echo 123456 | kasa2mqtt login` works), stores the session in DATA_DIR and lists the devices.
 * A daemon started afterwards reuses the session: no code, no password login.
 */
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Config } from './config.js';
import { DataDirBusyError, DataDirLock } from './dataDirLock.js';
import { classify } from './devices/profile.js';
import { KasaCloudClient, clientOptionsFromConfig } from './kasa/cloudClient.js';
import { KasaError } from './kasa/errors.js';
import type { CloudDevice } from './kasa/protocol.js';
import { SessionStore, SessionStoreError } from './kasa/sessionStore.js';
import { maskEmail } from './kasa/trace.js';
import { createLogger } from './logger.js';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_CONFIG = 2;

export interface LoginIo {
  input: Readable;
  output: Writable;
  /** Errors, and the trace with --trace. */
  errors: Writable;
}

export async function runLogin(config: Config, options: { trace: boolean }, io: LoginIo): Promise<number> {
  const say = (line: string): void => void io.output.write(`${line}\n`);
  const fail = (line: string, code = EXIT_FAILED): number => {
    io.errors.write(`kasa2mqtt login: ${line}\n`);
    return code;
  };

  const logger = createLogger({ level: 'silent' });
  // The lock first: a refused login must not have touched the daemon's session.
  let lock: DataDirLock;
  try {
    lock = DataDirLock.acquire(config.DATA_DIR, 'login');
  } catch (err) {
    if (err instanceof DataDirBusyError) return fail(err.message);
    if (err instanceof SessionStoreError) return fail(err.message, EXIT_CONFIG);
    throw err;
  }
  const store = new SessionStore({ dataDir: config.DATA_DIR, logger });
  try {
    store.load(config.KASA_USERNAME);
  } catch (err) {
    lock.release();
    if (err instanceof SessionStoreError) return fail(err.message, EXIT_CONFIG);
    throw err;
  }
  const client = new KasaCloudClient({
    ...clientOptionsFromConfig(config),
    store,
    logger,
    traceWrite: options.trace ? (line) => void io.errors.write(`${line}\n`) : undefined,
  });
  try {
    say(`Logging in to the TP-Link cloud as ${maskEmail(config.KASA_USERNAME)} ...`);
    const result = await client.login();
    if (result.status === 'mfa_required') {
      say(
        result.mfaType === 'push'
          ? 'Two-step verification: TP-Link sent a code to the Kasa app on your trusted phone.'
          : `Two-step verification: TP-Link e-mailed a code to ${maskEmail(config.KASA_USERNAME)}.`,
      );
      io.output.write('Code: ');
      const code = await readLine(io.input);
      if (code === undefined || code.trim() === '') return fail('no code was given on standard input; nothing was stored');
      await client.completeMfa(code);
      say('Code accepted: this terminal is now trusted, later logins need no code.');
    }
    say(`Logged in. Session stored in ${store.path}.`);
    const devices = await client.getDeviceList();
    say('');
    for (const line of deviceTable(devices)) say(line);
    return EXIT_OK;
  } catch (err) {
    return fail(err instanceof KasaError ? err.message : err instanceof Error ? err.message : String(err));
  } finally {
    await client.close();
    lock.release();
  }
}

/** One line from the input, or undefined at end of input. */
function readLine(input: Readable): Promise<string | undefined> {
  return new Promise((resolve) => {
    const rl = createInterface({ input, terminal: false });
    let answered = false;
    rl.once('line', (line) => {
      answered = true;
      resolve(line);
      rl.close();
    });
    rl.once('close', () => {
      if (!answered) resolve(undefined);
    });
  });
}

function deviceTable(devices: readonly CloudDevice[]): string[] {
  const rows = devices.map((d) => [
    d.alias ?? d.deviceName ?? d.deviceId,
    d.deviceModel ?? '?',
    classify(d)?.nodeType ?? 'unsupported',
    d.status === 1 ? 'online' : 'offline',
  ]);
  const header = ['ALIAS', 'MODEL', 'TYPE', 'ONLINE'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const format = (r: string[]): string => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
  return [format(header), ...rows.map(format), '', `${devices.length} device${devices.length === 1 ? '' : 's'}.`];
}
