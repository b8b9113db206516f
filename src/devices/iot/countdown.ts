/**
 * The countdown ("Timer" in the Kasa app): one rule at a time, as in the app. A device reads its
 * rules with every poll; a strip's outlet only with a request made for it (its context), so its
 * rules ride along with its meter reads and come back with its sets.
 */
import type { CountdownSet, CountdownState } from '../../api/types.js';
import type { DeviceModule } from '../module.js';
import { isRecord } from '../../isRecord.js';
import { finiteNumber, methodResult } from '../reply.js';
import { onOffValue } from './values.js';

const COUNT_DOWN_MODULE = 'count_down';
/** Longest countdown accepted: a day, as in the Kasa app. */
export const MAX_COUNTDOWN_SECONDS = 86_400;
const COUNTDOWN_NODES = new Set(['plug', 'switch', 'dimmer', 'outlet']);
const READ_RULES = { [COUNT_DOWN_MODULE]: { get_rules: null } };

export const countdown: DeviceModule = {
  name: 'countdown',
  family: 'iot',
  appliesTo: (node) => COUNTDOWN_NODES.has(node.type),
  keys: ['countdown'],
  read: (node) =>
    node.parentId === undefined
      ? { cadence: 'poll', request: () => READ_RULES }
      : { cadence: 'energy', targeted: true, ridesAlong: true, request: () => READ_RULES },
  parse: (node, { response, targeted }) => {
    if (node.parentId !== undefined && !targeted) return undefined;
    const rules = methodResult(response, COUNT_DOWN_MODULE, 'get_rules')?.['rule_list'];
    return Array.isArray(rules) ? { countdown: runningCountdown(rules) } : undefined;
  },
  set: {
    keys: ['countdown'],
    parse: (_key, value) => parseCountdown(value),
    request: (_node, set, current) => {
      const value = set.countdown;
      if (value === undefined) return {};
      if (value === 0) return { [COUNT_DOWN_MODULE]: { delete_all_rules: null } };
      const state = value.state ?? (current?.state === 'ON' ? 'OFF' : 'ON');
      const rule = { enable: 1, delay: value.seconds, act: state === 'ON' ? 1 : 0, name: 'kasa2mqtt' };
      return { [COUNT_DOWN_MODULE]: { delete_all_rules: null, add_rule: rule } };
    },
    unconfirmed: (_node, set, readBack) => {
      const confirmed = set.countdown === 0 ? readBack?.countdown === null : readBack?.countdown != null;
      return confirmed ? [] : ['countdown'];
    },
    applied: (_node, set, readBack) => {
      if (readBack?.countdown !== undefined) return { countdown: readBack.countdown };
      if (set.countdown === 0) return { countdown: null };
      // Without a read-back the defaulted target state is unknown here: report only what was given.
      return set.countdown?.state ? { countdown: { seconds_left: set.countdown.seconds, state: set.countdown.state } } : {};
    },
  },
  entities: () => [
    {
      platform: 'number',
      id: 'countdown',
      // No state key gate: the template has a default, because an outlet's rules are only read with
      // its own requests (sets, per-outlet meter reads), not with the strip's poll.
      command: true,
      config: {
        name: 'Countdown',
        icon: 'mdi:timer-outline',
        unit_of_measurement: 'min',
        min: 0,
        max: MAX_COUNTDOWN_SECONDS / 60,
        step: 1,
        mode: 'box',
        value_template:
          "{{ ((value_json.countdown.seconds_left / 60) | round(0, 'ceil') | int) if value_json.countdown is defined and value_json.countdown else 0 }}",
        command_template:
          '{% if value | int > 0 %}{"countdown":{"seconds":{{ (value | int) * 60 }},"state":"OFF"}}{% else %}{"countdown":0}{% endif %}',
      },
    },
  ],
};

function runningCountdown(rules: unknown[]): CountdownState | null {
  for (const rule of rules) {
    if (!isRecord(rule) || !(rule['enable'] === 1 || rule['enable'] === true)) continue;
    const left = finiteNumber(rule['remain']);
    if (left === undefined || left <= 0) continue;
    return { seconds_left: left, state: rule['act'] === 1 ? 'ON' : 'OFF' };
  }
  return null;
}

function parseCountdown(value: unknown): { ok: CountdownSet | 0 } | { error: string } {
  if (value === 0 || value === null || value === false) return { ok: 0 };
  const problem = `countdown must be {"seconds": 1–${MAX_COUNTDOWN_SECONDS}, "state"?: "ON"|"OFF"} or 0 to cancel`;
  if (typeof value === 'number') return isSeconds(value) ? { ok: { seconds: value } } : { error: problem };
  if (!isRecord(value)) return { error: problem };
  const extra = Object.keys(value).filter((k) => k !== 'seconds' && k !== 'state');
  if (extra.length > 0 || !isSeconds(value['seconds'])) return { error: problem };
  const out: CountdownSet = { seconds: value['seconds'] };
  if (value['state'] !== undefined) {
    const state = onOffValue(value['state']);
    if (!state) return { error: problem };
    out.state = state;
  }
  return { ok: out };
}

function isSeconds(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_COUNTDOWN_SECONDS;
}
