import type { MeterGeneration } from '../types.js';
import { seededUnit, type JsonObject } from '../util.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * An energy meter behind one relay (a plug, an HS300 outlet or a bulb). Power follows the load
 * while on and is 0 while off; energy accrues as simulated time passes, booked to the day (of the
 * device's own calendar: `now` is its local clock) it was drawn on. History before the meter was
 * made is synthesised deterministically from the seed so daystat/monthstat look plausible.
 */
export class Meter {
  /** Load drawn while on, W. */
  loadW: number;
  voltageV: number;
  private accruedKwh = 0;
  private lastAccrual: number;
  private historyStart: number;
  /** First day whose energy is booked in `booked` rather than synthesised. */
  private bookedFrom: number;
  /** kWh drawn per local day (day start ms) since `bookedFrom`. */
  private readonly booked = new Map<number, number>();
  private baseKwh: number;

  constructor(
    private readonly seed: string,
    nominalVoltage: number,
    private readonly drawW: () => number,
    private readonly now: () => number,
  ) {
    this.loadW = Math.round((20 + seededUnit(`${seed}:load`) * 100) * 100) / 100;
    this.voltageV = Math.round((nominalVoltage * (0.98 + seededUnit(`${seed}:v`) * 0.03)) * 1000) / 1000;
    this.lastAccrual = now();
    this.bookedFrom = startOfDay(now());
    this.historyStart = this.bookedFrom - 60 * DAY_MS;
    this.baseKwh = this.historyKwh(this.historyStart, this.bookedFrom);
    this.booked.set(this.bookedFrom, 0);
  }

  /** Call before any change of state so the energy drawn so far is booked at the old power, day by day. */
  accrue(): void {
    const now = this.now();
    const watts = this.drawW();
    let from = this.lastAccrual;
    while (from < now) {
      const day = startOfDay(from);
      const to = Math.min(now, day + DAY_MS);
      const kwh = (watts * (to - from)) / HOUR_MS / 1000;
      this.booked.set(day, (this.booked.get(day) ?? 0) + kwh);
      this.accruedKwh += kwh;
      from = to;
    }
    if (!this.booked.has(startOfDay(now))) this.booked.set(startOfDay(now), 0);
    this.lastAccrual = Math.max(this.lastAccrual, now);
  }

  powerW(): number {
    return this.drawW();
  }

  currentA(): number {
    return this.powerW() / this.voltageV;
  }

  totalKwh(): number {
    this.accrue();
    return this.baseKwh + this.accruedKwh;
  }

  set(patch: { power_w?: number; voltage_v?: number; total_kwh?: number }): void {
    this.accrue();
    if (patch.power_w !== undefined) this.loadW = patch.power_w;
    if (patch.voltage_v !== undefined) this.voltageV = patch.voltage_v;
    if (patch.total_kwh !== undefined) {
      this.baseKwh = patch.total_kwh;
      this.accruedKwh = 0;
    }
  }

  erase(): void {
    this.accrue();
    this.historyStart = startOfDay(this.now());
    this.bookedFrom = this.historyStart;
    this.booked.clear();
    this.booked.set(this.bookedFrom, 0);
    this.baseKwh = 0;
    this.accruedKwh = 0;
  }

  realtime(generation: MeterGeneration): JsonObject {
    const power = this.powerW();
    const current = this.currentA();
    const total = this.totalKwh();
    if (generation === 'old') {
      return { current: round(current, 6), power: round(power, 6), total: round(total, 3), voltage: round(this.voltageV, 6) };
    }
    return {
      voltage_mv: Math.round(this.voltageV * 1000),
      current_ma: Math.round(current * 1000),
      power_mw: Math.round(power * 1000),
      total_wh: Math.round(total * 1000),
    };
  }

  /** Bulbs (`smartlife.iot.common.emeter`) answer power and total only. */
  bulbRealtime(): JsonObject {
    return { power_mw: Math.round(this.powerW() * 1000), total_wh: Math.round(this.totalKwh() * 1000) };
  }

  daystat(generation: MeterGeneration, year: number, month: number): JsonObject {
    const days: JsonObject[] = [];
    const first = Date.UTC(year, month - 1, 1);
    const next = Date.UTC(year, month, 1);
    for (let day = first; day < next; day += DAY_MS) {
      const kwh = this.dayKwh(day);
      if (kwh === undefined) continue;
      const d = new Date(day);
      days.push({ year, month, day: d.getUTCDate(), ...energyField(generation, kwh) });
    }
    return { day_list: days };
  }

  monthstat(generation: MeterGeneration, year: number): JsonObject {
    const months: JsonObject[] = [];
    for (let month = 1; month <= 12; month++) {
      const list = this.daystat('old', year, month).day_list as { energy: number }[];
      if (list.length === 0) continue;
      const kwh = list.reduce((sum, d) => sum + d.energy, 0);
      months.push({ year, month, ...energyField(generation, kwh) });
    }
    return { month_list: months };
  }

  /** Energy of one local day; undefined for days the device has no record of (before its history, after today). */
  private dayKwh(dayStart: number): number | undefined {
    if (dayStart < this.historyStart) return undefined;
    if (dayStart < this.bookedFrom) return this.historyKwh(dayStart, dayStart + DAY_MS);
    this.accrue();
    return this.booked.get(dayStart);
  }

  private historyKwh(from: number, to: number): number {
    let kwh = 0;
    for (let day = from; day < to; day += DAY_MS) {
      const hoursOn = 2 + seededUnit(`${this.seed}:${day}`) * 8;
      kwh += (this.loadW * hoursOn) / 1000;
    }
    return kwh;
  }
}

function startOfDay(t: number): number {
  return t - (t % DAY_MS);
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

function energyField(generation: MeterGeneration, kwh: number): JsonObject {
  return generation === 'old' ? { energy: round(kwh, 3) } : { energy_wh: Math.round(kwh * 1000) };
}
