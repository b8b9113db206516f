/**
 * fast-check arbitraries for the abuse tests: hostile MQTT messages for every topic the bridge
 * listens on (docs/mqtt-api.md), each with what the bridge must do about it.
 *
 * Payloads for set topics are invalid by construction (the structured kinds) or filtered by a
 * conservative oracle that knows nothing of the bridge's parser (the random kinds), so any
 * `set_*` cloud request during the run is a bug.
 */
import fc from 'fast-check';
import type { BridgeDeviceEntry } from '../../src/api/types.js';

/** The set keys (docs/mqtt-api.md, "Set"). */
export const SET_KEYS = ['state', 'brightness', 'color_temp', 'color', 'transition'] as const;
/** Bridge requests (docs/mqtt-api.md, "Bridge requests"). */
export const BRIDGE_REQUESTS = ['devices/refresh', 'device/rename', 'homeassistant/rediscover', 'auth/login', 'health_check'] as const;

export type Expectation =
  /** `kasa/<given>/set[/<attr>]`: one error on `kasa/<given>/response/set`. */
  | { kind: 'set'; given: string; known: boolean }
  /** `kasa/bridge/request/<cmd>`: one answer on `kasa/bridge/response/<cmd>`; `mustFail` when it cannot be valid. */
  | { kind: 'bridge'; command: string; mustFail: boolean; unknown: boolean }
  /** No answer is due (get, HA topics, MFA with no round open, `kasa/bridge/set`). */
  | { kind: 'none' };

export interface HostileMessage {
  topic: string;
  payload: Buffer;
  retain: boolean;
  /** What kind of payload it is, for the report. */
  label: string;
  expect: Expectation;
  /** MQTT 5: also answer on this topic (with correlation data). */
  responseTopic?: string;
}

type Labelled = { label: string; payload: Buffer };
const labelled = (label: string) => (payload: Buffer | string): Labelled => ({
  label,
  payload: typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload,
});

// ---------------------------------------------------------------------------------------------
// Payloads

/** Byte sequences that are not UTF-8: stray continuation, overlong, surrogate, truncated, > U+10FFFF, 0xFF. */
const BAD_UTF8 = [[0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf4, 0x90, 0x80, 0x80], [0xff], [0xfe, 0xfe], [0xf8, 0x88, 0x80, 0x80, 0x80]];

const randomBytes = fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => labelled('random bytes')(Buffer.from(b)));

const invalidUtf8 = fc
  .tuple(
    fc.constantFrom('', 'ON', '{"state":"', '{"state":"ON","transaction":"', '123456', '{"code":"'),
    fc.constantFrom(...BAD_UTF8),
    fc.constantFrom('', '"}', 'FF', '"', '}'),
  )
  .map(([head, bad, tail]) => labelled('invalid UTF-8')(Buffer.concat([Buffer.from(head), Buffer.from(bad), Buffer.from(tail)])));

/** Large but not 1 MB (the 1 MB ones are published separately, a few of them). */
const huge = fc
  .tuple(fc.constantFrom(16 * 1024 + 1, 64 * 1024 + 1, 200_000), fc.constantFrom('a', '{', '[', '1', ' ', 'ON', '{"state":"ON","x":"'))
  .map(([size, fill]) => {
    const body = fill.startsWith('{"state"') ? `${fill}${'x'.repeat(size)}"}` : fill.repeat(Math.ceil(size / fill.length)).slice(0, size);
    return labelled(`huge (${size} bytes)`)(body);
  });

const deep = fc
  .tuple(fc.integer({ min: 1000, max: 20_000 }), fc.constantFrom('array', 'object', 'color', 'unbalanced', 'nine'))
  .map(([depth, shape]) => {
    switch (shape) {
      case 'array':
        return labelled(`deep array (${depth})`)(`${'['.repeat(depth)}${']'.repeat(depth)}`);
      case 'object':
        return labelled(`deep object (${depth})`)(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);
      case 'color':
        return labelled(`deep color (${depth})`)(`{"state":"ON","color":${'{"h":'.repeat(depth)}1${'}'.repeat(depth)}}`);
      case 'unbalanced':
        return labelled(`unbalanced (${depth})`)('['.repeat(depth));
      case 'nine':
        // Just past any sane depth limit, small enough to pass every size cap.
        return labelled('nested 9 deep')(`{"state":"ON","color":${'{"h":'.repeat(9)}1${'}'.repeat(9)}}`);
    }
  });

