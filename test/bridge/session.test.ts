/**
 * The cloud session under stress, through a real broker and the real simulator: tokens that
 * expire in the middle of a burst, refresh tokens that expire on trusted and untrusted terminals,
 * and an account that locks. Asserts what an MQTT subscriber sees and what reached the cloud.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, type Dispatcher } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AvailabilityPayload, BridgeAuthPayload, BridgeDeviceEntry, BridgeEvent, SetResponse } from '../../src/api/types.js';
import { Bridge } from '../../src/bridge/bridge.js';
import { createLogger } from '../../src/logger.js';
import { demoAccount } from '../../src/simulator/catalog.js';
import { startSimulator } from '../../src/simulator/index.js';
import type { SimAccountSpec, SimRequestLogEntry, Simulator } from '../../src/simulator/types.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { FAST_TIMING, LogCapture, startHarness, type Harness } from '../helpers/bridgeHarness.js';
import { waitFor, type ObservedMessage } from '../helpers/mqttObserver.js';
import { call, loginBody } from '../simulator/client.js';

const authIs = (state: string, extra: (p: BridgeAuthPayload) => boolean = () => true) => (m: ObservedMessage) =>
  m.text !== '' && m.json<BridgeAuthPayload>().state === state && extra(m.json<BridgeAuthPayload>());
const availability = (state: AvailabilityPayload['state']) => (m: ObservedMessage) => m.text === JSON.stringify({ state });
const SETTABLE: ReadonlySet<string> = new Set(['plug', 'switch', 'dimmer', 'outlet', 'bulb', 'lightstrip']);
/** The demo account has 6 + 3 strip outlets; bridge/devices is complete once all are listed. */
const DEMO_OUTLETS = 9;

/** A passthrough that changes a device (as opposed to a poll). */
const isSetRequest = (e: SimRequestLogEntry) => e.op === 'passthrough' && /"(set_\w+|transition_light_state)"/.test(JSON.stringify(e.requestData));

/** Waits for the full device list, then for every settable online node to be available; returns those nodes. */
async function settableNodes(h: Harness): Promise<BridgeDeviceEntry[]> {
  const devices = await h.obs.next(
    'kasa/bridge/devices',
    (m) => m.text.startsWith('[') && m.json<BridgeDeviceEntry[]>().filter((d) => d.type === 'outlet').length === DEMO_OUTLETS,
    10_000,
  );
  const nodes = devices.json<BridgeDeviceEntry[]>().filter((d) => d.supported && d.online && SETTABLE.has(d.type));
  await Promise.all(nodes.map((n) => h.obs.next(`kasa/${n.key}/availability`, availability('online'), 10_000)));
  return nodes;
}

/** Publishes one set per key (back to back, QoS 1) and returns each key's response, matched by transaction. */
async function setAll(h: Harness, keys: readonly string[], payload: (key: string, i: number) => object): Promise<Map<string, SetResponse>> {
  const tag = Math.random().toString(36).slice(2, 8);
  const answers = keys.map((key, i) =>
    h.obs.next(`kasa/${key}/response/set`, (m) => m.json<SetResponse>().transaction === `${tag}-${i}`, 10_000),
  );
  for (const [i, key] of keys.entries()) {
    await h.obs.publish(`kasa/${key}/set`, JSON.stringify({ ...payload(key, i), transaction: `${tag}-${i}` }), { qos: 1 });
  }
  const responses = await Promise.all(answers);
  return new Map(responses.map((m, i) => [keys[i]!, m.json<SetResponse>()]));
}

function codesOf(responses: Map<string, SetResponse>): string[] {
  return [...responses.values()].map((r) => (r.status === 'ok' ? 'ok' : r.error!.code));
}

