/**
 * `<base>/<key>/set` and `<base>/<key>/set/<attr>` payloads → a validated SetPayload
 * (docs/mqtt-api.md, "Set"). Never throws: anything not understood is an `invalid_payload` answer,
 * anything the node cannot do is `unsupported`.
 */
import type { NodeState, OnOff, SetPayload } from '../api/types.js';
import { DEFAULT_KELVIN } from './familyTable.js';
import type { SetKey as ModuleSetKey } from './module.js';
import type { DeviceNode } from './node.js';
import { modulesOf, PROTOCOLS } from './protocols.js';

let moduleSetKeys: readonly ModuleSetKey[] | undefined;

/** Set keys a module validates itself (LED, restart, countdown, effect…), across every family. */
function moduleKeys(): readonly ModuleSetKey[] {
  // Computed on first use: the family tables import modules that import this file's neighbours.
  moduleSetKeys ??= [...new Set(Object.values(PROTOCOLS).flatMap((p) => p.modules.flatMap((m) => (m.set?.parse ? m.set.keys : []))))];
  return moduleSetKeys;
}

/** The module of `node` that validates set key `key`, if it has one. */
function validatingModule(node: DeviceNode, key: ModuleSetKey) {
  return modulesOf(node).find((m) => m.set?.parse && m.set.keys.includes(key));
}
import { isRecord } from '../isRecord.js';

export const MAX_SET_PAYLOAD_BYTES = 16 * 1024;
/** Deepest JSON nesting accepted (the `transaction` value is echoed back, so it is bounded too). */
export const MAX_SET_PAYLOAD_DEPTH = 8;
export const MAX_TRANSITION_SECONDS = 3600;

export type SetErrorCode = 'invalid_payload' | 'unsupported';
export interface SetPayloadError {
  code: SetErrorCode;
  message: string;
}
export type ParsedSet = { ok: SetPayload } | { error: SetPayloadError };

const SET_KEYS = ['state', 'brightness', 'color_temp', 'color', 'transition'] as const;
type SetKey = (typeof SET_KEYS)[number];
/** Keys Home Assistant may send that the bridge knowingly does not implement. */
const UNSUPPORTED_KEYS = new Set(['flash', 'white']);
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const PLAIN_STATE = /^(on|off|toggle|true|false|1|0)$/i;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Parses a set message for `node`; `attribute` is the `<attr>` of a `/set/<attr>` topic. */
export function parseSetPayload(node: DeviceNode, raw: Buffer | Uint8Array | string, attribute?: string): ParsedSet {
  try {
    return parse(node, raw, attribute);
  } catch {
    return invalid('payload could not be read');
  }
}

function parse(node: DeviceNode, raw: Buffer | Uint8Array | string, attribute: string | undefined): ParsedSet {
  const size = typeof raw === 'string' ? Buffer.byteLength(raw, 'utf8') : raw.byteLength;
  if (size > MAX_SET_PAYLOAD_BYTES) return invalid(`payload too large (${size} bytes, at most ${MAX_SET_PAYLOAD_BYTES})`);
  let text: string;
  try {
    text = (typeof raw === 'string' ? raw : utf8.decode(raw)).trim();
  } catch {
    return invalid('payload is not valid UTF-8');
  }
  if (text === '') return invalid('empty payload');

  if (attribute !== undefined) {
    if (!isSetKey(attribute) && !isModuleKey(attribute)) {
      return UNSUPPORTED_KEYS.has(attribute)
        ? unsupported(`setting ${quote(attribute)} is not supported`)
        : invalid(`unknown attribute ${quote(attribute)}; use one of ${[...SET_KEYS, ...moduleKeys()].join(', ')}`);
    }
    const value = attributeValue(text);
    const problem = structureProblem(value);
    if (problem) return invalid(problem);
    return validate(node, new Map<string, unknown>([[attribute, value]]));
  }

  if (PLAIN_STATE.test(text)) return validate(node, new Map<string, unknown>([['state', text]]));

  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return invalid('payload is neither JSON nor ON, OFF or TOGGLE');
  }
  if (typeof value === 'string' && PLAIN_STATE.test(value.trim())) {
    return validate(node, new Map<string, unknown>([['state', value]]));
  }
  if (!isRecord(value)) return invalid('payload must be a JSON object, or ON, OFF or TOGGLE');
  const problem = structureProblem(value);
  if (problem) return invalid(problem);
  return validate(node, new Map(Object.entries(value)));
}

