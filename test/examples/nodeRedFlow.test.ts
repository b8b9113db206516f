/**
 * examples/node-red-flow.json (and its optional dashboard add-on): well-formed Node-RED flow JSON,
 * every MQTT topic one the bridge really has (shapes from `topics()` in src/api/types.ts, device
 * keys made by the real key code from the demo account's devices), and the five required features.
 * Pure: no broker, no simulator server, no bridge.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInNewContext, Script } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { topics, type BridgeRequestName, type SetPayload } from '../../src/api/types.js';
import { buildNodes, type DeviceListEntry } from '../../src/devices/families.js';
import type { DeviceNode } from '../../src/devices/node.js';
import { parseSetPayload } from '../../src/devices/setPayload.js';
import { TopicKeyStore } from '../../src/devices/topicKeys.js';
import { DEMO_IDENTITY, demoDevices } from '../../src/simulator/catalog.js';
import { createDevice } from '../../src/simulator/devices/index.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BASE = 'kasa';
const T = topics(BASE);

interface FlowNode {
  id: string;
  type: string;
  z?: string;
  name?: string;
  wires?: string[][];
  topic?: string;
  broker?: string;
  retain?: string | boolean;
  qos?: string;
  datatype?: string;
  func?: string;
  payload?: string;
  payloadType?: string;
  info?: string;
  property?: string;
  rules?: Array<Record<string, unknown>>;
  [other: string]: unknown;
}

function loadFlow(file: string): FlowNode[] {
  const parsed: unknown = JSON.parse(readFileSync(join(ROOT, 'examples', file), 'utf8'));
  if (!Array.isArray(parsed)) throw new Error(`${file} is not a JSON array`);
  return parsed as FlowNode[];
}

const MAIN = loadFlow('node-red-flow.json');
const DASHBOARD = loadFlow('node-red-dashboard-chart.json');
const FLOWS: ReadonlyArray<[string, FlowNode[]]> = [
  ['node-red-flow.json', MAIN],
  ['node-red-dashboard-chart.json', DASHBOARD],
];

// ---- the bridge's topics -----------------------------------------------------------------------

/** Every bridge request name, checked against the type both ways at compile time. */
const REQUESTS = [
  'devices/refresh',
  'device/rename',
  'homeassistant/rediscover',
  'auth/login',
  'health_check',
] as const satisfies readonly BridgeRequestName[];
const allRequests: [Exclude<BridgeRequestName, (typeof REQUESTS)[number]>] extends [never] ? true : false = true;

/** Every `/set/<attr>` attribute: the SetPayload keys except the echoed `transaction`. */
const SET_ATTRS = ['state', 'brightness', 'color_temp', 'color', 'transition', 'led', 'restart', 'countdown', 'effect', 'auto_off', 'child_lock'] as const satisfies ReadonlyArray<
  keyof SetPayload
>;
const allAttrs: [Exclude<keyof SetPayload, (typeof SET_ATTRS)[number] | 'transaction'>] extends [never] ? true : false =
  true;

/** The demo account's nodes, keyed the way the bridge keys them (registry: buildNodes + TopicKeyStore.keyFor). */
function demoNodes(): DeviceNode[] {
  const keys = TopicKeyStore.inMemory();
  const env = { now: () => Date.UTC(2025, 0, 1), owner: DEMO_IDENTITY.username };
  return demoDevices().flatMap((spec) => {
    const device = createDevice(spec, env);
    const fields = device.listFields();
    const entry: DeviceListEntry = {
      deviceId: device.deviceId,
      alias: device.alias,
      deviceModel: device.model,
      deviceType: String(fields['deviceType']),
      status: device.online ? 1 : 0,
    };
    return buildNodes(entry, device.sysinfo(), (id, name) => keys.keyFor(id, name));
  });
}

const NODES = demoNodes();
const NODE_BY_KEY = new Map(NODES.map((n) => [n.key, n]));

