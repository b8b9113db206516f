/**
 * Fault tolerance through a real broker and the real simulator: HTTP 500s, timeouts, `-20004`
 * throttling, "blackList", the configured rate limit under a burst, and a broker restart that
 * loses every retained message. Asserts what an MQTT subscriber sees and what reached the cloud.
 *
 * The three groups use their own broker, simulator and bridge and run concurrently (the rate-limit
 * group waits on a 30/min token bucket for most of its run); tests inside a group run in order.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BridgeDeviceEntry, BridgeEvent, NodeState, SetResponse } from '../../src/api/types.js';
import type { BridgeTiming } from '../../src/bridge/context.js';
import { demoAccount } from '../../src/simulator/catalog.js';
import type { SimAccountSpec, SimDeviceSpec, SimRequestLogEntry } from '../../src/simulator/types.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { startHarness, type Harness } from '../helpers/bridgeHarness.js';
import { readRetained, waitFor, type ObservedMessage } from '../helpers/mqttObserver.js';

const online = (m: ObservedMessage) => m.text === '{"state":"online"}';
const SETTABLE: ReadonlySet<string> = new Set(['plug', 'switch', 'dimmer', 'outlet', 'bulb', 'lightstrip']);
/** The demo account has 6 + 3 strip outlets; bridge/devices is complete once all are listed. */
const DEMO_OUTLETS = 9;

/** A passthrough that changes a device; every other passthrough is a background read (poll, energy). */
const isSetRequest = (e: SimRequestLogEntry) => e.op === 'passthrough' && /"(set_\w+|transition_light_state)"/.test(JSON.stringify(e.requestData));
const isPoll = (e: SimRequestLogEntry) => e.op === 'passthrough' && !isSetRequest(e);

type RateLimitedEvent = Extract<BridgeEvent, { type: 'rate_limited' }>;
const rateLimited = (reason: RateLimitedEvent['reason']) => (m: ObservedMessage) => {
  const event = m.json<BridgeEvent>();
  return event.type === 'rate_limited' && event.reason === reason;
};

/** Short, jitter-free backoff so a pause ends within a test (the default first pause is 60 s). */
const FAST_BACKOFF: Partial<BridgeTiming> = {
  schedulerBackoff: { initialMs: 1_500, maxMs: 3_000, blacklistInitialMs: 1_500, blacklistMaxMs: 3_000, jitter: 0 },
};

/** Waits for the full demo device list, then for every settable online node to be available. */
async function settableNodes(h: Harness): Promise<BridgeDeviceEntry[]> {
  const devices = await h.obs.next(
    'kasa/bridge/devices',
    (m) => m.text.startsWith('[') && m.json<BridgeDeviceEntry[]>().filter((d) => d.type === 'outlet').length === DEMO_OUTLETS,
    10_000,
  );
  const nodes = devices.json<BridgeDeviceEntry[]>().filter((d) => d.supported && d.online && SETTABLE.has(d.type));
  await Promise.all(nodes.map((n) => h.obs.next(`kasa/${n.key}/availability`, online, 10_000)));
  return nodes;
}

/**
 * Waits for the full demo device list, then for the cloud to have answered the start-up read of
 * every settable device, and returns the settable online nodes. Availability is not awaited: with a
 * very short KASA_REQUEST_TIMEOUT a start-up read slowed by machine load times out, and the next
 * read is a poll interval (60 s) away. Commands need only the device list.
 */
async function listedNodes(h: Harness): Promise<BridgeDeviceEntry[]> {
  const devices = await h.obs.next(
    'kasa/bridge/devices',
    (m) => m.text.startsWith('[') && m.json<BridgeDeviceEntry[]>().filter((d) => d.type === 'outlet').length === DEMO_OUTLETS,
    15_000,
  );
  const nodes = devices.json<BridgeDeviceEntry[]>().filter((d) => d.supported && d.online && SETTABLE.has(d.type));
  const physical = new Set(nodes.map((n) => n.parent_id ?? n.id));
  await waitFor(
    () => h.sim.inFlight === 0 && [...physical].every((id) => h.sim.requests.some((e) => isPoll(e) && e.deviceId === id)),
    15_000,
    'the start-up read of every device to be answered',
  );
  return nodes;
}