/** A `/set/<attr>` value: JSON when it parses (`40`, `{"h":…}`), else the plain text (`on`). */
function attributeValue(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * Rejects prototype-polluting keys and deep nesting anywhere in a parsed JSON value (iteratively,
 * so hostile depth cannot overflow the stack here; echoing such a value with JSON.stringify would).
 * Shared with the bridge requests, which echo their `transaction` too.
 */
export function structureProblem(root: unknown, maxDepth = MAX_SET_PAYLOAD_DEPTH): string | undefined {
  const stack: Array<{ value: unknown; depth: number }> = [{ value: root, depth: 1 }];
  while (stack.length > 0) {
    const { value, depth } = stack.pop() ?? { value: undefined, depth: 0 };
    if (typeof value !== 'object' || value === null) continue;
    if (depth > maxDepth) return `payload nested deeper than ${maxDepth} levels`;
    for (const key of Object.keys(value)) {
      if (FORBIDDEN_KEYS.has(key)) return `key ${quote(key)} is not allowed`;
      stack.push({ value: (value as Record<string, unknown>)[key], depth: depth + 1 });
    }
  }
  return undefined;
}

function validate(node: DeviceNode, fields: Map<string, unknown>): ParsedSet {
  const unknown = [...fields.keys()].filter(
    (k) => k !== 'transaction' && !isSetKey(k) && !isModuleKey(k) && !UNSUPPORTED_KEYS.has(k),
  );
  if (unknown.length > 0) {
    return invalid(`unknown key${unknown.length > 1 ? 's' : ''} ${unknown.slice(0, 5).map(quote).join(', ')}`);
  }
  const notImplemented = [...fields.keys()].find((k) => UNSUPPORTED_KEYS.has(k));
  if (notImplemented) return unsupported(`setting ${quote(notImplemented)} is not supported`);

  const out: SetPayload = {};
  for (const key of SET_KEYS) {
    if (!fields.has(key)) continue;
    const value = fields.get(key);
    const lacking = lackingCapability(node, key);
    if (lacking) return unsupported(lacking);
    const problem = applyField(node, out, key, value);
    if (problem) return invalid(problem);
  }
  for (const key of moduleKeys()) {
    if (!fields.has(key)) continue;
    const module = validatingModule(node, key);
    if (!module?.set?.parse) return unsupported(`${node.type} ${quote(node.key || node.id)} has no ${key}`);
    const parsed = module.set.parse(key, fields.get(key), node);
    if ('error' in parsed) return invalid(parsed.error);
    (out as Record<ModuleSetKey, unknown>)[key] = parsed.ok;
  }
  const lightValues = out.brightness !== undefined || out.color_temp !== undefined || out.color !== undefined;
  const featureValues = moduleKeys().some((k) => out[k] !== undefined);
  if (out.state === undefined && !lightValues && !featureValues) {
    return invalid(`nothing to set: give state, brightness, color_temp or color, or one of ${moduleKeys().join(', ')}`);
  }
  if (out.transition !== undefined && out.state === undefined && !lightValues) return invalid('transition needs a state or light value');
  // Home Assistant / zigbee2mqtt: a brightness or colour without a state also turns the light on.
  if (out.state === undefined && lightValues) out.state = 'ON';
  if (fields.has('transaction')) out.transaction = fields.get('transaction');
  return { ok: out };
}

function lackingCapability(node: DeviceNode, key: SetKey): string | undefined {
  const what = `${node.type} ${quote(node.key || node.id)}`;
  switch (key) {
    case 'state':
      return node.capabilities.includes('onoff') ? undefined : `${what} cannot be switched`;
    case 'brightness':
    case 'transition':
      return node.capabilities.includes('brightness') ? undefined : `${what} has no ${key}`;
    case 'color_temp':
      return node.capabilities.includes('color_temp') ? undefined : `${what} has no colour temperature`;
    case 'color':
      return node.capabilities.includes('color') ? undefined : `${what} has no colour`;
  }
}

/** Validates one field into `out`; answers a problem description when the value is not acceptable. */
function applyField(node: DeviceNode, out: SetPayload, key: SetKey, value: unknown): string | undefined {
  switch (key) {
    case 'state': {
      const state = parseState(value);
      if (!state) return 'state must be ON, OFF or TOGGLE';
      out.state = state;
      return undefined;
    }
    case 'brightness':
      if (!isIntegerIn(value, 1, 100)) return 'brightness must be an integer from 1 to 100 (use state OFF to turn off)';
      out.brightness = value;
      return undefined;
    case 'color_temp': {
      const { min, max } = node.kelvin ?? DEFAULT_KELVIN;
      if (!isIntegerIn(value, min, max)) return `color_temp must be an integer Kelvin value from ${min} to ${max}`;
      out.color_temp = value;
      return undefined;
    }
    case 'color': {
      const color = parseColor(value);
      if (!color) return 'color must be {"h": 0–360, "s": 0–100}';
      out.color = color;
      return undefined;
    }
    case 'transition':
      if (!isNumberIn(value, 0, MAX_TRANSITION_SECONDS)) {
        return `transition must be a number of seconds from 0 to ${MAX_TRANSITION_SECONDS}`;
      }
      out.transition = value;
      return undefined;
  }
}

function parseState(value: unknown): OnOff | 'TOGGLE' | undefined {
  if (value === true || value === 1) return 'ON';
  if (value === false || value === 0) return 'OFF';
  if (typeof value !== 'string') return undefined;
  switch (value.trim().toLowerCase()) {
    case 'on':
    case 'true':
    case '1':
      return 'ON';
    case 'off':
    case 'false':
    case '0':
      return 'OFF';
    case 'toggle':
      return 'TOGGLE';
    default:
      return undefined;
  }
}

function parseColor(value: unknown): { h: number; s: number } | undefined {
  if (!isRecord(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length !== 2 || !keys.includes('h') || !keys.includes('s')) return undefined;
  const h = value['h'];
  const s = value['s'];
  if (!isNumberIn(h, 0, 360) || !isNumberIn(s, 0, 100)) return undefined;
  return { h, s };
}

function isNumberIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max;
}

function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return isNumberIn(value, min, max) && Number.isInteger(value);
}

