/**
 * "Energy today" and "this month" by the device's own calendar (issue 10): simulated KP125 plugs
 * in UTC−10 and UTC+13, driven by an injectable clock, read by a bridge whose clock is UTC at
 * 23:30 and 00:30 and across a month end (and a year end). The first poll cannot know the device's
 * zone, so it may ask for the wrong month: then the day is left out, never 0 and never another
 * day's figure; from the second poll on (offset learned from `time.get_time`) it is exact.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeState } from '../../src/api/types.js';
import { buildNodes, deviceUtcOffsetMinutes, parseResponse, pollRequest } from '../../src/devices/families.js';
import { createDevice, type RelayDevice } from '../../src/simulator/devices/index.js';
import type { JsonObject } from '../../src/simulator/util.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let savedTz: string | undefined;
beforeAll(() => {
  // The bridge runs in UTC (the image's zone); its fallback date is its local one.
  savedTz = process.env.TZ;
  process.env.TZ = 'UTC';
});
afterAll(() => {
  if (savedTz === undefined) delete process.env.TZ;
  else process.env.TZ = savedTz;
});

interface Rig {
  device: RelayDevice;
  clock: { now: number };
  read(): NodeState;
  /** The device's own figures for its local date, asked directly. */
  truth(): { today: number | undefined; month: number | undefined; local: Date };
}

/** A plug in zone `offsetMinutes`, switched on since `days` before `at`, then the clock moved to `at`. */
function rig(offsetMinutes: number, at: Date, days = 3): Rig {
  const clock = { now: at.getTime() - days * DAY };
  const device = createDevice(
    { model: 'KP125(US)', alias: 'Heater', deviceId: 'ABCDEF0123456789ABCDEF0123456789ABCDEF01', utcOffsetMinutes: offsetMinutes },
    { now: () => clock.now, owner: 'calendar@example.com' },
  ) as RelayDevice;
  device.setState({ on: true, power_w: 1000 });
  // Walk the clock hour by hour so energy is booked on every local day on the way.
  while (clock.now < at.getTime()) {
    clock.now = Math.min(at.getTime(), clock.now + HOUR);
    device.meter?.accrue();
  }
  const fields = device.listFields();
  const nodes = buildNodes({ deviceId: device.deviceId, deviceModel: device.model, deviceType: String(fields['deviceType']), alias: 'Heater', status: 1 }, device.sysinfo());
  let offset: number | undefined;
  return {
    device,
    clock,
    read() {
      const now = new Date(clock.now);
      const reply = device.execute(pollRequest(nodes[0]!, now, offset === undefined ? {} : { utcOffsetMinutes: offset }));
      offset = deviceUtcOffsetMinutes(reply, now) ?? offset;
      return parseResponse(nodes, reply, { now, ...(offset === undefined ? {} : { utcOffsetMinutes: offset }) }).get(nodes[0]!.id) ?? {};
    },
    truth() {
      const local = new Date(clock.now + offsetMinutes * 60_000);
      const year = local.getUTCFullYear();
      const month = local.getUTCMonth() + 1;
      const reply = device.execute({ emeter: { get_daystat: { year, month }, get_monthstat: { year } } }) as Record<string, Record<string, JsonObject>>;
      const days = reply['emeter']!['get_daystat']!['day_list'] as { day: number; energy_wh: number }[];
      const months = reply['emeter']!['get_monthstat']!['month_list'] as { month: number; energy_wh: number }[];
      const today = days.find((d) => d.day === local.getUTCDate())?.energy_wh;
      const thisMonth = months.find((m) => m.month === month)?.energy_wh;
      return { today: today === undefined ? undefined : today / 1000, month: thisMonth === undefined ? undefined : thisMonth / 1000, local };
    },
  };
}

