/**
 * Energy-meter answers → state keys (docs/mqtt-api.md, "Node state"). Both firmware generations (old: `power` W,
 * `voltage` V, `current` A, `total` kWh; new: `power_mw`, `voltage_mv`, `current_ma`, `total_wh`)
 * come out in W, V, A and kWh. A failed read leaves its keys out, never 0.
 */
import type { NodeState } from '../../api/types.js';
import type { MeterKind } from '../node.js';
import { isRecord } from '../../isRecord.js';
import { finiteNumber, methodResult } from '../reply.js';

export const EMETER_MODULE = 'emeter';
export const LIGHT_EMETER_MODULE = 'smartlife.iot.common.emeter';

type EnergyState = Pick<NodeState, 'power_w' | 'voltage_v' | 'current_a' | 'energy_kwh' | 'energy_today_kwh' | 'energy_month_kwh'>;

export function meterModule(meter: MeterKind | undefined): string | undefined {
  if (meter === 'emeter') return EMETER_MODULE;
  if (meter === 'light') return LIGHT_EMETER_MODULE;
  return undefined;
}

/** A calendar date as the device counts it. */
export interface DeviceDate {
  year: number;
  month: number;
  day: number;
}

/**
 * The device's local date at `now`: from its UTC offset in minutes when known (learned from a
 * `get_time` answer, see `deviceUtcOffsetMinutes`), else the bridge's own local date.
 */
export function deviceDate(now: Date, utcOffsetMinutes?: number): DeviceDate {
  if (utcOffsetMinutes === undefined) return { year: now.getFullYear(), month: now.getMonth() + 1, day: now.getDate() };
  const local = new Date(now.getTime() + utcOffsetMinutes * 60_000);
  return { year: local.getUTCFullYear(), month: local.getUTCMonth() + 1, day: local.getUTCDate() };
}

/**
 * The meter methods asked for in one request. Plug and outlet meters also answer today's and this
 * month's kWh from `get_daystat`/`get_monthstat` in the same request (no extra request; the replies
 * fit the 16 KiB budget of plugs), asked for the month that holds the device's own date. Bulbs
 * only get `get_realtime`: their reply budget is 4 KiB.
 */
export function meterQuery(meter: MeterKind | undefined, now: Date, utcOffsetMinutes?: number): Record<string, unknown> | undefined {
  if (meter === 'emeter') {
    const date = deviceDate(now, utcOffsetMinutes);
    return {
      get_realtime: null,
      get_daystat: { year: date.year, month: date.month },
      get_monthstat: { year: date.year },
    };
  }
  if (meter === 'light') return { get_realtime: null };
  return undefined;
}

/**
 * The energy keys a meter answer gives. "Today" and "this month" are the device's: the entries of
 * its own date when the reply carries its time or its UTC offset is known, else the newest entries
 * it reports. A day or month the device has not reported is left out, never 0.
 */
export function parseEnergy(meter: MeterKind | undefined, response: unknown, now: Date, utcOffsetMinutes?: number): EnergyState {
  const module = meterModule(meter);
  if (!module) return {};
  const out: EnergyState = {};
  const realtime = methodResult(response, module, 'get_realtime');
  if (realtime) {
    const power = scaled(realtime, 'power_mw', 'power');
    if (power !== undefined) out.power_w = power;
    const voltage = scaled(realtime, 'voltage_mv', 'voltage');
    if (voltage !== undefined) out.voltage_v = voltage;
    const current = scaled(realtime, 'current_ma', 'current');
    if (current !== undefined) out.current_a = current;
    const total = scaled(realtime, 'total_wh', 'total');
    if (total !== undefined) out.energy_kwh = total;
  }
  const offset = deviceUtcOffsetMinutes(response, now) ?? utcOffsetMinutes;
  const date = offset === undefined ? undefined : deviceDate(now, offset);
  const today = statFor(methodResult(response, module, 'get_daystat'), 'day_list', date && ((e) => sameDay(e, date)));
  if (today !== undefined) out.energy_today_kwh = today;
  const month = statFor(methodResult(response, module, 'get_monthstat'), 'month_list', date && ((e) => sameMonth(e, date)));
  if (month !== undefined) out.energy_month_kwh = month;
  return out;
}

/** Where devices answer `get_time`: plug-family firmware and bulbs name the module differently. */
export const TIME_MODULES = ['time', 'smartlife.iot.common.timesetting'] as const;

/**
 * The device's offset from UTC in minutes (rounded to a quarter hour, the finest real zones use),
 * from a `get_time` answer in `response` read at about `now`; undefined without one.
 */
export function deviceUtcOffsetMinutes(response: unknown, now: Date): number | undefined {
  for (const module of TIME_MODULES) {
    const t = methodResult(response, module, 'get_time');
    if (!t) continue;
    const [year, month, day, hour, minute, second] = ['year', 'month', 'mday', 'hour', 'min', 'sec'].map((k) => finiteNumber(t[k]) ?? NaN);
    const local = Date.UTC(year ?? NaN, (month ?? NaN) - 1, day, hour, minute, second);
    if (!Number.isFinite(local)) return undefined;
    const minutes = (local - now.getTime()) / 60_000;
    const offset = Math.round(minutes / 15) * 15;
    return Math.abs(offset) <= 14 * 60 ? offset : undefined;
  }
  return undefined;
}

function sameDay(e: Record<string, unknown>, d: DeviceDate): boolean {
  return e['year'] === d.year && e['month'] === d.month && e['day'] === d.day;
}

function sameMonth(e: Record<string, unknown>, d: DeviceDate): boolean {
  return e['year'] === d.year && e['month'] === d.month;
}

/** New-generation milli-unit field / 1000, else the old-generation field as is. */
function scaled(obj: Record<string, unknown>, milliKey: string, unitKey: string): number | undefined {
  const milli = finiteNumber(obj[milliKey]);
  if (milli !== undefined) return milli / 1000;
  return finiteNumber(obj[unitKey]);
}

/**
 * kWh of the list entry `matches` picks, or of the newest entry when there is no matcher (the
 * device's date is unknown). Undefined when the list was not read or has no such entry.
 */
function statFor(
  result: Record<string, unknown> | undefined,
  listKey: string,
  matches: ((entry: Record<string, unknown>) => boolean) | undefined,
): number | undefined {
  const list = result?.[listKey];
  if (!Array.isArray(list)) return undefined;
  const entries = list.filter((e): e is Record<string, unknown> => isRecord(e));
  const entry = matches ? entries.find(matches) : newest(entries);
  return entry ? scaled(entry, 'energy_wh', 'energy') : undefined;
}

/** The entry with the latest year/month/day (devices list them in no particular order). */
function newest(entries: Record<string, unknown>[]): Record<string, unknown> | undefined {
  const rank = (e: Record<string, unknown>) =>
    (finiteNumber(e['year']) ?? 0) * 10_000 + (finiteNumber(e['month']) ?? 0) * 100 + (finiteNumber(e['day']) ?? 0);
  return entries.reduce<Record<string, unknown> | undefined>((best, e) => (best === undefined || rank(e) > rank(best) ? e : best), undefined);
}
