/**
 * Auto-off of a SMART plug, switch or outlet (component `auto_off`): the device switches itself
 * off `delay_min` minutes after it was switched on, when `enable` (python-kasa
 * `kasa/smart/modules/autooff.py`). Read with `get_auto_off_config`, set with
 * `set_auto_off_config` `{"enable", "delay_min"}` (both sent: a set of one keeps the other's last
 * value). State key `auto_off: {"enabled", "minutes"}`; in Home Assistant a config switch
 * (`auto_off`) and a minutes number (`auto_off_minutes`), as python-kasa's two features.
 * A strip (P300) reports it per outlet; an outlet's is read with a request made for it, every
 * energy poll.
 */
import type { AutoOffSet, AutoOffState, NodeState } from '../../api/types.js';
import type { DeviceModule, ModuleRead } from '../module.js';
import type { DeviceNode } from '../node.js';
import { isRecord } from '../../isRecord.js';
import { finiteNumber } from '../reply.js';
import { hasComponent, isParent } from './components.js';
import { smartResult } from './wire.js';

/** The longest auto-off delay accepted, in minutes: a day (the app offers less; the device's limit is not published). */
export const MAX_AUTO_OFF_MINUTES = 1440;
const READ = { get_auto_off_config: { start_index: 0 } };
const DEVICE_READ: ModuleRead = { cadence: 'poll', request: () => READ };
const CHILD_READ: ModuleRead = { cadence: 'energy', targeted: true, request: () => READ };

export const smartAutoOff: DeviceModule = {
  name: 'auto_off',
  family: 'smart',
  appliesTo: (node) => node.type !== 'strip' && !isParent(node) && hasComponent(node, 'auto_off'),
  keys: ['auto_off'],
  read: (node: DeviceNode) => (node.parentId === undefined ? DEVICE_READ : CHILD_READ),
  // Only an answer made for this node: an outlet's is handed to its strip's other nodes too.
  parse: (_node, { response, targeted }) => {
    const config = targeted ? smartResult(response, 'get_auto_off_config') : undefined;
    const minutes = finiteNumber(config?.['delay_min']);
    if (!config || typeof config['enable'] !== 'boolean' || minutes === undefined) return undefined;
    return { auto_off: { enabled: config['enable'], minutes } };
  },
  set: {
    keys: ['auto_off'],
    parse: (_key, value) => parseAutoOff(value),
    request: (_node, set, current) => {
      const target = wanted(set.auto_off, current?.auto_off);
      if (!target) return {};
      return { set_auto_off_config: { ...(target.enabled !== undefined ? { enable: target.enabled } : {}), ...(target.minutes !== undefined ? { delay_min: target.minutes } : {}) } };
    },
    unconfirmed: (_node, set, readBack) => {
      const got = readBack?.auto_off;
      const given = set.auto_off;
      if (!given) return [];
      const same = got !== undefined && (given.enabled === undefined || got.enabled === given.enabled) && (given.minutes === undefined || got.minutes === given.minutes);
      return same ? [] : ['auto_off'];
    },
    applied: (_node, set, readBack): Partial<NodeState> => {
      if (readBack?.auto_off) return { auto_off: readBack.auto_off };
      const given = set.auto_off;
      return given?.enabled !== undefined && given.minutes !== undefined ? { auto_off: { enabled: given.enabled, minutes: given.minutes } } : {};
    },
  },
  entities: () => [
    {
      platform: 'switch',
      id: 'auto_off',
      stateKey: 'auto_off',
      command: true,
      config: {
        name: 'Auto off',
        icon: 'mdi:timer-off-outline',
        entity_category: 'config',
        payload_on: '{"auto_off":{"enabled":true}}',
        payload_off: '{"auto_off":{"enabled":false}}',
        state_on: 'ON',
        state_off: 'OFF',
        value_template: "{{ 'ON' if value_json.auto_off.enabled else 'OFF' }}",
      },
    },
    {
      platform: 'number',
      id: 'auto_off_minutes',
      stateKey: 'auto_off',
      command: true,
      config: {
        name: 'Auto off in',
        icon: 'mdi:timer-outline',
        entity_category: 'config',
        device_class: 'duration',
        unit_of_measurement: 'min',
        min: 1,
        max: MAX_AUTO_OFF_MINUTES,
        step: 1,
        mode: 'box',
        value_template: '{{ value_json.auto_off.minutes }}',
        command_template: '{"auto_off":{"minutes":{{ value | int }}}}',
      },
    },
  ],
};

/** The fields to send: the given ones, the others from the last reading (python-kasa always sends both). */
function wanted(given: AutoOffSet | undefined, current: AutoOffState | undefined): AutoOffSet | undefined {
  if (!given) return undefined;
  const enabled = given.enabled ?? current?.enabled;
  const minutes = given.minutes ?? current?.minutes;
  return { ...(enabled !== undefined ? { enabled } : {}), ...(minutes !== undefined ? { minutes } : {}) };
}

function parseAutoOff(value: unknown): { ok: AutoOffSet } | { error: string } {
  const problem = `auto_off must be {"enabled"?: true|false, "minutes"?: 1–${MAX_AUTO_OFF_MINUTES}} with at least one of them`;
  if (!isRecord(value)) return { error: problem };
  const keys = Object.keys(value);
  if (keys.length === 0 || keys.some((k) => k !== 'enabled' && k !== 'minutes')) return { error: problem };
  const out: AutoOffSet = {};
  if ('enabled' in value) {
    if (typeof value['enabled'] !== 'boolean') return { error: problem };
    out.enabled = value['enabled'];
  }
  if ('minutes' in value) {
    const minutes = value['minutes'];
    if (typeof minutes !== 'number' || !Number.isInteger(minutes) || minutes < 1 || minutes > MAX_AUTO_OFF_MINUTES) return { error: problem };
    out.minutes = minutes;
  }
  return { ok: out };
}