describe('access token expiry during a burst of commands', () => {
  let broker: TestBroker;
  let h: Harness;
  const account = demoAccount({ username: 'burst@example.com', mfa: false });

  beforeAll(async () => {
    broker = await startTestBroker();
    // Polls every second: background requests are in flight too when the token expires.
    h = await startHarness({ broker, account, env: { KASA_POLL_INTERVAL: '1' } });
  });
  afterAll(async () => {
    await h?.stop();
    await broker?.stop();
  });

  it('answers every command ok with exactly one refresh and no password login', async () => {
    const nodes = await settableNodes(h);
    expect(nodes.length).toBeGreaterThanOrEqual(10);
    const keys = nodes.slice(0, 10).map((n) => n.key);
    h.sim.clearRequests();
    h.sim.expireAccessTokens();

    const responses = await setAll(h, keys, (_key, i) => ({ state: i % 2 === 0 ? 'ON' : 'OFF' }));

    expect(codesOf(responses)).toEqual(keys.map(() => 'ok'));
    // The burst really ran into the expired token, and all of it was served by one refresh.
    expect(h.sim.count({ op: 'passthrough', errorCode: -20651 })).toBeGreaterThan(0);
    expect(h.sim.count({ op: 'refreshToken' })).toBe(1);
    expect(h.sim.count({ op: 'login' })).toBe(0);
    expect(h.sim.requests.filter((e) => isSetRequest(e) && e.errorCode === 0)).toHaveLength(10);
    expect((await h.obs.retained('kasa/bridge/auth'))?.json<BridgeAuthPayload>().state).toBe('authenticated');
  });
});

