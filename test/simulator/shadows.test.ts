/**
 * The app server's thing shadows: reading `reported`, writing `desired.on` with the version rule
 * (exactly the current version plus one, else 11000 with curVersion), a device-side change
 * counting as an update, and the header checks (app-cid 403, `ut|` token 401, 405 per path).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/simulator/index.js';
import type { Simulator } from '../../src/simulator/types.js';
import { login } from './client.js';
import { appServer, patchShadow, shadowsOf, smart, tapoLogin } from './tapoClient.js';

const USER = { username: 'shadow@example.com', password: 'shadow-Pa55' };
const id = (n: number): string => `9A4B3C2D1E0F5A4B3C2D1E0F5A4B3C2D1E0F${String(n).padStart(4, '0')}`;
const D = {
  p100: { deviceId: id(1), model: 'P100', alias: 'Kettle' },
  ks205: { deviceId: id(2), model: 'KS205(US)', alias: 'Hall' },
  classic: { deviceId: id(3), model: 'HS103(US)', alias: 'Classic' },
};

let sim: Simulator;
let token: string;
beforeAll(async () => {
  sim = await startSimulator({
    accounts: [
      { ...USER, devices: Object.values(D) },
      { username: 'other@example.com', password: 'x', devices: [{ deviceId: id(9), model: 'P100', alias: 'Not yours' }] },
    ],
  });
  token = await tapoLogin(sim, USER.username, USER.password);
});
afterAll(async () => {
  await sim.stop();
});

interface Shadow {
  thingName: string;
  state: { desired: Record<string, unknown>; reported: Record<string, unknown> };
  version: number;
}

async function shadow(deviceId: string): Promise<Shadow> {
  const res = await shadowsOf(sim, token, deviceId);
  expect(res.status).toBe(200);
  return (res.body as { shadows: Shadow[] }).shadows[0]!;
}

describe('reading shadows', () => {
  it('answers each named thing with desired, reported and a version', async () => {
    sim.device(D.ks205.deviceId).setState({ on: true });
    const res = await shadowsOf(sim, token, D.p100.deviceId, D.ks205.deviceId);
    expect(res.status).toBe(200);
    expect(res.body.shadows).toEqual([
      { thingName: D.p100.deviceId, state: { desired: {}, reported: { on: false } }, version: expect.any(Number) },
      { thingName: D.ks205.deviceId, state: { desired: {}, reported: { on: true } }, version: expect.any(Number) },
    ]);
  });

  it('leaves out things the account does not own and classic devices', async () => {
    const res = await shadowsOf(sim, token, id(9), D.classic.deviceId, D.p100.deviceId);
    expect(res.body.shadows.map((s: { thingName: string }) => s.thingName)).toEqual([D.p100.deviceId]);
  });

  it('answers 400 without thingNames', async () => {
    expect((await appServer(sim, token, '/v1/things/shadows')).status).toBe(400);
  });
});

describe('writing shadows', () => {
  it('switches the device with version + 1 and answers the new version', async () => {
    const { version } = await shadow(D.p100.deviceId);
    const res = await patchShadow(sim, token, D.p100.deviceId, true, version + 1);
    expect(res).toEqual({ status: 200, body: { version: version + 1, requestId: expect.any(String) } });
    expect(sim.device(D.p100.deviceId).sysinfo().device_on).toBe(true);
    expect(await shadow(D.p100.deviceId)).toEqual({ thingName: D.p100.deviceId, state: { desired: { on: true }, reported: { on: true } }, version: version + 1 });
  });

  it.each([
    ['the current version', 0],
    ['a stale version', -3],
    ['a version two ahead', 2],
  ])('refuses %s with 11000 and the current version, changing nothing', async (_what, delta) => {
    const before = await shadow(D.p100.deviceId);
    const on = before.state.reported.on !== true;
    const res = await patchShadow(sim, token, D.p100.deviceId, on, before.version + delta);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      code: 11000,
      message: expect.stringContaining('Update version is smaller than present version'),
      data: { curVersion: before.version },
    });
    expect(await shadow(D.p100.deviceId)).toEqual(before);
  });

  it('counts a change made on the device (button, app, passthrough) as an update', async () => {
    const { version } = await shadow(D.ks205.deviceId);
    const tapoToken = await tapoLogin(sim, USER.username, USER.password);
    await smart(sim, tapoToken, D.ks205.deviceId, { method: 'set_device_info', params: { device_on: false } });
    const stale = await patchShadow(sim, token, D.ks205.deviceId, true, version + 1);
    expect(stale.body).toMatchObject({ code: 11000, data: { curVersion: version + 1 } });
    expect((await shadow(D.ks205.deviceId)).state.reported).toEqual({ on: false });
    expect((await patchShadow(sim, token, D.ks205.deviceId, true, version + 2)).status).toBe(200);
    expect(sim.device(D.ks205.deviceId).sysinfo().device_on).toBe(true);
  });

  it.each([
    ['no version', { state: { desired: { on: true } } }],
    ['no desired state', { version: 5 }],
    ['on as a string', { state: { desired: { on: 'true' } }, version: 5 }],
    ['a key other than on', { state: { desired: { brightness: 20 } }, version: 5 }],
  ])('answers 400 to a body with %s', async (_what, body) => {
    const res = await appServer(sim, token, `/v1/things/${D.p100.deviceId}/shadows`, { method: 'PATCH', body });
    expect(res.status).toBe(400);
  });

  it('answers 404 for a thing the account does not own', async () => {
    expect((await patchShadow(sim, token, id(9), true, 1)).status).toBe(404);
    expect((await patchShadow(sim, token, D.classic.deviceId, true, 1)).status).toBe(404);
  });
});

describe('headers and methods', () => {
  it('answers 403 "missing appCid or invalid" without a well-formed app-cid', async () => {
    for (const cid of [undefined, 'tapo', 'app:only-one-part']) {
      const res = await appServer(sim, token, `/v1/things/shadows?thingNames=${D.p100.deviceId}`, { headers: { 'app-cid': cid } });
      expect(res.status).toBe(403);
      expect(res.body.message).toBe('missing appCid or invalid');
    }
    // The samples get away with any app and terminal.
    expect((await appServer(sim, token, `/v1/things/shadows?thingNames=${D.p100.deviceId}`, { headers: { 'app-cid': 'app:x:x' } })).status).toBe(200);
  });

  it('answers 401 for a missing, malformed, unknown or expired token; a Kasa session is accepted', async () => {
    const path = `/v1/things/shadows?thingNames=${D.p100.deviceId}`;
    for (const authorization of [undefined, token, `Bearer ${token}`, 'ut|not-a-token']) {
      expect((await appServer(sim, token, path, { headers: { authorization } })).status).toBe(401);
    }
    const { token: kasaToken } = await login(sim, USER.username, USER.password);
    expect((await appServer(sim, kasaToken, path)).status).toBe(200);
    sim.expireAccessTokens();
    expect((await appServer(sim, token, path)).status).toBe(401);
    token = await tapoLogin(sim, USER.username, USER.password);
  });

  it('answers 405 to other methods on a thing\'s shadow and on the list, 404 elsewhere', async () => {
    for (const method of ['GET', 'POST', 'PUT'] as const) {
      expect((await appServer(sim, token, `/v1/things/${D.p100.deviceId}/shadows`, { method })).status).toBe(405);
    }
    expect((await appServer(sim, token, '/v1/things/shadows?thingNames=x', { method: 'PATCH', body: {} })).status).toBe(405);
    expect((await appServer(sim, token, '/v1/things')).status).toBe(404);
  });

  it('names itself in server-info', async () => {
    expect(await appServer(sim, token, '/v1/server-info')).toEqual({ status: 200, body: { appServerUrl: sim.appServerUrl } });
  });
});
