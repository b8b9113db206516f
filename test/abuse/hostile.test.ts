/**
 * Abuse: well over 1,000 generated hostile messages on every topic the bridge listens on
 * (docs/mqtt-api.md), against a real broker and the cloud simulator. The bridge must keep running,
 * cause no cloud write for an invalid message, answer every addressable error on its response
 * topic, keep memory bounded, retain nothing of its own making from the abuse, and never show a
 * secret.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import type { IClientPublishOptions } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BridgeDeviceEntry, BridgeResponse, SetResponse } from '../../src/api/types.js';
import { demoAccount } from '../../src/simulator/catalog.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { startHarness, type Harness } from '../helpers/bridgeHarness.js';
import { readRetained, waitFor, type ObservedMessage } from '../helpers/mqttObserver.js';
import { deepTransaction, hostileMessage, type HostileMessage, type TopicWorld } from './hostile.js';

const PASSWORD = 'Abuse-Pa55word-9f3c1e';
const account = demoAccount({ username: 'abuse@example.com', password: PASSWORD, mfa: false });

/** A passthrough that writes: every `set_*` method, and the bulb's `transition_light_state`. */
const SETTER = /"(set_[a-z_]+|transition_light_state)"/;
const ERROR_CODES_KNOWN = new Set(['invalid_payload', 'unsupported']);
const RUNS = 40;
const MIN_BATCH = 26;
const REPLIES = 'test/abuse/replies';

