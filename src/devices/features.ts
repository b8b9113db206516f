/**
 * Device features beyond the main on/off/light state, each declared once: what it reads, how a
 * reply becomes state keys, which set key it takes and the request that key becomes, how the
 * read-back confirms it, and which Home Assistant entities it adds. Which family has which
 * feature is in familyTable.ts (`features`, `outletFeatures`); the request, state, set-result and
 * discovery code iterate over these entries and know no feature by name.
 */
import type { CountdownSet, CountdownState, NodeState, OnOff, SetPayload } from '../api/types.js';
import { LIGHT_STRIP_EFFECT_NAMES, lightStripEffect } from './lightStripEffects.js';
import { familyOfNodeType } from './familyTable.js';
import type { DeviceNode } from './node.js';
import { isRecord } from '../isRecord.js';
import { finiteNumber, methodResult } from './reply.js';

export type FeatureName = 'led' | 'restart' | 'countdown' | 'effect' | 'on_since' | 'last_seen' | 'all_outlets';

export type RequestData = Record<string, unknown>;

/** The parts of a reply a feature reads. */
export interface FeatureReply {
  response: unknown;
  /** The physical device's `get_sysinfo`, when the reply has one. */
  sysinfo?: Record<string, unknown>;
  /** An outlet's entry in the strip's `sysinfo.children`. */
  child?: Record<string, unknown>;
  now: Date;
}

export type SetFeatureKey = 'led' | 'restart' | 'countdown' | 'effect';

type Parsed<T> = { ok: T } | { error: string };

/** One set key: its validation, the request it becomes, and how the read-back shows it. */
export interface FeatureSet<K extends SetFeatureKey = SetFeatureKey> {
  key: K;
  parse(value: unknown, node: DeviceNode): Parsed<NonNullable<SetPayload[K]>>;
  /** Setter methods only: the feature's `read` is added after them, so the reply reads the result back. */
  request(node: DeviceNode, value: NonNullable<SetPayload[K]>, current: NodeState | undefined): RequestData;
  /** Whether `readBack` shows the set applied (default: nothing to compare). */
  confirmed?(value: NonNullable<SetPayload[K]>, readBack: NodeState | undefined): boolean;
  /** What `response/set` reports for it. */
  applied?(value: NonNullable<SetPayload[K]>, readBack: NodeState | undefined): Partial<NodeState>;
}

/** A Home Assistant entity a feature adds; src/ha turns it into a discovery component. */
export interface FeatureEntity {
  platform: 'switch' | 'button' | 'number' | 'sensor';
  /** `unique_id` suffix and component key. */
  id: string;
  /** The state key the entity shows: announced once the node's state has carried it. */
  stateKey?: keyof NodeState;
  /** The entity commands through `<base>/<key>/set`. */
  command?: boolean;
  config: Readonly<Record<string, unknown>>;
}

export interface Feature {
  name: FeatureName;
  /** Methods read with every poll of the device (and after a set of this feature). */
  read?(node: DeviceNode): RequestData | undefined;
  /** State keys from a poll or set reply; keys the reply does not carry are left out. */
  parse?(node: DeviceNode, reply: FeatureReply): NodeState;
  set?: FeatureSet;
  entities?: readonly FeatureEntity[];
}

const COUNT_DOWN_MODULE = 'count_down';
export const LIGHTING_EFFECT_MODULE = 'smartlife.iot.lighting_effect';
/** The set value that stops a running effect. */
export const EFFECT_OFF = 'off';
/** Longest countdown accepted: a day, as in the Kasa app. */
export const MAX_COUNTDOWN_SECONDS = 86_400;

