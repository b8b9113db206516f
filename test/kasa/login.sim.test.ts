/** Login, MFA and session persistence against the simulator. */
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KasaCloudClient } from '../../src/kasa/cloudClient.js';
import { KasaMfaCodeError, KasaUserActionError } from '../../src/kasa/errors.js';
import { SessionStore, SessionStoreError } from '../../src/kasa/sessionStore.js';
import { captureLogs, MFA, PLAIN, startEnv, thrown, type Env } from './simEnv.js';

let env: Env | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

describe('login without MFA', () => {
  it('looks up the region on the global host and logs in on the regional host', async () => {
    env = await startEnv();
    const client = env.client();
    expect(client.hasSession()).toBe(false);
    await expect(client.login()).resolves.toEqual({ status: 'authenticated' });
    expect(client.hasSession()).toBe(true);
    expect(env.states).toEqual(['authenticated']);

    const { sim } = env;
    expect(sim.count({ op: 'getAccountStatusAndUrl', host: 'global', errorCode: 0 })).toBe(1);
    expect(sim.count({ op: 'login', host: 'regional', errorCode: 0 })).toBe(1);
    expect(sim.count({ op: 'login', host: 'global' })).toBe(0);
    expect(sim.requests.map((r) => r.op)).toEqual(['getAccountStatusAndUrl', 'login']);
    expect(env.events.map((e) => [e.op, e.outcome])).toEqual([
      ['getAccountStatusAndUrl', 'ok'],
      ['login', 'ok'],
    ]);

    const devices = await client.getDeviceList();
    expect(devices.map((d) => d.deviceId).sort()).toEqual(sim.devices(PLAIN.username).map((d) => d.deviceId).sort());
    expect(sim.count({ op: 'getDeviceList', host: 'regional', errorCode: 0 })).toBe(1);
  });

  it('wrong password → KasaUserActionError credentials_invalid with attempts left, no session', async () => {
    env = await startEnv({ maxPasswordFailures: 5 });
    const client = env.client({ account: { username: PLAIN.username, password: 'wrong-password' } });
    const err = await thrown(() => client.login());
    expect(err).toBeInstanceOf(KasaUserActionError);
    expect(err).toMatchObject({ reason: 'credentials_invalid', code: -20601, action: 'ask_user', attemptsLeft: 4 });
    expect(client.hasSession()).toBe(false);
    expect(env.sim.count({ op: 'login' })).toBe(1);
  });

  it('a locked account → KasaUserActionError account_locked even with the right password', async () => {
    env = await startEnv({ maxPasswordFailures: 2 });
    const bad = env.client({ account: { username: PLAIN.username, password: 'nope' } });
    await thrown(() => bad.login());
    await thrown(() => bad.login());
    const good = env.client();
    const err = await thrown(() => good.login());
    expect(err).toBeInstanceOf(KasaUserActionError);
    expect(err).toMatchObject({ reason: 'account_locked', code: -20675 });
    env.sim.unlock(PLAIN.username);
    await expect(good.login()).resolves.toEqual({ status: 'authenticated' });
  });

  it('an unknown account → account_not_found', async () => {
    env = await startEnv();
    const err = await thrown(() => env!.client({ account: { username: 'nobody@example.com', password: 'x' } }).login());
    expect(err).toMatchObject({ name: 'KasaUserActionError', reason: 'account_not_found', code: -20600 });
  });
});

