/**
 * `npm run soak` / `npm run soak:short`: the bridge IN-PROCESS against the simulator (200 devices,
 * the catalog mix) and a spawned mosquitto, polling every few seconds, commands at a steady rate,
 * `/get`s, device-list refreshes, energy reads and access-token expiries, for SOAK_SECONDS
 * (default 600; `--seconds N` wins). Samples after a forced GC: heap, RSS, live timers (unref'd
 * included), active handles, event listeners, scheduler queue and in-flight commands.
 *
 * Fails (exit 1) when, after warm-up, the heap grows more than 10 %, when any resource count ends
 * higher than it ever was in the first quarter after warm-up (a leak grows; noise does not), when
 * a command goes unanswered, or when stopping the bridge leaves timers, handles or listeners behind.
 *
 *   node --expose-gc --import tsx bench/soak.ts [--seconds 30] [--devices 200] [--poll 3] [--rate 5]
 */
import './lib/timerTracking.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { getHeapStatistics, writeHeapSnapshot } from 'node:v8';
import type { BridgeDeviceEntry } from '../src/api/types.js';
import { Bridge } from '../src/bridge/bridge.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { manyDevices, startSimulator } from '../src/simulator/index.js';
import { startBroker } from './lib/broker.js';
import { fmt, round } from './lib/stats.js';
import { liveTimers, timerCounts } from './lib/timerTracking.js';
import { sleep, stateKey, waitUntil, Watcher } from './lib/watch.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string' },
    devices: { type: 'string', default: '200' },
    poll: { type: 'string', default: '3' },
    rate: { type: 'string', default: '5' },
    warmup: { type: 'string' },
    sample: { type: 'string' },
    /** Write heap snapshots at the end of warm-up and at the end (to diff a growing heap). */
    snapshots: { type: 'string' },
  },
});
const SECONDS = Number(values.seconds ?? process.env.SOAK_SECONDS ?? 600);
const DEVICES = Number(values.devices);
const POLL_S = Number(values.poll);
const COMMANDS_PER_S = Number(values.rate);
const SHORT = SECONDS <= 120;
const WARMUP_S = Number(values.warmup ?? (SHORT ? Math.min(10, SECONDS / 3) : Math.min(120, SECONDS / 4)));
const SAMPLE_S = Number(values.sample ?? (SHORT ? 2 : 10));
const HEAP_GROWTH_LIMIT = 0.1;
const USER = 'soak@kasa2mqtt.local';
const PASSWORD = 'soak-Pa55word';
const BASE = 'kasa';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  process.stderr.write('soak: run with --expose-gc (npm run soak does)\n');
  process.exit(2);
}

/** The bridge's log lines at warn and above (it logs at info; lower levels are dropped here). */
class LogSink extends Writable {
  warnings = 0;
  errors = 0;
  readonly first: string[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    for (const line of chunk.toString('utf8').split('\n')) {
      const level = /"level":(\d+)/.exec(line)?.[1];
      if (level === undefined || Number(level) < 40) continue;
      if (Number(level) >= 50) this.errors++;
      else this.warnings++;
      if (this.first.length < 10) this.first.push(line.slice(0, 300));
    }
    done();
  }
}

interface Sample {
  t: number;
  heapMb: number;
  rssMb: number;
  timers: number;
  unrefTimers: number;
  handles: number;
  listeners: number;
  abortDependants: number;
  queue: number;
  pendingCommands: number;
  requests: number;
  commandsOk: number;
  commandsFailed: number;
}

function emitterListeners(e: { eventNames(): (string | symbol)[]; listenerCount(name: string | symbol): number } | undefined): number {
  if (!e) return 0;
  return e.eventNames().reduce((n, name) => n + e.listenerCount(name), 0);
}

/**
 * Entries in an AbortSignal's internal dependant-signal set (Node's `kDependantSignals`): every
 * `AbortSignal.any([..., signal])` adds one, and Node does not always prune them (nodejs/node#55351,
 * #64476). Watched on the cloud client's long-lived close signal; 0 when Node has no such set.
 */