interface SetCommand {
  key: string;
  payload: object;
}

/** Publishes the sets back to back (QoS 1) and returns each one's response, in order, matched by transaction. */
async function publishSets(h: Harness, sets: readonly SetCommand[], timeoutMs = 10_000): Promise<SetResponse[]> {
  const tag = Math.random().toString(36).slice(2, 8);
  const answers = sets.map(({ key }, i) =>
    h.obs.next(`kasa/${key}/response/set`, (m) => m.json<SetResponse>().transaction === `${tag}-${i}`, timeoutMs),
  );
  // A rejection of one waiter must not go unhandled while the others are still being published.
  for (const a of answers) a.catch(() => undefined);
  for (const [i, { key, payload }] of sets.entries()) {
    await h.obs.publish(`kasa/${key}/set`, JSON.stringify({ ...payload, transaction: `${tag}-${i}` }), { qos: 1 });
  }
  return (await Promise.all(answers)).map((m) => m.json<SetResponse>());
}

const codes = (responses: readonly SetResponse[]) => responses.map((r) => (r.status === 'ok' ? 'ok' : r.error!.code));

describe('HTTP 500, -20004, blackList and a broker restart', { concurrent: true }, () => {
  describe('in order', { sequential: true }, () => {
    let broker: TestBroker;
    let h: Harness;
    let keys: string[] = [];
    const account = demoAccount({ username: 'outage@example.com', mfa: false });

    beforeAll(async () => {
      broker = await startTestBroker();
      // Every device read every 2 s: background traffic is steady enough to see it stop and resume.
      h = await startHarness({ broker, account, env: { KASA_POLL_INTERVAL: '2' }, timing: FAST_BACKOFF });
      keys = (await settableNodes(h)).map((n) => n.key);
    });
    // A failed test must not leave the cloud broken for the next one (the restart-outage tests span three).
    afterEach((ctx) => {
      if (ctx.task.result?.state === 'fail') h?.sim.resetFaults();
    });
    afterAll(async () => {
      await h?.stop();
      await broker?.stop();
    });

    /** Resolves with the first successful background read that reached the cloud after `since`. */
    async function pollSucceeded(since: number, timeoutMs = 10_000): Promise<SimRequestLogEntry> {
      let found: SimRequestLogEntry | undefined;
      await waitFor(
        () => (found = h.sim.requests.find((e) => e.at > since && isPoll(e) && e.errorCode === 0)) !== undefined,
        timeoutMs,
        'a successful poll',
      );
      return found!;
    }

    it('HTTP 500: every command is answered cloud_error; after the outage commands work and state catches up by itself', async () => {
      const plug = h.sim.devices(account.username).find((d) => d.alias === 'Bedroom Desk Light')!;
      plug.setState({ on: true });
      const plugKey = 'bedroom_desk_light';
      await h.obs.next(`kasa/${plugKey}`, (m) => m.json<NodeState>().state === 'ON', 10_000);

      h.sim.faults.http500 = Number.POSITIVE_INFINITY;
      const outageStart = Date.now();
      const sets = keys.slice(0, 6).map((key, i) => ({ key, payload: { state: i % 2 === 0 ? 'ON' : 'OFF' } }));
      const responses = await publishSets(h, sets);
      expect(codes(responses)).toEqual(sets.map(() => 'cloud_error'));
      for (const r of responses) expect(r.error?.message).toMatch(/HTTP 500/);
      // (An HTTP-level failure is logged before the body is read: no op, no requestData.)
      expect(h.sim.requests.filter((e) => e.at >= outageStart && e.errorCode === -500).length).toBeGreaterThanOrEqual(sets.length);
      // Repeated 5xx count as throttling: background reads pause, and MQTT users are told.
      const event = (await h.obs.next('kasa/bridge/event', rateLimited('server_errors'), 10_000)).json<RateLimitedEvent>();
      expect(Date.parse(event.until)).toBeGreaterThan(outageStart);

      // Someone switches the plug off in the Kasa app while the cloud is failing.
      plug.setState({ on: false });
      h.sim.resetFaults();
      const recoveredAt = Date.now();
      await h.obs.next(`kasa/${plugKey}`, (m) => m.json<NodeState>().state === 'OFF', 15_000);
      await pollSucceeded(recoveredAt);
      expect((await h.obs.retained(`kasa/${plugKey}/availability`))?.text).toBe('{"state":"online"}');

      const after = await publishSets(h, [{ key: plugKey, payload: { state: 'ON' } }]);
      expect(codes(after)).toEqual(['ok']);
      expect(plug.sysinfo()).toMatchObject({ relay_state: 1 });
    });

    for (const fault of ['throttle', 'blackList'] as const) {
      const reason = fault === 'throttle' ? 'throttled' : 'blacklisted';

      it(`${fault}: polling pauses, a rate_limited event says until when, commands are still answered, polling resumes by itself`, async () => {
        // Start from steady polling (an earlier pause may still be running).
        const quietFrom = Date.now();
        await pollSucceeded(quietFrom);
        h.sim.faults[fault] = true;

        const event = (await h.obs.next('kasa/bridge/event', rateLimited(reason), 10_000)).json<RateLimitedEvent>();
        const seenAt = Date.now();
        const until = Date.parse(event.until);
        expect(until).toBeGreaterThan(seenAt);

        // Commands are not held back: they reach the cloud and are answered with its refusal.
        // (A refused request is logged without requestData: it is told apart by when it was sent.)
        const commandSent = Date.now();
        const [refused] = await publishSets(h, [{ key: keys[0]!, payload: { state: 'ON' } }]);
        const commandAnswered = Date.now();
        expect(refused).toMatchObject({ status: 'error', error: { code: 'rate_limited' } });
        const duringCommand = h.sim.requests.filter((e) => e.op === 'passthrough' && e.at >= commandSent && e.at <= commandAnswered);
        expect(duringCommand).toHaveLength(1);
        expect(duringCommand[0]!.errorCode).not.toBe(0);

        h.sim.resetFaults();
        const resumed = await pollSucceeded(seenAt, 15_000);

        // Reads in flight when the pause began may land just after it; nothing new starts until `until`.
        const duringPause = h.sim.requests.filter(
          (e) => e.op === 'passthrough' && e.at >= seenAt + 150 && e.at < until && !duringCommand.includes(e),
        );
        expect(duringPause).toEqual([]);
        expect(resumed.at).toBeGreaterThanOrEqual(until - 5);
        // ...while before the fault the same span saw plenty of them.
        const before = h.sim.requests.filter((e) => isPoll(e) && e.at >= quietFrom - (until - seenAt) && e.at < quietFrom);
        expect(before.length).toBeGreaterThan(0);

        const [ok] = await publishSets(h, [{ key: keys[0]!, payload: { state: 'OFF' } }]);
        expect(ok?.status).toBe('ok');
      });
    }

    it('a restart during an outage: devices show offline, not the last run\'s retained "online"', async () => {
      h.sim.faults.http500 = Number.POSITIVE_INFINITY;
      await h.restartBridge();
      const restartedAt = Date.now();
      await waitFor(() => h.sim.requests.some((e) => e.at >= restartedAt && e.errorCode === -500), 5_000, 'the bridge to try the cloud');
      // Whatever the last run left retained (online, or offline once its reads went stale), the
      // broker must now say offline for every device.
      await waitFor(
        async () => {
          for (const key of keys) if ((await h.obs.retained(`kasa/${key}/availability`))?.text !== '{"state":"offline"}') return false;
          return true;
        },
        5_000,
        'every device to be retained offline',
      );
    });

    // During a restart into an outage every key is unknown (no device list yet): the
    // unknown_device answer still carries the request's transaction.
    it('meanwhile a command is answered with its transaction', async () => {
      const mark = h.obs.messages.length;
      const answer = h.obs.next(`kasa/${keys[0]}/response/set`, (m) => h.obs.messages.indexOf(m) >= mark, 5_000);
      await h.obs.publish(`kasa/${keys[0]}/set`, JSON.stringify({ state: 'ON', transaction: 'during-outage' }), { qos: 1 });
      const response = (await answer).json<SetResponse>();
      expect(response.status).toBe('error');
      expect(response).toMatchObject({ transaction: 'during-outage' });
    });

    it('after the outage the devices recover by themselves', async () => {
      const mark = h.obs.messages.length;
      h.sim.resetFaults();
      await Promise.all(keys.map((key) => h.obs.next(`kasa/${key}/availability`, (m) => h.obs.messages.indexOf(m) >= mark && online(m), 15_000)));
      const [ok] = await publishSets(h, [{ key: keys[0]!, payload: { state: 'ON' } }]);
      expect(ok?.status).toBe('ok');
    });

    it('broker restart without persistence: every retained topic is back within 10 s and commands work', async (ctx) => {
      if (!broker.canRestart) {
        console.warn(`faults.test: broker restart skipped: the ${broker.kind} broker cannot be restarted`);
        ctx.skip(`the ${broker.kind} broker cannot be restarted`);
      }
      const version = broker.mqtt5 ? 5 : 4;
      const snapshot = async () => {
        const ours = await readRetained(broker.url, 'kasa/#', version);
        for (const [topic, m] of await readRetained(broker.url, 'homeassistant/#', version)) ours.set(topic, m);
        return ours;
      };
      await h.obs.barrier();
      const before = await snapshot();
      const topics = [...before.keys()];
      // What must come back, by kind.
      expect(before.get('kasa/bridge/state')?.text).toBe('{"state":"online"}');
      for (const t of ['kasa/bridge/auth', 'kasa/bridge/devices', 'kasa/bridge/info']) expect(topics, t).toContain(t);
      for (const key of keys) {
        expect(topics).toContain(`kasa/${key}`);
        expect(topics).toContain(`kasa/${key}/availability`);
      }
      expect(topics.filter((t) => t.startsWith('homeassistant/device/')).length).toBeGreaterThan(keys.length);

      await broker.stop();
      await broker.start();
      const restartedAt = Date.now();
      expect((await snapshot()).size).toBeLessThan(before.size); // really lost: no persistence

      let after = new Map<string, ObservedMessage>();
      await waitFor(
        async () => {
          after = await snapshot();
          return topics.every((t) => after.has(t)) && after.get('kasa/bridge/state')?.text === '{"state":"online"}';
        },
        10_000,
        'every retained topic to be republished',
      );
      expect(Date.now() - restartedAt).toBeLessThan(10_000);
      const isNodeState = (t: string) => /^kasa\/[^/]+$/.test(t) && !t.startsWith('kasa/bridge');
      for (const t of topics) {
        // Node states may legitimately have moved on (meters); everything else is as it was.
        if (!isNodeState(t)) expect(after.get(t)?.text, t).toBe(before.get(t)?.text);
      }

      await h.obs.barrier(10_000);
      const responses = await publishSets(h, keys.slice(0, 3).map((key) => ({ key, payload: { state: 'ON' } })));
      expect(codes(responses)).toEqual(['ok', 'ok', 'ok']);
    });
  });
});

