/**
 * Poll economy: N devices (the catalog's realistic mix, strips included), steady polling with
 * nothing changing. Cloud requests per physical device per poll cycle (target 1.0), MQTT
 * publishes in those cycles (target 0), the bridge's CPU per device-poll and its RSS.
 *
 * The simulator's clock is frozen for this scenario so meters do not accrue energy: "nothing
 * changed" is then literally true (with a running clock an HS110's total_kwh ticks every minute
 * or two, which is a real change the bridge must publish).
 */
import { manyDevices } from '../../src/simulator/index.js';
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

    const intervalMs = o.intervalS * 1000;
    const t0 = performance.now();
    const cpu0 = rig.bridge.cpuMs();
    await sleep(o.cycles * intervalMs);
    const t1 = performance.now();
    const cpu1 = rig.bridge.cpuMs();
    const mem = rig.bridge.memory();
    const windowRssMax = rig.bridge.rss.maxBetween(t0, t1);

    const inWindow = rig.timeline.between(t0, t1);
    const polls = inWindow.filter((r) => r.entry.op === 'passthrough');
    const others = inWindow.filter((r) => r.entry.op !== 'passthrough');
    const perDevice = new Map<string, number>();
    for (const r of polls) perDevice.set(r.entry.deviceId ?? '?', (perDevice.get(r.entry.deviceId ?? '?') ?? 0) + 1);
    const physical = rig.sim.devices('bench@kasa2mqtt.local').length;
    const published = rig.watcher.messages.filter((m) => m.at >= t0 && m.at < t1);
    const perCycle = polls.length / (physical * o.cycles);
    const cpuPerPoll = (cpu1 - cpu0) / Math.max(1, polls.length);
    const errors = inWindow.filter((r) => r.entry.errorCode !== 0).length;

    const label = `Poll economy, ${o.devices.toLocaleString('en-US')} device${o.devices === 1 ? '' : 's'}`;
    const figures: Figure[] = [
      {
        scenario: label,
        figure: 'cloud requests / device / poll cycle',
        value: round(perCycle, 3),
        unit: '',
        target: '1.0',
        ok: Math.abs(perCycle - 1) <= 0.02 && others.length === 0,
        ...(others.length > 0 ? { note: `${others.length} non-passthrough requests in the window` } : {}),
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
        passthroughs: polls.length,
        otherRequests: others.map((r) => r.entry.op),
        failedRequests: errors,
        perDeviceMin: Math.min(...counts),
        perDeviceMax: Math.max(...counts),
        devicesPolled: perDevice.size,
        publishes: published.length,
        publishedTopics: [...new Set(published.map((m) => m.topic))].slice(0, 10),
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
