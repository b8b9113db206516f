/**
 * What kind of device a device-list entry is (classify), corrected by what its sysinfo reports
 * (refineFromSysinfo): unknown models get a family from their `deviceType`, then sysinfo decides
 * strip / dimmer / light strip, meters and colour abilities.
 */
import type { Capability, NodeType } from '../api/types.js';
import {
  DEFAULT_KELVIN,
  DEVICE_TYPE_BULB,
  DEVICE_TYPE_PLUGSWITCH,
  familySpec,
  findModel,
  tableKelvin,
  type FamilyName,
  type KelvinRange,
  type LightAbilities,
  type ModelRow,
} from './familyTable.js';
import type { MeterKind } from './node.js';
import { isRecord } from '../isRecord.js';

export interface DeviceProfile {
  family: FamilyName;
  nodeType: NodeType;
  model: string;
  /** The matching table row; undefined for a model the table does not know. */
  row?: ModelRow;
  meter?: MeterKind;
  light?: LightAbilities;
  kelvin?: KelvinRange;
}

/** The fields of a `getDeviceList` entry classification needs (structurally matches the cloud client's type). */
export interface ClassifiableEntry {
  deviceType?: string;
  deviceModel?: string;
}

/** The family of a device-list entry, or undefined when the bridge does not support it (Tapo, cameras, routers). */
export function classify(entry: ClassifiableEntry): DeviceProfile | undefined {
  const deviceType = entry.deviceType ?? '';
  const model = entry.deviceModel ?? '';
  const match = findModel(deviceType, model);
  if (match) return profileFor(match.spec.family, model, match.row);
  if (deviceType === DEVICE_TYPE_PLUGSWITCH) return profileFor('plug', model, undefined);
  if (deviceType === DEVICE_TYPE_BULB) return profileFor('bulb', model, undefined);
  return undefined;
}

function profileFor(family: FamilyName, model: string, row: ModelRow | undefined): DeviceProfile {
  const spec = familySpec(family);
  const profile: DeviceProfile = { family, nodeType: spec.nodeType, model };
  if (row) profile.row = row;
  const meter = row?.meter ?? spec.meter;
  if (meter) profile.meter = meter;
  const light = row?.light ?? spec.light;
  if (light) profile.light = light;
  return withKelvin(profile);
}

function withKelvin(profile: DeviceProfile): DeviceProfile {
  const { kelvin: _old, ...rest } = profile;
  if (!profile.light?.colorTemp) return rest;
  return { ...rest, kelvin: tableKelvin(profile.row, profile.model) ?? DEFAULT_KELVIN };
}

/**
 * Corrects a profile with the device's own sysinfo: `children` → strip, `brightness` → dimmer,
 * `feature` containing `ENE` → meter, `length`/`lighting_effect_state` → light strip,
 * `is_dimmable`/`is_color`/`is_variable_color_temp` → light abilities.
 */
export function refineFromSysinfo(profile: DeviceProfile, sysinfo: Record<string, unknown>): DeviceProfile {
  let family = profile.family;
  const spec = familySpec(family);
  if (spec.deviceType === DEVICE_TYPE_PLUGSWITCH) {
    if (Array.isArray(sysinfo['children']) && sysinfo['children'].length > 0) family = 'strip';
    else if (typeof sysinfo['brightness'] === 'number' && family !== 'strip') family = 'dimmer';
  } else if (family === 'bulb' && (typeof sysinfo['length'] === 'number' || isRecord(sysinfo['lighting_effect_state']))) {
    family = 'lightstrip';
  }

  let refined = family === profile.family ? profile : profileFor(family, profile.model, profile.row);

  const feature = typeof sysinfo['feature'] === 'string' ? sysinfo['feature'] : '';
  if (spec.deviceType === DEVICE_TYPE_PLUGSWITCH && feature.split(':').includes('ENE') && !refined.meter) {
    refined = { ...refined, meter: family === 'strip' ? 'outlets' : 'emeter' };
  }

  if (refined.light && spec.deviceType === DEVICE_TYPE_BULB) {
    const light: LightAbilities = {
      dimmable: flag(sysinfo['is_dimmable']) ?? refined.light.dimmable,
      color: flag(sysinfo['is_color']) ?? refined.light.color,
      colorTemp: flag(sysinfo['is_variable_color_temp']) ?? refined.light.colorTemp,
    };
    refined = withKelvin({ ...refined, light });
  }
  return refined;
}

function flag(value: unknown): boolean | undefined {
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'boolean') return value;
  return undefined;
}

/** Capabilities of the physical device's own node (outlets: see `outletCapabilities`). */
export function profileCapabilities(profile: DeviceProfile): Capability[] {
  const caps: Capability[] = ['onoff'];
  if (profile.light?.dimmable) caps.push('brightness');
  if (profile.light?.colorTemp) caps.push('color_temp');
  if (profile.light?.color) caps.push('color');
  if (profile.meter === 'emeter' || profile.meter === 'light') caps.push('energy');
  caps.push('rssi');
  return caps;
}

export function outletCapabilities(profile: DeviceProfile): Capability[] {
  return profile.meter === 'outlets' ? ['onoff', 'energy'] : ['onoff'];
}
