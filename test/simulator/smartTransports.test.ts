/**
 * Which transports reach SMART devices: the grant switch (none / passthrough / shadows / both) at
 * start and at run time, and a device that stops answering on one transport (its requests are
 * held until it answers again) while its other transport and other devices carry on.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startSimulator } from '../../src/simulator/index.js';
import type { Simulator, SmartGrant } from '../../src/simulator/types.js';
import { patchShadow, shadowsOf, smart, tapoLogin } from './tapoClient.js';

const USER = { username: 'grant@example.com', password: 'grant-Pa55' };
const PLUG = { deviceId: 'B0B1B2B3B4B5B6B7B8B9BABBBCBDBEBFC0C1C2C3', model: 'P110(EU)', alias: 'Plug' };
const BULB = { deviceId: 'B0B1B2B3B4B5B6B7B8B9BABBBCBDBEBFC0C1C2C4', model: 'L530E(EU)', alias: 'Bulb' };

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

async function start(smartTransports?: SmartGrant): Promise<{ s: Simulator; token: string }> {
  sim = await startSimulator({ accounts: [{ ...USER, devices: [PLUG, BULB] }], ...(smartTransports ? { smartTransports } : {}) });
  return { s: sim, token: await tapoLogin(sim, USER.username, USER.password) };
}

/** What each transport does for the plug now: 'ok' or the refusal it meets. */
async function reach(s: Simulator, token: string): Promise<{ passthrough: number; shadowListed: boolean; shadowWrite: number }> {
  const pass = await smart(s, token, PLUG.deviceId, { method: 'get_device_info' });
  const read = await shadowsOf(s, token, PLUG.deviceId);
  expect(read.status).toBe(200);
  const listed = read.body.shadows.length === 1;
  const write = await patchShadow(s, token, PLUG.deviceId, true, listed ? read.body.shadows[0].version + 1 : 1);
  return { passthrough: pass.envelope.error_code, shadowListed: listed, shadowWrite: write.status };
}

describe('grant switch', () => {
  it.each([
    ['both', { passthrough: 0, shadowListed: true, shadowWrite: 200 }],
    ['passthrough', { passthrough: 0, shadowListed: false, shadowWrite: 403 }],
    ['shadows', { passthrough: -20571, shadowListed: true, shadowWrite: 200 }],
    ['none', { passthrough: -20571, shadowListed: false, shadowWrite: 403 }],
  ] as const)('%s at start', async (grant, expected) => {
    const { s, token } = await start(grant);
    expect(s.smartTransports).toBe(grant);
    expect(await reach(s, token)).toEqual(expected);
  });

  it('grants both by default and follows a change at run time', async () => {
    const { s, token } = await start();
    expect(s.smartTransports).toBe('both');
    s.smartTransports = 'none';
    expect(await reach(s, token)).toEqual({ passthrough: -20571, shadowListed: false, shadowWrite: 403 });
    s.smartTransports = 'shadows';
    expect((await reach(s, token)).passthrough).toBe(-20571);
    s.smartTransports = 'both';
    expect((await reach(s, token)).passthrough).toBe(0);
  });
});

describe('a transport that stops answering', () => {
  it('holds the device\'s passthrough until it answers again; other devices and its shadows answer meanwhile', async () => {
    const { s, token } = await start();
    s.device(PLUG.deviceId).setAnswering!('passthrough', false);
    let settled = false;
    const held = smart(s, token, PLUG.deviceId, { method: 'get_device_info' }).finally(() => {
      settled = true;
    });
    await vi.waitFor(() => expect(s.inFlight).toBe(1));
    expect((await smart(s, token, BULB.deviceId, { method: 'get_device_info' })).envelope.error_code).toBe(0);
    expect((await shadowsOf(s, token, PLUG.deviceId)).body.shadows).toHaveLength(1);
    expect(settled).toBe(false);
    s.device(PLUG.deviceId).setAnswering!('passthrough', true);
    expect((await held).reply).toMatchObject({ error_code: 0, result: { device_id: PLUG.deviceId } });
  });

  it('holds the device\'s shadow reads and writes while its passthrough answers', async () => {
    const { s, token } = await start();
    const { version } = (await shadowsOf(s, token, PLUG.deviceId)).body.shadows[0];
    s.device(PLUG.deviceId).setAnswering!('shadows', false);
    let settled = false;
    const held = patchShadow(s, token, PLUG.deviceId, true, version + 1).finally(() => {
      settled = true;
    });
    await vi.waitFor(() => expect(s.inFlight).toBe(1));
    expect((await smart(s, token, PLUG.deviceId, { method: 'get_device_info' })).reply.result.device_on).toBe(false);
    expect((await shadowsOf(s, token, BULB.deviceId)).status).toBe(200);
    expect(settled).toBe(false);
    s.device(PLUG.deviceId).setAnswering!('shadows', true);
    expect((await held).status).toBe(200);
    expect(s.device(PLUG.deviceId).sysinfo().device_on).toBe(true);
  });

  it('stops with a request still held', async () => {
    const { s, token } = await start();
    s.device(PLUG.deviceId).setAnswering!('passthrough', false);
    const held = smart(s, token, PLUG.deviceId, { method: 'get_device_info' }).then(
      () => 'answered',
      () => 'dropped',
    );
    await vi.waitFor(() => expect(s.inFlight).toBe(1));
    await s.stop();
    expect(await held).toBe('dropped');
  });
});