describe('request timeouts', { concurrent: true }, () => {
  describe('in order', { sequential: true }, () => {
    let broker: TestBroker;
    let h: Harness;
    let keys: string[] = [];
    const account = demoAccount({ username: 'slow-cloud@example.com', mfa: false });

    beforeAll(async () => {
      broker = await startTestBroker();
      h = await startHarness({ broker, account, env: { KASA_REQUEST_TIMEOUT: '1', KASA_PASSTHROUGH_TIMEOUT: '1' }, timing: FAST_BACKOFF });
      keys = (await listedNodes(h)).map((n) => n.key);
    });
    afterAll(async () => {
      h?.sim.resetFaults();
      await h?.stop();
      await broker?.stop();
    });

    it('a cloud slower than KASA_PASSTHROUGH_TIMEOUT: commands are answered timeout within a bounded time', async () => {
      // A 1 s timeout (not less): under machine load a healthy request must still fit in it.
      h.sim.faults.delayMs = 4_000;
      const started = Date.now();
      const responses = await publishSets(h, keys.slice(0, 3).map((key) => ({ key, payload: { state: 'ON' } })));
      const elapsed = Date.now() - started;
      expect(codes(responses)).toEqual(['timeout', 'timeout', 'timeout']);
      for (const r of responses) {
        expect(r.latency_ms).toBeGreaterThanOrEqual(950);
        expect(r.latency_ms).toBeLessThan(3_000);
      }
      expect(elapsed).toBeLessThan(3_000);

      h.sim.resetFaults();
      const after = await publishSets(h, [{ key: keys[0]!, payload: { state: 'OFF' } }]);
      expect(codes(after)).toEqual(['ok']);
    });
  });
});

