/** KasaCloudClient flows the simulator does not produce, scripted with undici's MockAgent. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockAgent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KasaCloudClient } from '../../src/kasa/cloudClient.js';
import { KasaNotAuthenticatedError } from '../../src/kasa/errors.js';
import { SessionStore } from '../../src/kasa/sessionStore.js';
import { createLogger } from '../../src/logger.js';

const GLOBAL = 'https://n-wap.tplinkcloud.com';
const US = 'https://n-use1-wap.tplinkcloud.com';
const EU = 'https://n-euw1-wap.tplinkcloud.com';
const logger = createLogger({ level: 'silent' });

interface Seen {
  origin: string;
  path: string;
  body: Record<string, unknown>;
}

let dir: string;
let mock: MockAgent;
let seen: Seen[];
let client: KasaCloudClient;

function answer(origin: string, path: string, envelope: object | ((body: Record<string, unknown>) => object)): void {
  mock
    .get(origin)
    .intercept({ path: (p: string) => p.split('?')[0] === path, method: 'POST' })
    .reply((opts) => {
      const body = JSON.parse(opts.body as string) as Record<string, unknown>;
      seen.push({ origin, path, body });
      const env = typeof envelope === 'function' ? envelope(body) : envelope;
      return { statusCode: 200, data: JSON.stringify(env) };
    });
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kasa-mock-'));
  mock = new MockAgent();
  mock.disableNetConnect();
  seen = [];
  client = new KasaCloudClient({
    cloudUrl: GLOBAL,
    username: 'u@example.com',
    password: 'pw',
    store: new SessionStore({ dataDir: dir, logger }),
    requestTimeoutMs: 2000,
    logger,
    dispatcher: mock,
  });
});

afterEach(async () => {
  await client.close();
  await mock.close();
  rmSync(dir, { recursive: true, force: true });
});

const ok = (result: object = {}) => ({ error_code: 0, result });

describe('KasaCloudClient (scripted cloud)', () => {
  it('follows -20212 to the region named in result.appServerUrl, once', async () => {
    answer(GLOBAL, '/api/v2/account/getAccountStatusAndUrl', ok({ appServerUrl: US }));
    answer(US, '/api/v2/account/login', { error_code: -20212, msg: 'Incorrect service entry address', result: { appServerUrl: EU } });
    answer(EU, '/api/v2/account/login', ok({ token: 'T', refreshToken: 'R' }));
    answer(EU, '/', ok({ deviceList: [{ deviceId: 'D1' }, { alias: 'no id' }] }));

    await expect(client.login()).resolves.toEqual({ status: 'authenticated' });
    expect(seen.map((s) => `${s.origin}${s.path}`)).toEqual([
      `${GLOBAL}/api/v2/account/getAccountStatusAndUrl`,
      `${US}/api/v2/account/login`,
      `${EU}/api/v2/account/login`,
    ]);
    // The regional host is now EU: the device list goes there; entries without deviceId are dropped.
    await expect(client.getDeviceList()).resolves.toEqual([{ deviceId: 'D1' }]);
  });

  it('falls back to the global host when the lookup fails with a cloud error', async () => {
    answer(GLOBAL, '/api/v2/account/getAccountStatusAndUrl', { error_code: -20600, msg: 'Account not found' });
    answer(GLOBAL, '/api/v2/account/login', ok({ token: 'T' }));
    await expect(client.login()).resolves.toEqual({ status: 'authenticated' });
    expect(seen[1]?.origin).toBe(GLOBAL);
  });

  it('falls back to the global host when the lookup has no appServerUrl', async () => {
    answer(GLOBAL, '/api/v2/account/getAccountStatusAndUrl', ok({ status: 1 }));
    answer(GLOBAL, '/api/v2/account/login', ok({ token: 'T' }));
    await expect(client.login()).resolves.toEqual({ status: 'authenticated' });
  });

  it('refuses to follow an https cloud to a plain-http host (the password would leak)', async () => {
    answer(GLOBAL, '/api/v2/account/getAccountStatusAndUrl', ok({ appServerUrl: 'http://evil.example' }));
    answer(GLOBAL, '/api/v2/account/login', ok({ token: 'T' }));
    await client.login();
    expect(seen[1]?.origin).toBe(GLOBAL);
  });

  it('dispatches a push code when the account offers only push, with the mfaProcessId spelling', async () => {
    answer(GLOBAL, '/api/v2/account/getAccountStatusAndUrl', ok({ appServerUrl: US }));
    answer(US, '/api/v2/account/login', { error_code: -20677, msg: 'MFA', result: { mfaProcessId: 'proc-1', supportedMFATypes: ['push'] } });
    answer(US, '/api/v2/account/getPushVC4TerminalMFA', ok({ errorCode: 0 }));
    answer(US, '/api/v2/account/checkMFACodeAndLogin', ok({ token: 'T', refreshToken: 'R' }));

    await expect(client.login()).resolves.toEqual({ status: 'mfa_required', mfaType: 'push', mfaTypes: [1] });
    expect(seen[2]?.body).toEqual({
      appType: 'Kasa_Android_Mix',
      cloudUserName: 'u@example.com',
      cloudPassword: 'pw',
      terminalUUID: client.terminalUUID,
      mfaProcessId: 'proc-1',
    });
    await client.completeMfa(' 123456 ');
    expect(seen[3]?.body).toEqual({
      appType: 'Kasa_Android_Mix',
      cloudUserName: 'u@example.com',
      cloudPassword: 'pw',
      code: '123456',
      terminalUUID: client.terminalUUID,
      terminalBindEnabled: true,
      refreshTokenNeeded: true,
      mfaProcessId: 'proc-1',
      mfaType: 'push',
    });
    expect(client.hasSession()).toBe(true);
    expect(client.pendingMfa).toBeUndefined();
  });

  it('MFA required with nothing but the code: an e-mail round without process id or type', async () => {
    answer(GLOBAL, '/api/v2/account/getAccountStatusAndUrl', ok({ appServerUrl: US }));
    answer(US, '/api/v2/account/login', { error_code: -20677, msg: 'MFA' });
    answer(US, '/api/v2/account/getEmailVC4TerminalMFA', ok({ errorCode: 0 }));
    answer(US, '/api/v2/account/checkMFACodeAndLogin', ok({ token: 'T', refreshToken: 'R' }));
    await expect(client.login()).resolves.toEqual({ status: 'mfa_required', mfaType: 'email', mfaTypes: [] });
    expect(Object.keys(seen[2]?.body ?? {}).sort()).toEqual(['appType', 'cloudPassword', 'cloudUserName', 'terminalUUID']);
    await client.completeMfa('123456');
    expect(Object.keys(seen[3]?.body ?? {}).sort()).toEqual(
      ['appType', 'cloudPassword', 'cloudUserName', 'code', 'refreshTokenNeeded', 'terminalBindEnabled', 'terminalUUID'],
    );
    expect(client.hasSession()).toBe(true);
  });

  it('a login answer without a token is a protocol error and stores nothing', async () => {
    answer(GLOBAL, '/api/v2/account/getAccountStatusAndUrl', ok({ appServerUrl: US }));
    answer(US, '/api/v2/account/login', ok({ accountId: '1' }));
    await expect(client.login()).rejects.toThrow(/without a token/);
    expect(client.hasSession()).toBe(false);
  });

  it('requests without a session fail with KasaNotAuthenticatedError and send nothing', async () => {
    await expect(client.getDeviceList()).rejects.toBeInstanceOf(KasaNotAuthenticatedError);
    expect(seen).toHaveLength(0);
  });

  it('a passthrough answer without responseData is a protocol error', async () => {
    answer(GLOBAL, '/api/v2/account/getAccountStatusAndUrl', ok({ appServerUrl: US }));
    answer(US, '/api/v2/account/login', ok({ token: 'T' }));
    answer(US, '/', ok({}));
    await client.login();
    await expect(client.passthrough({ deviceId: 'D' }, { system: { get_sysinfo: null } })).rejects.toThrow(/without a responseData/);
    expect(seen[2]?.body).toEqual({ method: 'passthrough', params: { deviceId: 'D', requestData: '{"system":{"get_sysinfo":null}}' } });
  });
});
