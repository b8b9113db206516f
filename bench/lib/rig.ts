/**
 * One scenario's set-up: a fresh mosquitto, the simulator (in this process, timed), a watching
 * MQTT client and the bridge as a child process, torn down together.
 */
import type { BridgeDeviceEntry } from '../../src/api/types.js';
import { startSimulator, type SimDeviceSpec, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js';
import { startBroker, type BenchBroker } from './broker.js';
import { bridgeEnv, spawnBridge, type BridgeChild } from './bridgeProcess.js';
import { SimTimeline } from './simTiming.js';
import { stateKey, waitUntil, Watcher, type Seen } from './watch.js';

export const BENCH_USER = 'bench@kasa2mqtt.local';
export const BENCH_PASSWORD = 'bench-Pa55word';
export const BASE = 'kasa';
/** A wait longer than this is reported on stderr while it goes on. */
const SLOW_WAIT_MS = 20_000;

export interface RigOptions {
  devices: SimDeviceSpec[];
  /** Bridge environment on top of the defaults (credentials, URLs, LOG_LEVEL=info). */
  env: Record<string, string>;
  simOptions?: Omit<SimulatorOptions, 'accounts'>;
  /** Keep every MQTT message (default true). */
  keep?: boolean;
}

export class Rig {
  /** Latest state message per node key, and when each key was first seen. */
  readonly latest = new Map<string, Seen>();
  readonly firstSeen = new Map<string, number>();
  /** When each topic (and payload) was first received: `${topic} ${payload}` → performance.now(). */
  readonly firstMessage = new Map<string, number>();
  bridge!: BridgeChild;
  #devicesJson: string | undefined;

  private constructor(
    readonly broker: BenchBroker,
    readonly sim: Simulator,
    readonly timeline: SimTimeline,
    readonly watcher: Watcher,
    readonly expectedNodes: number,
  ) {
    watcher.onMessage((m) => {
      if (m.text.length < 64 && !this.firstMessage.has(`${m.topic} ${m.text}`)) this.firstMessage.set(`${m.topic} ${m.text}`, m.at);
      const key = stateKey(m.topic, BASE);
      if (key !== undefined && m.text !== '') {
        this.latest.set(key, m);
        if (!this.firstSeen.has(key)) this.firstSeen.set(key, m.at);
      } else if (m.topic === `${BASE}/bridge/devices`) {
        this.#devicesJson = m.text;
      }
    });
  }

  static async start(options: RigOptions): Promise<Rig> {
    const broker = await startBroker();
    let sim: Simulator | undefined;
    let watcher: Watcher | undefined;
    try {
      sim = await startSimulator({
        ...options.simOptions,
        accounts: [{ username: BENCH_USER, password: BENCH_PASSWORD, mfa: false, devices: options.devices }],
      });
      const timeline = new SimTimeline(sim);
      const expected = sim.devices(BENCH_USER).reduce((n, d) => n + 1 + childCount(d.sysinfo()), 0);
      watcher = await Watcher.connect(broker.url, [`${BASE}/#`, 'homeassistant/#'], { keep: options.keep ?? true });
      const rig = new Rig(broker, sim, timeline, watcher, expected);
      rig.bridge = spawnBridge(
        bridgeEnv({ simUrl: sim.url, brokerUrl: broker.url, username: BENCH_USER, password: BENCH_PASSWORD, overrides: options.env }),
      );
      return rig;
    } catch (err) {
      await watcher?.close();
      await sim?.stop();
      await broker.stop();
      throw err;
    }
  }

  /** Resolves (performance.now()) once every node has published a state. */
  async allStates(timeoutMs: number): Promise<number> {
    await this.waitFor(() => this.firstSeen.size >= this.expectedNodes, timeoutMs, `state of all ${this.expectedNodes} nodes`);
    return Math.max(...this.firstSeen.values());
  }

  /** waitUntil that fails at once (with the bridge's log tail) when the bridge exits. */
  async waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
    // A wait that runs long says so, so a run stopped from outside (a CI time limit) shows where it was.
    const started = performance.now();
    let reported = false;
    await waitUntil(
      () => {
        if (this.bridge.child.exitCode !== null) throw new Error(`the bridge exited (${this.bridge.child.exitCode}):\n${tail(this.bridge.log())}`);
        if (!reported && performance.now() - started > SLOW_WAIT_MS) {
          reported = true;
          process.stderr.write(`bench: still waiting for ${what} after ${SLOW_WAIT_MS / 1000} s\n`);
        }
        return predicate();
      },
      timeoutMs,
      what,
    ).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}\n--- bridge log tail ---\n${tail(this.bridge.log())}`);
    });
  }

  devicesList(): BridgeDeviceEntry[] {
    return this.#devicesJson ? (JSON.parse(this.#devicesJson) as BridgeDeviceEntry[]) : [];
  }

  /** The topic key of the node with this id (from the retained bridge/devices). */
  keyOf(id: string): string {
    const entry = this.devicesList().find((d) => d.id === id);
    if (!entry) throw new Error(`node ${id} is not in bridge/devices`);
    return entry.key;
  }

  /** Warnings and errors the bridge logged (pino level ≥ 40). */
  problems(): string[] {
    return this.bridge
      .log()
      .split('\n')
      .filter((line) => /"level":(4|5|6)\d/.test(line));
  }

  async stop(keepLog = false): Promise<void> {
    await this.bridge?.stop(keepLog);
    await this.watcher.close();
    await this.sim.stop();
    await this.broker.stop();
  }
}

function childCount(sysinfo: Record<string, unknown>): number {
  return Array.isArray(sysinfo.children) ? sysinfo.children.length : 0;
}

function tail(text: string, lines = 15): string {
  return text.split('\n').slice(-lines).join('\n');
}