describe('KASA_RATE_LIMIT under a burst of commands', { concurrent: true }, () => {
  describe('in order', { sequential: true }, () => {
    let broker: TestBroker;
    let h: Harness;
    const RATE = 30;
    const devices: SimDeviceSpec[] = Array.from({ length: 20 }, (_, i) => ({
      model: i % 2 === 0 ? 'HS103(US)' : 'HS220(US)',
      alias: `Burst ${String(i + 1).padStart(2, '0')}`,
    }));
    const account: SimAccountSpec = { username: 'burst-limit@example.com', password: 'Burst-Limit-9', devices };

    beforeAll(async () => {
      broker = await startTestBroker();
      h = await startHarness({ broker, account, env: { KASA_RATE_LIMIT: String(RATE), KASA_RATE_BURST: '5' } });
    });
    afterAll(async () => {
      await h?.stop();
      await broker?.stop();
    });

    it(
      '60 sets across 20 devices: at most 30 requests in any 60 s, every command answered, last value wins, fewer requests than commands',
      { timeout: 60_000 },
      async () => {
        const list = await h.obs.next(
          'kasa/bridge/devices',
          (m) => m.text.startsWith('[') && m.json<BridgeDeviceEntry[]>().filter((d) => d.online).length === devices.length,
          10_000,
        );
        const nodes = list.json<BridgeDeviceEntry[]>();
        // Three rounds over all devices; the value of the last round must win, the earlier ones differ from it.
        const finals = new Map<string, object>();
        const sets: SetCommand[] = [];
        for (let round = 0; round < 3; round++) {
          for (const [i, node] of nodes.entries()) {
            const last = round === 2;
            const payload =
              node.type === 'dimmer'
                ? { brightness: last ? 60 + i : 10 + round * 20 + i }
                : { state: (i % 2 === 0) === last ? 'ON' : 'OFF' };
            if (last) finals.set(node.key, payload);
            sets.push({ key: node.key, payload });
          }
        }
        expect(sets).toHaveLength(60);
        const burstAt = Date.now();

        const responses = await publishSets(h, sets, 55_000);

        expect(codes(responses)).toEqual(sets.map(() => 'ok'));
        // The device ends in its last commanded state, in the cloud and on MQTT.
        for (const node of nodes) {
          const final = finals.get(node.key) as { state?: string; brightness?: number };
          const sysinfo = h.sim.device(node.id).sysinfo();
          if (final.brightness !== undefined) {
            expect(sysinfo, node.key).toMatchObject({ relay_state: 1, brightness: final.brightness });
          } else {
            expect(sysinfo, node.key).toMatchObject({ relay_state: final.state === 'ON' ? 1 : 0 });
          }
          const retained = (await h.obs.retained(`kasa/${node.key}`))?.json<NodeState>();
          expect(retained, node.key).toMatchObject(final.brightness !== undefined ? { state: 'ON', brightness: final.brightness } : final);
        }
        // Coalescing: far fewer set requests than commands (one per device plus a few follow-ups).
        const setRequests = h.sim.requests.filter((e) => e.at >= burstAt && isSetRequest(e));
        expect(setRequests.length).toBeGreaterThanOrEqual(devices.length);
        expect(setRequests.length).toBeLessThan(sets.length);
        // The limit: in every 60 s window at most RATE passthroughs reached the cloud.
        const starts = h.sim.requests.filter((e) => e.op === 'passthrough').map((e) => e.at);
        const busiest = Math.max(...starts.map((t) => starts.filter((s) => s >= t && s < t + 60_000).length));
        expect(busiest).toBeLessThanOrEqual(RATE);
        // The demand really was above the limit: the burst had to wait for the bucket.
        expect(Math.max(...responses.map((r) => r.latency_ms ?? 0))).toBeGreaterThan(20_000);
      },
    );
  });
});
