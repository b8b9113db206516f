/**
 * The whole bridge against the shapes the real cloud is known to answer, through a real broker
 * and the simulator over real sockets: every published MFA dialect, tokens revoked underneath a
 * running bridge, refresh failures, an answer nobody knows, and a cloud that holds a passthrough.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BridgeAuthPayload, SetResponse } from '../../src/api/types.js';
import { MFA_DIALECTS, type SimAccountSpec, type SimRequestLogEntry } from '../../src/simulator/types.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { startHarness, type Harness } from '../helpers/bridgeHarness.js';
import { both, since, type ObservedMessage } from '../helpers/mqttObserver.js';

const authIs =
  (state: BridgeAuthPayload['state'], lastError?: BridgeAuthPayload['last_error']) =>
  (m: ObservedMessage): boolean =>
    m.text !== '' && m.json<BridgeAuthPayload>().state === state && (lastError === undefined || m.json<BridgeAuthPayload>().last_error === lastError);
const online = (m: ObservedMessage): boolean => m.text === '{"state":"online"}';

const PLUG = { deviceId: '8006A1B2C3D4E5F6A1B2C3D4E5F6A1B2C3D4E501', model: 'HS103(US)', alias: 'Desk lamp' };
const KEY = 'desk_lamp';

function account(username: string, mfa: boolean): SimAccountSpec {
  // No fixed code: each dispatch mails a fresh random one, as the cloud does.
  return { username, password: 'Real-Cloud-Pa55', mfa, devices: [{ ...PLUG }] };
}

async function set(h: Harness, payload: object): Promise<SetResponse> {
  const transaction = Math.random().toString(36).slice(2);
  const answer = h.obs.next(`${h.base}/${KEY}/response/set`, (m) => m.json<SetResponse>().transaction === transaction, 15_000);
  await h.obs.publish(`${h.base}/${KEY}/set`, JSON.stringify({ ...payload, transaction }), { qos: 1 });
  return (await answer).json<SetResponse>();
}

/** Every test its own base topic on the shared broker, so no retained message of another test matches. */
let runs = 0;
const ownBase = (): Record<string, string> => ({ MQTT_BASE_TOPIC: `kasa_rc${++runs}` });

let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await broker?.stop();
});

describe.each(MFA_DIALECTS)('MFA dialect %s', (dialect) => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.stop();
    h = undefined;
  });

  it('the MFA round over MQTT, then a token expiry recovered by refreshToken with no password login', async () => {
    const spec = account(`${dialect}@example.com`, true);
    h = await startHarness({ broker, account: spec, simOptions: { mfaDialect: dialect }, env: ownBase() });
    await h.obs.next(`${h.base}/bridge/auth`, authIs('mfa_required'), 10_000);
    await h.obs.publish(`${h.base}/bridge/mfa`, h.sim.lastMfaCode(spec.username)!, { qos: 1 });
    await h.obs.next(`${h.base}/bridge/auth`, authIs('authenticated'), 10_000);
    await h.obs.next(`${h.base}/${KEY}/availability`, online, 10_000);
    expect(h.sim.count({ op: 'login' })).toBe(1);
    expect(h.sim.count({ op: 'checkMFACodeAndLogin', errorCode: 0 })).toBe(1);

    h.sim.expireAccessTokens();
    expect(await set(h, { state: 'ON' })).toMatchObject({ status: 'ok', data: { state: 'ON' } });
    expect(h.sim.count({ op: 'passthrough', errorCode: -20651 })).toBeGreaterThan(0);
    expect(h.sim.count({ op: 'refreshToken', errorCode: 0 })).toBe(1);
    expect(h.sim.count({ op: 'login' })).toBe(1);
    expect(h.sim.device(PLUG.deviceId).sysinfo()['relay_state']).toBe(1);
  });
});

