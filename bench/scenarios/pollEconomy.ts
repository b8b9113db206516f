/**
 * Poll economy: N devices (the catalog's realistic mix, strips included), steady polling with
 * nothing changing. Poll requests per physical device per poll cycle (target 1.0), MQTT
 * publishes in those cycles (target 0), the bridge's CPU per device-poll and its RSS.
 *
 * Daily reads (the firmware list and the cloud connection, one request per device, sent after
 * the device's first answer and then once a day) are counted apart from the polls: over the whole
 * run, per device, that is the reads per device per day, and what they add per poll follows from
 * the interval (at the default 60 s, 1 in 1,440 polls).
 *
 * The simulator's clock is frozen for this scenario so meters do not accrue energy: "nothing
 * changed" is then literally true (with a running clock an HS110's total_kwh ticks every minute
 * or two, which is a real change the bridge must publish).
 */
import { manyDevices } from '../../src/simulator/index.js';
import { countByKind, methodsAsked, requestKind } from '../lib/requestKinds.js';
import { Rig } from '../lib/rig.js';
import { round, type Figure } from '../lib/stats.js';
import { sleep } from '../lib/watch.js';

export interface PollEconomyOptions {
  devices: number;
  /** KASA_POLL_INTERVAL, seconds. */
  intervalS: number;
  /** Poll cycles measured after warm-up. */
  cycles: number;
}

export interface PollEconomyResult {
  figures: Figure[];
  details: Record<string, unknown>;
}

/** Steady RSS targets, the bridge started as users start it: a home of about 20 devices, and a thousand devices. */
const RSS_TARGETS_MB: Record<number, number> = { 20: 105, 1000: 160 };

/** KASA_POLL_INTERVAL's default, seconds: what a daily read adds per poll is also given at it. */
const DEFAULT_POLL_INTERVAL_S = 60;
const DAY_S = 24 * 60 * 60;

function rssTarget(devices: number, rssMb: number): { target?: string; ok?: boolean } {
  const limit = RSS_TARGETS_MB[devices];
  return limit === undefined ? {} : { target: `≤ ${limit}`, ok: rssMb <= limit };
}