type Direction = 'publish' | 'subscribe';
/** Topic → who may use it from a flow: `publish` (the bridge listens) or `subscribe` (the bridge publishes). */
function bridgeTopics(keys: Iterable<string>): Map<string, Direction> {
  const map = new Map<string, Direction>();
  for (const t of [T.bridgeState, T.bridgeAuth, T.bridgeInfo, T.bridgeDevices, T.bridgeEvent]) map.set(t, 'subscribe');
  map.set(T.bridgeMfa, 'publish');
  for (const cmd of REQUESTS) {
    map.set(T.bridgeRequest(cmd), 'publish');
    map.set(T.bridgeResponse(cmd), 'subscribe');
  }
  for (const key of keys) {
    map.set(T.nodeState(key), 'subscribe');
    map.set(T.nodeAvailability(key), 'subscribe');
    map.set(T.nodeSetResponse(key), 'subscribe');
    map.set(T.nodeSet(key), 'publish');
    map.set(T.nodeGet(key), 'publish');
    for (const attr of SET_ATTRS) map.set(T.nodeSetAttribute(key, attr), 'publish');
  }
  return map;
}

const BRIDGE_TOPICS = bridgeTopics(NODE_BY_KEY.keys());

/** The bridge topics an MQTT topic filter matches (`+` and `#` allowed). */
function matching(filter: string): string[] {
  const pattern = filter
    .split('/')
    .map((level) => (level === '+' ? '[^/]+' : level === '#' ? '.*' : level.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/')
    .replace(/\/\.\*$/, '(?:/.*)?');
  const re = new RegExp(`^${pattern}$`);
  return [...BRIDGE_TOPICS.keys()].filter((t) => re.test(t));
}

/** The `<key>` of a node topic, or undefined for bridge topics. */
function keyOf(topic: string): string | undefined {
  const [base, key] = topic.split('/');
  return base === BASE && key !== undefined && key !== 'bridge' ? key : undefined;
}

// ---- flow helpers ------------------------------------------------------------------------------

interface UsedTopic {
  topic: string;
  node: FlowNode;
  direction: Direction | 'mentioned';
}

/** Every MQTT topic in a flow: mqtt in/out nodes, plus any `kasa/...` written in function, change or inject nodes. */
function usedTopics(flow: FlowNode[]): UsedTopic[] {
  const used: UsedTopic[] = [];
  const mentioned = (text: string, node: FlowNode) => {
    for (const m of text.matchAll(/(?<![\w/])kasa\/[A-Za-z0-9_/+#-]*[A-Za-z0-9_+#]/g)) {
      used.push({ topic: m[0], node, direction: 'mentioned' });
    }
  };
  for (const node of flow) {
    if (node.type === 'mqtt in') used.push({ topic: node.topic ?? '', node, direction: 'subscribe' });
    if (node.type === 'mqtt out') used.push({ topic: node.topic ?? '', node, direction: 'publish' });
    if (node.type === 'function') mentioned(node.func ?? '', node);
    if (node.type === 'change' || node.type === 'inject') mentioned(JSON.stringify(node), node);
  }
  return used;
}

function byId(flow: FlowNode[]): Map<string, FlowNode> {
  return new Map(flow.map((n) => [n.id, n]));
}

/** Nodes reachable downstream of `start` (itself included). */
function downstream(flow: FlowNode[], start: FlowNode): FlowNode[] {
  const ids = byId(flow);
  const seen = new Map<string, FlowNode>();
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift()!;
    if (seen.has(node.id)) continue;
    seen.set(node.id, node);
    for (const target of (node.wires ?? []).flat()) {
      const next = ids.get(target);
      if (next) queue.push(next);
    }
  }
  return [...seen.values()];
}

/** The nodes wired straight into `target`. */
function upstream(flow: FlowNode[], target: FlowNode): FlowNode[] {
  return flow.filter((n) => (n.wires ?? []).flat().includes(target.id));
}

function mqttOuts(flow: FlowNode[], topic: string): FlowNode[] {
  return flow.filter((n) => n.type === 'mqtt out' && n.topic === topic);
}

function mqttIns(flow: FlowNode[], topic: string): FlowNode[] {
  return flow.filter((n) => n.type === 'mqtt in' && n.topic === topic);
}

/** A Node-RED-like context: `flow.get/set`, `node.status/warn`. */
function fakeContext() {
  const store = new Map<string, unknown>();
  const warnings: unknown[] = [];
  return {
    store,
    warnings,
    flow: { get: (k: string) => store.get(k), set: (k: string, v: unknown) => void store.set(k, v) },
    node: { status: () => undefined, warn: (m: unknown) => void warnings.push(m), error: () => undefined, log: () => undefined },
  };
}

/** Runs a function node's code the way Node-RED wraps it (one output; returns the msg or null). */
function runFunction(node: FlowNode, msg: Record<string, unknown>, ctx = fakeContext()): Record<string, unknown> | null {
  const code = `(function (msg, node, flow, context, global, env) {\n${node.func ?? ''}\n})(msg, node, flow, undefined, undefined, undefined)`;
  return runInNewContext(code, { msg, node: ctx.node, flow: ctx.flow }, { timeout: 1000 }) as Record<string, unknown> | null;
}

/** An inject node's payload as Node-RED would send it. */
function injected(node: FlowNode): unknown {
  switch (node.payloadType ?? '') {
    case 'str':
      return node.payload;
    case 'num':
      return Number(node.payload);
    case 'json':
      return JSON.parse(node.payload ?? '') as unknown;
    case 'date':
      return Date.now();
    default:
      throw new Error(`inject ${node.id}: payload type ${String(node.payloadType)} not handled by this test`);
  }
}

/** What Node-RED's mqtt out node puts on the wire for a payload. */
function wire(payload: unknown): string {
  return typeof payload === 'object' && payload !== null ? JSON.stringify(payload) : String(payload);
}

function node(key: string): DeviceNode {
  const found = NODE_BY_KEY.get(key);
  if (!found) throw new Error(`no demo node with key ${key}`);
  return found;
}

/** Core node types of a plain Node-RED install (the ones these examples may use without extra palettes). */
const CORE_TYPES = new Set([
  'tab',
  'group',
  'comment',
  'inject',
  'debug',
  'function',
  'change',
  'switch',
  'template',
  'delay',
  'trigger',
  'link in',
  'link out',
  'mqtt in',
  'mqtt out',
  'mqtt-broker',
  'json',
]);

// ---- tests -------------------------------------------------------------------------------------

describe('demo account keys (derived with the real key code)', () => {
  it('has the keys the flow is written for', () => {
    expect(allRequests && allAttrs).toBe(true);
    expect(node('bedroom_desk_light')).toMatchObject({ type: 'plug', model: 'HS103(US)' });
    expect(node('bedroom_light').capabilities).toContain('energy');
    expect(node('dining_room_dimmer')).toMatchObject({ type: 'dimmer' });
    expect(node('dining_room_dimmer').capabilities).toContain('brightness');
    expect(node('office_power_strip_plug_1')).toMatchObject({ type: 'outlet' });
    expect(node('office_power_strip_plug_3').capabilities).toContain('energy');
    expect(node('living_room_lamp')).toMatchObject({ type: 'bulb' });
  });
});

describe.each(FLOWS)('%s is a well-formed Node-RED flow', (_file, flow) => {
  const ids = byId(flow);

  it('is an array of nodes with unique ids and a type', () => {
    expect(flow.length).toBeGreaterThan(0);
    for (const n of flow) {
      expect(typeof n.id, JSON.stringify(n)).toBe('string');
      expect(n.id.length).toBeGreaterThan(0);
      expect(typeof n.type, n.id).toBe('string');
    }
    expect(ids.size).toBe(flow.length);
  });

  it('wires only to nodes that exist, on the same tab', () => {
    for (const n of flow) {
      if (n.wires === undefined) continue;
      expect(Array.isArray(n.wires), n.id).toBe(true);
      for (const target of n.wires.flat()) {
        expect(ids.has(target), `${n.id} → ${target}`).toBe(true);
        expect(ids.get(target)!.z, `${n.id} → ${target}`).toBe(n.z);
      }
      if (typeof n['outputs'] === 'number') expect(n.wires.length, n.id).toBe(n['outputs']);
    }
  });

  it('has one mqtt-broker config node for the demo broker, used by every mqtt node', () => {
    const brokers = flow.filter((n) => n.type === 'mqtt-broker');
    expect(brokers).toHaveLength(1);
    const broker = brokers[0]!;
    expect(broker).toMatchObject({ broker: 'localhost', port: '1883', protocolVersion: '4', autoConnect: true });
    expect(broker.z).toBeUndefined();
    const mqttNodes = flow.filter((n) => n.type === 'mqtt in' || n.type === 'mqtt out');
    expect(mqttNodes.length).toBeGreaterThan(0);
    for (const n of mqttNodes) {
      expect(n.broker, n.id).toBe(broker.id);
      expect(n.qos, n.id).toBe('1');
    }
  });

  it('places flow nodes on a tab and gives them a position', () => {
    const tabs = new Set(flow.filter((n) => n.type === 'tab').map((n) => n.id));
    const mainTab = MAIN.find((n) => n.type === 'tab')!.id;
    for (const n of flow) {
      if (n.wires === undefined) continue;
      expect(tabs.has(n.z ?? '') || n.z === mainTab, n.id).toBe(true);
      expect(typeof n['x'] === 'number' && typeof n['y'] === 'number', n.id).toBe(true);
    }
  });

  it('subscribes with JSON parsing and never publishes retained', () => {
    for (const n of flow.filter((x) => x.type === 'mqtt in')) expect(n.datatype, n.id).toBe('json');
    for (const n of flow.filter((x) => x.type === 'mqtt out')) expect(n.retain, n.id).toBe('false');
  });

  it('uses only topics the bridge has, each in the right direction, with demo device keys', () => {
    const used = usedTopics(flow);
    expect(used.length).toBeGreaterThan(0);
    for (const { topic, node: n, direction } of used) {
      const where = `${n.type} ${n.id}: ${topic}`;
      const key = keyOf(topic);
      if (key !== undefined && !key.includes('+') && !key.includes('#')) {
        expect([...NODE_BY_KEY.keys()], `${where}: unknown device key`).toContain(key);
      }
      const matches = matching(topic);
      expect(matches, `${where}: not a bridge topic`).not.toHaveLength(0);
      if (direction !== 'mentioned') {
        for (const t of matches) expect(BRIDGE_TOPICS.get(t), `${where}: wrong direction`).toBe(direction);
      }
    }
  });

  it('has function code that compiles', () => {
    for (const n of flow.filter((x) => x.type === 'function')) {
      expect(() => new Script(`(function (msg) {\n${n.func ?? ''}\n})`), n.id).not.toThrow();
    }
  });
});

describe('node-red-flow.json imports into a plain Node-RED', () => {
  it('uses core node types only (an unknown type would stop every flow until installed)', () => {
    for (const n of MAIN) expect(CORE_TYPES.has(n.type), `${n.id}: ${n.type}`).toBe(true);
    expect(MAIN.filter((n) => n.type === 'tab')).toHaveLength(1);
  });

  it('explains every group with a comment, and points to the optional chart', () => {
    const comments = MAIN.filter((n) => n.type === 'comment').map((n) => `${n.name ?? ''} ${n.info ?? ''}`);
    for (const label of ['1.', '2.', '3.', '4.', '5.']) {
      expect(comments.some((c) => c.startsWith(label)), label).toBe(true);
    }
    expect(comments.some((c) => c.includes('node-red-dashboard-chart.json'))).toBe(true);
  });

  it('the dashboard add-on draws power_w on a ui_chart and reuses the same broker node', () => {
    const chart = DASHBOARD.find((n) => n.type === 'ui_chart');
    expect(chart).toBeDefined();
    const group = DASHBOARD.find((n) => n.id === chart!['group']);
    expect(group?.type).toBe('ui_group');
    expect(DASHBOARD.find((n) => n.id === group!['tab'])?.type).toBe('ui_tab');
    const feeds = DASHBOARD.filter((n) => n.type === 'mqtt in' && downstream(DASHBOARD, n).includes(chart!));
    expect(feeds.length).toBeGreaterThan(0);
    for (const f of feeds) expect(node(keyOf(f.topic!)!).capabilities).toContain('energy');
    const brokerOf = (flow: FlowNode[]) => flow.find((n) => n.type === 'mqtt-broker');
    expect(brokerOf(DASHBOARD)).toEqual(brokerOf(MAIN));
    expect(DASHBOARD.some((n) => n.type === 'comment' && /node-red-dashboard/.test(String(n.name)))).toBe(true);
  });
});

describe('node-red-flow.json covers the required features', () => {
  const ids = byId(MAIN);

  it('1. switches a plug: ON and OFF on kasa/<plug>/set', () => {
    const out = mqttOuts(MAIN, T.nodeSet('bedroom_desk_light'));
    expect(out.length).toBeGreaterThan(0);
    const plug = node('bedroom_desk_light');
    expect(plug.capabilities).toContain('onoff');
    const payloads = out.flatMap((o) => upstream(MAIN, o)).filter((n) => n.type === 'inject').map(injected);
    expect(payloads).toEqual(expect.arrayContaining(['ON', 'OFF']));
    for (const p of payloads) expect(parseSetPayload(plug, wire(p))).toHaveProperty('ok');
  });

  it('2. dims a dimmer: brightness values on kasa/<dimmer>/set/brightness', () => {
    const [out] = mqttOuts(MAIN, T.nodeSetAttribute('dining_room_dimmer', 'brightness'));
    expect(out).toBeDefined();
    const dimmer = node('dining_room_dimmer');
    const values = upstream(MAIN, out!).filter((n) => n.type === 'inject').map(injected);
    expect(values.length).toBeGreaterThanOrEqual(2);
    for (const v of values) {
      expect(v).toEqual(expect.any(Number));
      // a brightness without state also turns the light on
      expect(parseSetPayload(dimmer, wire(v), 'brightness')).toEqual({ ok: { brightness: v, state: 'ON' } });
    }
  });

  it('3. shows power: subscribes to a metered state and picks power_w, numbers only', () => {
    const sub = mqttIns(MAIN, T.nodeState('bedroom_light'))[0];
    expect(sub).toBeDefined();
    expect(node('bedroom_light').capabilities).toContain('energy');
    const path = downstream(MAIN, sub!);
    const pick = path.find((n) => n.type === 'change');
    expect(pick?.rules).toContainEqual(expect.objectContaining({ t: 'set', p: 'payload', to: 'payload.power_w', tot: 'msg' }));
    const numbers = path.find((n) => n.type === 'switch');
    expect(numbers?.rules).toContainEqual(expect.objectContaining({ t: 'istype', v: 'number' }));
    expect(path.some((n) => n.type === 'debug')).toBe(true);
    // every power subscription is to a metered node
    for (const n of MAIN.filter((x) => x.type === 'mqtt in' && downstream(MAIN, x).includes(pick!))) {
      expect(node(keyOf(n.topic!)!).capabilities, n.topic).toContain('energy');
    }
  });

  it('4. MFA: a prompt on kasa/bridge/auth mfa_required, and a code sent once, not retained', () => {
    const [auth] = mqttIns(MAIN, T.bridgeAuth);
    expect(auth).toBeDefined();
    const gate = downstream(MAIN, auth!).find((n) => n.type === 'switch');
    expect(gate?.property).toBe('payload.state');
    const rule = gate!.rules!.findIndex((r) => r['t'] === 'eq' && r['v'] === 'mfa_required');
    expect(rule).toBeGreaterThanOrEqual(0);
    const prompt = ids.get(gate!.wires![rule]![0]!)!;
    expect(prompt.type).toBe('function');
    expect(downstream(MAIN, prompt).some((n) => n.type === 'debug')).toBe(true);

    const ctx = fakeContext();
    const shown = runFunction(
      prompt,
      {
        payload: {
          state: 'mfa_required',
          since: '2025-01-01T00:00:00Z',
          mfa_type: 'email',
          challenge: 'k3x9',
          expires_at: '2025-01-01T00:10:00Z',
          attempts_left: 3,
        },
      },
      ctx,
    );
    expect(String(shown?.['payload'])).toMatch(/enter the code/);
    expect(String(shown?.['payload'])).toContain('3 attempts left');

    // the code: inject (the demo's code, edit for a real account) → function → mqtt out kasa/bridge/mfa
    const [out] = mqttOuts(MAIN, T.bridgeMfa);
    expect(out).toBeDefined();
    expect(out!.retain).toBe('false');
    const builder = upstream(MAIN, out!).find((n) => n.type === 'function')!;
    expect(builder).toBeDefined();
    const codeInject = upstream(MAIN, builder).find((n) => n.type === 'inject')!;
    expect(codeInject).toMatchObject({ payload: DEMO_IDENTITY.mfaCode, payloadType: 'str', repeat: '', once: false });

    const sent = runFunction(builder, { payload: injected(codeInject) }, ctx);
    expect(sent?.['retain']).not.toBe(true);
    expect(JSON.parse(wire(sent?.['payload']))).toEqual({ code: DEMO_IDENTITY.mfaCode, challenge: 'k3x9' });
    // without an open round: the plain code
    expect(runFunction(builder, { payload: '123456' })?.['payload']).toBe('123456');

    const comment = MAIN.find((n) => n.id === 'k2m_c_mfa')!;
    expect(`${comment.name ?? ''} ${comment.info ?? ''}`).toMatch(/never retained/i);
  });

  it('no function or inject marks a message retained, above all on kasa/bridge/mfa', () => {
    for (const n of MAIN) {
      if (n.type === 'function') expect(n.func, n.id).not.toMatch(/retain\s*[:=]\s*(true|1|'true'|"true")/);
      if (n.type === 'inject') expect(JSON.stringify(n['props'] ?? []), n.id).not.toContain('retain');
    }
    for (const out of mqttOuts(MAIN, T.bridgeMfa)) expect([false, 'false']).toContain(out.retain);
  });

  it('5. a command with a transaction, and its answer on kasa/<key>/response/set filtered by the nr- prefix', () => {
    const builder = MAIN.find(
      (n) => n.type === 'function' && /transaction/.test(n.func ?? '') && downstream(MAIN, n).some((d) => d.type === 'mqtt out'),
    )!;
    expect(builder).toBeDefined();
    const out = downstream(MAIN, builder).find((n) => n.type === 'mqtt out')!;
    const key = keyOf(out.topic!)!;
    expect(out.topic).toBe(T.nodeSet(key));

    const ctx = fakeContext();
    const msg = runFunction(builder, { payload: Date.now() }, ctx);
    const payload = msg?.['payload'] as Record<string, unknown>;
    expect(payload).toEqual({ state: 'TOGGLE', transaction: expect.stringMatching(/^nr-\d+$/) });
    expect(parseSetPayload(node(key), wire(payload))).toEqual({ ok: { state: 'TOGGLE', transaction: payload['transaction'] } });

    const [response] = mqttIns(MAIN, T.nodeSetResponse(key));
    expect(response).toBeDefined();
    const filter = downstream(MAIN, response!).find((n) => n.type === 'switch')!;
    expect(filter.property).toBe('payload.transaction');
    const [prefix] = filter.rules!;
    expect(prefix).toMatchObject({ t: 'regex' });
    const re = new RegExp(String(prefix!['v']));
    expect(re.test(String(payload['transaction']))).toBe(true);
    expect(re.test('ha-123')).toBe(false);
    expect(downstream(MAIN, filter).some((n) => n.type === 'debug')).toBe(true);

    const result = downstream(MAIN, filter).find((n) => n.type === 'function')!;
    const ok = runFunction(
      result,
      { payload: { status: 'ok', data: { state: 'ON' }, latency_ms: 120, transaction: payload['transaction'] } },
      ctx,
    );
    expect(ok?.['payload']).toBe(`${String(payload['transaction'])} (latest): ok in 120 ms, state ON`);
    const failed = runFunction(result, {
      payload: { status: 'error', error: { code: 'device_offline', message: 'offline' }, transaction: 'nr-1' },
    });
    expect(failed?.['payload']).toBe('nr-1: device_offline: offline');
  });

  it('also lists devices and asks for a refresh', () => {
    expect(mqttIns(MAIN, T.bridgeDevices)).toHaveLength(1);
    expect(mqttOuts(MAIN, T.bridgeRequest('devices/refresh'))).toHaveLength(1);
    expect(mqttIns(MAIN, T.bridgeResponse('devices/refresh'))).toHaveLength(1);
    const fmt = downstream(MAIN, mqttIns(MAIN, T.bridgeDevices)[0]!).find((n) => n.type === 'function')!;
    const listed = runFunction(fmt, {
      payload: [
        { key: 'bedroom_light', type: 'plug', online: true, supported: true },
        { key: 'garage_plug', type: 'plug', online: false, supported: true },
        { key: 'p100', type: 'unsupported', online: true, supported: false },
      ],
    });
    expect(listed?.['payload']).toEqual(['bedroom_light: plug', 'garage_plug: plug (offline)']);
  });
});