describe('recovery without a person', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.stop();
    h = undefined;
  });

  it('revoked access token (-20675): refresh, retry, the command lands; no password login', async () => {
    h = await startHarness({ broker, account: account('revoked@example.com', false), env: ownBase() });
    await h.obs.next(`${h.base}/${KEY}/availability`, online, 10_000);
    h.sim.clearRequests();
    h.sim.revokeTokens();
    expect(await set(h, { state: 'ON' })).toMatchObject({ status: 'ok' });
    expect(h.sim.count({ op: 'passthrough', errorCode: -20675 })).toBeGreaterThan(0);
    expect(h.sim.count({ op: 'refreshToken', errorCode: 0 })).toBe(1);
    expect(h.sim.count({ op: 'login' })).toBe(0);
    expect((await h.obs.retained(`${h.base}/bridge/auth`))?.json<BridgeAuthPayload>().state).toBe('authenticated');
  });

  it('refresh refused with a code other than -20655: one password login on the trusted terminal, then the command; a second revocation within 10 minutes stops and waits for the user', async () => {
    const spec = account('refresh-fails@example.com', true);
    h = await startHarness({ broker, account: spec, env: ownBase() });
    await h.obs.next(`${h.base}/bridge/auth`, authIs('mfa_required'), 10_000);
    await h.obs.publish(`${h.base}/bridge/mfa`, h.sim.lastMfaCode(spec.username)!, { qos: 1 });
    await h.obs.next(`${h.base}/bridge/auth`, authIs('authenticated'), 10_000);
    await h.obs.next(`${h.base}/${KEY}/availability`, online, 10_000);
    h.sim.clearRequests();

    h.sim.revokeTokens({ refresh: true });
    expect(await set(h, { state: 'ON' })).toMatchObject({ status: 'ok' });
    expect(h.sim.count({ op: 'refreshToken', errorCode: -20675 })).toBe(1);
    expect(h.sim.count({ op: 'login', errorCode: 0 })).toBe(1);
    // The terminal was trusted by the MFA round: no new code.
    expect(h.sim.count({ op: 'getEmailVC4TerminalMFA' })).toBe(0);

    const after = since(h.obs);
    h.sim.revokeTokens({ refresh: true });
    expect(await set(h, { state: 'OFF' })).toMatchObject({ status: 'error', error: { code: 'auth_required' } });
    await h.obs.next(`${h.base}/bridge/auth`, both(after, authIs('error', 'session_revoked')), 10_000);
    await h.obs.next(`${h.base}/${KEY}/availability`, both(after, (m) => m.text === '{"state":"offline"}'), 10_000);
    // Still one password login in this window: the cap held.
    expect(h.sim.count({ op: 'login' })).toBe(1);

    // The user asks: a new login happens at once.
    await h.obs.publish(`${h.base}/bridge/request/auth/login`, '{}', { qos: 1 });
    await h.obs.next(`${h.base}/bridge/auth`, both(after, authIs('authenticated')), 10_000);
    expect(h.sim.count({ op: 'login', errorCode: 0 })).toBe(2);
    expect(await set(h, { state: 'OFF' })).toMatchObject({ status: 'ok' });
  });

  it('an answer the client does not understand: error protocol_error, not cloud_unreachable, and no login loop', async () => {
    const spec = account('unknown-answer@example.com', false);
    // Login retries after transient failures every 100 ms here, so a loop would show at once.
    h = await startHarness({ broker, account: spec, env: ownBase(), start: false, timing: { loginRetryMs: [100, 200] } });
    h.sim.faults.unknownLoginAnswer = true;
    await h.bridge.start();
    const error = await h.obs.next(`${h.base}/bridge/auth`, authIs('error'), 10_000);
    expect(error.json<BridgeAuthPayload>().last_error).toBe('protocol_error');
    expect(h.logs.text).toMatch(/-29999/);
    expect(h.logs.text).toMatch(/does not know/);
    // Control: the same bridge retries a transient failure within this window ...
    h.sim.faults.unknownLoginAnswer = false;
    h.sim.faults.http500 = 1;
    const after = since(h.obs);
    await h.obs.publish(`${h.base}/bridge/request/auth/login`, '{}', { qos: 1 });
    await h.obs.next(`${h.base}/bridge/auth`, both(after, authIs('authenticated')), 10_000);
    // ... but the unknown answer was asked exactly once.
    expect(h.sim.count({ op: 'login', errorCode: -29999 })).toBe(1);
    expect(h.sim.count({ errorCode: -500 })).toBe(1);
  });
});

describe('a cloud that holds passthroughs while it wakes the device', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.stop();
    h = undefined;
  });

  it('a set slower than KASA_REQUEST_TIMEOUT lands and is answered ok; later sets merge; one request per device at a time', async () => {
    h = await startHarness({
      broker,
      account: account('slow@example.com', false),
      env: { ...ownBase(), KASA_REQUEST_TIMEOUT: '0.5', KASA_PASSTHROUGH_TIMEOUT: '10', KASA_POLL_INTERVAL: '0.2' },
    });
    await h.obs.next(`${h.base}/${KEY}/availability`, online, 10_000);
    h.sim.clearRequests();
    h.sim.faults.holdPassthroughMs = 1_200;

    const first = set(h, { state: 'ON' });
    const merged = [set(h, { state: 'OFF' }), set(h, { state: 'ON' })];
    const answers = await Promise.all([first, ...merged]);
    expect(answers.map((a) => a.status)).toEqual(['ok', 'ok', 'ok']);
    expect(h.sim.device(PLUG.deviceId).sysinfo()['relay_state']).toBe(1);
    const sets = h.sim.requests.filter((e) => e.op === 'passthrough' && JSON.stringify(e.requestData).includes('set_relay_state'));
    expect(sets.length).toBeLessThanOrEqual(2);
    expect(overlapping(h.sim.requests.filter((e) => e.op === 'passthrough'))).toBe(false);
  });
});

/** Whether any two requests were in the cloud at the same time (`at` is arrival, durationMs the time to answer). */
function overlapping(entries: readonly SimRequestLogEntry[]): boolean {
  const spans = entries.map((e) => [e.at, e.at + e.durationMs] as const).sort((a, b) => a[0] - b[0]);
  return spans.some((span, i) => i > 0 && span[0] < spans[i - 1]![1] - 1);
}
