/**
 * Energy-meter answers → state keys (docs/mqtt-api.md, "Node state"). Both firmware generations (old: `power` W,
 * `voltage` V, `current` A, `total` kWh; new: `power_mw`, `voltage_mv`, `current_ma`, `total_wh`)
 * come out in W, V, A and kWh. A failed read leaves its keys out, never 0.
 */
import type { NodeState } from '../api/types.js';
import type { MeterKind } from './node.js';
import { isRecord } from '../isRecord.js';
import { finiteNumber, methodResult } from './reply.js';

export const EMETER_MODULE = 'emeter';
export const LIGHT_EMETER_MODULE = 'smartlife.iot.common.emeter';

type EnergyState = Pick<NodeState, 'power_w' | 'voltage_v' | 'current_a' | 'energy_kwh' | 'energy_today_kwh' | 'energy_month_kwh'>;

export function meterModule(meter: MeterKind | undefined): string | undefined {
  if (meter === 'emeter') return EMETER_MODULE;
  if (meter === 'light') return LIGHT_EMETER_MODULE;
  return undefined;
}

/**
 * The meter methods asked for in one request. Plug and outlet meters also answer today's and this
 * month's kWh from `get_daystat`/`get_monthstat` in the same request (no extra request; the replies
 * fit the 16 KiB budget of plugs). Bulbs only get `get_realtime`: their reply budget is 4 KiB.
 */
export function meterQuery(meter: MeterKind | undefined, now: Date): Record<string, unknown> | undefined {
  if (meter === 'emeter') {
    return {
      get_realtime: null,
      get_daystat: { year: now.getFullYear(), month: now.getMonth() + 1 },
      get_monthstat: { year: now.getFullYear() },
    };
  }
  if (meter === 'light') return { get_realtime: null };
  return undefined;
}

/** The energy keys a meter answer gives; `now` (the bridge's local date) picks today and this month. */
export function parseEnergy(meter: MeterKind | undefined, response: unknown, now: Date): EnergyState {
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
  const today = statFor(methodResult(response, module, 'get_daystat'), 'day_list', (e) =>
    e['year'] === now.getFullYear() && e['month'] === now.getMonth() + 1 && e['day'] === now.getDate(),
  );
  if (today !== undefined) out.energy_today_kwh = today;
  const month = statFor(methodResult(response, module, 'get_monthstat'), 'month_list', (e) =>
    e['year'] === now.getFullYear() && e['month'] === now.getMonth() + 1,
  );
  if (month !== undefined) out.energy_month_kwh = month;
  return out;
}

/** New-generation milli-unit field / 1000, else the old-generation field as is. */
function scaled(obj: Record<string, unknown>, milliKey: string, unitKey: string): number | undefined {
  const milli = finiteNumber(obj[milliKey]);
  if (milli !== undefined) return milli / 1000;
  return finiteNumber(obj[unitKey]);
}

/**
 * kWh of the list entry `matches` picks. Devices leave out days and months with no usage, so a
 * list that was read but has no such entry means 0 kWh (a list that was not read gives undefined).
 */
function statFor(
  result: Record<string, unknown> | undefined,
  listKey: string,
  matches: (entry: Record<string, unknown>) => boolean,
): number | undefined {
  const list = result?.[listKey];
  if (!Array.isArray(list)) return undefined;
  const entry = list.find((e): e is Record<string, unknown> => isRecord(e) && matches(e));
  if (!entry) return 0;
  return scaled(entry, 'energy_wh', 'energy');
}
