/**
 * Start-up: process start (spawn) → every node's state published, against the theoretical
 * minimum the rate limit sets: the requests the bridge cannot do without (region lookup, login,
 * device list, one read per physical device) at `burst` at once and `rate` after that.
 *
 * Then the start-up's tail: each device's daily read (firmware list and cloud connection in one
 * request) goes out after its first answer on the lowest lane, and HS300 outlets' meters on the
 * energy lane. The scenario waits for one daily read per device (bounded: a build without daily
 * reads simply shows none) and counts the requests by kind before and after all states.
 */
import { manyDevices } from '../../src/simulator/index.js';
import { countByKind, requestKind } from '../lib/requestKinds.js';
import { BASE, Rig } from '../lib/rig.js';
import { round, type Figure } from '../lib/stats.js';
import { waitUntil } from '../lib/watch.js';

export interface StartupOptions {
  devices: number;
  ratePerMinute: number;
  burst: number;
}

export async function startup(o: StartupOptions): Promise<{ figures: Figure[]; details: Record<string, unknown> }> {
  const rig = await Rig.start({
    devices: manyDevices(o.devices),
    env: {
      KASA_POLL_INTERVAL: '60',
      KASA_RATE_LIMIT: String(o.ratePerMinute),
      KASA_RATE_BURST: String(o.burst),
      KASA_CONCURRENCY: '4',
    },
    keep: true,
  });
  let ok = false;
  try {
    const perMs = o.ratePerMinute / 60_000;
    const allAt = await rig.allStates(Math.max(60_000, ((o.devices * 2) / perMs) * 1.5));
    const online = rig.firstMessage.get(`${BASE}/bridge/state {"state":"online"}`) ?? NaN;
    const spawned = rig.bridge.spawnedAt;
    const totalMs = allAt - spawned;

    const before = rig.timeline.requests.filter((r) => r.receivedAt <= allAt);
    const byOp: Record<string, number> = {};
    for (const r of before) byOp[r.entry.op] = (byOp[r.entry.op] ?? 0) + 1;
    const firstRequest = rig.timeline.requests[0]?.receivedAt ?? allAt;
    const physical = rig.sim.devices('bench@kasa2mqtt.local').length;

    // The tail: one daily read per device, at most what the rate limit allows for them twice over.
    const dailySeen = () => rig.timeline.requests.filter((r) => requestKind(r.entry) === 'daily');
    const tailBudgetMs = (2 * physical) / perMs + 10_000;
    const dailyDone = await waitUntil(() => new Set(dailySeen().map((r) => r.entry.deviceId)).size >= physical, tailBudgetMs, 'daily reads').then(
      () => true,
      () => false,
    );
    const daily = dailySeen();
    const lastDaily = daily.at(-1)?.receivedAt;
    const tailEnd = performance.now();
    const after = rig.timeline.requests.filter((r) => r.receivedAt > allAt && r.receivedAt <= (lastDaily ?? tailEnd));
    // Needed: region lookup + login + device list + one read per physical device.
    const needed = 3 + physical;
    const minMs = Math.max(0, needed - o.burst) / perMs;
    // Also at most `ratePerMinute` in any 60 s.
    const windowMinMs = needed > o.ratePerMinute ? Math.floor((needed - 1) / o.ratePerMinute) * 60_000 : 0;
    const theoreticalMs = Math.max(minMs, windowMinMs);

    const label = `Start-up (${o.devices} devices, ${o.ratePerMinute}/min, burst ${o.burst})`;
    const figures: Figure[] = [
      { scenario: label, figure: 'process start → all states published', value: round(totalMs / 1000, 2), unit: 's' },
      { scenario: label, figure: 'theoretical minimum (rate limit)', value: round(theoreticalMs / 1000, 2), unit: 's' },
      { scenario: label, figure: 'overhead over the minimum', value: round((totalMs - theoreticalMs) / 1000, 2), unit: 's' },
      { scenario: label, figure: 'process start → MQTT online', value: round((online - spawned) / 1000, 2), unit: 's' },
      { scenario: label, figure: 'process start → first cloud request', value: round((firstRequest - spawned) / 1000, 2), unit: 's' },
      { scenario: label, figure: 'cloud requests before all states', value: before.length, unit: `(needed ${needed})` },
      { scenario: label, figure: 'daily reads before all states', value: before.filter((r) => requestKind(r.entry) === 'daily').length, unit: '' },
      { scenario: label, figure: 'daily reads (1 per device)', value: daily.length, unit: `(${physical} devices)` },
      ...(lastDaily !== undefined
        ? [{ scenario: label, figure: 'all states → last daily read', value: round((lastDaily - allAt) / 1000, 2), unit: 's' }]
        : []),
      { scenario: label, figure: 'requests after all states, to the last daily read', value: after.length, unit: '' },
    ];
    ok = true;
    return {
      figures,
      details: {
        devices: o.devices,
        nodes: rig.expectedNodes,
        ratePerMinute: o.ratePerMinute,
        burst: o.burst,
        totalMs: round(totalMs, 1),
        theoreticalMs: round(theoreticalMs, 1),
        mqttOnlineMs: round(online - spawned, 1),
        firstRequestMs: round(firstRequest - spawned, 1),
        requestsBeforeAllStates: byOp,
        requestsBeforeAllStatesByKind: countByKind(before.map((r) => r.entry)),
        requestsAfterAllStatesByKind: countByKind(after.map((r) => r.entry)),
        dailyReads: daily.length,
        dailyReadsComplete: dailyDone,
        lastDailyAfterAllStatesMs: lastDaily === undefined ? null : round(lastDaily - allAt, 1),
        needed,
        warnings: rig.problems().length,
      },
    };
  } finally {
    await rig.stop(!ok);
    if (!ok) process.stderr.write(`bridge log kept in ${rig.bridge.logPath}\n`);
  }
}