function dependantSignals(signal: AbortSignal | undefined): number {
  if (!signal) return 0;
  const key = Object.getOwnPropertySymbols(signal).find((sym) => sym.description === 'kDependantSignals');
  const set = key === undefined ? undefined : (signal as unknown as Record<symbol, unknown>)[key];
  // Node's SafeSet is a Set from its own primordials: `instanceof Set` is false, so duck-type.
  const size = (set as { size?: unknown } | undefined)?.size;
  return typeof size === 'number' ? size : 0;
}

function handleCount(): number {
  return process.getActiveResourcesInfo().filter((r) => r !== 'Timeout' && r !== 'Immediate').length;
}

async function main(): Promise<number> {
  process.stderr.write(
    `soak: ${DEVICES} devices, poll ${POLL_S} s, ${COMMANDS_PER_S} commands/s, ${SECONDS} s (warm-up ${WARMUP_S} s, sample every ${SAMPLE_S} s)\n`,
  );
  const broker = await startBroker();
  const sim = await startSimulator({
    accounts: [{ username: USER, password: PASSWORD, mfa: false, devices: manyDevices(DEVICES) }],
  });
  const dataDir = mkdtempSync(join(tmpdir(), 'kasa2mqtt-soak-'));
  const commander = await Watcher.connect(broker.url, [`${BASE}/+/response/set`, `${BASE}/bridge/devices`], { keep: false });
  const observer = await Watcher.connect(broker.url, [`${BASE}/#`], { keep: false, qos: 0 });

  gc!();
  const timersBefore = new Set(liveTimers().map((t) => t.timer));
  const before = { timers: timerCounts().total, handles: handleCount(), processListeners: emitterListeners(process) };

  const sink = new LogSink();
  const config = loadConfig({
    env: {
      KASA_USERNAME: USER,
      KASA_PASSWORD: PASSWORD,
      KASA_CLOUD_URL: sim.url,
      MQTT_URL: broker.url,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
      KASA_POLL_INTERVAL: String(POLL_S),
      KASA_ENERGY_POLL_INTERVAL: String(SHORT ? 10 : 30),
      KASA_DEVICE_LIST_INTERVAL: String(SHORT ? 10 : 60),
      KASA_RATE_LIMIT: '100000',
      KASA_RATE_BURST: '1000',
      KASA_CONCURRENCY: '8',
      KASA_REQUEST_TIMEOUT: '10',
    },
    dotenv: false,
  });
  const bridge = new Bridge({ config, logger: createLogger({ level: 'info', destination: sink }) });
  const expectedNodes = sim.devices(USER).reduce((n, d) => n + 1 + (Array.isArray(d.sysinfo().children) ? (d.sysinfo().children as unknown[]).length : 0), 0);
  const seen = new Set<string>();
  observer.onMessage((m) => {
    const key = stateKey(m.topic, BASE);
    if (key !== undefined) seen.add(key);
  });
  let devicesJson = '';
  commander.onMessage((m) => {
    if (m.topic === `${BASE}/bridge/devices`) devicesJson = m.text;
  });

  const started = performance.now();
  await bridge.start();
  await waitUntil(() => seen.size >= expectedNodes, 60_000, `state of all ${expectedNodes} nodes`);
  process.stderr.write(`soak: all ${expectedNodes} node states published after ${((performance.now() - started) / 1000).toFixed(1)} s\n`);

  const nodes = (JSON.parse(devicesJson) as BridgeDeviceEntry[]).filter((d) => d.supported && d.type !== 'strip');
  const pending = new Map<number, number>();
  let commandsOk = 0;
  let commandsFailed = 0;
  const failures: string[] = [];
  commander.onMessage((m) => {
    if (!m.topic.endsWith('/response/set')) return;
    const response = JSON.parse(m.text) as { status: string; transaction?: number; error?: unknown };
    if (typeof response.transaction !== 'number' || !pending.delete(response.transaction)) return;
    if (response.status === 'ok') commandsOk++;
    else {
      commandsFailed++;
      if (failures.length < 5) failures.push(m.text);
    }
  });

  // Steady load: commands at a fixed rate, a /get every 5 s, access tokens expiring now and then.
  let seq = 0;
  let rnd = 0x9e3779b9;
  const random = () => ((rnd = (Math.imul(rnd, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const commandTimer = setInterval(() => {
    const node = nodes[Math.floor(random() * nodes.length)]!;
    const transaction = ++seq;
    const set: Record<string, unknown> = { state: random() < 0.5 ? 'ON' : 'OFF', transaction };
    if (node.capabilities.includes('brightness') && random() < 0.3) set.brightness = 1 + Math.floor(random() * 100);
    pending.set(transaction, performance.now());
    commander.send(`${BASE}/${node.key}/set`, JSON.stringify(set), 1);
  }, 1000 / COMMANDS_PER_S);
  const getTimer = setInterval(() => {
    const node = nodes[Math.floor(random() * nodes.length)]!;
    commander.send(`${BASE}/${node.key}/get`, '', 1);
  }, 5000);
  const expireTimer = setInterval(() => sim.expireAccessTokens(), (SHORT ? 10 : 90) * 1000);

  const samples: Sample[] = [];
  let requests = 0;
  const take = (): Sample => {
    gc!();
    gc!();
    requests += sim.requests.length;
    sim.clearRequests(); // the simulator's log would otherwise grow in this same heap
    const { mqtt, scheduler, client: cloud, events } = bridge.diagnostics();
    const client = mqtt.client;
    const listeners =
      events.listenerCount() +
      emitterListeners(mqtt) +
      emitterListeners(client) +
      emitterListeners(client?.stream) +
      emitterListeners(process) +
      scheduler.listenerCount();
    const timers = timerCounts();
    return {
      t: (performance.now() - started) / 1000,
      heapMb: getHeapStatistics().used_heap_size / 2 ** 20,
      rssMb: process.memoryUsage().rss / 2 ** 20,
      timers: timers.total,
      unrefTimers: timers.unref,
      handles: handleCount(),
      listeners,
      abortDependants: dependantSignals((cloud as unknown as { closing?: AbortController }).closing?.signal),
      queue: scheduler.queueDepth + scheduler.inFlight,
      pendingCommands: pending.size,
      requests,
      commandsOk,
      commandsFailed,
    };
  };

  const header = ['t (s)', 'heap MB', 'RSS MB', 'timers', 'unref', 'handles', 'listeners', 'abort deps', 'queue', 'cmd pending', 'req/s', 'cmd ok', 'cmd err'];
  process.stdout.write(`${header.map((h) => h.padStart(12)).join('')}\n`);
  const end = started + SECONDS * 1000;
  let lastRequests = 0;
  let lastT = 0;
  while (performance.now() < end) {
    await sleep(Math.min(SAMPLE_S * 1000, Math.max(0, end - performance.now())));
    const s = take();
    samples.push(s);
    if (values.snapshots && !samples.some((x) => x !== s && x.t >= WARMUP_S) && s.t >= WARMUP_S) {
      process.stderr.write(`soak: heap snapshot ${writeHeapSnapshot(join(values.snapshots, 'after-warmup.heapsnapshot'))}\n`);
    }
    const rate = (s.requests - lastRequests) / Math.max(0.001, s.t - lastT);
    lastRequests = s.requests;
    lastT = s.t;
    const row = [s.t, s.heapMb, s.rssMb, s.timers, s.unrefTimers, s.handles, s.listeners, s.abortDependants, s.queue, s.pendingCommands, rate, s.commandsOk, s.commandsFailed];
    process.stdout.write(`${row.map((v) => fmt(v).padStart(12)).join('')}${s.t < WARMUP_S ? '  (warm-up)' : ''}\n`);
  }

  if (values.snapshots) {
    gc!();
    process.stderr.write(`soak: heap snapshot ${writeHeapSnapshot(join(values.snapshots, 'end.heapsnapshot'))}\n`);
  }
  clearInterval(commandTimer);
  clearInterval(getTimer);
  clearInterval(expireTimer);
  const drainDeadline = performance.now() + 15_000;
  while (pending.size > 0 && performance.now() < drainDeadline) await sleep(100);
  const unanswered = pending.size;

  await bridge.stop();
  // Our own MQTT clients re-arm keepalive timers: close them too before looking for leftovers.
  await commander.close();
  await observer.close();
  // Bounded waits inside stop() (e.g. the MQTT stop timeout) may still be pending: give them time.
  await sleep(2500);
  gc!();
  const leftTimers = liveTimers().filter((t) => !timersBefore.has(t.timer));
  const afterStop = { timers: timerCounts().total, handles: handleCount(), processListeners: emitterListeners(process) };
  await sim.stop();
  await broker.stop();
  rmSync(dataDir, { recursive: true, force: true });

  // ── verdict ──────────────────────────────────────────────────────────────────────────────────
  const problems: string[] = [];
  const steady = samples.filter((s) => s.t >= WARMUP_S);
  if (steady.length < 4) problems.push(`too few samples after warm-up (${steady.length}); run longer`);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  const k = Math.max(1, Math.min(3, Math.floor(steady.length / 4)));
  const heapStart = median(steady.slice(0, k).map((s) => s.heapMb));
  const heapEnd = median(steady.slice(-k).map((s) => s.heapMb));
  const growth = heapEnd / heapStart - 1;
  if (growth > HEAP_GROWTH_LIMIT) problems.push(`heap grew ${(growth * 100).toFixed(1)} % after warm-up (limit 10 %)`);
  // Least-squares slope of the heap after warm-up, MB per minute (reported, not judged).
  const slope = (() => {
    const xs = steady.map((s) => s.t / 60);
    const ys = steady.map((s) => s.heapMb);
    const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
    const my = ys.reduce((a, b) => a + b, 0) / ys.length;
    const num = xs.reduce((a, x, i) => a + (x - mx) * (ys[i]! - my), 0);
    const den = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
    return den > 0 ? num / den : 0;
  })();
  const quarter = Math.max(1, Math.floor(steady.length / 4));
  const counted = ['timers', 'handles', 'listeners', 'abortDependants', 'queue', 'pendingCommands'] as const;
  const counts: Record<string, { firstQuarterMax: number; lastQuarterMin: number }> = {};
  for (const key of counted) {
    const firstMax = Math.max(...steady.slice(0, quarter).map((s) => s[key]));
    const lastMin = Math.min(...steady.slice(-quarter).map((s) => s[key]));
    counts[key] = { firstQuarterMax: firstMax, lastQuarterMin: lastMin };
    if (lastMin > firstMax) problems.push(`${key} grew: at least ${lastMin} in the last quarter, at most ${firstMax} in the first`);
  }
  if (unanswered > 0) problems.push(`${unanswered} commands never answered`);
  if (commandsFailed > 0.01 * Math.max(1, seq)) problems.push(`${commandsFailed} of ${seq} commands failed: ${failures.join(' | ')}`);
  if (leftTimers.length > 0) {
    const where = leftTimers.map((t) => t.origin ?? '(SOAK_TIMER_STACKS=1 shows where)').join('\n---\n');
    problems.push(`${leftTimers.length} timers made while the bridge ran are still live after it stopped:\n${where}`);
  }
  if (afterStop.handles > before.handles) problems.push(`${afterStop.handles - before.handles} handles still open after the bridge stopped`);
  if (afterStop.processListeners > before.processListeners) {
    problems.push(`${afterStop.processListeners - before.processListeners} process listeners left after the bridge stopped`);
  }
  if (sink.errors > 0) problems.push(`the bridge logged ${sink.errors} errors: ${sink.first.join(' | ')}`);

  const summary = {
    seconds: SECONDS,
    devices: DEVICES,
    nodes: expectedNodes,
    pollIntervalS: POLL_S,
    commandsPerS: COMMANDS_PER_S,
    commandsSent: seq,
    commandsOk,
    commandsFailed,
    unanswered,
    cloudRequests: requests,
    heapAfterWarmupMb: round(heapStart, 2),
    heapEndMb: round(heapEnd, 2),
    heapGrowthPercent: round(growth * 100, 2),
    heapSlopeMbPerMin: round(slope, 3),
    rssMaxMb: round(Math.max(...samples.map((s) => s.rssMb)), 1),
    counts,
    beforeStart: before,
    afterStop,
    bridgeWarnings: sink.warnings,
    bridgeErrors: sink.errors,
    firstLogProblems: sink.first,
  };
  process.stdout.write(`\n${JSON.stringify(summary, null, 2)}\n`);
  if (problems.length > 0) {
    process.stdout.write(`\nSOAK FAILED:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
    return 1;
  }
  process.stdout.write(
    `\nSOAK PASSED: heap ${fmt(heapStart)} → ${fmt(heapEnd)} MB (${(growth * 100).toFixed(1)} %), no growing resource counts, ${seq} commands answered\n`,
  );
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`soak: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