function isModuleKey(key: string): key is ModuleSetKey {
  return (moduleKeys() as readonly string[]).includes(key);
}

function isSetKey(key: string): key is SetKey {
  return (SET_KEYS as readonly string[]).includes(key);
}

/** A key for an error message: JSON-quoted and cut short, so hostile input is not echoed at length. */
function quote(key: string): string {
  return JSON.stringify(key.length > 32 ? `${key.slice(0, 32)}…` : key);
}

function invalid(message: string): ParsedSet {
  return { error: { code: 'invalid_payload', message } };
}

function unsupported(message: string): ParsedSet {
  return { error: { code: 'unsupported', message } };
}

/**
 * Two sets for the same node coalesced into one (later values win per attribute). A later
 * TOGGLE flips the earlier target state; two TOGGLEs cancel. Colour and colour temperature
 * exclude each other, so a later one drops the earlier other.
 */
export function mergeSets(earlier: SetPayload, later: SetPayload): SetPayload {
  const merged: SetPayload = { ...earlier };
  if (later.brightness !== undefined) merged.brightness = later.brightness;
  if (later.color !== undefined) {
    merged.color = later.color;
    delete merged.color_temp;
  }
  if (later.color_temp !== undefined) {
    merged.color_temp = later.color_temp;
    delete merged.color;
  }
  if (later.transition !== undefined) merged.transition = later.transition;
  for (const key of moduleKeys()) if (later[key] !== undefined) (merged as Record<ModuleSetKey, unknown>)[key] = later[key];
  if ('transaction' in later) merged.transaction = later.transaction;
  if (later.state === 'TOGGLE' && earlier.state !== undefined) {
    if (earlier.state === 'TOGGLE') delete merged.state;
    else merged.state = earlier.state === 'ON' ? 'OFF' : 'ON';
  } else if (later.state !== undefined) {
    merged.state = later.state;
  }
  return merged;
}

/**
 * Replaces TOGGLE by ON or OFF from the node's last known state (unknown counts as off). The module
 * that takes `state` on `node` says what "on" is (a strip: any outlet on); without one, `state` ON.
 */
export function resolveToggle(set: SetPayload, current: NodeState | undefined, node?: DeviceNode): SetPayload {
  if (set.state !== 'TOGGLE') return set;
  const taker = node ? modulesOf(node).find((m) => m.set?.keys.includes('state')) : undefined;
  const isOn = taker?.set?.isOn ? taker.set.isOn(current) : current?.state === 'ON';
  return { ...set, state: isOn ? 'OFF' : 'ON' };
}
