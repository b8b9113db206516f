import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BridgeAuthPayload, BridgeResponse } from '../../src/api/types.js';
import { demoAccount } from '../../src/simulator/catalog.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { bridgeRequest, startHarness, type Harness } from '../helpers/bridgeHarness.js';
import type { ObservedMessage } from '../helpers/mqttObserver.js';

const authIs = (state: string, extra: (p: BridgeAuthPayload) => boolean = () => true) => (m: ObservedMessage) =>
  m.text !== '' && m.json<BridgeAuthPayload>().state === state && extra(m.json<BridgeAuthPayload>());

describe('login and two-step verification over MQTT', () => {
  let broker: TestBroker;
  // No fixed code: the simulator e-mails a random one per dispatch.
  const { mfaCode: _fixed, ...account } = demoAccount({ username: 'mfa-user@example.com', password: 'Correct-Horse-42' });
  let h: Harness;

  beforeAll(async () => {
    broker = await startTestBroker();
    h = await startHarness({ broker, account });
  });
  afterAll(async () => {
    await h?.stop();
    await broker?.stop();
  });

  it('asks for the code on kasa/bridge/auth with a challenge, expiry and three attempts', async () => {
    const auth = (await h.obs.next('kasa/bridge/auth', authIs('mfa_required'))).json<BridgeAuthPayload>();
    expect(auth).toMatchObject({ state: 'mfa_required', mfa_type: 'email', attempts_left: 3 });
    expect(auth.challenge).toMatch(/^[0-9a-z]+$/);
    expect(Date.parse(auth.expires_at!)).toBeGreaterThan(Date.now());
    expect(h.sim.lastMfaCode(account.username)).toMatch(/^\d{6}$/);
    const devices = await h.obs.retained('kasa/bridge/devices');
    expect(devices).toBeUndefined();
  });

  it('refuses a retained code and clears it from the broker', async () => {
    await h.obs.publish('kasa/bridge/mfa', h.sim.lastMfaCode(account.username)!, { retain: true, qos: 1 });
    await h.obs.next('kasa/bridge/auth', authIs('mfa_required', (p) => p.last_error === 'retained_rejected'));
    await h.obs.next('kasa/bridge/mfa', (m) => m.payload.length === 0);
    expect(await h.obs.retained('kasa/bridge/mfa')).toBeUndefined();
    expect(h.sim.count({ op: 'checkMFACodeAndLogin' })).toBe(0);
  });

  it('counts down on a wrong code', async () => {
    await h.obs.publish('kasa/bridge/mfa', '000000', { qos: 1 });
    const auth = await h.obs.next('kasa/bridge/auth', authIs('mfa_required', (p) => p.last_error === 'code_invalid'));
    expect(auth.json<BridgeAuthPayload>().attempts_left).toBe(2);
  });

  it('ignores a code for another challenge', async () => {
    const before = h.sim.count({ op: 'checkMFACodeAndLogin' });
    await h.obs.publish('kasa/bridge/mfa', JSON.stringify({ code: '123456', challenge: 'not-this-round' }), { qos: 1 });
    await h.obs.barrier();
    // A follow-up valid submission proves the first one was dropped, not queued.
    const challenge = (await h.obs.retained('kasa/bridge/auth'))!.json<BridgeAuthPayload>().challenge;
    await h.obs.publish('kasa/bridge/mfa', JSON.stringify({ code: h.sim.lastMfaCode(account.username), challenge }), { qos: 1 });
    await h.obs.next('kasa/bridge/auth', authIs('authenticated'));
    expect(h.sim.count({ op: 'checkMFACodeAndLogin' })).toBe(before + 1);
  });

  it('brings devices online after the code is accepted', async () => {
    const devices = await h.obs.next('kasa/bridge/devices', (m) => m.json<unknown[]>().length > 0);
    expect(devices.json<{ key: string }[]>().map((d) => d.key)).toContain('bedroom_desk_light');
    await h.obs.next('kasa/bedroom_desk_light/availability', (m) => m.text === '{"state":"online"}');
    const state = await h.obs.next('kasa/bedroom_desk_light', (m) => m.text !== '');
    expect(state.json()).toMatchObject({ state: expect.stringMatching(/^(ON|OFF)$/) });
  });

  it('no longer listens on the code topic once the round is over', async () => {
    const before = h.sim.count({ op: 'checkMFACodeAndLogin' });
    await h.obs.publish('kasa/bridge/mfa', '123456', { qos: 1 });
    await h.obs.barrier();
    // A round trip through the bridge that reads every device: the code, had it been taken, was sent before.
    expect(await bridgeRequest(h, 'devices/refresh')).toMatchObject({ status: 'ok' });
    expect(h.sim.count({ op: 'checkMFACodeAndLogin' })).toBe(before);
  });

  it('restarts on the stored session without a password login or a code', async () => {
    h.sim.clearRequests();
    await h.restartBridge();
    await h.obs.next('kasa/bridge/auth', authIs('authenticated'));
    await h.obs.next('kasa/bridge/state', (m) => m.text === '{"state":"online"}');
    expect(await bridgeRequest(h, 'devices/refresh')).toMatchObject({ status: 'ok' });
    expect(h.sim.count({ op: 'login' })).toBe(0);
    expect(h.sim.count({ op: 'getEmailVC4TerminalMFA' })).toBe(0);
    expect(h.sim.count({ op: 'getDeviceList' })).toBeGreaterThan(0);
  });

  it('never writes the password, tokens, refresh token or code to logs or MQTT', async () => {
    const session = JSON.parse(readFileSync(join(h.dataDir, 'session.json'), 'utf8')) as Record<string, string>;
    const secrets = [account.password, session.token, session.refreshToken, h.sim.lastMfaCode(account.username)];
    for (const s of secrets) expect(s, 'secret to scan for').toBeTruthy();
    const published = h.obs.messages
      .filter((m) => m.topic !== 'kasa/bridge/mfa')
      .map((m) => `${m.topic} ${m.text}`)
      .join('\n');
    expect(h.logs.lines.length).toBeGreaterThan(10);
    for (const secret of secrets) {
      expect(h.logs.text).not.toContain(secret);
      expect(published).not.toContain(secret);
    }
  });
});

