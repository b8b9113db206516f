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
import { decodeBase64Alias } from './devices/nodes.js';
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
  const hadSession = store.get().token !== undefined;
  let sessionStored = false;
  const failBeforeSession = (line: string): number => fail(`${line}; ${leftInDataDir(store.path, hadSession)}`);
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
      // A terminal echoes the typed line and its Enter; a piped code leaves the prompt's line open.
      if (!isTerminal(io.input)) io.output.write('\n');
      if (code === undefined || code.trim() === '') return failBeforeSession('no code was given on standard input');
      await client.completeMfa(code);
      say('Code accepted: this terminal is now trusted, later logins need no code.');
    }
    sessionStored = true;
    say(`Logged in. Session stored in ${store.path}.`);
    const devices = await client.getDeviceList();
    say('');
    for (const line of deviceTable(devices)) say(line);
    return EXIT_OK;
  } catch (err) {
    const cause = err instanceof KasaError ? err.message : err instanceof Error ? err.message : String(err);
    return sessionStored ? fail(cause) : failBeforeSession(cause);
  } finally {
    await client.close();
    lock.release();
  }
}

/** What a login that failed before a session was stored leaves: load() has written the terminal id. */
function leftInDataDir(sessionPath: string, hadSession: boolean): string {
  return hadSession
    ? `the session stored earlier in ${sessionPath} is unchanged`
    : `no session was stored (${sessionPath} holds only this terminal's id)`;
}

function isTerminal(input: Readable): boolean {
  return (input as Readable & { isTTY?: boolean }).isTTY === true;
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
    displayAlias(d),
    d.deviceModel ?? '?',
    classify(d)?.nodeType ?? 'unsupported',
    d.status === 1 ? 'online' : 'offline',
  ]);
  const header = ['ALIAS', 'MODEL', 'TYPE', 'ONLINE'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const format = (r: string[]): string => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
  return [format(header), ...rows.map(format), '', `${devices.length} device${devices.length === 1 ? '' : 's'}.`];
}

/** Tapo (SMART.*) entries carry the alias base64-encoded; shown decoded when it decodes to text. */
function displayAlias(device: CloudDevice): string {
  const alias = device.alias;
  if (alias === undefined || alias === '') return device.deviceName ?? device.deviceId;
  return (device.deviceType ?? '').toUpperCase().startsWith('SMART.') ? decodeBase64Alias(alias) : alias;
}
