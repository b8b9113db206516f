/**
 * The Home Assistant light a SMART dimmer, bulb or light strip is: one `light` entity, made by the
 * on/off module (which takes `state`), its colour modes from the node's components (brightness,
 * color, color_temperature), in the same config the iot dimmer and light modules make.
 */
import { DEFAULT_KELVIN, type KelvinRange } from '../familyTable.js';
import type { ModuleEntity } from '../module.js';
import type { DeviceNode } from '../node.js';
import { finiteNumber } from '../reply.js';
import { hasComponent } from './components.js';

const LIGHT_NODES = new Set(['dimmer', 'bulb', 'lightstrip']);

/** Whether the node's main entity is a light rather than a switch. */
export function isLight(node: DeviceNode): boolean {
  return LIGHT_NODES.has(node.type) || hasComponent(node, 'brightness');
}

export function lightEntity(node: DeviceNode): ModuleEntity {
  const modes: string[] = [];
  if (hasComponent(node, 'color')) modes.push('hs');
  if (hasComponent(node, 'color_temperature')) modes.push('color_temp');
  // HA: `brightness` and `onoff` are only valid alone.
  if (modes.length === 0) modes.push(hasComponent(node, 'brightness') ? 'brightness' : 'onoff');
  const config: Record<string, unknown> = { name: null, schema: 'json', supported_color_modes: modes, brightness_scale: 100, flash: false };
  if (hasComponent(node, 'color_temperature')) {
    const { min, max } = node.kelvin ?? DEFAULT_KELVIN;
    config['color_temp_kelvin'] = true;
    config['min_kelvin'] = min;
    config['max_kelvin'] = max;
  }
  return { platform: 'light', id: 'light', main: true, command: true, config };
}

/**
 * The Kelvin range a colour-temperature light reports in its device info (`color_temp_range`,
 * e.g. `[2500, 6500]`); undefined without one (python-kasa then assumes 2500–6500), or when it
 * is a single value (no variable white).
 */
export function kelvinRangeOf(deviceInfo: Record<string, unknown> | undefined): KelvinRange | undefined {
  const range = deviceInfo?.['color_temp_range'];
  if (!Array.isArray(range) || range.length !== 2) return undefined;
  const [min, max] = range.map(finiteNumber);
  return min !== undefined && max !== undefined && min < max ? { min, max } : undefined;
}