const led: Feature = {
  name: 'led',
  parse: (_node, { sysinfo }) => {
    const off = sysinfo?.['led_off'];
    if (off === 0 || off === 1) return { led: off === 1 ? 'OFF' : 'ON' };
    return {};
  },
  set: {
    key: 'led',
    parse: (value) => {
      const state = onOffValue(value);
      return state ? { ok: state } : { error: 'led must be ON or OFF' };
    },
    // `off` is inverted: 1 darkens the indicator (python-kasa, plasticrake/tplink-smarthome-api).
    request: (_node, value) => ({ system: { set_led_off: { off: value === 'OFF' ? 1 : 0 } } }),
    confirmed: (value, readBack) => readBack?.led === value,
    applied: (value, readBack) => ({ led: readBack?.led ?? value }),
  } satisfies FeatureSet<'led'>,
  entities: [
    {
      platform: 'switch',
      id: 'led',
      stateKey: 'led',
      command: true,
      config: {
        name: 'LED',
        icon: 'mdi:led-on',
        entity_category: 'config',
        payload_on: '{"led":"ON"}',
        payload_off: '{"led":"OFF"}',
        state_on: 'ON',
        state_off: 'OFF',
      },
    },
  ],
};

const restart: Feature = {
  name: 'restart',
  set: {
    key: 'restart',
    parse: (value) => (value === true ? { ok: true } : { error: 'restart must be true' }),
    request: (node) => ({ [familyOfNodeType(node.type).systemModule]: { reboot: { delay: 1 } } }),
    applied: () => ({}),
  } satisfies FeatureSet<'restart'>,
  entities: [
    {
      platform: 'button',
      id: 'restart',
      command: true,
      config: { name: 'Restart', device_class: 'restart', entity_category: 'config', payload_press: '{"restart":true}' },
    },
  ],
};