/** `global.gc`, without needing node --expose-gc. */
function gcFunction(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

describe('hostile messages on every topic the bridge listens on', () => {
  let broker: TestBroker;
  let h: Harness;
  let world: TopicWorld;
  const gc = gcFunction();
  let heapAtStart = 0;
  let heapPeak = 0;
  let settersAtStart = 0;
  let otherOpsAtStart = 0;
  const startedAt = Date.now();

  // What the run published and what it must have caused.
  const published = { total: 0, retained: 0, clears: 0, megabyte: 0, byLabel: new Map<string, number>() };
  const expectedSetAnswers = new Map<string, number>(); // response topic → count
  const setKnown = new Map<string, boolean>(); // response topic → the given key/id is a device
  const expectedBridgeAnswers = new Map<string, number>(); // response topic → count
  const bridgeMustFail = new Map<string, { unknown: boolean } | false>();
  let expectedReplies = 0;
  // What arrived, counted as it arrives, and every answer that broke a rule.
  const seen = new Map<string, number>();
  const violations: string[] = [];

  const setters = () => h.sim.requests.filter((r) => r.op === 'passthrough' && SETTER.test(JSON.stringify(r.requestData ?? null))).length;
  const otherOps = () => h.sim.requests.filter((r) => r.op !== 'passthrough').length;
  const sampleHeap = () => {
    gc();
    const used = process.memoryUsage().heapUsed;
    heapPeak = Math.max(heapPeak, used);
    return used;
  };
  const add = (map: Map<string, number>, key: string, n = 1) => map.set(key, (map.get(key) ?? 0) + n);

  function checkAnswer(m: ObservedMessage): void {
    add(seen, m.topic);
    if (m.topic === REPLIES) return;
    const base = h.base;
    const isSetResponse = m.topic.startsWith(`${base}/`) && m.topic.endsWith('/response/set');
    const isBridgeResponse = m.topic.startsWith(`${base}/bridge/response/`);
    if (!isSetResponse && !isBridgeResponse) return;
    if (m.retain) violations.push(`retained answer on ${m.topic}`);
    let body: SetResponse | BridgeResponse;
    try {
      body = m.json<SetResponse>();
    } catch {
      violations.push(`answer on ${m.topic} is not JSON: ${m.text.slice(0, 80)}`);
      return;
    }
    if (isSetResponse && setKnown.has(m.topic)) {
      const code = body.error?.code ?? '';
      const ok = body.status === 'error' && (setKnown.get(m.topic) ? ERROR_CODES_KNOWN.has(code) : code === 'unknown_device');
      if (!ok) violations.push(`${m.topic}: ${m.text.slice(0, 200)}`);
    }
    const rule = bridgeMustFail.get(m.topic);
    if (isBridgeResponse && rule) {
      const ok = body.status === 'error' && (!rule.unknown || body.error?.code === 'unknown_request');
      if (!ok) violations.push(`${m.topic}: ${m.text.slice(0, 200)}`);
    }
  }

  /** Records what `m` must cause once it has been published (and, if retained, cleared). */
  function expectAnswers(m: HostileMessage, times: number): void {
    const e = m.expect;
    if (e.kind === 'set') {
      const topic = `${h.base}/${e.given}/response/set`;
      add(expectedSetAnswers, topic, times);
      setKnown.set(topic, e.known);
    } else if (e.kind === 'bridge') {
      const topic = `${h.base}/bridge/response/${e.command}`;
      add(expectedBridgeAnswers, topic, times);
      bridgeMustFail.set(topic, e.mustFail ? { unknown: e.unknown } : false);
    }
    if (m.responseTopic && e.kind !== 'none') expectedReplies += 1;
  }

  async function publish(m: HostileMessage): Promise<void> {
    const opts: IClientPublishOptions = { qos: 1, retain: m.retain };
    if (m.responseTopic && broker.mqtt5) opts.properties = { responseTopic: m.responseTopic, correlationData: Buffer.from(String(published.total)) };
    else delete m.responseTopic;
    await h.obs.publish(m.topic, m.payload, opts);
    published.total += 1;
    if (m.payload.length >= 1024 * 1024) published.megabyte += 1;
    add(published.byLabel, m.label.replace(/\s*\(.*\)$/, ''));
    if (m.retain) published.retained += 1;
    expectAnswers(m, 1);
  }

  /** Clears retained messages (the clearing publish is a message too, and is answered where due). */
  async function clearRetained(batch: HostileMessage[]): Promise<void> {
    const topics = new Map(batch.filter((m) => m.retain).map((m) => [m.topic, m]));
    for (const [topic, m] of topics) {
      await h.obs.publish(topic, '', { qos: 1, retain: true });
      published.clears += 1;
      const { responseTopic: _once, ...clear } = m;
      expectAnswers(clear, 1);
    }
  }

  /** Waits until every due answer has arrived, then checks there are no more than that. */
  async function settle(): Promise<void> {
    const due = [...expectedSetAnswers, ...expectedBridgeAnswers, [REPLIES, expectedReplies] as const];
    const missing = () => due.filter(([topic, n]) => (seen.get(topic) ?? 0) < n);
    await waitFor(() => missing().length === 0, 20_000, 'answers').catch(() => {
      throw new Error(`unanswered: ${JSON.stringify(missing().slice(0, 5).map(([t, n]) => [t, n, seen.get(t) ?? 0]))}`);
    });
    await h.obs.barrier();
    const extra = due.filter(([topic, n]) => (seen.get(topic) ?? 0) !== n);
    expect(extra.map(([t, n]) => [t, n, seen.get(t)])).toEqual([]);
    expect(violations).toEqual([]);
  }

  function assertUnharmed(): void {
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined();
    expect(setters()).toBe(settersAtStart);
    expect(otherOps()).toBe(otherOpsAtStart);
    expect(h.logs.text).not.toMatch(/MQTT message handler failed|cannot serialise MQTT payload/);
  }

  beforeAll(async () => {
    broker = await startTestBroker();
    h = await startHarness({ broker, account });
    await h.obs.subscribe(`${REPLIES}`);
    // The full list: every strip read once, so its outlets are nodes too.
    const complete = (entries: BridgeDeviceEntry[]) =>
      entries.some((d) => d.online) &&
      entries
        .filter((d) => d.type === 'strip' && d.online)
        .every((s) => (s.children?.length ?? 0) > 0 && s.children!.every((id) => entries.some((e) => e.id === id)));
    const devices = await h.obs.next('kasa/bridge/devices', (m) => m.text !== '' && complete(m.json<BridgeDeviceEntry[]>()), 15_000);
    const entries = devices.json<BridgeDeviceEntry[]>();
    for (const d of entries.filter((e) => e.supported && e.online && e.type !== 'strip')) {
      await h.obs.next(`kasa/${d.key}`, (m) => m.text !== '', 15_000);
    }
    world = { base: h.base, devices: entries };
    // Count answers as they arrive, from here on.
    const seenBefore = h.obs.messages.length;
    for (const m of h.obs.messages.slice(0, seenBefore)) if (m.topic.includes('/response/')) add(seen, m.topic);
    h.obs.client.on('message', (topic) => {
      const m = h.obs.messages.at(-1);
      if (m && m.topic === topic) checkAnswer(m);
    });
    await h.obs.barrier();
    settersAtStart = setters();
    otherOpsAtStart = otherOps();
    expect(settersAtStart).toBe(0);
    heapAtStart = sampleHeap();
  }, 40_000);

  afterAll(async () => {
    const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
    console.info(
      `abuse: ${published.total} hostile messages (${published.retained} retained, ${published.clears} clears, ${published.megabyte} of 1 MB) in ${seconds} s; ` +
        `heap +${((heapPeak - heapAtStart) / 2 ** 20).toFixed(1)} MB peak; kinds ${JSON.stringify(Object.fromEntries(published.byLabel))}`,
    );
    await h?.stop();
    await broker?.stop();
  });

  it(`survives ${RUNS * MIN_BATCH}+ generated hostile messages, answering every addressable one`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(hostileMessage(world), { minLength: MIN_BATCH, maxLength: 40 }), async (batch) => {
        for (const m of batch) await publish(m);
        await clearRetained(batch);
        await settle();
        assertUnharmed();
        sampleHeap();
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
    expect(published.total).toBeGreaterThanOrEqual(1000);
  }, 120_000);

  it('survives 1 MB payloads on every kind of topic', async () => {
    const mb = Buffer.alloc(1024 * 1024, '{"state":"ON","x":"'.padEnd(64, 'x'));
    const messages: HostileMessage[] = [
      { topic: 'kasa/bedroom_desk_light/set', expect: { kind: 'set', given: 'bedroom_desk_light', known: true } },
      { topic: 'kasa/living_room_lamp/set/brightness', expect: { kind: 'set', given: 'living_room_lamp', known: true } },
      { topic: 'kasa/nobody/set', expect: { kind: 'set', given: 'nobody', known: false } },
      { topic: 'kasa/bridge/request/health_check', expect: { kind: 'bridge', command: 'health_check', mustFail: true, unknown: false } },
      { topic: 'kasa/bridge/request/device/rename', expect: { kind: 'bridge', command: 'device/rename', mustFail: true, unknown: false } },
      { topic: 'kasa/bridge/request/no/such', expect: { kind: 'bridge', command: 'no/such', mustFail: true, unknown: true } },
      { topic: 'kasa/bedroom_desk_light/get', expect: { kind: 'none' } },
      { topic: 'kasa/bridge/mfa', expect: { kind: 'none' } },
      { topic: 'homeassistant/status', expect: { kind: 'none' } },
    ].map((m) => ({ ...m, payload: mb, retain: false, label: '1 MB' }) as HostileMessage);
    for (const m of messages) await publish(m);
    await settle();
    assertUnharmed();
    sampleHeap();
  });

  it('answers a bridge request whose transaction is nested too deep to echo', async () => {
    for (const payload of fc.sample(deepTransaction, { numRuns: 5, seed: 42 })) {
      await publish({ topic: 'kasa/bridge/request/health_check', ...payload, retain: false, expect: { kind: 'bridge', command: 'health_check', mustFail: false, unknown: false } });
    }
    await settle();
  });

  it('takes no cloud action for MFA codes when no round is open', async () => {
    for (const [code, retain] of [
      ['246810', false],
      ['123456', true],
      ['{"code":"246810"}', false],
      ['{"code":"246810","challenge":"abc123"}', true],
    ] as const) {
      await publish({ topic: 'kasa/bridge/mfa', payload: Buffer.from(code), retain, label: 'MFA code, no round', expect: { kind: 'none' } });
    }
    await clearRetained([{ topic: 'kasa/bridge/mfa', payload: Buffer.alloc(0), retain: true, label: '', expect: { kind: 'none' } }]);
    await settle();
    assertUnharmed();
    expect(h.sim.count({ op: 'checkMFACodeAndLogin' })).toBe(0);
    expect(await h.obs.retained('kasa/bridge/mfa')).toBeUndefined();
  });

  // A refused set echoes its `transaction`; one too deep to serialise again is left out rather
  // than losing the whole answer.
  it('answers a set whose transaction is nested too deep to echo', async () => {
    // An id spelling of its own, so this answer stays out of the counts the other tests check.
    const device = world.devices.find((d) => d.key === 'bedroom_desk_light')!;
    const given = Array.from(device.id, (c, i) => (i % 2 ? c.toLowerCase() : c)).join('');
    const [payload] = fc.sample(deepTransaction, { numRuns: 1, seed: 7 });
    const answer = h.obs.next(`kasa/${given}/response/set`, undefined, 3000);
    await h.obs.publish(`kasa/${given}/set`, payload!.payload, { qos: 1 });
    expect((await answer).json()).toMatchObject({ status: 'error', error: { code: 'invalid_payload' } });
  });

  it('still works afterwards: bridge online, a valid set is applied with one cloud write', async () => {
    expect((await h.obs.retained('kasa/bridge/state'))?.json()).toEqual({ state: 'online' });
    expect((await h.obs.retained('kasa/bridge/auth'))?.json()).toMatchObject({ state: 'authenticated' });
    const answer = h.obs.next('kasa/bedroom_desk_light/response/set', (m) => m.json<SetResponse>().transaction === 'after-abuse');
    await h.obs.publish('kasa/bedroom_desk_light/set', '{"state":"ON","transaction":"after-abuse"}', { qos: 1 });
    expect((await answer).json()).toMatchObject({ status: 'ok', data: { state: 'ON' }, transaction: 'after-abuse' });
    expect(setters()).toBe(settersAtStart + 1);
    const health = h.obs.next('kasa/bridge/response/health_check', (m) => m.json<BridgeResponse>().transaction === 'after-abuse');
    await h.obs.publish('kasa/bridge/request/health_check', '{"transaction":"after-abuse"}', { qos: 1 });
    expect((await health).json()).toMatchObject({ status: 'ok', transaction: 'after-abuse' });
  });

  it('leaves nothing retained that the abuse made, and no prototype pollution', async () => {
    const retained = await readRetained(broker.url, 'kasa/#', broker.mqtt5 ? 5 : 4);
    const keys = new Set(world.devices.map((d) => d.key));
    const stray = [...retained.keys()].filter((topic) => {
      if (/^kasa\/bridge\/(state|auth|info|devices)$/.test(topic)) return false;
      const [, key, rest] = /^kasa\/([^/]+)(\/availability)?$/.exec(topic) ?? [];
      return !(key !== undefined && keys.has(key) && (rest === undefined || rest === '/availability'));
    });
    expect(stray).toEqual([]);
    const ha = await readRetained(broker.url, 'homeassistant/#', broker.mqtt5 ? 5 : 4);
    expect([...ha.keys()].filter((t) => !/^homeassistant\/device\/kasa_[0-9a-z_]+\/config$/i.test(t) || /deadbeef|__proto__|kasa_\/config/.test(t))).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('keeps memory bounded', () => {
    const now = sampleHeap();
    expect(now - heapAtStart).toBeLessThan(64 * 2 ** 20);
    expect(heapPeak - heapAtStart).toBeLessThan(96 * 2 ** 20);
  });

  it('never logged or published the password, a token or a refresh token', () => {
    const session = JSON.parse(readFileSync(join(h.dataDir, 'session.json'), 'utf8')) as { token: string; refreshToken: string };
    const secrets = [PASSWORD, session.token, session.refreshToken];
    for (const s of secrets) expect(s.length).toBeGreaterThan(8);
    const texts = h.obs.messages.filter((m) => m.topic !== 'kasa/bridge/mfa').map((m) => m.text);
    const logs = h.logs.text;
    for (const secret of secrets) {
      expect(logs.includes(secret), 'a log line contains a secret').toBe(false);
      expect(texts.some((t) => t.includes(secret)), 'an MQTT message contains a secret').toBe(false);
    }
  });
});