/** Raw number texts JSON.stringify cannot make: out of range, overflowing, negative zero. */
const RAW_NUMBERS = ['1e309', '-1e309', '1e-400', '123456789012345678901234567890', '-0', '0.0000001', '101', '-5', '1.5', '0', '100.5', '99999'];
const NAN_LIKE = ['NaN', 'Infinity', '-Infinity', 'undefined', 'null', '"NaN"', '"Infinity"', '"50"', '"1e2"', '0x32', '050', '+50', '.5', '5.'];

const wrongState = fc.constantFrom('null', '[]', '{}', '2', '-1', '0.5', '""', '"onn"', '"yes"', '"ONN"', '"NaN"', '["ON"]', '{"state":"ON"}', '"o n"');
const wrongBrightness = fc.oneof(
  fc.integer({ max: 0 }).map(String),
  fc.integer({ min: 101 }).map(String),
  fc.constantFrom('1.5', '50.5', '99.999', '"50"', 'true', 'null', '[50]', '{}', '1e309', '-1e309', '"NaN"', '-0'),
);
const wrongKelvin = fc.oneof(
  fc.integer({ max: 999 }).map(String),
  fc.integer({ min: 20_000 }).map(String),
  fc.constantFrom('"3000"', '3000.5', 'null', 'true', '[3000]', '1e309'),
);
const wrongColor = fc.constantFrom(
  '{"h":361,"s":50}',
  '{"h":-1,"s":0}',
  '{"h":0,"s":101}',
  '{"h":"0","s":0}',
  '{"h":0}',
  '{"h":0,"s":0,"v":1}',
  '[0,0]',
  '"red"',
  'null',
  '{"h":1e309,"s":1}',
  '{"x":1,"y":2}',
  '{"h":{"h":1},"s":1}',
);
const wrongTransition = fc.constantFrom('-1', '3601', '"fast"', 'null', '[]', '1e309', '"1"');

/** `{"<key>": <wrong value>}` objects, sometimes with a valid `state` beside the wrong field. */
const wrongTypes = fc
  .tuple(
    fc.constantFrom(...SET_KEYS),
    fc.boolean(),
    fc.option(fc.constantFrom('"effect":"rainbow"', '"flash":"long"', '"unknown":1', '"transaction":"t-1"'), { nil: undefined }),
  )
  .chain(([key, withState, extra]) => {
    const value = { state: wrongState, brightness: wrongBrightness, color_temp: wrongKelvin, color: wrongColor, transition: wrongTransition }[key];
    return value.map((v) => {
      const fields = [`"${key}":${v}`];
      if (withState && key !== 'state') fields.unshift('"state":"ON"');
      // A transition alone sets nothing; with a valid state it must still be refused for its value.
      if (key === 'transition' && !withState) fields.unshift('"brightness":50');
      if (extra) fields.push(extra);
      return labelled(`wrong ${key}`)(`{${fields.join(',')}}`);
    });
  });

/** One attribute value for `/set/<attr>` that is wrong for that attribute. */
export function wrongAttributeValue(attribute: (typeof SET_KEYS)[number]): fc.Arbitrary<Labelled> {
  const value = {
    state: fc.constantFrom('null', '[]', '{}', '2', '-1', '0.5', 'onn', 'yes', 'NaN', '{"state":"ON"}', '["ON"]', 'o n'),
    brightness: fc.oneof(wrongBrightness, fc.constantFrom(...NAN_LIKE)),
    color_temp: fc.oneof(wrongKelvin, fc.constantFrom(...NAN_LIKE)),
    color: fc.oneof(wrongColor, fc.constantFrom('120,50', 'h=120&s=50', '{h:120,s:50}')),
    transition: fc.oneof(wrongTransition, fc.constantFrom('5', '0')), // a transition alone sets nothing
  }[attribute];
  return value.map(labelled(`wrong /set/${attribute}`));
}

