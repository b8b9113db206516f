/** The simulator speaks every published MFA dialect, strictly, and answers refresh tokens literally. */
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/simulator/index.js';
import type { MfaDialect, Simulator } from '../../src/simulator/types.js';
import { APP_TYPE, call, loginBody, TERMINAL } from './client.js';

const MFA = { username: 'mfa@example.com', password: 'mfa-Pa55' };
const PLAIN = { username: 'plain@example.com', password: 'plain-Pa55' };

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

async function start(mfaDialect?: MfaDialect): Promise<Simulator> {
  sim = await startSimulator({ accounts: [{ ...MFA, mfa: true }, PLAIN], ...(mfaDialect ? { mfaDialect } : {}) });
  return sim;
}

const account = (s: Simulator, name: string, body: unknown) => call(s.regionalUrl, `/api/v2/account/${name}`, body);
const base = { appType: APP_TYPE, cloudUserName: MFA.username, cloudPassword: MFA.password, terminalUUID: TERMINAL };

describe('MFA-required answer per dialect', () => {
  it('tapo (default): -20677 with MFAProcessId and int types', async () => {
    const s = await start();
    const res = await account(s, 'login', loginBody(MFA.username, MFA.password));
    expect(res.body).toEqual({
      error_code: -20677,
      msg: 'MFA feature enabled',
      result: { MFAProcessId: expect.any(String), supportedMFATypes: [1, 2] },
    });
  });

  it('kasa: -20677 with only mfaType "verifyCodeLogin"; the round is found by account and terminal', async () => {
    const s = await start('kasa');
    const res = await account(s, 'login', loginBody(MFA.username, MFA.password));
    expect(res.body).toEqual({ error_code: -20677, msg: 'MFA feature enabled', result: { mfaType: 'verifyCodeLogin' } });
    expect((await account(s, 'getEmailVC4TerminalMFA', base)).body).toEqual({ error_code: 0, result: { errorCode: 0 } });
    const code = s.lastMfaCode(MFA.username)!;
    // Strict: no process id was handed out, so one that is sent names nothing; the password is required.
    expect((await account(s, 'checkMFACodeAndLogin', { ...base, code, MFAProcessId: 'made-up' })).body.error_code).not.toBe(0);
    const { cloudPassword: _omit, ...withoutPassword } = base;
    expect((await account(s, 'checkMFACodeAndLogin', { ...withoutPassword, code })).body.error_code).toBe(-20104);
    const ok = await account(s, 'checkMFACodeAndLogin', { ...base, code, terminalBindEnabled: true, refreshTokenNeeded: true });
    expect(ok.body).toMatchObject({ error_code: 0, result: { token: expect.any(String), refreshToken: expect.any(String) } });
  });

  it('nested: error_code 0 with result.errorCode "-20677"', async () => {
    const s = await start('nested');
    const res = await account(s, 'login', loginBody(MFA.username, MFA.password));
    expect(res.body).toEqual({
      error_code: 0,
      result: { errorCode: '-20677', errorMsg: 'MFA feature enabled', MFAProcessId: expect.any(String), supportedMFATypes: [1, 2] },
    });
    expect(s.count({ op: 'login', errorCode: -20677 })).toBe(1);
  });

  it('wiki: -20677 with mfaProcessId and string types; both spellings verify', async () => {
    const s = await start('wiki');
    const res = await account(s, 'login', loginBody(MFA.username, MFA.password));
    expect(res.body).toEqual({
      error_code: -20677,
      msg: 'MFA feature enabled',
      result: { mfaProcessId: expect.any(String), supportedMFATypes: ['push', 'email'], accountId: expect.any(String) },
    });
    const mfaProcessId = res.body.result.mfaProcessId as string;
    await account(s, 'getEmailVC4TerminalMFA', { ...base, mfaProcessId });
    const ok = await account(s, 'checkMFACodeAndLogin', { ...base, code: s.lastMfaCode(MFA.username), mfaProcessId, mfaType: 'email' });
    expect(ok.body.error_code).toBe(0);
  });

  it('the dialect can change at run time', async () => {
    const s = await start();
    s.mfaDialect = 'kasa';
    expect((await account(s, 'login', loginBody(MFA.username, MFA.password))).body.result).toEqual({ mfaType: 'verifyCodeLogin' });
  });
});

describe('refresh tokens are answered literally', () => {
  it('a login without refreshTokenNeeded gets no refresh token', async () => {
    const s = await start();
    const { refreshTokenNeeded: _omit, ...body } = loginBody(PLAIN.username, PLAIN.password);
    const res = await account(s, 'login', body);
    expect(res.body.error_code).toBe(0);
    expect(res.body.result.token).toEqual(expect.any(String));
    expect(res.body.result).not.toHaveProperty('refreshToken');
  });

  it('an MFA completion without refreshTokenNeeded gets no refresh token, even when the login asked', async () => {
    const s = await start();
    const login = await account(s, 'login', loginBody(MFA.username, MFA.password));
    const MFAProcessId = login.body.result.MFAProcessId as string;
    await account(s, 'getEmailVC4TerminalMFA', { ...base, MFAProcessId });
    const res = await account(s, 'checkMFACodeAndLogin', { ...base, code: s.lastMfaCode(MFA.username), MFAProcessId, MFAType: 2 });
    expect(res.body.error_code).toBe(0);
    expect(res.body.result).not.toHaveProperty('refreshToken');
  });
});

describe('control actions', () => {
  it('revokeTokens: token-bearing calls answer -20675; with refresh, refreshToken does too', async () => {
    const s = await start();
    const login = await account(s, 'login', loginBody(PLAIN.username, PLAIN.password));
    const { token, refreshToken } = login.body.result as { token: string; refreshToken: string };
    const list = () => call(s.regionalUrl, '/', { method: 'getDeviceList' }, { token });
    expect((await list()).body.error_code).toBe(0);
    s.revokeTokens();
    expect((await list()).body).toMatchObject({ error_code: -20675, msg: 'Cloud token expired or invalid' });
    const refresh = () => account(s, 'refreshToken', { appType: APP_TYPE, refreshToken, terminalUUID: TERMINAL });
    expect((await refresh()).body.error_code).toBe(0);
    s.revokeTokens({ refresh: true });
    expect((await refresh()).body.error_code).toBe(-20675);
  });
});
