/** docs/protocol.md, "Simulator": transport, signing, query and host checks, over real sockets. */
import { Agent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/simulator/index.js';
import type { Simulator, SimulatorOptions } from '../../src/simulator/types.js';
import { makeTestTls } from '../helpers/tls.js';
import { APP_TYPE, call, login, loginBody, passthrough } from './client.js';

const USER = { username: 'alice@example.com', password: 'alice-Pa55' };
const PLUG = { deviceId: '2F50687F0187798768F86EAE340E844A660B2444', model: 'HS103(US)', alias: 'Desk' };
const FAR_PLUG = { deviceId: '9F231AD114D92FE98DEB7843ADC91D0EEEF2D0B8', model: 'HS105(US)', alias: 'Far', host: 1 as const };
const STATUS_PATH = '/api/v2/account/getAccountStatusAndUrl';
const statusBody = { appType: APP_TYPE, cloudUserName: USER.username };

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

async function start(options: SimulatorOptions = {}): Promise<Simulator> {
  sim = await startSimulator({ accounts: [{ ...USER, devices: [PLUG, FAR_PLUG] }], ...options });
  return sim;
}

describe('envelope and transport', () => {
  it('answers API outcomes with HTTP 200 and application/json;charset=UTF-8', async () => {
    const s = await start();
    const res = await call(s.url, STATUS_PATH, statusBody);
    expect(res.status).toBe(200);
    expect(res.contentType).toBe('application/json;charset=UTF-8');
    expect(res.body).toEqual({
      error_code: 0,
      result: expect.objectContaining({ appServerUrl: s.regionalUrl, status: 1 }),
    });
    const rejected = await call(s.url, STATUS_PATH, { ...statusBody, cloudUserName: 'nobody@example.com' });
    expect(rejected.status).toBe(200);
    expect(rejected.body).toMatchObject({ error_code: -20600 });
  });

  it('answers 405 to anything but POST, 404 to unknown paths and -20103 to unknown account and common endpoints', async () => {
    const s = await start();
    expect((await call(s.url, STATUS_PATH, statusBody, { method: 'GET' })).status).toBe(405);
    expect((await call(s.url, '/api/v1/common/passthrough', {})).status).toBe(404);
    expect((await call(s.url, '/api/v2/other/passthrough', {})).status).toBe(404);
    const unknown = await call(s.regionalUrl, '/api/v2/account/sendMFACode', { appType: APP_TYPE });
    expect(unknown.body).toMatchObject({ error_code: -20103 });
    const unknownCommon = await call(s.regionalUrl, '/api/v2/common/getThings', {});
    expect(unknownCommon.body).toMatchObject({ error_code: -20103 });
    const unknownMethod = await call(s.regionalUrl, '/', { method: 'getThings' });
    expect(unknownMethod.body).toMatchObject({ error_code: -20103 });
  });

  it('rejects a body that is not a JSON object with -20104', async () => {
    const s = await start();
    expect((await call(s.url, STATUS_PATH, null, { rawBody: '[1,2]' })).body).toMatchObject({ error_code: -20104 });
    expect((await call(s.url, STATUS_PATH, null, { rawBody: '{"appType":' })).body).toMatchObject({ error_code: -20104 });
  });

  it('serves HTTPS on every listener when given a key and certificate', async () => {
    const tls = makeTestTls();
    try {
      const s = await start({ tls: { key: tls.keyPem, cert: tls.certPem } });
      expect([s.url, s.regionalUrl, ...s.deviceUrls].every((u) => u.startsWith('https://127.0.0.1:'))).toBe(true);
      const dispatcher = new Agent({ connect: { ca: tls.caPem } });
      try {
        const res = await call(s.url, STATUS_PATH, statusBody, { dispatcher });
        expect(res.body).toMatchObject({ error_code: 0, result: { appServerUrl: s.regionalUrl } });
      } finally {
        await dispatcher.close();
      }
    } finally {
      tls.cleanup();
    }
  });
});

describe('signature', () => {
  it('rejects a signature that does not cover the bytes sent', async () => {
    const s = await start();
    const sent = JSON.stringify(statusBody);
    const res = await call(s.url, STATUS_PATH, null, {
      rawBody: sent,
      signedBody: sent.replace('alice', 'alicf'),
      headers: { 'content-md5': undefined },
    });
    expect(res.body).toEqual({ error_code: -20571, msg: 'Invalid request or signature' });
  });

  it('rejects a Content-MD5 that does not match the body, strict or lenient', async () => {
    for (const strict of [true, false]) {
      const s = await start({ strict });
      const res = await call(s.url, STATUS_PATH, statusBody, { headers: { 'content-md5': 'AAAAAAAAAAAAAAAAAAAAAA==' } });
      expect(res.body).toMatchObject({ error_code: -20571 });
      await s.stop();
    }
  });

  it('requires Content-MD5 in strict mode and computes it in lenient mode', async () => {
    const strict = await start();
    const missing = await call(strict.url, STATUS_PATH, statusBody, { headers: { 'content-md5': undefined } });
    expect(missing.body).toMatchObject({ error_code: -20571 });
    await strict.stop();

    const lenient = await start({ strict: false });
    const ok = await call(lenient.url, STATUS_PATH, statusBody, { headers: { 'content-md5': undefined } });
    expect(ok.body).toMatchObject({ error_code: 0 });
  });

  it('rejects a missing or malformed X-Authorization and an unknown AccessKey', async () => {
    const s = await start();
    expect((await call(s.url, STATUS_PATH, statusBody, { headers: { 'x-authorization': undefined } })).body).toMatchObject({
      error_code: -20571,
    });
    const signed = await call(s.url, STATUS_PATH, statusBody);
    expect(signed.body.error_code).toBe(0);
    const badKey = 'Timestamp=9999999999, Nonce=11111111-2222-4333-8444-555555555555, AccessKey=00000000000000000000000000000000, Signature=6d925dd1ebf5007a1cfe4bdfa872aef170642041';
    expect((await call(s.url, STATUS_PATH, statusBody, { headers: { 'x-authorization': badKey } })).body).toMatchObject({
      error_code: -20571,
    });
  });

  it('verifies the raw bytes: spaced Python-style JSON and non-ASCII bodies pass unchanged', async () => {
    const s = await start();
    const spaced = `{"appType": "${APP_TYPE}", "cloudUserName": "${USER.username}"}`;
    expect((await call(s.url, STATUS_PATH, null, { rawBody: spaced })).body).toMatchObject({ error_code: 0 });
    const { token } = await login(s, USER.username, USER.password);
    const res = await call(
      s.deviceUrls[0],
      '/',
      null,
      {
        token,
        rawBody: `{"method": "passthrough", "params": {"deviceId": "${PLUG.deviceId}", "requestData": "{\\"system\\": {\\"set_dev_alias\\": {\\"alias\\": \\"Küche\\"}}}"}}`,
      },
    );
    expect(res.body).toMatchObject({ error_code: 0 });
    expect(s.device(PLUG.deviceId).alias).toBe('Küche');
  });
});

describe('query and body identity', () => {
  it('decodes spaces sent as + or %20', async () => {
    const s = await start();
    for (const spaces of ['+', '%20'] as const) {
      expect((await call(s.url, STATUS_PATH, statusBody, { spaces })).body).toMatchObject({ error_code: 0 });
    }
  });

  it('answers -23003 for a foreign app identity and -20104 for a missing termID', async () => {
    const s = await start();
    expect((await call(s.url, STATUS_PATH, statusBody, { query: { appName: 'Tapo_Ios' } })).body).toMatchObject({ error_code: -23003 });
    expect((await call(s.url, STATUS_PATH, statusBody, { query: { appVer: undefined } })).body).toMatchObject({ error_code: -23003 });
    expect((await call(s.url, STATUS_PATH, statusBody, { query: { termID: undefined } })).body).toMatchObject({ error_code: -20104 });
  });

  it('requires netType/ospf/brand/locale only in strict mode', async () => {
    const strict = await start();
    expect((await call(strict.url, STATUS_PATH, statusBody, { query: { locale: undefined } })).body).toMatchObject({ error_code: -20104 });
    await strict.stop();
    const lenient = await start({ strict: false });
    expect((await call(lenient.url, STATUS_PATH, statusBody, { query: { locale: undefined } })).body).toMatchObject({ error_code: 0 });
  });

  it('answers -20104 for a missing appType and -23003 for a wrong one', async () => {
    const s = await start();
    expect((await call(s.url, STATUS_PATH, { cloudUserName: USER.username })).body).toMatchObject({ error_code: -20104 });
    expect((await call(s.url, STATUS_PATH, { ...statusBody, appType: 'TP-Link_Tapo_Android' })).body).toMatchObject({ error_code: -23003 });
  });

  it('strict: the login terminalUUID must equal the query termID', async () => {
    const s = await start();
    const res = await call(s.regionalUrl, '/api/v2/account/login', loginBody(USER.username, USER.password), {
      query: { termID: '0f0f0f0f-0000-4000-8000-000000000000' },
    });
    expect(res.body).toMatchObject({ error_code: -20104 });
  });
});

describe('hosts', () => {
  it('strict: login on the global host answers -20212 naming the regional host', async () => {
    const s = await start();
    const res = await call(s.url, '/api/v2/account/login', loginBody(USER.username, USER.password));
    expect(res.body).toEqual({
      error_code: -20212,
      msg: 'Incorrect service entry address',
      result: { appServerUrl: s.regionalUrl },
    });
    expect(s.count({ op: 'login', host: 'global', errorCode: -20212 })).toBe(1);
  });

  it('lenient: login on the global host is accepted', async () => {
    const s = await start({ strict: false });
    const res = await call(s.url, '/api/v2/account/login', loginBody(USER.username, USER.password));
    expect(res.body).toMatchObject({ error_code: 0, result: { token: expect.any(String) } });
  });

  it('strict: getDeviceList belongs on the regional host and accepts params absent or {}', async () => {
    const s = await start();
    const { token } = await login(s, USER.username, USER.password);
    expect((await call(s.url, '/', { method: 'getDeviceList' }, { token })).body).toMatchObject({ error_code: -20212 });
    for (const body of [{ method: 'getDeviceList' }, { method: 'getDeviceList', params: {} }]) {
      const res = await call(s.regionalUrl, '/', body, { token });
      expect(res.body.error_code).toBe(0);
      expect(res.body.result.deviceList.map((d: { deviceId: string }) => d.deviceId)).toEqual([PLUG.deviceId, FAR_PLUG.deviceId]);
    }
  });

  it('strict: passthrough must arrive on the device host named in the device list', async () => {
    const s = await start();
    const { token } = await login(s, USER.username, USER.password);
    const list = await call(s.regionalUrl, '/', { method: 'getDeviceList' }, { token });
    const far = list.body.result.deviceList.find((d: { deviceId: string }) => d.deviceId === FAR_PLUG.deviceId);
    expect(far).toMatchObject({ appServerUrl: s.deviceUrls[1], isSameRegion: false });
    const get = { system: { get_sysinfo: null } };
    for (const wrong of [s.regionalUrl, s.deviceUrls[0]]) {
      const res = await passthrough(s, token, FAR_PLUG.deviceId, get, wrong);
      expect(res.envelope).toMatchObject({ error_code: -20571 });
    }
    const right = await passthrough(s, token, FAR_PLUG.deviceId, get, far.appServerUrl);
    expect(right.reply.system.get_sysinfo).toMatchObject({ deviceId: FAR_PLUG.deviceId, err_code: 0 });
    expect(s.count({ op: 'passthrough', deviceId: FAR_PLUG.deviceId, errorCode: -20571 })).toBe(2);
    expect(s.count({ op: 'passthrough', host: 'device1', errorCode: 0 })).toBe(1);
  });

  it('lenient: passthrough is accepted on any host', async () => {
    const s = await start({ strict: false });
    const { token } = await login(s, USER.username, USER.password);
    const res = await passthrough(s, token, FAR_PLUG.deviceId, { system: { get_sysinfo: null } }, s.regionalUrl);
    expect(res.envelope.error_code).toBe(0);
  });
});

describe('request log', () => {
  it('records every request, rejected ones included, and counts by filter', async () => {
    const s = await start();
    await call(s.url, STATUS_PATH, statusBody);
    await call(s.url, STATUS_PATH, statusBody, { headers: { 'x-authorization': undefined } });
    await call(s.url, STATUS_PATH, statusBody, { method: 'GET' });
    await login(s, USER.username, USER.password);
    expect(s.requests.map((r) => [r.host, r.op, r.errorCode])).toEqual([
      ['global', 'getAccountStatusAndUrl', 0],
      ['global', 'getAccountStatusAndUrl', -20571],
      ['global', 'getAccountStatusAndUrl', -405],
      ['regional', 'login', 0],
    ]);
    expect(s.count()).toBe(4);
    expect(s.count({ op: 'getAccountStatusAndUrl' })).toBe(3);
    expect(s.count({ username: USER.username })).toBe(2);
    expect(s.requests.every((r) => r.durationMs >= 0 && typeof r.at === 'number')).toBe(true);
    s.clearRequests();
    expect(s.count()).toBe(0);
    expect(s.requests).toHaveLength(0);
  });
});

describe('faults', () => {
  it('http500 answers HTTP 500 to the next N requests', async () => {
    const s = await start();
    s.faults.http500 = 2;
    expect((await call(s.url, STATUS_PATH, statusBody)).status).toBe(500);
    expect((await call(s.url, STATUS_PATH, statusBody)).status).toBe(500);
    expect((await call(s.url, STATUS_PATH, statusBody)).body).toMatchObject({ error_code: 0 });
    expect(s.count({ errorCode: -500 })).toBe(2);
  });

  it('throttle and blackList answer every request until reset', async () => {
    const s = await start();
    s.faults.throttle = true;
    expect((await call(s.url, STATUS_PATH, statusBody)).body).toEqual({ error_code: -20004, msg: 'API rate limit exceeded' });
    s.faults.throttle = false;
    s.faults.blackList = true;
    expect((await call(s.url, STATUS_PATH, statusBody)).body).toEqual({
      error_code: -20005,
      msg: 'Access denied request in blackList',
    });
    s.resetFaults();
    expect((await call(s.url, STATUS_PATH, statusBody)).body).toMatchObject({ error_code: 0 });
  });

  it('emptyDeviceList and responseDataAsObject', async () => {
    const s = await start();
    const { token } = await login(s, USER.username, USER.password);
    s.faults.emptyDeviceList = true;
    expect((await call(s.regionalUrl, '/', { method: 'getDeviceList' }, { token })).body).toEqual({
      error_code: 0,
      result: { deviceList: [] },
    });
    s.faults.responseDataAsObject = true;
    const res = await passthrough(s, token, PLUG.deviceId, { system: { get_sysinfo: null } });
    expect(typeof res.envelope.result.responseData).toBe('object');
    expect(res.reply.system.get_sysinfo.deviceId).toBe(PLUG.deviceId);
  });

  it('delayMs holds every answer at least that long', async () => {
    const s = await start();
    s.faults.delayMs = 120;
    await call(s.url, STATUS_PATH, statusBody);
    expect(s.requests[0]!.durationMs).toBeGreaterThanOrEqual(100);
  });

  it('uses configured codes for the outcomes the protocol leaves open', async () => {
    const s = await start({ errorCodes: { signature: -20999 } });
    const res = await call(s.url, STATUS_PATH, statusBody, { headers: { 'x-authorization': undefined } });
    expect(res.body).toMatchObject({ error_code: -20999, msg: 'Invalid request or signature' });
  });
});
