/**
 * The device-family table (docs/mqtt-api.md, docs/protocol.md "Passthrough"). Supporting a new model is
 * one row here: its `deviceModel` prefix and whatever differs from its family's defaults.
 */
import type { NodeType } from '../api/types.js';
import type { MeterKind } from './node.js';

export type FamilyName = 'plug' | 'switch' | 'dimmer' | 'strip' | 'bulb' | 'lightstrip';

export const DEVICE_TYPE_PLUGSWITCH = 'IOT.SMARTPLUGSWITCH';
export const DEVICE_TYPE_BULB = 'IOT.SMARTBULB';

export interface KelvinRange {
  min: number;
  max: number;
}

/** What a light can do beyond on/off. */
export interface LightAbilities {
  dimmable: boolean;
  color: boolean;
  colorTemp: boolean;
}

export interface ModelRow {
  /** `deviceModel` prefix, e.g. `KL420L5`; the longest matching prefix wins. */
  prefix: string;
  meter?: MeterKind;
  light?: LightAbilities;
  kelvin?: KelvinRange;
  /** Kelvin range by the region in the model name, `KL120(EU)` → `EU`. */
  kelvinByRegion?: Readonly<Record<string, KelvinRange>>;
}

export interface FamilySpec {
  family: FamilyName;
  deviceType: typeof DEVICE_TYPE_PLUGSWITCH | typeof DEVICE_TYPE_BULB;
  nodeType: NodeType;
  /** Defaults for every model of the family (and for unknown models classified into it). */
  meter?: MeterKind;
  light?: LightAbilities;
  /** Module of `reboot` and `set_dev_alias`: `system` on plug-family firmware, `smartlife.iot.common.system` on bulbs. */
  systemModule: string;
  /** Module of `get_time` / `get_timezone`. */
  timeModule: string;
  models: readonly ModelRow[];
}

const DIMMABLE: LightAbilities = { dimmable: true, color: false, colorTemp: false };
const TUNABLE_WHITE: LightAbilities = { dimmable: true, color: false, colorTemp: true };
const COLOR: LightAbilities = { dimmable: true, color: true, colorTemp: true };

const PLUG_SYSTEM = { systemModule: 'system', timeModule: 'time' } as const;
const BULB_SYSTEM = { systemModule: 'smartlife.iot.common.system', timeModule: 'smartlife.iot.common.timesetting' } as const;

const K_2500_9000: KelvinRange = { min: 2500, max: 9000 };
const K_2500_6500: KelvinRange = { min: 2500, max: 6500 };
const K_2700_6500: KelvinRange = { min: 2700, max: 6500 };
/** python-kasa's fallback for colour-temperature bulbs it has no range for. */
export const DEFAULT_KELVIN: KelvinRange = { min: 2700, max: 5000 };

