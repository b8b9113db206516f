/** Accounts, lockout, MFA processes, tokens and throttling. */
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/simulator/index.js';
import type { Simulator, SimulatorOptions } from '../../src/simulator/types.js';
import { APP_TYPE, call, login, loginBody, OTHER_TERMINAL, TERMINAL } from './client.js';

const PLAIN = { username: 'plain@example.com', password: 'plain-Pa55' };
const MFA = { username: 'mfa@example.com', password: 'mfa-Pa55' };
const PLUG = { deviceId: '2F50687F0187798768F86EAE340E844A660B2444', model: 'HS103(US)', alias: 'Desk' };

let sim: Simulator | undefined;
let clock = 1_800_000_000_000;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

async function start(options: SimulatorOptions = {}): Promise<Simulator> {
  clock = 1_800_000_000_000;
  sim = await startSimulator({
    accounts: [
      { ...PLAIN, devices: [PLUG] },
      { ...MFA, mfa: true },
    ],
    clock: () => clock,
    ...options,
  });
  return sim;
}

const account = (s: Simulator, name: string, body: unknown, opts: Parameters<typeof call>[3] = {}) =>
  call(s.regionalUrl, `/api/v2/account/${name}`, body, opts);

async function mfaLogin(s: Simulator, terminal = TERMINAL): Promise<string> {
  const res = await account(s, 'login', loginBody(MFA.username, MFA.password, terminal), { query: { termID: terminal } });
  expect(res.body).toMatchObject({ error_code: -20677, result: { supportedMFATypes: [1, 2] } });
  return res.body.result.MFAProcessId as string;
}

const dispatchBody = (processId: string) => ({
  appType: APP_TYPE,
  cloudUserName: MFA.username,
  cloudPassword: MFA.password,
  terminalUUID: TERMINAL,
  MFAProcessId: processId,
});

const checkBody = (processId: string, code: string) => ({
  appType: APP_TYPE,
  cloudUserName: MFA.username,
  code,
  MFAProcessId: processId,
  MFAType: 2,
  terminalBindEnabled: true,
  terminalUUID: TERMINAL,
});

describe('login', () => {
  it('answers the union success shape with token and refresh token', async () => {
    const s = await start();
    const res = await account(s, 'login', loginBody(PLAIN.username, PLAIN.password));
    expect(res.body).toEqual({
      error_code: 0,
      result: expect.objectContaining({
        token: expect.any(String),
        refreshToken: expect.any(String),
        email: PLAIN.username,
        accountId: expect.any(String),
        appServerUrl: s.regionalUrl,
      }),
    });
  });

  it('unknown user → -20600; wrong password → -20601 with remainAttempts; then -20675 until unlocked', async () => {
    const s = await start({ maxPasswordFailures: 3 });
    expect((await account(s, 'login', loginBody('ghost@example.com', 'x'))).body).toMatchObject({ error_code: -20600 });
    const wrong = loginBody(PLAIN.username, 'wrong');
    expect((await account(s, 'login', wrong)).body).toMatchObject({ error_code: -20601, result: { remainAttempts: 2 } });
    expect((await account(s, 'login', wrong)).body).toMatchObject({ error_code: -20601, result: { remainAttempts: 1 } });
    expect((await account(s, 'login', wrong)).body).toMatchObject({ error_code: -20601, result: { remainAttempts: 0 } });
    const locked = await account(s, 'login', loginBody(PLAIN.username, PLAIN.password));
    expect(locked.body).toMatchObject({ error_code: -20675, result: { lockedMinutes: 30 } });
    s.unlock(PLAIN.username);
    expect((await account(s, 'login', loginBody(PLAIN.username, PLAIN.password))).body.error_code).toBe(0);
  });

  it('the lock lifts after lockDurationMs of simulated time', async () => {
    const s = await start({ maxPasswordFailures: 1, lockDurationMs: 60_000 });
    await account(s, 'login', loginBody(PLAIN.username, 'wrong'));
    expect((await account(s, 'login', loginBody(PLAIN.username, PLAIN.password))).body.error_code).toBe(-20675);
    clock += 60_001;
    expect((await account(s, 'login', loginBody(PLAIN.username, PLAIN.password))).body.error_code).toBe(0);
  });
});