describe('refresh token expiry', () => {
  let broker: TestBroker;
  let h: Harness;
  // A random code per dispatch: a code from an earlier round cannot complete a later one.
  const { mfaCode: _fixed, ...account } = demoAccount({ username: 'refresh@example.com', password: 'Refresh-Me-77' });
  let keys: string[] = [];
  let firstChallenge: string | undefined;
  let mark = 0;

  beforeAll(async () => {
    broker = await startTestBroker();
    h = await startHarness({ broker, account });
    const round = await h.obs.next('kasa/bridge/auth', authIs('mfa_required'), 10_000);
    firstChallenge = round.json<BridgeAuthPayload>().challenge;
    await h.obs.publish('kasa/bridge/mfa', h.sim.lastMfaCode(account.username)!, { qos: 1 });
    await h.obs.next('kasa/bridge/auth', authIs('authenticated'), 10_000);
    keys = (await settableNodes(h)).map((n) => n.key);
  });
  afterAll(async () => {
    await h?.stop();
    await broker?.stop();
  });

  it('on a trusted terminal: the next commands log in again once with the password, no MFA, auth stays authenticated', async () => {
    const terminalBefore = storedTerminal(h);
    h.sim.clearRequests();
    mark = h.obs.messages.length;
    h.sim.expireAccessTokens();
    h.sim.expireRefreshTokens();

    const burst = keys.slice(0, 6);
    const responses = await setAll(h, burst, () => ({ state: 'ON' }));

    expect(codesOf(responses)).toEqual(burst.map(() => 'ok'));
    expect(h.sim.count({ op: 'refreshToken', errorCode: -20655 })).toBe(1);
    expect(h.sim.count({ op: 'login' })).toBe(1);
    expect(h.sim.count({ op: 'login', errorCode: 0 })).toBe(1);
    expect(h.sim.count({ op: 'getEmailVC4TerminalMFA' })).toBe(0);
    expect(h.sim.count({ op: 'getPushVC4TerminalMFA' })).toBe(0);
    expect(storedTerminal(h)).toBe(terminalBefore);
    await h.obs.barrier();
    const authAfter = h.obs.messages.slice(mark).filter((m) => m.topic === 'kasa/bridge/auth');
    expect(authAfter.map((m) => m.json<BridgeAuthPayload>().state).filter((s) => s !== 'authenticated')).toEqual([]);
    expect((await h.obs.retained('kasa/bridge/auth'))?.json<BridgeAuthPayload>().state).toBe('authenticated');
  });

  it('on an untrusted terminal: the command is answered auth_required, a new MFA round opens, devices go offline', async () => {
    // The previous test used this process's one automatic password login of the next 10 minutes;
    // a restart (someone acting) starts afresh, as a user would see it after an upgrade.
    await h.restartBridge();
    await settableNodes(h);
    h.sim.untrustTerminals(account.username);
    h.sim.clearRequests();
    h.sim.expireAccessTokens();
    h.sim.expireRefreshTokens();

    const burst = keys.slice(0, 6);
    const responses = await setAll(h, burst, () => ({ state: 'OFF' }));

    expect(codesOf(responses)).toEqual(burst.map(() => 'auth_required'));
    const round = (await h.obs.next('kasa/bridge/auth', authIs('mfa_required'))).json<BridgeAuthPayload>();
    expect(round).toMatchObject({ mfa_type: 'email', attempts_left: 3 });
    expect(round.challenge).toBeTruthy();
    expect(round.challenge).not.toBe(firstChallenge);
    expect(h.sim.count({ op: 'login' })).toBe(1);
    expect(h.sim.count({ op: 'getEmailVC4TerminalMFA' })).toBe(1);
    await Promise.all(keys.map((key) => h.obs.next(`kasa/${key}/availability`, availability('offline'))));
    for (const key of keys) {
      expect((await h.obs.retained(`kasa/${key}/availability`))?.text, key).toBe('{"state":"offline"}');
    }
  });

  it('while the session is unusable: commands are answered auth_required at once, without any cloud request', async () => {
    const before = h.sim.requests.length;
    const eventsFrom = h.obs.messages.length;
    const started = Date.now();
    const responses = await setAll(h, keys.slice(0, 4), () => ({ state: 'ON' }));
    expect(codesOf(responses)).toEqual(['auth_required', 'auth_required', 'auth_required', 'auth_required']);
    for (const r of responses.values()) expect(r.latency_ms).toBeLessThan(200);
    expect(Date.now() - started).toBeLessThan(2_000);
    await h.obs.publish(`kasa/${keys[1]}/get`, '', { qos: 1 });
    await h.obs.barrier();
    const failed = h.obs
      .on('kasa/bridge/event')
      .filter((m) => h.obs.messages.indexOf(m) >= eventsFrom)
      .map((m) => m.json<BridgeEvent>())
      .filter((e) => e.type === 'command_failed');
    expect(failed.map((e) => [e.key, e.error.code])).toEqual(keys.slice(0, 4).map((key) => [key, 'auth_required']));
    expect(h.sim.requests.slice(before)).toEqual([]);
  });

  it('a broker restart during the round: bridge/auth and availability come back as they were, the code topic still listens', async (ctx) => {
    if (!broker.canRestart) {
      console.warn(`session.test: broker restart skipped: the ${broker.kind} broker cannot be restarted`);
      ctx.skip(`the ${broker.kind} broker cannot be restarted`);
    }
    const auth = (await h.obs.retained('kasa/bridge/auth'))!.text;
    expect(JSON.parse(auth)).toMatchObject({ state: 'mfa_required' });
    await broker.stop();
    await broker.start();
    await waitFor(async () => (await h.obs.retained('kasa/bridge/auth'))?.text === auth, 10_000, 'bridge/auth to be restored');
    expect((await h.obs.retained('kasa/bridge/state'))?.text).toBe('{"state":"online"}');
    for (const key of keys) expect((await h.obs.retained(`kasa/${key}/availability`))?.text, key).toBe('{"state":"offline"}');
    await h.obs.barrier(10_000);
  });

  it('a code on kasa/bridge/mfa completes it; devices come back online by themselves and commands work', async () => {
    const code = h.sim.lastMfaCode(account.username)!;
    await h.obs.publish('kasa/bridge/mfa', code, { qos: 1 });
    await h.obs.next('kasa/bridge/auth', authIs('authenticated'), 10_000);
    await Promise.all(keys.map((key) => h.obs.next(`kasa/${key}/availability`, availability('online'), 10_000)));
    expect(h.sim.count({ op: 'checkMFACodeAndLogin', errorCode: 0 })).toBe(1);

    const responses = await setAll(h, keys.slice(0, 3), () => ({ state: 'ON' }));
    expect(codesOf(responses)).toEqual(['ok', 'ok', 'ok']);
  });

  it('a restart that finds the session unusable shows every device offline, not what the last run left retained', async () => {
    for (const key of keys) expect((await h.obs.retained(`kasa/${key}/availability`))?.text, key).toBe('{"state":"online"}');
    h.sim.untrustTerminals(account.username);
    h.sim.expireAccessTokens();
    h.sim.expireRefreshTokens();
    mark = h.obs.messages.length;

    await h.restartBridge();

    await h.obs.next('kasa/bridge/auth', (m) => h.obs.messages.indexOf(m) >= mark && authIs('mfa_required')(m), 10_000);
    await h.obs.barrier();
    for (const key of keys) expect((await h.obs.retained(`kasa/${key}/availability`))?.text, key).toBe('{"state":"offline"}');

    await h.obs.publish('kasa/bridge/mfa', h.sim.lastMfaCode(account.username)!, { qos: 1 });
    await h.obs.next('kasa/bridge/auth', authIs('authenticated'), 10_000);
    await Promise.all(keys.map((key) => h.obs.next(`kasa/${key}/availability`, availability('online'), 10_000)));
  });
});

