/**
 * The Tapo app identity on the simulated account service: its login on the same account, its
 * own session, the Tapo-only endpoints refusing the Kasa identity (-10301 for the Kasa key),
 * the paged device list, the V2 passthrough's checks, and MFA on a Tapo login.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { KASA_ACCESS_KEY, KASA_SECRET_KEY } from '../../src/kasa/signing.js';
import { startSimulator } from '../../src/simulator/index.js';
import type { Simulator, SimulatorOptions } from '../../src/simulator/types.js';
import { call, login, TERMINAL } from './client.js';
import { smart, TAPO_APP, TAPO_KEYS, tapoCall, tapoLogin, tapoLoginBody } from './tapoClient.js';

const USER = { username: 'tapo@example.com', password: 'tapo-Pa55' };
const MFA_USER = { username: 'tapo-mfa@example.com', password: 'tapo-mfa-Pa55', mfa: true, mfaCode: '135790' };
const id = (n: number): string => `7A4B3C2D1E0F5A4B3C2D1E0F5A4B3C2D1E0F${String(n).padStart(4, '0')}`;
const DEVICES = [
  { deviceId: id(1), model: 'P110(EU)', alias: 'Washer' },
  { deviceId: id(2), model: 'L530E(EU)', alias: 'Lamp' },
  { deviceId: id(3), model: 'KS205(US)', alias: 'Hall' },
  { deviceId: id(4), model: 'HS103(US)', alias: 'Classic plug' },
  { deviceId: id(5), model: 'P100', alias: 'Kettle' },
  { deviceId: id(6), model: 'P100', alias: 'Lost', online: false },
];

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

async function start(options: SimulatorOptions = {}): Promise<Simulator> {
  sim = await startSimulator({ accounts: [{ ...USER, devices: DEVICES }, { ...MFA_USER, devices: [] }], ...options });
  return sim;
}

const page = (s: Simulator, token: string, body: Record<string, unknown>, opts = {}) =>
  tapoCall(s.regionalUrl, '/api/v2/common/getDeviceListByPage', body, { token, ...opts });
const KASA_KEYS = { accessKey: KASA_ACCESS_KEY, secretKey: KASA_SECRET_KEY };
const ALL_TYPES = ['SMART.TAPOPLUG', 'SMART.TAPOBULB', 'SMART.KASAPLUG', 'SMART.KASASWITCH'];

describe('Tapo login', () => {
  it('logs in on the same account with the Tapo appType, key pair and query', async () => {
    const s = await start();
    const res = await tapoCall(s.regionalUrl, '/api/v2/account/login', tapoLoginBody(USER.username, USER.password));
    expect(res.body).toMatchObject({ error_code: 0, result: { token: expect.any(String), email: USER.username } });
  });

  it('finds the regional host with getAccountStatusAndUrl on the global host, where login answers -20212', async () => {
    const s = await start();
    const status = await tapoCall(s.url, '/api/v2/account/getAccountStatusAndUrl', { appType: TAPO_APP, cloudUserName: USER.username });
    expect(status.body).toMatchObject({ error_code: 0, result: { appServerUrl: s.regionalUrl } });
    const misplaced = await tapoCall(s.url, '/api/v2/account/login', tapoLoginBody(USER.username, USER.password));
    expect(misplaced.body).toMatchObject({ error_code: -20212, result: { appServerUrl: s.regionalUrl } });
  });

  it('answers -23003 when the body names another app than the query, or the query an unknown app', async () => {
    const s = await start();
    expect((await tapoCall(s.regionalUrl, '/api/v2/account/login', tapoLoginBody(USER.username, USER.password))).body.error_code).toBe(0);
    const kasaBody = { ...tapoLoginBody(USER.username, USER.password), appType: 'Kasa_Android_Mix' };
    expect((await tapoCall(s.regionalUrl, '/api/v2/account/login', kasaBody)).body).toMatchObject({ error_code: -23003 });
    const unknownApp = await tapoCall(s.regionalUrl, '/api/v2/account/login', tapoLoginBody(USER.username, USER.password), { query: { appName: 'Tapo_Web' } });
    expect(unknownApp.body).toMatchObject({ error_code: -23003 });
  });

  it('refreshes a Tapo session under the Tapo identity only', async () => {
    const s = await start();
    const res = await tapoCall(s.regionalUrl, '/api/v2/account/login', tapoLoginBody(USER.username, USER.password));
    const refreshBody = { appType: TAPO_APP, refreshToken: res.body.result.refreshToken, terminalUUID: TERMINAL };
    const refreshed = await tapoCall(s.regionalUrl, '/api/v2/account/refreshToken', refreshBody);
    expect(refreshed.body).toMatchObject({ error_code: 0, result: { token: expect.any(String) } });
    expect((await page(s, refreshed.body.result.token, { index: 0, limit: 10, deviceTypeList: ALL_TYPES })).body.error_code).toBe(0);
    const asKasa = await call(s.regionalUrl, '/api/v2/account/refreshToken', { ...refreshBody, appType: 'Kasa_Android_Mix' });
    expect(asKasa.body).toMatchObject({ error_code: -20655 });
  });
});

describe('Tapo-only endpoints refuse the Kasa identity', () => {
  it('answers -10301 "Signature dose not match" to a Kasa-keyed request and to a bad signature', async () => {
    const s = await start();
    const token = await tapoLogin(s, USER.username, USER.password);
    const body = { index: 0, limit: 10, deviceTypeList: ALL_TYPES };
    const kasaKeyed = await tapoCall(s.regionalUrl, '/api/v2/common/getDeviceListByPage', body, { token, keys: KASA_KEYS });
    expect(kasaKeyed.body).toEqual({ error_code: -10301, msg: 'Signature dose not match' });
    const forged = await tapoCall(s.regionalUrl, '/api/v2/common/passthrough', { deviceId: id(1), requestData: {} }, { token, signedBody: '{}' });
    expect(forged.body).toMatchObject({ error_code: -10301 });
    // The Kasa key still signs the account endpoints, as some clients do.
    const login = await tapoCall(s.regionalUrl, '/api/v2/account/login', tapoLoginBody(USER.username, USER.password), { keys: KASA_KEYS });
    expect(login.body.error_code).toBe(0);
  });

  it('answers -23003 to the Tapo key under the Kasa appName, and -20651 to a Kasa session', async () => {
    const s = await start();
    const tapoToken = await tapoLogin(s, USER.username, USER.password);
    const body = { index: 0, limit: 10, deviceTypeList: ALL_TYPES };
    const kasaName = await call(s.regionalUrl, '/api/v2/common/getDeviceListByPage', body, { token: tapoToken, keys: TAPO_KEYS });
    expect(kasaName.body).toMatchObject({ error_code: -23003 });
    const { token: kasaToken } = await login(s, USER.username, USER.password);
    expect((await page(s, kasaToken, body)).body).toMatchObject({ error_code: -20651 });
  });
});

describe('getDeviceListByPage', () => {
  it('lists the SMART devices of the asked types, paged, with totalNum and base64 aliases', async () => {
    const s = await start();
    const token = await tapoLogin(s, USER.username, USER.password);
    const all = await page(s, token, { index: 0, limit: 30, deviceTypeList: ALL_TYPES });
    expect(all.body.result.totalNum).toBe(5);
    const ids = all.body.result.deviceList.map((d: { deviceId: string }) => d.deviceId);
    expect(ids).not.toContain(id(4)); // the classic HS103 is not a SMART device
    expect(all.body.result.deviceList.find((d: { deviceId: string }) => d.deviceId === id(2))).toMatchObject({
      deviceType: 'SMART.TAPOBULB',
      alias: Buffer.from('Lamp').toString('base64'),
      status: 1,
    });
    const bulbs = await page(s, token, { index: 0, limit: 30, deviceTypeList: ['SMART.TAPOBULB'] });
    expect(bulbs.body.result).toMatchObject({ totalNum: 1, deviceList: [expect.objectContaining({ deviceId: id(2) })] });
    const second = await page(s, token, { index: 2, limit: 2, deviceTypeList: ALL_TYPES });
    expect(second.body.result.totalNum).toBe(5);
    expect(second.body.result.deviceList.map((d: { deviceId: string }) => d.deviceId)).toEqual(ids.slice(2, 4));
  });

  it.each([
    ['no deviceTypeList', { index: 0, limit: 10 }],
    ['an empty deviceTypeList', { index: 0, limit: 10, deviceTypeList: [] }],
    ['no limit', { index: 0, deviceTypeList: ALL_TYPES }],
    ['a negative index', { index: -1, limit: 10, deviceTypeList: ALL_TYPES }],
    ['limit 0', { index: 0, limit: 0, deviceTypeList: ALL_TYPES }],
  ])('answers -20104 to %s', async (_what, body) => {
    const s = await start();
    const token = await tapoLogin(s, USER.username, USER.password);
    expect((await page(s, token, body)).body).toMatchObject({ error_code: -20104 });
  });

  it('belongs on the regional host (-20212 elsewhere)', async () => {
    const s = await start();
    const token = await tapoLogin(s, USER.username, USER.password);
    const res = await tapoCall(s.url, '/api/v2/common/getDeviceListByPage', { index: 0, limit: 10, deviceTypeList: ALL_TYPES }, { token });
    expect(res.body).toMatchObject({ error_code: -20212, result: { appServerUrl: s.regionalUrl } });
  });
});

describe('V2 passthrough checks', () => {
  it('answers -20104 without deviceId, -20573 without requestData, -20104 for requestData that is not an object', async () => {
    const s = await start();
    const token = await tapoLogin(s, USER.username, USER.password);
    const pass = (body: Record<string, unknown>) => tapoCall(s.regionalUrl, '/api/v2/common/passthrough', body, { token });
    expect((await pass({ requestData: { method: 'get_device_info' } })).body).toMatchObject({ error_code: -20104 });
    expect((await pass({ deviceId: id(1) })).body).toMatchObject({ error_code: -20573 });
    expect((await pass({ deviceId: id(1), requestData: '[1,2]' })).body).toMatchObject({ error_code: -20104 });
    expect((await pass({ deviceId: id(1), requestData: 7 })).body).toMatchObject({ error_code: -20104 });
  });

  it('answers -20571 for a device not owned, a classic device and an offline one', async () => {
    const s = await start();
    const token = await tapoLogin(s, USER.username, USER.password);
    for (const deviceId of ['F'.repeat(40), id(4), id(6)]) {
      expect((await smart(s, token, deviceId, { method: 'get_device_info' })).envelope).toMatchObject({ error_code: -20571 });
    }
    expect((await smart(s, token, id(5), { method: 'get_device_info' })).envelope.error_code).toBe(0);
  });
});

describe('MFA on a Tapo login', () => {
  it('asks an MFA account for the second factor in the simulator\'s dialect, then trusts the terminal', async () => {
    const s = await start({ mfaDialect: 'nested' });
    const first = await tapoCall(s.regionalUrl, '/api/v2/account/login', tapoLoginBody(MFA_USER.username, MFA_USER.password));
    expect(first.body).toMatchObject({ error_code: 0, result: { errorCode: '-20677', MFAProcessId: expect.any(String) } });
    const processId = first.body.result.MFAProcessId as string;
    const common = { appType: TAPO_APP, cloudUserName: MFA_USER.username, terminalUUID: TERMINAL, MFAProcessId: processId };
    expect((await tapoCall(s.regionalUrl, '/api/v2/account/getEmailVC4TerminalMFA', { ...common, cloudPassword: MFA_USER.password })).body.error_code).toBe(0);
    const checked = await tapoCall(s.regionalUrl, '/api/v2/account/checkMFACodeAndLogin', {
      ...common,
      code: MFA_USER.mfaCode,
      MFAType: 2,
      terminalBindEnabled: true,
    });
    expect(checked.body).toMatchObject({ error_code: 0, result: { token: expect.any(String) } });
    expect((await page(s, checked.body.result.token, { index: 0, limit: 10, deviceTypeList: ALL_TYPES })).body.error_code).toBe(0);
    const again = await tapoCall(s.regionalUrl, '/api/v2/account/login', tapoLoginBody(MFA_USER.username, MFA_USER.password));
    expect(again.body).toMatchObject({ error_code: 0, result: { token: expect.any(String) } });
  });

  it('the tapoMfa fault asks for MFA on a Tapo login only, until a Tapo MFA round trusts the terminal', async () => {
    const s = await start();
    s.faults.tapoMfa = true;
    await login(s, USER.username, USER.password); // the Kasa login is unaffected
    const first = await tapoCall(s.regionalUrl, '/api/v2/account/login', tapoLoginBody(USER.username, USER.password));
    expect(first.body).toMatchObject({ error_code: -20677, result: { MFAProcessId: expect.any(String), supportedMFATypes: [1, 2] } });
    const common = { appType: TAPO_APP, cloudUserName: USER.username, terminalUUID: TERMINAL, MFAProcessId: first.body.result.MFAProcessId };
    await tapoCall(s.regionalUrl, '/api/v2/account/getEmailVC4TerminalMFA', { ...common, cloudPassword: USER.password });
    const code = s.lastMfaCode(USER.username)!;
    const checked = await tapoCall(s.regionalUrl, '/api/v2/account/checkMFACodeAndLogin', { ...common, code, MFAType: 2, terminalBindEnabled: true });
    expect(checked.body.error_code).toBe(0);
    expect((await tapoCall(s.regionalUrl, '/api/v2/account/login', tapoLoginBody(USER.username, USER.password))).body.error_code).toBe(0);
  });
});