describe('MFA', () => {
  it('login → dispatch → check with terminalBindEnabled trusts the terminal', async () => {
    const s = await start();
    const processId = await mfaLogin(s);
    expect(s.lastMfaCode(MFA.username)).toBeUndefined();
    const sent = await account(s, 'getEmailVC4TerminalMFA', dispatchBody(processId));
    expect(sent.body).toEqual({ error_code: 0, result: { errorCode: 0 } });
    const code = s.lastMfaCode(MFA.username)!;
    expect(code).toMatch(/^\d{6}$/);
    const ok = await account(s, 'checkMFACodeAndLogin', { ...checkBody(processId, code), refreshTokenNeeded: true });
    expect(ok.body).toMatchObject({ error_code: 0, result: { token: expect.any(String), refreshToken: expect.any(String) } });

    expect((await account(s, 'login', loginBody(MFA.username, MFA.password))).body.error_code).toBe(0);
    s.untrustTerminals(MFA.username);
    expect((await account(s, 'login', loginBody(MFA.username, MFA.password))).body.error_code).toBe(-20677);
  });

  it('without terminalBindEnabled the terminal stays untrusted', async () => {
    const s = await start();
    const processId = await mfaLogin(s);
    await account(s, 'getEmailVC4TerminalMFA', dispatchBody(processId));
    const body = { ...checkBody(processId, s.lastMfaCode(MFA.username)!), terminalBindEnabled: false };
    expect((await account(s, 'checkMFACodeAndLogin', body)).body.error_code).toBe(0);
    expect((await account(s, 'login', loginBody(MFA.username, MFA.password))).body.error_code).toBe(-20677);
  });

  it('rejects a code when none was dispatched, even the account fixed code', async () => {
    const s = await start({ accounts: [{ ...MFA, mfa: true, mfaCode: '135790' }] });
    const processId = await mfaLogin(s);
    const res = await account(s, 'checkMFACodeAndLogin', checkBody(processId, '135790'));
    expect(res.body).toMatchObject({ error_code: -20601, result: { remainAttempts: 4 } });
    // tplink-cloud-api's body: no process id, no dispatch.
    const py = { appType: APP_TYPE, cloudPassword: MFA.password, cloudUserName: MFA.username, code: '135790', terminalUUID: TERMINAL };
    expect((await account(s, 'checkMFACodeAndLogin', py)).body).toMatchObject({ error_code: -20601 });
    await account(s, 'getEmailVC4TerminalMFA', dispatchBody(processId));
    expect(s.lastMfaCode(MFA.username)).toBe('135790');
    expect((await account(s, 'checkMFACodeAndLogin', py)).body.error_code).toBe(0);
  });

  it('counts wrong codes down and kills the process after maxMfaFailures', async () => {
    const s = await start({ maxMfaFailures: 2 });
    const processId = await mfaLogin(s);
    await account(s, 'getEmailVC4TerminalMFA', dispatchBody(processId));
    const code = s.lastMfaCode(MFA.username)!;
    const wrong = code === '000000' ? '111111' : '000000';
    expect((await account(s, 'checkMFACodeAndLogin', checkBody(processId, wrong))).body).toMatchObject({
      error_code: -20601,
      msg: 'Incorrect verification code',
      result: { remainAttempts: 1 },
    });
    expect((await account(s, 'checkMFACodeAndLogin', checkBody(processId, wrong))).body).toMatchObject({
      result: { remainAttempts: 0 },
    });
    expect((await account(s, 'checkMFACodeAndLogin', checkBody(processId, code))).body).toMatchObject({ error_code: -20104 });
  });

  it('binds the process and code to the terminal that logged in', async () => {
    const s = await start();
    const processId = await mfaLogin(s);
    const elsewhere = { query: { termID: OTHER_TERMINAL } };
    const foreignDispatch = await account(s, 'getEmailVC4TerminalMFA', { ...dispatchBody(processId), terminalUUID: OTHER_TERMINAL }, elsewhere);
    expect(foreignDispatch.body).toMatchObject({ error_code: -20104 });
    await account(s, 'getEmailVC4TerminalMFA', dispatchBody(processId));
    const code = s.lastMfaCode(MFA.username)!;
    const foreignCheck = await account(s, 'checkMFACodeAndLogin', { ...checkBody(processId, code), terminalUUID: OTHER_TERMINAL }, elsewhere);
    expect(foreignCheck.body).toMatchObject({ error_code: -20104 });
    expect((await account(s, 'checkMFACodeAndLogin', checkBody(processId, code))).body.error_code).toBe(0);
  });

  it('accepts the wiki spellings mfaProcessId and mfaType "email"', async () => {
    const s = await start();
    const processId = await mfaLogin(s);
    expect((await account(s, 'getEmailVC4TerminalMFA', { appType: APP_TYPE, mfaProcessId: processId })).body.error_code).toBe(0);
    const body = { appType: APP_TYPE, code: s.lastMfaCode(MFA.username), mfaProcessId: processId, mfaType: 'email' };
    expect((await account(s, 'checkMFACodeAndLogin', body)).body.error_code).toBe(0);
  });

  it('an expired code is rejected', async () => {
    const s = await start({ mfaCodeTtlMs: 60_000 });
    const processId = await mfaLogin(s);
    await account(s, 'getPushVC4TerminalMFA', dispatchBody(processId));
    clock += 30_000;
    const code = s.lastMfaCode(MFA.username)!;
    clock += 31_000;
    const res = await account(s, 'checkMFACodeAndLogin', checkBody(processId, code));
    expect(res.body.error_code).not.toBe(0);
  });

  it.each(['string', 'int'] as const)('can nest the MFA answer in result.errorCode (%s)', async (form) => {
    const s = await start();
    s.faults.nestedMfa = form;
    const res = await account(s, 'login', loginBody(MFA.username, MFA.password));
    expect(res.body).toEqual({
      error_code: 0,
      result: {
        errorCode: form === 'string' ? '-20677' : -20677,
        errorMsg: 'MFA feature enabled',
        MFAProcessId: expect.any(String),
        supportedMFATypes: [1, 2],
      },
    });
    expect(s.count({ op: 'login', errorCode: -20677 })).toBe(1);
  });

  it('setMfa switches MFA on for an account', async () => {
    const s = await start();
    s.setMfa(PLAIN.username, true);
    expect((await account(s, 'login', loginBody(PLAIN.username, PLAIN.password))).body.error_code).toBe(-20677);
  });
});

