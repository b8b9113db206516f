/**
 * Energy meters (both firmware generations, see ../energy.ts): a plug's `emeter` and a bulb's
 * `smartlife.iot.common.emeter`, read with every poll. A strip's outlets have `outlet_energy`.
 */
import type { NodeState } from '../../api/types.js';
import type { DeviceModule, ModuleEntity } from '../module.js';
import type { DeviceNode } from '../node.js';
import { meterModule, meterQuery, parseEnergy } from './meter.js';
import { methodResult } from '../reply.js';

const ENERGY_KEYS = ['power_w', 'voltage_v', 'current_a', 'energy_kwh', 'energy_today_kwh', 'energy_month_kwh'] as const;

export const energy: DeviceModule = {
  name: 'energy',
  family: 'iot',
  appliesTo: (node) => node.parentId === undefined && (node.meter === 'emeter' || node.meter === 'light'),
  keys: ENERGY_KEYS,
  partial: true,
  read: { cadence: 'poll', request: meterRead },
  // An outlet's answer (made with its context) is not the device's.
  parse: (node, reply) => (reply.targeted ? parseMeter(node, reply) : undefined),
  entities: meterEntities,
};

/**
 * Each outlet meter of a strip (HS300), read with the outlet's child id as context every
 * KASA_ENERGY_POLL_INTERVAL: without a context the strip answers one slot, not the sum.
 */
export const outletEnergy: DeviceModule = {
  name: 'outlet_energy',
  family: 'iot',
  appliesTo: (node) => node.parentId !== undefined && node.meter === 'emeter',
  keys: ENERGY_KEYS,
  partial: true,
  read: { cadence: 'energy', targeted: true, request: meterRead },
  parse: (node, reply) => (reply.targeted ? parseMeter(node, reply) : undefined),
  entities: meterEntities,
};

function meterRead(node: DeviceNode, { now, utcOffsetMinutes }: { now: Date; utcOffsetMinutes?: number }): Record<string, unknown> | undefined {
  const module = meterModule(node.meter);
  const query = meterQuery(node.meter, now, utcOffsetMinutes);
  return module && query ? { [module]: query } : undefined;
}

function parseMeter(node: DeviceNode, { response, now, utcOffsetMinutes }: { response: Record<string, unknown>; now: Date; utcOffsetMinutes?: number }): NodeState | undefined {
  const module = meterModule(node.meter);
  // No realtime answer (not asked, or the meter failed): the last values stay.
  if (!module || !methodResult(response, module, 'get_realtime')) return undefined;
  return parseEnergy(node.meter, response, now, utcOffsetMinutes);
}

function meterEntities(node: DeviceNode): ModuleEntity[] {
  const sensor = (id: string, stateKey: (typeof ENERGY_KEYS)[number], config: Record<string, unknown>): ModuleEntity => ({
    platform: 'sensor',
    id,
    stateKey,
    config: { ...config, value_template: `{{ value_json.${stateKey} }}` },
  });
  const kwh = (precision: number) => ({
    device_class: 'energy',
    state_class: 'total_increasing',
    unit_of_measurement: 'kWh',
    suggested_display_precision: precision,
  });
  const full = node.meter === 'emeter';
  return [
    sensor('power', 'power_w', { device_class: 'power', state_class: 'measurement', unit_of_measurement: 'W', suggested_display_precision: 1 }),
    ...(full
      ? [
          sensor('voltage', 'voltage_v', { device_class: 'voltage', state_class: 'measurement', unit_of_measurement: 'V', suggested_display_precision: 1 }),
          sensor('current', 'current_a', { device_class: 'current', state_class: 'measurement', unit_of_measurement: 'A', suggested_display_precision: 2 }),
        ]
      : []),
    sensor('energy', 'energy_kwh', kwh(3)),
    ...(full
      ? [
          sensor('energy_today', 'energy_today_kwh', { name: 'Energy today', ...kwh(3) }),
          sensor('energy_month', 'energy_month_kwh', { name: 'Energy this month', ...kwh(2) }),
        ]
      : []),
  ];
}