/** Every number text here is outside 1–100 and 2500–9000 or not JSON; a transition rides on brightness 0. */
const outOfRange = fc
  .tuple(fc.constantFrom('brightness', 'color_temp', 'transition'), fc.constantFrom(...RAW_NUMBERS, ...NAN_LIKE))
  .map(([key, n]) => labelled(`out of range ${key}`)(key === 'transition' ? `{"brightness":0,"transition":${n}}` : `{"state":"ON","${key}":${n}}`));

const PROTO = [
  '{"__proto__":{"polluted":1}}',
  '{"state":"ON","__proto__":{"polluted":1}}',
  '{"constructor":{"prototype":{"polluted":1}}}',
  '{"state":"ON","constructor":{"prototype":{"polluted":1}}}',
  '{"prototype":{"polluted":1},"state":"OFF"}',
  '{"color":{"h":1,"s":1,"__proto__":{"polluted":1}},"state":"ON"}',
  '{"state":"ON","transaction":{"__proto__":{"polluted":1}}}',
  '{"state":"ON","transaction":{"a":{"constructor":{"prototype":{"polluted":1}}}}}',
  '[{"__proto__":{"polluted":1}}]',
  '{"id":"__proto__","to":"polluted","__proto__":{"polluted":1}}',
  '{"code":"123456","__proto__":{"polluted":1}}',
];
const protoKeys = fc.constantFrom(...PROTO).map(labelled('__proto__ keys'));

const hugeArrays = fc
  .tuple(fc.constantFrom(1000, 5000, 40_000), fc.constantFrom('bare', 'state', 'color'))
  .map(([n, shape]) => {
    const items = Array.from({ length: n }, (_, i) => String(i % 10)).join(',');
    const text = shape === 'bare' ? `[${items}]` : shape === 'state' ? `{"state":[${items}]}` : `{"color":{"h":[${items}],"s":1}}`;
    return labelled(`array of ${n}`)(text);
  });

const manyKeys = fc.constantFrom(200, 2000).map((n) =>
  labelled(`object with ${n} keys`)(`{${Array.from({ length: n }, (_, i) => `"k${i}":${i}`).join(',')},"state":"ON"}`),
);

const empty = fc.constantFrom('', ' ', '\n\t ', '\u00a0', '\ufeff').map(labelled('empty / blank'));

const plainWords = fc
  .constantFrom('hello', 'ONN', 'offf', 'yes', 'no', 'null', 'undefined', 'NaN', 'Infinity', 'PRESS', 'o n', 'toggle!', 'ON OFF', 'on;off', '<script>', "'; DROP TABLE", '${jndi:ldap://x}', '%s%s%n')
  .map(labelled('plain word'));

/** Short printable strings, any JSON value: the random part of the set payloads (filtered). */
const randomText = fc.string({ minLength: 1, maxLength: 60, unit: 'grapheme' }).map(labelled('random text'));
const randomJson = fc.jsonValue({ maxDepth: 4 }).map((v) => labelled('random JSON')(JSON.stringify(v) ?? 'null'));

/**
 * Conservative "might this be a valid set?" for the random kinds: a bare word or number (`ON`, `1`,
 * `40`), any JSON scalar, or a JSON object using a set key or `h`/`s`. Such samples are dropped.
 */
export function mayBeValidSet(payload: Buffer): boolean {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(payload).trim();
  } catch {
    return false;
  }
  if (text === '' || payload.length > 16 * 1024) return false;
  if (/^[\p{L}\p{N}._+-]+$/u.test(text)) return true;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return false;
  }
  if (value === null || Array.isArray(value)) return false;
  if (typeof value !== 'object') return true;
  return Object.keys(value).some((k) => (SET_KEYS as readonly string[]).includes(k) || k === 'h' || k === 's');
}

const randomForSet = fc.oneof(randomBytes, randomText, randomJson).filter((p) => !mayBeValidSet(p.payload));

