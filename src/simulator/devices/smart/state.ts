/**
 * The parts of a SMART device's state that `set_device_info` changes, with the firmware's
 * validation: an unknown key, a wrong type or a value out of range is PARAMS_ERROR (-1008), and
 * nothing is applied then.
 */
import type { JsonObject } from '../../util.js';
import { paramsError } from './protocol.js';

/** The keys `set_device_info` accepts on a device (or an outlet) of this kind. */
export type SettableKey = 'device_on' | 'nickname' | 'brightness' | 'hue' | 'saturation' | 'color_temp';

export interface LightState {
  brightness: number;
  hue: number;
  saturation: number;
  /** 0 = colour mode (hue/saturation apply); otherwise Kelvin. */
  colorTemp: number;
}

/** `nickname` is base64 of UTF-8 (as in get_device_info); the decoded name, or PARAMS_ERROR. */
export function decodeNickname(value: unknown): string {
  if (typeof value !== 'string' || value === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(value) || value.length % 4 !== 0) throw paramsError();
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length === 0 || bytes.length > 64) throw paramsError();
  const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  try {
    return text.decode(bytes);
  } catch {
    throw paramsError();
  }
}

export function encodeNickname(alias: string): string {
  return Buffer.from(alias, 'utf8').toString('base64');
}

export function intIn(value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) throw paramsError();
  return value;
}

/** The params of a set_device_info, checked against what this device accepts; at least one key. */
export function checkSettable(params: JsonObject | undefined, allowed: readonly SettableKey[]): JsonObject {
  if (!params) throw paramsError();
  const keys = Object.keys(params);
  if (keys.length === 0 || keys.some((k) => !(allowed as readonly string[]).includes(k))) throw paramsError();
  if ('device_on' in params && typeof params.device_on !== 'boolean') throw paramsError();
  return params;
}

/** Applies the light keys of a checked set_device_info to `light`, all or nothing. */
export function applyLight(light: LightState, params: JsonObject, kelvin: readonly [number, number] | undefined): LightState {
  const next = { ...light };
  if ('brightness' in params) next.brightness = intIn(params.brightness, 1, 100);
  if ('hue' in params) next.hue = intIn(params.hue, 0, 360);
  if ('saturation' in params) next.saturation = intIn(params.saturation, 0, 100);
  if ('color_temp' in params) {
    const value = intIn(params.color_temp, 0, 10_000);
    if (value !== 0 && (!kelvin || value < kelvin[0] || value > kelvin[1])) throw paramsError();
    next.colorTemp = value;
  } else if ('hue' in params || 'saturation' in params) {
    // A colour set leaves white-tuning: the bulb reports color_temp 0 in colour mode.
    next.colorTemp = 0;
  }
  return next;
}