const countdown: Feature = {
  name: 'countdown',
  read: () => ({ [COUNT_DOWN_MODULE]: { get_rules: null } }),
  parse: (_node, { response }) => {
    const rules = methodResult(response, COUNT_DOWN_MODULE, 'get_rules')?.['rule_list'];
    if (!Array.isArray(rules)) return {};
    return { countdown: runningCountdown(rules) };
  },
  set: {
    key: 'countdown',
    parse: (value) => parseCountdown(value),
    request: (_node, value, current) => {
      if (value === 0) return { [COUNT_DOWN_MODULE]: { delete_all_rules: null } };
      const state = value.state ?? (current?.state === 'ON' ? 'OFF' : 'ON');
      const rule = { enable: 1, delay: value.seconds, act: state === 'ON' ? 1 : 0, name: 'kasa2mqtt' };
      // One rule at a time, as in the Kasa app: a new countdown replaces the old one.
      return { [COUNT_DOWN_MODULE]: { delete_all_rules: null, add_rule: rule } };
    },
    confirmed: (value, readBack) => (value === 0 ? readBack?.countdown === null : readBack?.countdown != null),
    applied: (value, readBack) => {
      if (readBack?.countdown !== undefined) return { countdown: readBack.countdown };
      if (value === 0) return { countdown: null };
      // Without a read-back the defaulted target state is unknown here: report only what was given.
      return value.state ? { countdown: { seconds_left: value.seconds, state: value.state } } : {};
    },
  } satisfies FeatureSet<'countdown'>,
  entities: [
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

const effect: Feature = {
  name: 'effect',
  parse: (_node, { sysinfo }) => {
    const les = sysinfo?.['lighting_effect_state'];
    if (!isRecord(les)) return {};
    const enabled = les['enable'] === 1 || les['enable'] === true;
    const name = les['name'];
    return { effect: enabled && typeof name === 'string' && name.length > 0 ? name : null };
  },
  set: {
    key: 'effect',
    parse: (value) => {
      if (typeof value !== 'string') return { error: 'effect must be the name of a built-in effect or "off"' };
      if (value.trim().toLowerCase() === EFFECT_OFF) return { ok: EFFECT_OFF };
      const found = lightStripEffect(value);
      return found ? { ok: found.name } : { error: `unknown effect; use one of ${[EFFECT_OFF, ...LIGHT_STRIP_EFFECT_NAMES].join(', ')}` };
    },
    request: (_node, value) => ({
      [LIGHTING_EFFECT_MODULE]: { set_lighting_effect: value === EFFECT_OFF ? { enable: 0 } : lightStripEffect(value) },
    }),
    confirmed: (value, readBack) => readBack?.effect === (value === EFFECT_OFF ? null : value),
    applied: (value, readBack) => ({ effect: readBack?.effect !== undefined ? readBack.effect : value === EFFECT_OFF ? null : value }),
  } satisfies FeatureSet<'effect'>,
};

const onSince: Feature = {
  name: 'on_since',
  parse: (node, { sysinfo, child, now }) => {
    const source = node.parentId === undefined ? sysinfo : child;
    const on = source?.[node.parentId === undefined ? 'relay_state' : 'state'];
    const seconds = finiteNumber(source?.['on_time']);
    if (on === 0) return { on_since: null };
    if (on !== 1 || seconds === undefined) return {};
    return { on_since: new Date((Math.floor(now.getTime() / 1000) - seconds) * 1000).toISOString() };
  },
  entities: [timestampSensor('on_since', 'On since', 'mdi:clock-start')],
};

const lastSeen: Feature = {
  name: 'last_seen',
  entities: [timestampSensor('last_seen', 'Last seen', 'mdi:clock-check-outline')],
};

/** A strip's own switch: its state is "any outlet on"; `state` on a strip already sets every outlet. */
const allOutlets: Feature = {
  name: 'all_outlets',
  entities: [
    {
      platform: 'switch',
      id: 'all_outlets',
      stateKey: 'outlets_on',
      command: true,
      config: {
        name: 'All outlets',
        icon: 'mdi:power-socket',
        value_template: "{{ 'ON' if (value_json.outlets_on | int(0)) > 0 else 'OFF' }}",
        payload_on: 'ON',
        payload_off: 'OFF',
        state_on: 'ON',
        state_off: 'OFF',
      },
    },
  ],
};

export const FEATURES: Readonly<Record<FeatureName, Feature>> = {
  led,
  restart,
  countdown,
  effect,
  on_since: onSince,
  last_seen: lastSeen,
  all_outlets: allOutlets,
};

/** The features of a node, from its `features` (set when the node was built). */
export function featuresOf(node: DeviceNode): Feature[] {
  return (node.features ?? []).map((name) => FEATURES[name]);
}

/** The feature that takes set key `key` on `node`, if it has one. */
export function setFeature(node: DeviceNode, key: string): FeatureSet | undefined {
  return featuresOf(node).find((f) => f.set?.key === key)?.set;
}

/** Every set key some feature declares (for messages about unknown keys). */
export const FEATURE_SET_KEYS: readonly SetFeatureKey[] = Object.values(FEATURES).flatMap((f) => (f.set ? [f.set.key] : []));

/** Effect names a light strip offers Home Assistant (`off` first, as python-kasa lists them). */
export function effectList(node: DeviceNode): string[] | undefined {
  return node.features?.includes('effect') ? [EFFECT_OFF, ...LIGHT_STRIP_EFFECT_NAMES] : undefined;
}

/**
 * `on_since` is computed from the device's whole-second `on_time` and the bridge's clock, so it
 * wobbles by a second between polls; keep the earlier value unless it moved further.
 */
export function steadyReading(previous: NodeState | undefined, reading: NodeState): NodeState {
  const before = previous?.on_since;
  const now = reading.on_since;
  if (typeof before !== 'string' || typeof now !== 'string') return reading;
  return Math.abs(Date.parse(before) - Date.parse(now)) <= 2_000 ? { ...reading, on_since: before } : reading;
}

function runningCountdown(rules: unknown[]): CountdownState | null {
  for (const rule of rules) {
    if (!isRecord(rule) || !(rule['enable'] === 1 || rule['enable'] === true)) continue;
    const left = finiteNumber(rule['remain']);
    if (left === undefined || left <= 0) continue;
    return { seconds_left: left, state: rule['act'] === 1 ? 'ON' : 'OFF' };
  }
  return null;
}

function parseCountdown(value: unknown): Parsed<CountdownSet | 0> {
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

function onOffValue(value: unknown): OnOff | undefined {
  if (value === true || value === 1) return 'ON';
  if (value === false || value === 0) return 'OFF';
  if (typeof value !== 'string') return undefined;
  const v = value.trim().toUpperCase();
  return v === 'ON' || v === 'OFF' ? v : undefined;
}

function timestampSensor(key: 'on_since' | 'last_seen', name: string, icon: string): FeatureEntity {
  return {
    platform: 'sensor',
    id: key,
    stateKey: key,
    config: { name, icon, device_class: 'timestamp', entity_category: 'diagnostic', enabled_by_default: false },
  };
}
