/** A light strip's built-in effects (lightStripEffects.ts): the running one in state, set by name or `off`. */
import type { DeviceModule } from '../module.js';
import { isRecord } from '../../isRecord.js';
import { LIGHT_STRIP_EFFECT_NAMES, lightStripEffect } from '../lightStripEffects.js';
import { SYSINFO_READ } from './values.js';

export const LIGHTING_EFFECT_MODULE = 'smartlife.iot.lighting_effect';
/** The set value that stops a running effect. */
export const EFFECT_OFF = 'off';
/** Effect names as Home Assistant lists them (`off` first, as python-kasa does). */
export const EFFECT_LIST: readonly string[] = [EFFECT_OFF, ...LIGHT_STRIP_EFFECT_NAMES];

export const effect: DeviceModule = {
  name: 'effect',
  family: 'iot',
  appliesTo: (node) => node.type === 'lightstrip',
  keys: ['effect'],
  read: { cadence: 'poll', request: () => SYSINFO_READ },
  parse: (_node, { sysinfo }) => {
    const les = sysinfo?.['lighting_effect_state'];
    if (!isRecord(les)) return undefined;
    const enabled = les['enable'] === 1 || les['enable'] === true;
    const name = les['name'];
    return { effect: enabled && typeof name === 'string' && name.length > 0 ? name : null };
  },
  set: {
    keys: ['effect'],
    parse: (_key, value) => {
      if (typeof value !== 'string') return { error: 'effect must be the name of a built-in effect or "off"' };
      if (value.trim().toLowerCase() === EFFECT_OFF) return { ok: EFFECT_OFF };
      const found = lightStripEffect(value);
      return found ? { ok: found.name } : { error: `unknown effect; use one of ${EFFECT_LIST.join(', ')}` };
    },
    request: (_node, set) => ({
      [LIGHTING_EFFECT_MODULE]: { set_lighting_effect: set.effect === EFFECT_OFF ? { enable: 0 } : lightStripEffect(set.effect ?? '') },
    }),
    unconfirmed: (_node, set, readBack) => (readBack?.effect === (set.effect === EFFECT_OFF ? null : set.effect) ? [] : ['effect']),
    applied: (_node, set, readBack) => ({
      effect: readBack?.effect !== undefined ? readBack.effect : set.effect === EFFECT_OFF ? null : (set.effect ?? null),
    }),
  },
  // The light's own entity gains the effect list (discovery merges entities of the same id).
  entities: () => [{ platform: 'light', id: 'light', main: true, config: { effect: true, effect_list: [...EFFECT_LIST] } }],
};