describe('a locked account', () => {
  let broker: TestBroker;
  const simOptions = { maxPasswordFailures: 1 };

  /** One wrong password from another client locks the account (maxPasswordFailures 1). */
  async function lock(sim: Simulator, username: string): Promise<void> {
    const res = await call(sim.regionalUrl, '/api/v2/account/login', loginBody(username, 'somebody-else-typed-this'));
    expect(res.body).toMatchObject({ error_code: -20601, result: { remainAttempts: 0 } });
  }

  beforeAll(async () => {
    broker = await startTestBroker();
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('found by the automatic relogin: error account_locked, commands auth_required, no retry loop', async () => {
    const account: SimAccountSpec = demoAccount({ username: 'locked-later@example.com', mfa: false });
    const h = await startHarness({ broker, account, simOptions });
    try {
      const keys = (await settableNodes(h)).map((n) => n.key);
      await lock(h.sim, account.username);
      h.sim.clearRequests();
      h.sim.expireAccessTokens();
      h.sim.expireRefreshTokens();

      const first = await setAll(h, [keys[0]!], () => ({ state: 'ON' }));
      expect(codesOf(first)).toEqual(['auth_required']);
      const auth = (await h.obs.next('kasa/bridge/auth', authIs('error'))).json<BridgeAuthPayload>();
      expect(auth.last_error).toBe('account_locked');
      expect(h.sim.count({ op: 'login', errorCode: -20675 })).toBe(1);
      await h.obs.next(`kasa/${keys[0]}/availability`, availability('offline'));

      // Everything that could trigger another login: more commands, a read, a device refresh.
      const more = await setAll(h, keys.slice(0, 3), () => ({ state: 'OFF' }));
      expect(codesOf(more)).toEqual(['auth_required', 'auth_required', 'auth_required']);
      await h.obs.publish(`kasa/${keys[1]}/get`, '', { qos: 1 });
      await h.obs.publish('kasa/bridge/request/devices/refresh', '{}', { qos: 1 });
      await h.obs.next('kasa/bridge/response/devices/refresh');
      await h.obs.barrier();
      expect(h.sim.count({ op: 'login' })).toBe(1);
      expect((await h.obs.retained('kasa/bridge/auth'))?.json<BridgeAuthPayload>()).toMatchObject({
        state: 'error',
        last_error: 'account_locked',
      });
      expect(h.logs.text).not.toContain('somebody-else-typed-this');
    } finally {
      await h.stop();
    }
  });

  it('found at start: error account_locked after one login, nothing more', async () => {
    const account: SimAccountSpec = demoAccount({ username: 'locked-early@example.com', mfa: false });
    const sim = await startSimulator({ ...simOptions, accounts: [account] });
    await lock(sim, account.username);
    sim.clearRequests();
    const h = await startHarness({ broker, account, sim });
    try {
      const auth = (await h.obs.next('kasa/bridge/auth', authIs('error'))).json<BridgeAuthPayload>();
      expect(auth.last_error).toBe('account_locked');
      await h.obs.publish('kasa/bridge/request/devices/refresh', '{}', { qos: 1 });
      await h.obs.next('kasa/bridge/response/devices/refresh');
      await h.obs.barrier();
      expect(sim.count({ op: 'login' })).toBe(1);
      expect(sim.count({ op: 'login', errorCode: -20675 })).toBe(1);
      expect(sim.count({ op: 'getDeviceList' })).toBe(0);
      expect(sim.count({ op: 'passthrough' })).toBe(0);
    } finally {
      await h.stop();
      await sim.stop();
    }
  });
});

/**
 * Holds back the next cloud request whose body contains every one of `needles` (it is sent, with
 * the token it was built with, when released): a request to a slow far-away device host, as seen
 * from a bridge whose regional host answers fast.
 */
class HeldRequest {
  #needles: string[] | undefined;
  #release: (() => void) | undefined;
  readonly #released: Promise<void>;
  held = false;

  constructor() {
    this.#released = new Promise<void>((resolve) => (this.#release = resolve));
  }

  holdNext(...needles: string[]): void {
    this.#needles = needles;
  }

  release(): void {
    this.#release?.();
  }

  dispatcher(): Dispatcher {
    return new Agent().compose((dispatch) => (opts, handler) => {
      const body = typeof opts.body === 'string' ? opts.body : '';
      if (this.#needles && this.#needles.every((n) => body.includes(n))) {
        this.#needles = undefined;
        this.held = true;
        void this.#released.then(() => dispatch(opts, handler));
        return true;
      }
      return dispatch(opts, handler);
    });
  }
}

/** The terminal UUID the bridge keeps in DATA_DIR (the one the cloud trusts after an MFA round). */
function storedTerminal(h: Harness): string {
  return (JSON.parse(readFileSync(join(h.dataDir, 'session.json'), 'utf8')) as { terminalUUID: string }).terminalUUID;
}

describe('a late "token expired" answer after a relogin that needs MFA', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startTestBroker();
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('starts no second login: one code is mailed, the round stays the same, and that code completes it', async () => {
    const { mfaCode: _fixed, ...account } = demoAccount({ username: 'late-answer@example.com', password: 'Late-Answer-5' });
    const h = await startHarness({ broker, account, start: false });
    const held = new HeldRequest();
    const bridge = new Bridge({
      config: h.config,
      logger: createLogger({ level: 'debug', destination: new LogCapture() }),
      timing: FAST_TIMING,
      cloudDispatcher: held.dispatcher(),
    });
    try {
      await bridge.start();
      await h.obs.next('kasa/bridge/auth', authIs('mfa_required'), 10_000);
      await h.obs.publish('kasa/bridge/mfa', h.sim.lastMfaCode(account.username)!, { qos: 1 });
      await h.obs.next('kasa/bridge/auth', authIs('authenticated'), 10_000);
      const nodes = await settableNodes(h);
      const [slow, fast] = [nodes.find((n) => n.key === 'bedroom_desk_light')!, nodes.find((n) => n.key === 'kitchen_light_switch')!];
      // The first reads (and the energy reads they start) are over: only the two sets below will meet the expired token.
      const { scheduler } = bridge.diagnostics();
      await waitFor(() => scheduler.inFlight === 0 && scheduler.queueDepth === 0, 5_000, 'the start-up reads to finish');

      h.sim.untrustTerminals(account.username);
      h.sim.expireAccessTokens();
      h.sim.expireRefreshTokens();
      h.sim.clearRequests();
      // The set for the slow device leaves with the (now expired) token but reaches the cloud late.
      held.holdNext(slow.id, 'set_relay_state');
      const slowAnswer = h.obs.next(`kasa/${slow.key}/response/set`, undefined, 10_000);
      await h.obs.publish(`kasa/${slow.key}/set`, 'ON', { qos: 1 });
      await Promise.race([
        waitFor(() => held.held, 5_000, 'the slow request to be held'),
        slowAnswer.then((m) => Promise.reject(new Error(`answered before it was sent: ${m.text}`))),
      ]);
      // Meanwhile a fast one finds the token expired, the refresh expired, and a login that needs MFA.
      const fastAnswer = await setAll(h, [fast.key], () => ({ state: 'ON' }));
      expect(codesOf(fastAnswer)).toEqual(['auth_required']);
      const round = (await h.obs.next('kasa/bridge/auth', authIs('mfa_required'))).json<BridgeAuthPayload>();
      const mailed = h.sim.lastMfaCode(account.username)!;

      held.release();
      expect((await slowAnswer).json<SetResponse>()).toMatchObject({ status: 'error', error: { code: 'auth_required' } });
      await h.obs.barrier();
      expect(h.sim.count({ op: 'login' })).toBe(1);
      expect(h.sim.count({ op: 'getEmailVC4TerminalMFA' })).toBe(1);
      expect((await h.obs.retained('kasa/bridge/auth'))?.json<BridgeAuthPayload>()).toMatchObject({
        state: 'mfa_required',
        challenge: round.challenge,
      });

      await h.obs.publish('kasa/bridge/mfa', JSON.stringify({ code: mailed, challenge: round.challenge }), { qos: 1 });
      await h.obs.next('kasa/bridge/auth', authIs('authenticated'), 10_000);
      await h.obs.next(`kasa/${slow.key}/availability`, availability('online'), 10_000);
      expect(codesOf(await setAll(h, [slow.key], () => ({ state: 'ON' })))).toEqual(['ok']);
    } finally {
      held.release();
      await bridge.stop();
      await h.stop();
    }
  });
});
