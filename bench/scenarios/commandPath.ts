/**
 * Command path with the simulator answering instantly. One plug, sets one at a time (ON/OFF
 * alternating so every set changes state), timed from one MQTT client and the simulator's log:
 *
 *   A  set published → simulator receives the passthrough        (MQTT hop in, bridge, HTTP out)
 *   B  simulator answers → state arrives at the client           (HTTP in, bridge, MQTT hop out)
 *   loop  set published → state arrives
 *
 * The timing client publishes the sets (QoS 0) and subscribes to the plug's state only, as a
 * dashboard would: the `response/set` answers go to the rig's watcher. On one client that also
 * received the answers, a stock mosquitto would hold each state behind the answer sent just before
 * it until that client's delayed ACK (up to 40 ms): the broker's Nagle on the broker's socket to
 * that client, which no bridge can change, and not what this scenario measures.
 *
 * "Broker receives the set" is approximated by the client's publish call and "broker receives
 * the state" by the client's receipt; the one-way MQTT hop (half the measured client→broker→client
 * round trip, reported) is inside A and B.
 *
 * Two baselines, interleaved with the bridge's sets so all three see the same machine:
 * - the floor: `relayProcess.ts`, a process that does only what any MQTT-to-cloud bridge must
 *   (receive on its own connection, signed passthrough with the bridge's KasaCloudClient, publish
 *   the state at QoS 1), to a third plug, timed the same way. The bridge's overhead is its A and
 *   B over the floor's: what the machine, the broker and the simulator cost is in both.
 * - a direct signed passthrough with the bridge's KasaCloudClient from this process to a second
 *   plug of the same model and host (no MQTT, no other process).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KasaCloudClient } from '../../src/kasa/cloudClient.js';
import { SessionStore } from '../../src/kasa/sessionStore.js';
import { createLogger } from '../../src/logger.js';
import { manyDevices } from '../../src/simulator/index.js';
import { startRelay, type Relay } from '../lib/relay.js';
import { BASE, BENCH_PASSWORD, BENCH_USER, Rig } from '../lib/rig.js';
import { relaySet, type TimedRequest } from '../lib/simTiming.js';
import { mean, percentile, round, type Figure } from '../lib/stats.js';
import { sleep, waitUntil, Watcher } from '../lib/watch.js';

export interface CommandPathOptions {
  iterations: number;
  warmup: number;
}

export async function commandPath(o: CommandPathOptions): Promise<{ figures: Figure[]; details: Record<string, unknown> }> {
  // Devices 0, 10 and 20 of the mix are HS103 plugs on device host 0: the bridge's, the direct
  // passthrough's and the relay's.
  const devices = manyDevices(21);
  const target = devices[0]!;
  const baseline = devices[10]!;
  const relayed = devices[20]!;
  const rig = await Rig.start({
    devices,
    env: {
      // No periodic polls during the measurement: only the commands' own requests.
      KASA_POLL_INTERVAL: '3600',
      KASA_ENERGY_POLL_INTERVAL: '3600',
      KASA_DEVICE_LIST_INTERVAL: '3600',
      KASA_RATE_LIMIT: '100000',
      KASA_RATE_BURST: '1000',
      KASA_CONCURRENCY: '4',
    },
    keep: false,
  });
  const dataDir = mkdtempSync(join(tmpdir(), 'kasa2mqtt-bench-direct-'));
  const client = new KasaCloudClient({
    cloudUrl: rig.sim.url,
    username: BENCH_USER,
    password: BENCH_PASSWORD,
    store: new SessionStore({ dataDir, logger: createLogger({ level: 'silent' }) }),
    requestTimeoutMs: 20_000,
    logger: createLogger({ level: 'silent' }),
  });
  let ok = false;
  let relay: Relay | undefined;
  try {
    await rig.allStates(60_000);
    await sleep(2500); // let the start-up settle (orphan scan, energy reads)
    const login = await client.login();
    if (login.status !== 'authenticated') throw new Error('direct client: login asked for MFA');
    const list = await client.getDeviceList();
    const directTarget = list.find((d) => d.deviceId === baseline.deviceId);
    if (!directTarget) throw new Error('baseline device not in the device list');

    const key = rig.keyOf(target.deviceId!);
    const stateTopic = `${BASE}/${key}`;
    const responseTopic = `${BASE}/${key}/response/set`;
    const w = rig.watcher;
    relay = await startRelay({ mqttUrl: rig.broker.url, cloudUrl: rig.sim.url, username: BENCH_USER, password: BENCH_PASSWORD, deviceId: relayed.deviceId! });
    const commander = await Watcher.connect(rig.broker.url, [stateTopic, 'bench/relay/state'], { keep: false });
    const bridgeInternal: number[] = [];
    let answers = 0;
    const offAnswers = w.onMessage((m) => {
      if (m.topic !== responseTopic) return;
      if (answers++ >= o.warmup) bridgeInternal.push((JSON.parse(m.text) as { latency_ms?: number }).latency_ms ?? NaN);
    });

    // The MQTT hop alone: publish to a topic this client subscribes to (QoS 0), same broker.
    await w.client.subscribeAsync('bench/echo', { qos: 0 });
    const echo: number[] = [];
    for (let i = 0; i < 200; i++) {
      const arrived = w.next((m) => m.topic === 'bench/echo' && m.text === String(i), 5000, 'echo');
      const t = performance.now();
      w.send('bench/echo', String(i));
      echo.push((await arrived).at - t);
    }

    let on = (JSON.parse(rig.latest.get(key)?.text ?? '{}') as { state?: string }).state !== 'ON';
    const a: number[] = [];
    const b: number[] = [];
    const loop: number[] = [];
    const direct: number[] = [];
    const floorA: number[] = [];
    const floorB: number[] = [];
    const floorLoop: number[] = [];
    const nextRequest = (deviceId: string) =>
      new Promise<TimedRequest>((resolve) => {
        const off = rig.timeline.onRequest((r) => {
          if (r.entry.deviceId === deviceId && relaySet(r.entry) !== undefined) {
            off();
            resolve(r);
          }
        });
      });
    for (let i = 0; i < o.warmup + o.iterations; i++) {
      const want = on ? 'ON' : 'OFF';
      const reached = nextRequest(target.deviceId!);
      const state = commander.next((m) => m.topic === stateTopic && m.text.includes(`"state":"${want}"`), 10_000, `state ${want}`);
      const t0 = performance.now();
      commander.send(`${BASE}/${key}/set`, JSON.stringify({ state: want }));
      const [req, st] = await Promise.all([reached, state]);
      if (i >= o.warmup) {
        a.push(req.receivedAt - t0);
        b.push(st.at - req.answeredAt);
        loop.push(st.at - t0);
      }

      const relayReached = nextRequest(relayed.deviceId!);
      const relayState = commander.next((m) => m.topic === 'bench/relay/state' && m.text === want, 10_000, `relay state ${want}`);
      const r0 = performance.now();
      commander.send('bench/relay/set', want);
      const [rReq, rSt] = await Promise.all([relayReached, relayState]);
      if (i >= o.warmup) {
        floorA.push(rReq.receivedAt - r0);
        floorB.push(rSt.at - rReq.answeredAt);
        floorLoop.push(rSt.at - r0);
      }
      on = !on;

      const d0 = performance.now();
      await client.passthrough(directTarget, { system: { set_relay_state: { state: on ? 1 : 0 }, get_sysinfo: null } });
      if (i >= o.warmup) direct.push(performance.now() - d0);
    }

    await waitUntil(() => answers >= o.warmup + o.iterations, 10_000, 'every set answered on response/set');
    offAnswers();
    await commander.close();

    const label = 'Command path (instant cloud)';
    const p = (v: number[], q: number) => round(percentile(v, q), 2);
    const p50p99 = (name: string, values: number[]): Figure[] =>
      [50, 99].map((q) => ({ scenario: label, figure: `${name}, p${q}`, value: p(values, q), unit: 'ms' }));
    const overA50 = percentile(a, 50) - percentile(floorA, 50);
    const overA99 = percentile(a, 99) - percentile(floorA, 99);
    const overB50 = percentile(b, 50) - percentile(floorB, 50);
    const overB99 = percentile(b, 99) - percentile(floorB, 99);
    const ratio50 = percentile(loop, 50) / percentile(direct, 50);
    const ratio99 = percentile(loop, 99) / percentile(direct, 99);
    const figures: Figure[] = [
      ...p50p99('A: set → simulator receives', a),
      ...p50p99('B: simulator answers → state', b),
      ...p50p99('full loop set → state', loop),
      ...p50p99('floor (minimal relay): A', floorA),
      ...p50p99('floor (minimal relay): B', floorB),
      ...p50p99('floor (minimal relay): loop', floorLoop),
      { scenario: label, figure: 'A: bridge over the floor, p50', value: round(overA50, 2), unit: 'ms' },
      { scenario: label, figure: 'A: bridge over the floor, p99', value: round(overA99, 2), unit: 'ms', target: '< 5', ok: overA99 < 5 },
      { scenario: label, figure: 'B: bridge over the floor, p50', value: round(overB50, 2), unit: 'ms' },
      { scenario: label, figure: 'B: bridge over the floor, p99', value: round(overB99, 2), unit: 'ms', target: '< 5', ok: overB99 < 5 },
      ...p50p99('direct signed passthrough', direct),
      { scenario: label, figure: 'loop / direct, p50', value: round(ratio50, 2), unit: '×' },
      { scenario: label, figure: 'loop / direct, p99', value: round(ratio99, 2), unit: '×' },
      { scenario: label, figure: 'MQTT hop (client→broker→client) p50', value: p(echo, 50), unit: 'ms' },
    ];
    ok = true;
    return {
      figures,
      details: {
        iterations: o.iterations,
        warmup: o.warmup,
        aMs: summary(a),
        bMs: summary(b),
        loopMs: summary(loop),
        directMs: summary(direct),
        floorAMs: summary(floorA),
        floorBMs: summary(floorB),
        floorLoopMs: summary(floorLoop),
        mqttEchoMs: summary(echo),
        bridgeReportedLatencyMs: summary(bridgeInternal),
        warnings: rig.problems().length,
      },
    };
  } finally {
    await relay?.stop();
    await client.close();
    rmSync(dataDir, { recursive: true, force: true });
    await rig.stop(!ok);
    if (!ok) process.stderr.write(`bridge log kept in ${rig.bridge.logPath}\n`);
  }
}

function summary(values: number[]): Record<string, number> {
  return {
    n: values.length,
    mean: round(mean(values), 3),
    p50: round(percentile(values, 50), 3),
    p90: round(percentile(values, 90), 3),
    p99: round(percentile(values, 99), 3),
    max: round(Math.max(...values), 3),
  };
}