/** What a first poll may publish: the device's own figure or nothing — never 0, never another day's. */
function expectRightOrAbsent(state: NodeState, truth: ReturnType<Rig['truth']>): void {
  if ('energy_today_kwh' in state) expect(state.energy_today_kwh).toBe(truth.today);
  if ('energy_month_kwh' in state) expect(state.energy_month_kwh).toBe(truth.month);
  expect(state.energy_today_kwh).not.toBe(0);
  expect(state.energy_month_kwh).not.toBe(0);
}

const cases = [
  // bridge time (UTC), device zone, the device's local date then
  { bridge: '2026-11-30T23:30:00Z', zone: -600, local: '2026-11-30' },
  { bridge: '2026-12-01T00:30:00Z', zone: -600, local: '2026-11-30' },
  { bridge: '2026-11-30T23:30:00Z', zone: 780, local: '2026-12-01' },
  { bridge: '2026-12-01T00:30:00Z', zone: 780, local: '2026-12-01' },
  { bridge: '2026-12-31T23:30:00Z', zone: 780, local: '2027-01-01' },
  { bridge: '2027-01-01T00:30:00Z', zone: -600, local: '2026-12-31' },
  { bridge: '2026-11-15T23:30:00Z', zone: 780, local: '2026-11-16' },
  { bridge: '2026-11-16T00:30:00Z', zone: -600, local: '2026-11-15' },
] as const;

describe('energy by the device calendar', () => {
  for (const c of cases) {
    const label = `bridge ${c.bridge}, device UTC${c.zone < 0 ? '' : '+'}${c.zone / 60} (${c.local})`;
    it(`${label}: first poll right or absent, then exact`, () => {
      const r = rig(c.zone, new Date(c.bridge));
      const truth = r.truth();
      expect(truth.local.toISOString().slice(0, 10)).toBe(c.local);
      expect(truth.today).toBeGreaterThan(0);
      expect(truth.month).toBeGreaterThan(0);

      expectRightOrAbsent(r.read(), truth);
      const second = r.read();
      expect(second.energy_today_kwh).toBe(truth.today);
      expect(second.energy_month_kwh).toBe(truth.month);
    });
  }

  it('follows the device across its own midnight and month end', () => {
    // Device in UTC−10: its November ends at 10:00 UTC on 1 December.
    const r = rig(-600, new Date('2026-12-01T09:30:00Z'));
    r.read();
    const before = r.read();
    expect(before.energy_today_kwh).toBe(r.truth().today);
    r.clock.now += HOUR; // 10:30 UTC = 00:30 on 1 December, device time
    r.device.meter?.accrue();
    const after = r.read();
    const truth = r.truth();
    expect(truth.local.toISOString().slice(0, 10)).toBe('2026-12-01');
    expect(after.energy_today_kwh).toBe(truth.today);
    expect(after.energy_today_kwh).toBeCloseTo(0.5, 2); // half an hour at 1 kW
    expect(after.energy_month_kwh).toBe(truth.month);
  });

  it('leaves today out rather than publish 0 when the device has no entry for its date', () => {
    const r = rig(0, new Date('2026-06-10T12:00:00Z'));
    const reply = {
      emeter: {
        get_daystat: { day_list: [{ year: 2026, month: 6, day: 9, energy_wh: 700 }], err_code: 0 },
        get_monthstat: { month_list: [], err_code: 0 },
        err_code: 0,
      },
      time: { get_time: { year: 2026, month: 6, mday: 10, hour: 12, min: 0, sec: 0, err_code: 0 } },
      system: { get_sysinfo: r.device.sysinfo() },
    };
    const nodes = buildNodes({ deviceId: r.device.deviceId, deviceModel: 'KP125(US)', deviceType: 'IOT.SMARTPLUGSWITCH', status: 1 }, r.device.sysinfo());
    const state = parseResponse(nodes, reply, { now: new Date(r.clock.now) }).get(nodes[0]!.id)!;
    expect(state).not.toHaveProperty('energy_today_kwh');
    expect(state).not.toHaveProperty('energy_month_kwh');
  });
});