describe('login failures', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startTestBroker();
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('a wrong password is an error with no retry loop', async () => {
    const account = demoAccount({ username: 'wrong-pw@example.com', mfa: false });
    const h = await startHarness({ broker, account: { ...account, password: 'the-real-one' }, env: { KASA_PASSWORD: 'not-it' } });
    try {
      const auth = await h.obs.next('kasa/bridge/auth', authIs('error'));
      expect(auth.json<BridgeAuthPayload>().last_error).toBe('credentials_invalid');
      await h.obs.barrier();
      expect(h.sim.count({ op: 'login' })).toBe(1);
      expect(h.logs.text).not.toContain('not-it');
    } finally {
      await h.stop();
    }
  });

  it('an expired round ends in code_expired; auth/login starts a new round', async () => {
    const account = demoAccount({ username: 'slow@example.com' });
    const h = await startHarness({ broker, account, env: { KASA_MFA_TIMEOUT: '1' } });
    try {
      await h.obs.next('kasa/bridge/auth', authIs('mfa_required'));
      await h.obs.next('kasa/bridge/auth', authIs('error', (p) => p.last_error === 'code_expired'));
      const dispatched = h.sim.count({ op: 'getEmailVC4TerminalMFA' });
      await h.obs.publish('kasa/bridge/mfa', h.sim.lastMfaCode(account.username)!, { qos: 1 });
      await h.obs.barrier();
      expect(h.sim.count({ op: 'checkMFACodeAndLogin' })).toBe(0);
      expect(h.sim.count({ op: 'getEmailVC4TerminalMFA' })).toBe(dispatched);

      await h.obs.publish('kasa/bridge/request/auth/login', JSON.stringify({ transaction: 'again' }), { qos: 1 });
      const response = await h.obs.next('kasa/bridge/response/auth/login');
      expect(response.json<BridgeResponse>()).toMatchObject({ status: 'ok', transaction: 'again' });
      await h.obs.next('kasa/bridge/auth', authIs('mfa_required'));
      expect(h.sim.count({ op: 'getEmailVC4TerminalMFA' })).toBe(dispatched + 1);
    } finally {
      await h.stop();
    }
  });
});
