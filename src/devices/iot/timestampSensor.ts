import type { ModuleEntity } from '../module.js';

/** A diagnostic timestamp sensor, off by default. */
export function timestampSensor(key: 'on_since' | 'last_seen', name: string, icon: string): ModuleEntity {
  return {
    platform: 'sensor',
    id: key,
    stateKey: key,
    config: { name, icon, device_class: 'timestamp', entity_category: 'diagnostic', enabled_by_default: false, value_template: `{{ value_json.${key} }}` },
  };
}
