/** Shared set-up for client tests against the real simulator over real sockets. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { KasaCloudClient, type KasaCloudClientOptions, type SessionChangeDetail, type SessionState } from '../../src/kasa/cloudClient.js';
import { SessionStore } from '../../src/kasa/sessionStore.js';
import type { TransportRequestEvent } from '../../src/kasa/transport.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { startSimulator } from '../../src/simulator/index.js';
import type { SimAccountSpec, Simulator, SimulatorOptions } from '../../src/simulator/types.js';

export const PLAIN = { username: 'plain@example.com', password: 'plain-Pa55word!' };
export const MFA = { username: 'mfa@example.com', password: 'mfa-Pa55word!' };

export const DEVICES = {
  plug: { deviceId: '2F50687F0187798768F86EAE340E844A660B2444', model: 'HS103(US)', alias: 'Desk' },
  meterPlug: { deviceId: '6572495E336088D1DF4BD661CAB8A89862DF6603', model: 'KP125(US)', alias: 'Kettle', host: 1 as const },
  switch: { deviceId: 'A1B2C3D4E5F6A1B2C3D4E5F6A1B2C3D4E5F60001', model: 'HS200(US)', alias: 'Hall' },
  dimmer: { deviceId: 'A1B2C3D4E5F6A1B2C3D4E5F6A1B2C3D4E5F60002', model: 'HS220(US)', alias: 'Dining' },
  strip: { deviceId: '5BFA53B31294DDA5AB4DEBA1B62582E8EC2F789E', model: 'HS300(US)', alias: 'Strip' },
  bulb: { deviceId: 'A1B2C3D4E5F6A1B2C3D4E5F6A1B2C3D4E5F60003', model: 'KL130(US)', alias: 'Lamp' },
  lightstrip: { deviceId: 'D4E5F6A1B2C3D4E5F6A1B2C3D4E5F6A1D4E50004', model: 'KL430(US)', alias: 'TV strip' },
  offline: { deviceId: 'A1B2C3D4E5F6A1B2C3D4E5F6A1B2C3D4E5F60005', model: 'HS105(US)', alias: 'Garage', online: false },
};

export function accounts(): SimAccountSpec[] {
  return [
    { ...PLAIN, devices: Object.values(DEVICES).map((d) => ({ ...d })) },
    { ...MFA, mfa: true, devices: [{ ...DEVICES.plug, deviceId: '0000000000000000000000000000000000000A01' }] },
  ];
}

export interface LogCapture {
  logger: Logger;
  text(): string;
}

export function captureLogs(level: 'debug' | 'silent' = 'silent'): LogCapture {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString('utf8'));
      cb();
    },
  });
  return { logger: createLogger({ level, destination }), text: () => chunks.join('') };
}

export interface Env {
  sim: Simulator;
  dataDir: string;
  /** Clients made by `client()`, closed by `close()`. */
  client(overrides?: Partial<KasaCloudClientOptions> & { account?: { username: string; password: string } }): KasaCloudClient;
  states: SessionState[];
  /** Details of each session change, in the same order as `states`. */
  details: SessionChangeDetail[];
  events: TransportRequestEvent[];
  close(): Promise<void>;
}

export async function startEnv(simOptions: SimulatorOptions = {}, logs: LogCapture = captureLogs()): Promise<Env> {
  const sim = await startSimulator({ accounts: accounts(), ...simOptions });
  const dataDir = mkdtempSync(join(tmpdir(), 'kasa-client-'));
  const clients: KasaCloudClient[] = [];
  const states: SessionState[] = [];
  const details: SessionChangeDetail[] = [];
  const events: TransportRequestEvent[] = [];
  return {
    sim,
    dataDir,
    states,
    details,
    events,
    client(overrides = {}) {
      const { account = PLAIN, identity, ...rest } = overrides;
      const c = new KasaCloudClient({
        cloudUrl: sim.url,
        username: account.username,
        password: account.password,
        identity,
        store: new SessionStore({ dataDir, logger: logs.logger, fileName: identity?.sessionFile }),
        requestTimeoutMs: 5000,
        logger: logs.logger,
        onSessionChange: (s, d) => {
          states.push(s);
          details.push(d);
        },
        onRequest: (e) => events.push(e),
        ...rest,
      });
      clients.push(c);
      return c;
    },
    async close() {
      await Promise.allSettled(clients.map((c) => c.close()));
      await sim.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs `fn` and returns what it threw (fails the test if it did not throw). */
export async function thrown(fn: () => Promise<unknown>): Promise<Error> {
  try {
    await fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the call to throw');
}
