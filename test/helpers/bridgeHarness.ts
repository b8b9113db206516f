import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { BridgeResponse } from '../../src/api/types.js';
import { Bridge } from '../../src/bridge/bridge.js';
import type { BridgeTiming } from '../../src/bridge/context.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { startSimulator } from '../../src/simulator/index.js';
import type { SimAccountSpec, Simulator, SimulatorOptions } from '../../src/simulator/types.js';
import type { TestBroker } from './broker.js';
import { observe, waitFor, type Observer } from './mqttObserver.js';

/** Everything the bridge logged, as text, for assertions and the secrets scan. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  }
  get text(): string {
    return this.lines.join('\n');
  }
}

export interface Harness {
  sim: Simulator;
  bridge: Bridge;
  obs: Observer;
  config: Config;
  dataDir: string;
  logs: LogCapture;
  base: string;
  /** Starts another bridge on the same data dir (restart). */
  restartBridge(): Promise<Bridge>;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  broker: TestBroker;
  account: SimAccountSpec;
  env?: Record<string, string>;
  sim?: Simulator;
  simOptions?: SimulatorOptions;
  /** Start the bridge right away (default true). */
  start?: boolean;
  dataDir?: string;
  timing?: Partial<BridgeTiming>;
}

export const FAST_TIMING: Partial<BridgeTiming> = { haBirthDelayMs: [10, 50], orphanScanMs: 200, shutdownGraceMs: 500 };

export async function startHarness(options: HarnessOptions): Promise<Harness> {
  const sim = options.sim ?? (await startSimulator({ ...options.simOptions, accounts: [options.account] }));
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'kasa2mqtt-bridge-'));
  const base = options.env?.MQTT_BASE_TOPIC ?? 'kasa';
  const config = loadConfig({
    env: {
      KASA_USERNAME: options.account.username,
      KASA_PASSWORD: options.account.password,
      KASA_CLOUD_URL: sim.url,
      MQTT_URL: options.broker.url,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'debug',
      KASA_RATE_LIMIT: '600',
      KASA_RATE_BURST: '50',
      KASA_REQUEST_TIMEOUT: '5',
      ...options.env,
    },
    dotenv: false,
  });
  const logs = new LogCapture();
  const obs = await observe(options.broker.url, [`${base}/#`, `${config.HA_DISCOVERY_PREFIX}/#`], {
    protocolVersion: options.broker.mqtt5 ? 5 : 4,
  });
  const make = () =>
    new Bridge({ config, logger: createLogger({ level: 'debug', destination: logs }), timing: { ...FAST_TIMING, ...options.timing } });
  // Built on first use: a Bridge takes the DATA_DIR lock when it is made, and a test that
  // starts with `start: false` may make its own bridge on the same DATA_DIR instead.
  let bridge: Bridge | undefined;
  if (options.start !== false) {
    bridge = make();
    await bridge.start();
  }
  const harness: Harness = {
    sim,
    get bridge() {
      bridge ??= make();
      return bridge;
    },
    obs,
    config,
    dataDir,
    logs,
    base,
    async restartBridge() {
      await bridge?.stop();
      bridge = make();
      await bridge.start();
      return bridge;
    },
    async stop() {
      await bridge?.stop();
      await obs.close();
      if (!options.sim) await sim.stop();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return harness;
}

/** Publishes `<base>/bridge/request/<cmd>` and returns its response (matched by transaction). */
export async function bridgeRequest(h: Harness, cmd: string, body: Record<string, unknown> = {}): Promise<BridgeResponse> {
  const transaction = typeof body.transaction === 'string' ? body.transaction : `${cmd}-${Math.random().toString(36).slice(2, 10)}`;
  const answer = h.obs.next(`${h.base}/bridge/response/${cmd}`, (m) => m.json<BridgeResponse>().transaction === transaction, 10_000);
  await h.obs.publish(`${h.base}/bridge/request/${cmd}`, JSON.stringify({ ...body, transaction }), { qos: 1 });
  return (await answer).json<BridgeResponse>();
}

/**
 * Waits until the bridge has no cloud request queued or in flight: after start-up, each device's
 * first answer is followed by its daily reads (lowest priority), which a test counting requests
 * must not catch in its window.
 */
export async function untilIdle(h: Harness, timeoutMs = 15_000): Promise<void> {
  const { scheduler } = h.bridge.diagnostics();
  await waitFor(() => scheduler.queueDepth === 0 && scheduler.inFlight === 0, timeoutMs, 'no cloud request queued or in flight');
}