describe('tokens', () => {
  const list = (s: Simulator, token: string) => call(s.regionalUrl, '/', { method: 'getDeviceList' }, { token });

  it('expired access token → -20651; refreshToken (no token param) issues a working one', async () => {
    const s = await start();
    const { token, refreshToken } = await login(s, PLAIN.username, PLAIN.password);
    expect((await list(s, token)).body.error_code).toBe(0);
    s.expireAccessTokens();
    expect((await list(s, token)).body).toEqual({ error_code: -20651, msg: 'Token expired' });
    const refreshed = await account(s, 'refreshToken', { appType: APP_TYPE, refreshToken, terminalUUID: TERMINAL });
    expect(refreshed.body).toMatchObject({ error_code: 0, result: { token: expect.any(String) } });
    expect((await list(s, refreshed.body.result.token)).body.error_code).toBe(0);
  });

  it('access tokens expire after accessTokenTtlMs of simulated time', async () => {
    const s = await start({ accessTokenTtlMs: 1000 });
    const { token } = await login(s, PLAIN.username, PLAIN.password);
    clock += 1001;
    expect((await list(s, token)).body.error_code).toBe(-20651);
  });

  it('expired or foreign-terminal refresh token → -20655', async () => {
    const s = await start();
    const { refreshToken } = await login(s, PLAIN.username, PLAIN.password);
    const other = await account(s, 'refreshToken', { appType: APP_TYPE, refreshToken, terminalUUID: OTHER_TERMINAL }, {
      query: { termID: OTHER_TERMINAL },
    });
    expect(other.body).toMatchObject({ error_code: -20655 });
    s.expireRefreshTokens();
    const expired = await account(s, 'refreshToken', { appType: APP_TYPE, refreshToken, terminalUUID: TERMINAL });
    expect(expired.body).toMatchObject({ error_code: -20655 });
  });

  it('the V1 refreshToken method on / works too', async () => {
    const s = await start();
    const { refreshToken } = await login(s, PLAIN.username, PLAIN.password);
    const res = await call(s.regionalUrl, '/', {
      method: 'refreshToken',
      params: { appType: APP_TYPE, terminalUUID: TERMINAL, refreshToken },
    });
    expect(res.body).toMatchObject({ error_code: 0, result: { token: expect.any(String) } });
  });

  it('rotateRefreshTokens retires the presented refresh token', async () => {
    const s = await start({ rotateRefreshTokens: true });
    const { refreshToken } = await login(s, PLAIN.username, PLAIN.password);
    const body = { appType: APP_TYPE, refreshToken, terminalUUID: TERMINAL };
    const first = await account(s, 'refreshToken', body);
    expect(first.body.result.refreshToken).not.toBe(refreshToken);
    expect((await account(s, 'refreshToken', body)).body.error_code).toBe(-20655);
  });

  it('missing token → -20104; logout revokes the token', async () => {
    const s = await start();
    expect((await call(s.regionalUrl, '/', { method: 'getDeviceList' })).body.error_code).toBe(-20104);
    const { token } = await login(s, PLAIN.username, PLAIN.password);
    expect((await account(s, 'logout', {}, { token })).body).toEqual({ error_code: 0 });
    expect((await list(s, token)).body.error_code).toBe(-20651);
  });
});

describe('throttling', () => {
  it('answers -20004 above rateLimitPerMinute in a sliding 60 s window', async () => {
    const s = await start({ rateLimitPerMinute: 3 });
    const { token } = await login(s, PLAIN.username, PLAIN.password);
    clock += 1000;
    expect((await call(s.regionalUrl, '/', { method: 'getDeviceList' }, { token })).body.error_code).toBe(0);
    expect((await call(s.regionalUrl, '/', { method: 'getDeviceList' }, { token })).body.error_code).toBe(0);
    expect((await call(s.regionalUrl, '/', { method: 'getDeviceList' }, { token })).body).toEqual({
      error_code: -20004,
      msg: 'API rate limit exceeded',
    });
    // The other account has its own budget.
    expect((await account(s, 'login', loginBody(MFA.username, MFA.password))).body.error_code).toBe(-20677);
    clock += 59_500; // the login (60.5 s old) leaves the window; the three lists (59.5 s) stay
    expect((await call(s.regionalUrl, '/', { method: 'getDeviceList' }, { token })).body.error_code).toBe(-20004);
    clock += 1000;
    expect((await call(s.regionalUrl, '/', { method: 'getDeviceList' }, { token })).body.error_code).toBe(0);
  });
});