/** Payloads refused on `/set` whatever the node. */
export const invalidSetPayload: fc.Arbitrary<Labelled> = fc.oneof(
  { arbitrary: randomForSet, weight: 4 },
  { arbitrary: invalidUtf8, weight: 2 },
  { arbitrary: huge, weight: 1 },
  { arbitrary: deep, weight: 2 },
  { arbitrary: wrongTypes, weight: 5 },
  { arbitrary: outOfRange, weight: 2 },
  { arbitrary: fc.constantFrom(...NAN_LIKE.filter((t) => !t.startsWith('"'))).map(labelled('NaN-like')), weight: 1 },
  { arbitrary: protoKeys, weight: 2 },
  { arbitrary: hugeArrays, weight: 1 },
  { arbitrary: manyKeys, weight: 1 },
  { arbitrary: empty, weight: 1 },
  { arbitrary: plainWords, weight: 1 },
);

/** `{"transaction": <deeply nested>}`: the transaction is echoed in answers, so it must be bounded. */
export const deepTransaction = fc
  .tuple(fc.integer({ min: 1000, max: 7000 }), fc.constantFrom('health', 'state'))
  .map(([depth, shape]) =>
    labelled(`deep transaction (${depth})`)(`{${shape === 'state' ? '"state":"ON",' : ''}"transaction":${'['.repeat(depth)}${']'.repeat(depth)}}`),
  );

/** Anything at all (topics where every payload is acceptable or ignored). */
export const anyPayload: fc.Arbitrary<Labelled> = fc.oneof(
  { arbitrary: deepTransaction, weight: 1 },
  { arbitrary: fc.oneof(randomBytes, randomText, randomJson), weight: 4 },
  { arbitrary: invalidUtf8, weight: 2 },
  { arbitrary: huge, weight: 1 },
  { arbitrary: deep, weight: 2 },
  { arbitrary: wrongTypes, weight: 2 },
  { arbitrary: protoKeys, weight: 2 },
  { arbitrary: hugeArrays, weight: 1 },
  { arbitrary: empty, weight: 1 },
  { arbitrary: plainWords, weight: 2 },
  { arbitrary: fc.constantFrom('123456', '246810', '{"code":"123456"}', '{"code":123456,"challenge":"x"}').map(labelled('MFA code')), weight: 1 },
);

/** `device/rename` bodies that cannot be carried out: bad target keys, unknown devices, wrong types. */
export function invalidRename(knownKeys: readonly string[]): fc.Arbitrary<Labelled> {
  const from = fc.oneof(fc.constantFrom(...knownKeys), fc.constantFrom('no_such_device', '', 'bridge', '__proto__', 'DEADBEEF'));
  const badTo = fc.constantFrom('', 'bridge', 'Upper', 'a/b', 'a+b', '#', 'x'.repeat(65), 'has space', 'ünï', '..', null, 42, [], {}, true);
  const body = fc.oneof(
    fc.tuple(from, badTo, fc.constantFrom('id', 'from')).map(([f, to, field]) => JSON.stringify({ [field]: f, to })),
    fc.constantFrom(...knownKeys).map((k) => JSON.stringify({ id: k })),
    fc.constantFrom(...knownKeys).map((k) => JSON.stringify({ to: k })),
    fc.constantFrom('{}', '[]', '"rename"', '42', 'null', '{"id":42,"to":"x"}', '{"id":["a"],"to":"b"}', '{"id":{"toString":"a"},"to":"b"}'),
    fc.constantFrom(...knownKeys).map((k) => `{"id":"${k}","to":"${k}_x","__proto__":{"polluted":1}}`),
  );
  return fc.oneof(
    { arbitrary: body.map(labelled('bad rename')), weight: 4 },
    { arbitrary: fc.oneof(randomBytes, plainWords, empty, deep, invalidUtf8, huge), weight: 2 },
  ).filter((p) => !mayRenameSomething(p.payload, knownKeys));
}

/** Oracle for the random rename bodies: a JSON object naming a known device and a plausible key. */
function mayRenameSomething(payload: Buffer, knownKeys: readonly string[]): boolean {
  try {
    const v = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
    const from = v.id ?? v.from;
    return typeof from === 'string' && knownKeys.includes(from) && typeof v.to === 'string' && /^[a-z0-9_]{1,64}$/.test(v.to) && v.to !== 'bridge' && v.to !== from;
  } catch {
    return false;
  }
}

