/**
 * What a SMART device reports of its protections, in its device info, as diagnostic binary
 * sensors (python-kasa `overheatprotection.py`, `powerprotection.py`, and the
 * `overcurrent_status` field of P110 answers):
 * - `overheated`: `overheat_status` other than `normal` (`cooldown`, `overheated`), or the older
 *   boolean `overheated` (bulbs report it without declaring `overheat_protection`);
 * - `overcurrent`: `overcurrent_status` other than `normal` (component `current_protection`);
 * - `overloaded`: `power_protection_status` `overloaded` (component `power_protection`): the
 *   device switched itself off, and says so until it is switched on again.
 * A strip reports these per outlet; an entity is announced once its key was seen.
 */
import type { NodeState } from '../../api/types.js';
import type { DeviceModule, ModuleEntity, ModuleReply } from '../module.js';
import type { DeviceNode } from '../node.js';
import { hasComponent, isParent } from './components.js';
import { deviceInfoOf, deviceInfoRead } from './deviceInfo.js';

type Flag = 'overheated' | 'overcurrent' | 'overloaded';

function flagSensor(key: Flag, name: string, deviceClass: string): ModuleEntity {
  return {
    platform: 'binary_sensor',
    id: key,
    stateKey: key,
    config: {
      name,
      device_class: deviceClass,
      entity_category: 'diagnostic',
      payload_on: 'ON',
      payload_off: 'OFF',
      value_template: `{{ 'ON' if value_json.${key} else 'OFF' }}`,
    },
  };
}

/** A device-info field read as one flag: undefined when the reply has no info, `{}` when the info lacks the field. */
function flagReader(key: Flag, read: (info: Record<string, unknown>) => boolean | undefined) {
  return (node: DeviceNode, reply: ModuleReply): NodeState | undefined => {
    const info = deviceInfoOf(node, reply);
    if (!info) return undefined;
    const value = read(info);
    return value === undefined ? {} : { [key]: value };
  };
}

function status(info: Record<string, unknown>, field: string, problem: (value: string) => boolean): boolean | undefined {
  const value = info[field];
  return typeof value === 'string' ? problem(value) : undefined;
}

export const smartOverheat: DeviceModule = {
  name: 'overheat',
  family: 'smart',
  // Bulbs report `overheated` without the component: any node whose components are known, but a strip (its outlets report it).
  appliesTo: (node) => node.type !== 'strip' && node.components !== undefined && !isParent(node),
  keys: ['overheated'],
  read: deviceInfoRead,
  parse: flagReader('overheated', (info) => status(info, 'overheat_status', (v) => v !== 'normal') ?? (typeof info['overheated'] === 'boolean' ? info['overheated'] : undefined)),
  entities: () => [flagSensor('overheated', 'Overheated', 'heat')],
};

export const smartOvercurrent: DeviceModule = {
  name: 'overcurrent',
  family: 'smart',
  appliesTo: (node) => !isParent(node) && hasComponent(node, 'current_protection'),
  keys: ['overcurrent'],
  read: deviceInfoRead,
  parse: flagReader('overcurrent', (info) => status(info, 'overcurrent_status', (v) => v !== 'normal')),
  entities: () => [flagSensor('overcurrent', 'Overcurrent', 'problem')],
};

export const smartOverload: DeviceModule = {
  name: 'power_protection',
  family: 'smart',
  appliesTo: (node) => !isParent(node) && hasComponent(node, 'power_protection'),
  keys: ['overloaded'],
  read: deviceInfoRead,
  parse: flagReader('overloaded', (info) => status(info, 'power_protection_status', (v) => v === 'overloaded')),
  entities: () => [flagSensor('overloaded', 'Overloaded', 'problem')],
};