export const FAMILIES: readonly FamilySpec[] = [
  {
    family: 'plug',
    deviceType: DEVICE_TYPE_PLUGSWITCH,
    nodeType: 'plug',
    ...PLUG_SYSTEM,
    models: [
      { prefix: 'HS100' },
      { prefix: 'HS103' },
      { prefix: 'HS105' },
      { prefix: 'HS110', meter: 'emeter' },
      { prefix: 'KP100' },
      { prefix: 'KP105' },
      { prefix: 'KP115', meter: 'emeter' },
      { prefix: 'KP125', meter: 'emeter' },
      { prefix: 'KP401' },
      { prefix: 'EP10' },
      { prefix: 'EP25', meter: 'emeter' },
    ],
  },
  {
    family: 'switch',
    deviceType: DEVICE_TYPE_PLUGSWITCH,
    nodeType: 'switch',
    ...PLUG_SYSTEM,
    models: [{ prefix: 'HS200' }, { prefix: 'HS210' }, { prefix: 'KS200' }, { prefix: 'KS205' }],
  },
  {
    family: 'dimmer',
    deviceType: DEVICE_TYPE_PLUGSWITCH,
    nodeType: 'dimmer',
    light: DIMMABLE,
    ...PLUG_SYSTEM,
    models: [{ prefix: 'HS220' }, { prefix: 'KS220' }, { prefix: 'KS230' }, { prefix: 'ES20M' }, { prefix: 'KP405' }],
  },
  {
    family: 'strip',
    deviceType: DEVICE_TYPE_PLUGSWITCH,
    nodeType: 'strip',
    ...PLUG_SYSTEM,
    models: [
      { prefix: 'HS300', meter: 'outlets' },
      { prefix: 'HS107' },
      { prefix: 'KP200' },
      { prefix: 'KP303' },
      { prefix: 'KP400' },
      { prefix: 'EP40' },
    ],
  },
  {
    family: 'bulb',
    deviceType: DEVICE_TYPE_BULB,
    nodeType: 'bulb',
    meter: 'light',
    light: DIMMABLE,
    ...BULB_SYSTEM,
    models: [
      { prefix: 'KL50' },
      { prefix: 'KL60' },
      { prefix: 'KL110' },
      {
        prefix: 'KL120',
        light: TUNABLE_WHITE,
        kelvin: DEFAULT_KELVIN,
        kelvinByRegion: { US: { min: 2700, max: 5000 }, EU: K_2700_6500 },
      },
      { prefix: 'KL125', light: COLOR, kelvin: K_2500_6500 },
      { prefix: 'KL130', light: COLOR, kelvin: K_2500_9000 },
      // python-kasa TPLINK_KELVIN: KL135 is 2500–6500 K, not the 9000 K of KL130.
      { prefix: 'KL135', light: COLOR, kelvin: K_2500_6500 },
      { prefix: 'LB100' },
      { prefix: 'LB110' },
      // python-kasa TPLINK_KELVIN
      { prefix: 'LB120', light: TUNABLE_WHITE, kelvin: K_2700_6500 },
      { prefix: 'LB130', light: COLOR, kelvin: K_2500_9000 },
      { prefix: 'LB200' },
      { prefix: 'LB230', light: COLOR, kelvin: K_2500_9000 },
      { prefix: 'KB100' },
      { prefix: 'KB130', light: COLOR, kelvin: K_2500_9000 },
    ],
  },
  {
    family: 'lightstrip',
    deviceType: DEVICE_TYPE_BULB,
    nodeType: 'lightstrip',
    meter: 'light',
    light: COLOR,
    ...BULB_SYSTEM,
    models: [
      { prefix: 'KL400', kelvin: K_2500_9000 },
      { prefix: 'KL420' },
      { prefix: 'KL430', kelvin: K_2500_9000 },
    ],
  },
];

export interface ModelMatch {
  spec: FamilySpec;
  row: ModelRow;
}

/** Every row of the table, longest prefix first, so `KL420L5` would win over a `KL4` row. */
const ROWS_LONGEST_FIRST: readonly ModelMatch[] = FAMILIES.flatMap((spec) =>
  spec.models.map((row) => ({ spec, row })),
).sort((a, b) => b.row.prefix.length - a.row.prefix.length);

/** The table row for a device type and model (`HS110(US)`), or undefined for unknown models. */
export function findModel(deviceType: string, model: string): ModelMatch | undefined {
  const upper = model.toUpperCase();
  return ROWS_LONGEST_FIRST.find((m) => m.spec.deviceType === deviceType && upper.startsWith(m.row.prefix));
}

export function familySpec(family: FamilyName): FamilySpec {
  const spec = FAMILIES.find((f) => f.family === family);
  if (!spec) throw new Error(`no family "${family}" in the table`);
  return spec;
}

/** `KL120(EU)` → `EU`; undefined without a region suffix. */
export function modelRegion(model: string): string | undefined {
  return /\(([A-Za-z]+)\)/.exec(model)?.[1]?.toUpperCase();
}

/** The Kelvin range the table gives a model (region-specific first), if any. */
export function tableKelvin(row: ModelRow | undefined, model: string): KelvinRange | undefined {
  if (!row) return undefined;
  const region = modelRegion(model);
  const byRegion = region === undefined ? undefined : row.kelvinByRegion?.[region];
  return byRegion ?? row.kelvin;
}

/** The family spec behind a node type (outlets belong to the strip family). */
export function familyOfNodeType(type: NodeType): FamilySpec {
  const spec = FAMILIES.find((f) => f.nodeType === (type === 'outlet' ? 'strip' : type));
  if (!spec) throw new Error(`no family for node type "${type}"`);
  return spec;
}