describe('login with MFA', () => {
  it('dispatches an e-mail code, rejects a wrong code, accepts the right one, then trusts the terminal', async () => {
    env = await startEnv();
    const { sim } = env;
    const client = env.client({ account: MFA });
    const res = await client.login();
    expect(res).toEqual({ status: 'mfa_required', mfaType: 'email', mfaTypes: [1, 2] });
    expect(client.hasSession()).toBe(false);
    expect(client.pendingMfa).toMatchObject({ mfaType: 'email' });
    expect(env.states).toEqual(['mfa_required']);
    expect(sim.count({ op: 'getEmailVC4TerminalMFA', host: 'regional', errorCode: 0 })).toBe(1);
    expect(sim.count({ op: 'getPushVC4TerminalMFA' })).toBe(0);
    const code = sim.lastMfaCode(MFA.username);
    expect(code).toMatch(/^\d{6}$/);

    const wrong = code === '000000' ? '111111' : '000000';
    const err = await thrown(() => client.completeMfa(wrong));
    expect(err).toBeInstanceOf(KasaMfaCodeError);
    expect(err).toMatchObject({ expired: false, action: 'mfa', attemptsLeft: 4 });
    expect(client.pendingMfa).toBeDefined();

    await client.completeMfa(code!);
    expect(client.hasSession()).toBe(true);
    expect(client.pendingMfa).toBeUndefined();
    expect(env.states).toEqual(['mfa_required', 'authenticated']);
    expect(env.details.map((d) => d.automatic)).toEqual([false, false]);
    expect(env.details[0]).toMatchObject({ mfaType: 'email', mfaTypes: [1, 2] });
    await expect(client.getDeviceList()).resolves.toHaveLength(1);

    // Same terminal UUID (same DATA_DIR) is trusted now: a fresh password login skips MFA.
    sim.clearRequests();
    const again = env.client({ account: MFA });
    expect(again.terminalUUID).toBe(client.terminalUUID);
    await expect(again.login()).resolves.toEqual({ status: 'authenticated' });
    expect(sim.count({ op: 'getEmailVC4TerminalMFA' })).toBe(0);
  });

  it.each(['string', 'int'] as const)('understands MFA required nested in result.errorCode (%s)', async (form) => {
    env = await startEnv();
    env.sim.faults.nestedMfa = form;
    const client = env.client({ account: MFA });
    await expect(client.login()).resolves.toMatchObject({ status: 'mfa_required', mfaType: 'email' });
    await client.completeMfa(env.sim.lastMfaCode(MFA.username)!);
    expect(client.hasSession()).toBe(true);
  });

  it('push is used only when the account offers push alone', async () => {
    env = await startEnv({ accounts: [{ ...MFA, mfa: true, mfaTypes: [1] }] });
    const client = env.client({ account: MFA });
    await expect(client.login()).resolves.toEqual({ status: 'mfa_required', mfaType: 'push', mfaTypes: [1] });
    expect(env.sim.count({ op: 'getPushVC4TerminalMFA', errorCode: 0 })).toBe(1);
    expect(env.sim.count({ op: 'getEmailVC4TerminalMFA' })).toBe(0);
    await client.completeMfa(env.sim.lastMfaCode(MFA.username)!);
    expect(client.hasSession()).toBe(true);
  });

  it('a code after the MFA process expired → KasaMfaCodeError expired, round closed', async () => {
    let now = Date.now();
    env = await startEnv({ clock: () => now, mfaCodeTtlMs: 60_000 });
    const client = env.client({ account: MFA });
    await client.login();
    const code = env.sim.lastMfaCode(MFA.username)!;
    now += 61_000;
    const err = await thrown(() => client.completeMfa(code));
    expect(err).toBeInstanceOf(KasaMfaCodeError);
    expect((err as KasaMfaCodeError).expired).toBe(true);
    expect(client.pendingMfa).toBeUndefined();
    // No round open any more: refused locally, nothing sent.
    const before = env.sim.count({ op: 'checkMFACodeAndLogin' });
    const again = await thrown(() => client.completeMfa(code));
    expect(again).toMatchObject({ name: 'KasaMfaCodeError', expired: true });
    expect(env.sim.count({ op: 'checkMFACodeAndLogin' })).toBe(before);
  });

  it('running out of attempts closes the round', async () => {
    env = await startEnv({ maxMfaFailures: 2 });
    const client = env.client({ account: MFA });
    await client.login();
    const code = env.sim.lastMfaCode(MFA.username)!;
    const wrong = code === '000000' ? '111111' : '000000';
    expect(await thrown(() => client.completeMfa(wrong))).toMatchObject({ expired: false, attemptsLeft: 1 });
    expect(await thrown(() => client.completeMfa(wrong))).toMatchObject({ expired: true });
    expect(client.pendingMfa).toBeUndefined();
  });

  it('the code of an earlier round does not open a later round', async () => {
    env = await startEnv();
    const client = env.client({ account: MFA });
    await client.login();
    const first = env.sim.lastMfaCode(MFA.username)!;
    await client.login();
    const second = env.sim.lastMfaCode(MFA.username)!;
    if (first !== second) {
      expect(await thrown(() => client.completeMfa(first))).toBeInstanceOf(KasaMfaCodeError);
    }
    await client.completeMfa(second);
    expect(client.hasSession()).toBe(true);
  });
});

describe('session persistence', () => {
  it('a second instance reuses the stored session without a password login; file 0600, dir 0700', async () => {
    env = await startEnv();
    await env.client().login();
    env.sim.clearRequests();

    const second = env.client();
    expect(second.hasSession()).toBe(true);
    await expect(second.getDeviceList()).resolves.not.toHaveLength(0);
    expect(env.sim.count({ op: 'login' })).toBe(0);
    expect(env.sim.count({ op: 'getAccountStatusAndUrl' })).toBe(0);
    expect(env.sim.count({ op: 'getDeviceList', host: 'regional' })).toBe(1);

    const file = join(env.dataDir, 'session.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(env.dataDir).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ username: PLAIN.username, regionalUrl: expect.stringContaining(new URL(env.sim.regionalUrl).host) });
  });

  it('a corrupt session file is replaced and the client logs in again', async () => {
    env = await startEnv();
    writeFileSync(join(env.dataDir, 'session.json'), '{"terminalUUID": tru', { mode: 0o600 });
    const client = env.client();
    expect(client.hasSession()).toBe(false);
    await expect(client.login()).resolves.toEqual({ status: 'authenticated' });
    expect(JSON.parse(readFileSync(join(env.dataDir, 'session.json'), 'utf8'))).toMatchObject({ username: PLAIN.username });
  });

  it('an unusable DATA_DIR fails with a clear SessionStoreError at the first use', async () => {
    env = await startEnv();
    const blocker = join(env.dataDir, 'file');
    mkdirSync(env.dataDir, { recursive: true });
    writeFileSync(blocker, '');
    const logs = captureLogs();
    const client = new KasaCloudClient({
      cloudUrl: env.sim.url,
      ...PLAIN,
      store: new SessionStore({ dataDir: join(blocker, 'data'), logger: logs.logger }),
      requestTimeoutMs: 2000,
      logger: logs.logger,
    });
    try {
      expect(() => client.hasSession()).toThrow(SessionStoreError);
      const err = await thrown(() => client.login());
      expect(err).toBeInstanceOf(SessionStoreError);
      expect(err.message).toMatch(/DATA_DIR .* cannot be created or used/);
      expect(env.sim.count()).toBe(0);
    } finally {
      await client.close();
    }
  });
});