/** `devices/refresh` bodies that must be refused (a valid one costs a device list and a poll of everything). */
const invalidRefresh = fc.oneof(
  fc.constantFrom('[]', '42', '"refresh"', 'null', 'true', '[{"force":true}]').map(labelled('non-object request')),
  huge.filter((p) => p.payload.length > 16 * 1024),
);

// ---------------------------------------------------------------------------------------------
// Topics

// Array.from keeps 🙂 whole: a lone surrogate cannot be sent as a topic (it would arrive as U+FFFD).
const TOPIC_UNIT = fc.constantFrom(...Array.from('abcxyz_-.0189 ABCÉé漢🙂$%&*()[]{}<>|\\\'"!?=~^`@;,:üø'));
const randomLevel = fc.string({ minLength: 1, maxLength: 24, unit: TOPIC_UNIT });

export interface TopicWorld {
  base: string;
  devices: BridgeDeviceEntry[];
}

/** A node (or not) to address: keys, ids in both cases, outlet child ids, unknown ones. */
function givenArb(world: TopicWorld): fc.Arbitrary<{ given: string; known: boolean }> {
  const supported = world.devices.filter((d) => d.supported);
  // Keys match as given or lower-cased, ids case-insensitively (docs/mqtt-api.md, "Conventions").
  const isKnown = (given: string) =>
    supported.some((d) => d.key === given || d.key === given.toLowerCase() || d.id.toUpperCase() === given.toUpperCase());
  const known = fc.oneof(
    fc.constantFrom(...supported.map((d) => d.key)),
    fc.constantFrom(...supported.map((d) => d.id)),
    fc.constantFrom(...supported.map((d) => d.id.toLowerCase())),
  );
  const unknown = fc.oneof(
    fc.constantFrom(...world.devices.filter((d) => !d.supported).flatMap((d) => [d.key, d.id])),
    fc.constantFrom('', 'BRIDGE', 'Bridge', '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'undefined', 'null', 'no_such_device'),
    fc.constantFrom(...supported.map((d) => `${d.id}99`)),
    randomLevel,
  );
  return fc.oneof({ arbitrary: known, weight: 3 }, { arbitrary: unknown, weight: 2 }).filter((g) => g !== 'bridge').map((given) => ({ given, known: isKnown(given) }));
}

const ODD_ATTRIBUTES = ['__proto__', 'constructor', 'prototype', 'toString', 'transaction', 'effect', 'flash', 'white', 'State', 'BRIGHTNESS', 'color_mode', 'power_w', ''];

function setMessage(world: TopicWorld): fc.Arbitrary<Omit<HostileMessage, 'retain'>> {
  const attribute = fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 3 },
    { arbitrary: fc.constantFrom(...SET_KEYS), weight: 3 },
    { arbitrary: fc.oneof(fc.constantFrom(...ODD_ATTRIBUTES), randomLevel), weight: 1 },
  );
  return fc.tuple(givenArb(world), attribute).chain(([{ given, known }, attr]) => {
    const isSetKey = attr !== undefined && (SET_KEYS as readonly string[]).includes(attr);
    // An unknown attribute is refused whatever the value; a known one gets values wrong for it.
    const payload =
      attr === undefined
        ? invalidSetPayload
        : isSetKey
          ? fc.oneof(wrongAttributeValue(attr as (typeof SET_KEYS)[number]), invalidSetPayload)
          : fc.oneof(invalidSetPayload, fc.constantFrom('ON', '50', '{"h":1,"s":1}', '123456').map(labelled('valid value, odd attribute')));
    const topic = attr === undefined ? `${world.base}/${given}/set` : `${world.base}/${given}/set/${attr}`;
    return payload.map((p) => ({ topic, ...p, expect: { kind: 'set' as const, given, known } }));
  });
}

function getMessage(world: TopicWorld): fc.Arbitrary<Omit<HostileMessage, 'retain'>> {
  return fc.tuple(givenArb(world), anyPayload).map(([{ given }, p]) => ({ topic: `${world.base}/${given}/get`, ...p, expect: { kind: 'none' as const } }));
}

const UNKNOWN_COMMANDS = [
  '',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'devices',
  'device',
  'DEVICES/REFRESH',
  'health_check/',
  'devices/refresh/now',
  'auth/logout',
  'auth',
  'response/health_check',
  'request/health_check',
  'device/rename/../../x',
];