export async function pollEconomy(o: PollEconomyOptions): Promise<PollEconomyResult> {
  const frozen = Date.now();
  const rig = await Rig.start({
    devices: manyDevices(o.devices),
    simOptions: { clock: () => frozen },
    env: {
      KASA_POLL_INTERVAL: String(o.intervalS),
      KASA_ENERGY_POLL_INTERVAL: '3600',
      KASA_DEVICE_LIST_INTERVAL: '3600',
      KASA_RATE_LIMIT: '100000',
      KASA_RATE_BURST: '1000',
      KASA_CONCURRENCY: '32',
    },
    keep: true,
  });
  let ok = false;
  try {
    const allAt = await rig.allStates(180_000);
    const startupMs = allAt - rig.bridge.spawnedAt;
    // Start-up extras (energy reads of strip outlets, discovery orphan scan after 2 s) and the
    // first periodic polls (interval + spread offset after the device list) must be behind us.
    await sleep(Math.max(1.5 * o.intervalS * 1000, 4000));
    // The start-up's tail, on the lanes below the polls: each HS300 outlet's first meter read
    // (energy lane) and each device's daily read (lowest lane). Their first answers bring new state
    // keys, so the node's state and its discovery config (which then announces those entities) are
    // published once. Behind 1,000 devices' polls on a busy machine they can run well past the
    // settling above; the window starts once they are over. Energy lane first: once the outlets'
    // reads are done, a build with daily reads sends them next (a build without sends none).
    const simDevices = rig.sim.devices('bench@kasa2mqtt.local');
    const physical = simDevices.length;
    const meteredOutlets = simDevices.filter((d) => d.model.startsWith('HS300')).reduce((n, d) => n + childCount(d.sysinfo()), 0);
    const seen = (kind: string) => rig.timeline.requests.filter((r) => requestKind(r.entry) === kind);
    const dailyDevices = () => new Set(seen('daily').map((r) => r.entry.deviceId)).size;
    const settleMs = Math.max(o.intervalS * 1000, 2000);
    const tailFrom = performance.now();
    await rig.waitFor(() => seen('energy').length >= meteredOutlets, 180_000, 'the first meter read of every HS300 outlet');
    await sleep(settleMs);
    if (dailyDevices() > 0) {
      await rig.waitFor(() => dailyDevices() >= physical, 180_000, 'a daily read of every device');
      await sleep(settleMs);
    }
    const tailWaitMs = performance.now() - tailFrom;

    const intervalMs = o.intervalS * 1000;
    const t0 = performance.now();
    const cpu0 = rig.bridge.cpuMs();
    await sleep(o.cycles * intervalMs);
    const t1 = performance.now();
    const cpu1 = rig.bridge.cpuMs();
    const mem = rig.bridge.memory();
    const windowRssMax = rig.bridge.rss.maxBetween(t0, t1);

    const inWindow = rig.timeline.between(t0, t1);
    const polls = inWindow.filter((r) => requestKind(r.entry) === 'poll');
    const dailyInWindow = inWindow.filter((r) => requestKind(r.entry) === 'daily');
    // Anything else in a window where nothing changes and no energy read is due is a request too many.
    const others = inWindow.filter((r) => !['poll', 'daily'].includes(requestKind(r.entry)));
    // Daily reads over the whole run (they go out after each device's first answer): per device,
    // that is reads per device per day as long as the run is shorter than a day.
    const run = rig.timeline.between(-Infinity, t1);
    const daily = run.filter((r) => requestKind(r.entry) === 'daily');
    const dailyPerDevice = new Map<string, number>();
    for (const r of daily) dailyPerDevice.set(r.entry.deviceId ?? '?', (dailyPerDevice.get(r.entry.deviceId ?? '?') ?? 0) + 1);
    const perDevice = new Map<string, number>();
    for (const r of polls) perDevice.set(r.entry.deviceId ?? '?', (perDevice.get(r.entry.deviceId ?? '?') ?? 0) + 1);
    const published = rig.watcher.messages.filter((m) => m.at >= t0 && m.at < t1);
    const perCycle = polls.length / (physical * o.cycles);
    const cpuPerPoll = (cpu1 - cpu0) / Math.max(1, polls.length);
    const errors = inWindow.filter((r) => r.entry.errorCode !== 0).length;
    const dailyPerDay = daily.length / physical;

    const label = `Poll economy, ${o.devices.toLocaleString('en-US')} device${o.devices === 1 ? '' : 's'}`;
    const figures: Figure[] = [
      {
        scenario: label,
        figure: 'poll requests / device / poll cycle',
        value: round(perCycle, 3),
        unit: '',
        target: '1.0',
        ok: Math.abs(perCycle - 1) <= 0.02 && others.length === 0,
        ...(others.length > 0 ? { note: `${others.length} requests neither poll nor daily read in the window: ${JSON.stringify(countByKind(others.map((r) => r.entry)))}` } : {}),
      },
      {
        scenario: label,
        figure: 'daily reads / device / day',
        value: round(dailyPerDay, 3),
        unit: '',
        target: '1.0',
        ok: dailyPerDay === 1 && dailyPerDevice.size === physical,
        ...(dailyInWindow.length > 0 ? { note: `${dailyInWindow.length} daily reads fell in the measured window (start-up tail)` } : {}),
      },
      {
        scenario: label,
        figure: `daily reads / 1,000 polls at ${o.intervalS} s`,
        value: round((dailyPerDay * o.intervalS * 1000) / DAY_S, 4),
        unit: '',
      },
      {
        scenario: label,
        figure: `daily reads / 1,000 polls at ${DEFAULT_POLL_INTERVAL_S} s`,
        value: round((dailyPerDay * DEFAULT_POLL_INTERVAL_S * 1000) / DAY_S, 3),
        unit: '',
      },
      {
        scenario: label,
        figure: 'MQTT publishes / unchanged cycle',
        value: round(published.length / o.cycles, 2),
        unit: '',
        target: '0',
        ok: published.length === 0,
      },
      { scenario: label, figure: 'bridge CPU / device-poll', value: round(cpuPerPoll, 3), unit: 'ms' },
      {
        scenario: label,
        figure: 'RSS steady (max in window)',
        value: round(windowRssMax, 1),
        unit: 'MB',
        ...rssTarget(o.devices, windowRssMax),
      },
      {
        scenario: label,
        figure: 'RSS peak (VmHWM, incl. start-up)',
        value: round(mem.peakRssMb, 1),
        unit: 'MB',
      },
      { scenario: label, figure: 'start-up to all states (no rate limit)', value: round(startupMs / 1000, 2), unit: 's' },
    ];
    const counts = [...perDevice.values()];
    const startupMsgs = rig.watcher.messages.filter((m) => m.at < t0);
    const devicesMsgs = startupMsgs.filter((m) => m.topic === 'kasa/bridge/devices');
    ok = true;
    return {
      figures,
      details: {
        devices: o.devices,
        physicalDevices: physical,
        nodes: rig.expectedNodes,
        pollIntervalS: o.intervalS,
        cycles: o.cycles,
        windowMs: round(t1 - t0, 1),
        polls: polls.length,
        windowByKind: countByKind(inWindow.map((r) => r.entry)),
        otherRequests: others.map((r) => ({ kind: requestKind(r.entry), methods: methodsAsked(r.entry) })).slice(0, 10),
        startupByKind: countByKind(rig.timeline.between(-Infinity, t0).map((r) => r.entry)),
        dailyReads: daily.length,
        dailyReadsInWindow: dailyInWindow.length,
        dailyPerDeviceMin: dailyPerDevice.size === physical ? Math.min(...dailyPerDevice.values()) : 0,
        dailyPerDeviceMax: dailyPerDevice.size > 0 ? Math.max(...dailyPerDevice.values()) : 0,
        dailyShapes: [...new Set(daily.map((r) => methodsAsked(r.entry).join(' + ')))],
        dailyPerPollAtInterval: dailyPerDay * (o.intervalS / DAY_S),
        dailyPerPollAtDefault: dailyPerDay * (DEFAULT_POLL_INTERVAL_S / DAY_S),
        failedRequests: errors,
        perDeviceMin: Math.min(...counts),
        perDeviceMax: Math.max(...counts),
        devicesPolled: perDevice.size,
        publishes: published.length,
        publishedByKind: countTopics(published.map((m) => m.topic)),
        publishedTopics: [...new Set(published.map((m) => m.topic))].slice(0, 10),
        dailyTailWaitMs: round(tailWaitMs, 0),
        bridgeCpuMs: round(cpu1 - cpu0, 1),
        bridgeCpuPercent: round(((cpu1 - cpu0) / (t1 - t0)) * 100, 1),
        rssEndMb: round(mem.rssMb, 1),
        peakRssMb: round(mem.peakRssMb, 1),
        startupMs: round(startupMs, 0),
        startupMqtt: {
          messages: startupMsgs.length,
          mb: round(startupMsgs.reduce((n, m) => n + m.text.length, 0) / 2 ** 20, 2),
          bridgeDevicesPublishes: devicesMsgs.length,
          bridgeDevicesMb: round(devicesMsgs.reduce((n, m) => n + m.text.length, 0) / 2 ** 20, 2),
          bridgeInfoPublishes: startupMsgs.filter((m) => m.topic === 'kasa/bridge/info').length,
        },
        warnings: rig.problems().length,
      },
    };
  } finally {
    await rig.stop(!ok);
    if (!ok) process.stderr.write(`bridge log kept in ${rig.bridge.logPath}\n`);
  }
}

function childCount(sysinfo: Record<string, unknown>): number {
  return Array.isArray(sysinfo['children']) ? sysinfo['children'].length : 0;
}

/** Published topics counted by what they are: node state, availability, discovery config, bridge topics. */
function countTopics(topics: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const topic of topics) {
    const kind = topic.startsWith('homeassistant/')
      ? 'discovery config'
      : topic.startsWith('kasa/bridge/')
        ? topic
        : topic.endsWith('/availability')
          ? 'availability'
          : topic.split('/').length === 2
            ? 'state'
            : 'other';
    out[kind] = (out[kind] ?? 0) + 1;
  }
  return out;
}
