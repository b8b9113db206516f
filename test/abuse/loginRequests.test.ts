/**
 * Requested logins (`bridge/request/auth/login`, the HA "Log in" button) under a flood: every one
 * is a password login that may e-mail a code, and a few wrong ones lock the TP-Link account. The
 * simulator counts what reached the cloud.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BridgeAuthPayload, BridgeResponse } from '../../src/api/types.js';
import { demoAccount } from '../../src/simulator/catalog.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { bridgeRequest, startHarness, type Harness } from '../helpers/bridgeHarness.js';
import type { ObservedMessage } from '../helpers/mqttObserver.js';
import { floodRequests } from '../helpers/requestFlood.js';
import { call, loginBody } from '../simulator/client.js';

const FLOOD = 40;
const MINUTE = 60_000;

const authIs = (state: string, lastError?: string) => (m: ObservedMessage) =>
  m.text !== '' && m.json<BridgeAuthPayload>().state === state && (lastError === undefined || m.json<BridgeAuthPayload>().last_error === lastError);

/** Every answer refused as rate_limited, with its transaction and a retry time in [from, to]. */
function expectAllRateLimited(answers: BridgeResponse[], from: number, to: number): void {
  for (const answer of answers) {
    expect(answer).toMatchObject({ status: 'error', error: { code: 'rate_limited', message: expect.any(String) }, transaction: expect.any(String) });
    const retryAt = Date.parse(answer.retry_after ?? '');
    expect(retryAt).toBeGreaterThanOrEqual(from);
    expect(retryAt).toBeLessThanOrEqual(to);
  }
}

let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await broker?.stop();
});

describe('requested logins after the cloud refused the password', () => {
  const PASSWORD = 'The-Real-Pa55word-9c1e';
  const WRONG = 'Wrong-Pa55word-40ad7';
  const account = { ...demoAccount({ username: 'flood-wrong@example.com', mfa: false }), password: PASSWORD };
  let h: Harness;
  let refusedAt = 0;

  beforeAll(async () => {
    h = await startHarness({ broker, account, env: { KASA_PASSWORD: WRONG } });
    await h.obs.next('kasa/bridge/auth', authIs('error', 'credentials_invalid'), 15_000);
    refusedAt = Date.now();
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('a flood of login requests makes no further password login; each answer is rate_limited with retry_after', async () => {
    expect(h.sim.count({ op: 'login' })).toBe(1);
    const answers = await floodRequests(h, 'auth/login', FLOOD);
    expectAllRateLimited(answers, refusedAt + 29 * MINUTE, refusedAt + 31 * MINUTE);
    await h.obs.barrier();
    expect(h.sim.count({ op: 'login' })).toBe(1);
  });

  it('keeps the refusal in DATA_DIR without the password or the e-mail, and logs neither', () => {
    const stored = readFileSync(join(h.dataDir, 'login-refusal.json'), 'utf8');
    expect(JSON.parse(stored)).toMatchObject({ reason: 'credentials_invalid' });
    for (const secret of [WRONG, account.username]) {
      expect(stored).not.toContain(secret);
      expect(h.logs.text).not.toContain(secret);
    }
  });

  it('a restart with the same credentials neither logs in nor lifts the refusal; one with other credentials logs in', async () => {
    await h.restartBridge();
    await h.obs.next('kasa/bridge/state', (m) => m.text === '{"state":"online"}');
    const answer = await bridgeRequest(h, 'auth/login');
    expect(answer).toMatchObject({ status: 'error', error: { code: 'rate_limited' } });
    expect(Date.parse(answer.retry_after!)).toBeLessThanOrEqual(refusedAt + 31 * MINUTE);
    expect((await h.obs.retained('kasa/bridge/auth'))!.json<BridgeAuthPayload>()).toMatchObject({ state: 'error', last_error: 'credentials_invalid' });
    expect(h.sim.count({ op: 'login' })).toBe(1);

    // The configuration changed (a restart with the right password): the refusal no longer holds.
    await h.bridge.stop();
    const fixed = await startHarness({ broker, account, sim: h.sim, dataDir: h.dataDir, env: { KASA_PASSWORD: PASSWORD } });
    try {
      await fixed.obs.next('kasa/bridge/auth', authIs('authenticated'), 15_000);
      expect(h.sim.count({ op: 'login' })).toBe(2);
    } finally {
      await fixed.stop();
    }
  });
});

describe('requested logins during and after a code round', () => {
  const { mfaCode: _fixed, ...account } = demoAccount({ username: 'flood-mfa@example.com', password: 'Flood-Mfa-Pa55word-5e3b' });
  const emails = () => h.sim.count({ op: 'getEmailVC4TerminalMFA' });
  const logins = () => h.sim.count({ op: 'login' });
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ broker, account, env: { KASA_MFA_TIMEOUT: '3' } });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('while a round is open, a flood sends no new code and is told when the round ends', async () => {
    const round = (await h.obs.next('kasa/bridge/auth', authIs('mfa_required'), 15_000)).json<BridgeAuthPayload>();
    const expiresAt = Date.parse(round.expires_at!);
    const answers = await floodRequests(h, 'auth/login', FLOOD);
    expectAllRateLimited(answers, expiresAt, expiresAt);
    await h.obs.barrier();
    expect({ logins: logins(), emails: emails() }).toEqual({ logins: 1, emails: 1 });
  });

  it('after the round expired one requested login goes out, then none for 5 minutes', async () => {
    await h.obs.next('kasa/bridge/auth', authIs('error', 'code_expired'), 10_000);
    const requestedAt = Date.now();
    expect(await bridgeRequest(h, 'auth/login')).toMatchObject({ status: 'ok', data: { state: 'logging_in' } });
    await h.obs.next('kasa/bridge/auth', authIs('mfa_required'), 10_000);
    await h.obs.next('kasa/bridge/auth', authIs('error', 'code_expired'), 10_000);
    const answers = await floodRequests(h, 'auth/login', FLOOD);
    expectAllRateLimited(answers, requestedAt + 5 * MINUTE - 1_000, Date.now() + 5 * MINUTE);
    await h.obs.barrier();
    expect({ logins: logins(), emails: emails() }).toEqual({ logins: 2, emails: 2 });
  });
});

describe('requested logins on a locked account', () => {
  const account = demoAccount({ username: 'flood-locked@example.com', mfa: false });
  let h: Harness;

  afterAll(async () => {
    await h?.stop();
  });

  it('a flood makes no further login once the cloud said account_locked', async () => {
    // One wrong password from somewhere else locks the account (maxPasswordFailures 1).
    h = await startHarness({ broker, account, start: false, simOptions: { maxPasswordFailures: 1 } });
    const wrong = await call(h.sim.regionalUrl, '/api/v2/account/login', loginBody(account.username, 'somebody-else-typed-this'));
    expect(wrong.body).toMatchObject({ result: { remainAttempts: 0 } });
    await h.bridge.start();
    await h.obs.next('kasa/bridge/auth', authIs('error', 'account_locked'), 15_000);
    const lockedAt = Date.now();
    const logins = h.sim.count({ op: 'login' });
    const answers = await floodRequests(h, 'auth/login', FLOOD);
    expectAllRateLimited(answers, lockedAt + 29 * MINUTE, lockedAt + 30 * MINUTE);
    await h.obs.barrier();
    expect(h.sim.count({ op: 'login' })).toBe(logins);
  });
});