function bridgeRequestMessage(world: TopicWorld): fc.Arbitrary<Omit<HostileMessage, 'retain'>> {
  const knownKeys = world.devices.filter((d) => d.supported).map((d) => d.key);
  const topic = (command: string) => `${world.base}/bridge/request/${command}`;
  const unknown = fc
    .oneof(fc.constantFrom(...UNKNOWN_COMMANDS), fc.array(randomLevel, { minLength: 1, maxLength: 3 }).map((l) => l.join('/')))
    .filter((c) => !(BRIDGE_REQUESTS as readonly string[]).includes(c))
    .chain((command) => anyPayload.map((p) => ({ topic: topic(command), ...p, expect: { kind: 'bridge' as const, command, mustFail: true, unknown: true } })));
  const rename = invalidRename(knownKeys).map((p) => ({
    topic: topic('device/rename'),
    ...p,
    expect: { kind: 'bridge' as const, command: 'device/rename', mustFail: true, unknown: false },
  }));
  const refresh = invalidRefresh.map((p) => ({
    topic: topic('devices/refresh'),
    ...p,
    expect: { kind: 'bridge' as const, command: 'devices/refresh', mustFail: true, unknown: false },
  }));
  const harmless = fc
    .tuple(fc.constantFrom('health_check', 'homeassistant/rediscover', 'auth/login'), anyPayload)
    .map(([command, p]) => ({ topic: topic(command), ...p, expect: { kind: 'bridge' as const, command, mustFail: false, unknown: false } }));
  return fc.oneof({ arbitrary: unknown, weight: 3 }, { arbitrary: rename, weight: 2 }, { arbitrary: refresh, weight: 1 }, { arbitrary: harmless, weight: 2 });
}

function otherMessage(world: TopicWorld): fc.Arbitrary<Omit<HostileMessage, 'retain'>> {
  const topics = fc.oneof(
    fc.constant(`${world.base}/bridge/mfa`),
    fc.constant('homeassistant/status'),
    fc.oneof(fc.constantFrom('kasa_deadbeef', 'kasa___proto__', 'kasa_'), randomLevel).map((id) => `homeassistant/device/${id}/config`),
    fc.constantFrom(`${world.base}/bridge/set`, `${world.base}/bridge/set/state`, `${world.base}/bridge/get`),
  );
  const payload = fc.oneof(anyPayload, fc.constantFrom('online', 'ONLINE', ' online ', 'offline').map(labelled('HA status')));
  return fc.tuple(topics, payload).map(([topic, p]) => ({ topic, ...p, expect: { kind: 'none' as const } }));
}

/**
 * One hostile message. Retained ones are only generated where clearing them afterwards (an empty
 * retained publish, itself delivered to the bridge) is harmless.
 */
export function hostileMessage(world: TopicWorld): fc.Arbitrary<HostileMessage> {
  const message = fc.oneof(
    { arbitrary: setMessage(world), weight: 6 },
    { arbitrary: getMessage(world), weight: 1 },
    { arbitrary: bridgeRequestMessage(world), weight: 3 },
    { arbitrary: otherMessage(world), weight: 2 },
  );
  return fc
    .tuple(message, fc.boolean(), fc.integer({ min: 0, max: 9 }))
    .map(([m, retain, dice]) => {
      const noRetain = m.expect.kind === 'bridge' && m.expect.command === 'devices/refresh';
      return withSummary({
        ...m,
        // Roughly one in six retained.
        retain: retain && dice < 3 && !noRetain,
        ...(dice === 9 ? { responseTopic: 'test/abuse/replies' } : {}),
      });
    });
}

/** Counterexamples print as one short line per message, not as megabytes of byte arrays. */
export function withSummary(m: HostileMessage): HostileMessage {
  return Object.defineProperty(m, fc.toStringMethod, {
    enumerable: false,
    value: () => {
      const head = m.payload.subarray(0, 60).toString('utf8');
      const more = m.payload.length > 60 ? `… (${m.payload.length} bytes)` : '';
      return `${m.retain ? 'retained ' : ''}${JSON.stringify(m.topic)} ← ${m.label}: ${JSON.stringify(head)}${more}`;
    },
  });
}
