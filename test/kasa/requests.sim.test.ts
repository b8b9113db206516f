/** Token refresh, passthrough per family and cloud faults against the simulator. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KasaCloudClient } from '../../src/kasa/cloudClient.js';
import { methodResult, sysinfoOf } from '../../src/devices/reply.js';
import {
  KasaDeviceOfflineError,
  KasaMfaRequiredError,
  KasaNetworkError,
  KasaRateLimitError,
} from '../../src/kasa/errors.js';
import type { CloudDevice } from '../../src/kasa/protocol.js';
import { DEVICES, MFA, PLAIN, startEnv, thrown, type Env } from './simEnv.js';

let env: Env;
let client: KasaCloudClient;
let list: CloudDevice[];

beforeEach(async () => {
  env = await startEnv();
  client = env.client();
  await client.login();
  list = await client.getDeviceList();
  env.sim.clearRequests();
});
afterEach(async () => {
  await env.close();
});

const dev = (id: string): CloudDevice => {
  const d = list.find((x) => x.deviceId === id);
  if (!d) throw new Error(`device ${id} not in the list`);
  return d;
};
const sysinfo = (reply: Record<string, unknown>): Record<string, unknown> => sysinfoOf(reply) ?? {};

describe('token expiry', () => {
  it('refreshes once for N concurrent passthroughs and retries each once', async () => {
    env.sim.expireAccessTokens();
    const n = 6;
    const replies = await Promise.all(
      Array.from({ length: n }, () => client.passthrough(dev(DEVICES.plug.deviceId), { system: { get_sysinfo: null } })),
    );
    expect(replies.every((r) => sysinfo(r)['deviceId'] === DEVICES.plug.deviceId)).toBe(true);
    expect(env.sim.count({ op: 'refreshToken' })).toBe(1);
    expect(env.sim.count({ op: 'refreshToken', errorCode: 0 })).toBe(1);
    expect(env.sim.count({ op: 'login' })).toBe(0);
    expect(env.sim.count({ op: 'passthrough', errorCode: -20651 })).toBeGreaterThanOrEqual(1);
    expect(env.sim.count({ op: 'passthrough', errorCode: 0 })).toBe(n);
    // The refreshed token is persisted: a new instance uses it without refreshing again.
    env.sim.clearRequests();
    await env.client().getDeviceList();
    expect(env.sim.count({ op: 'refreshToken' })).toBe(0);
    expect(env.sim.count({ op: 'getDeviceList', errorCode: 0 })).toBe(1);
  });

  it('refresh expiry → password login with the same terminal, then the request is retried', async () => {
    const terminal = client.terminalUUID;
    env.sim.expireAccessTokens();
    env.sim.expireRefreshTokens();
    await expect(client.getDeviceList()).resolves.not.toHaveLength(0);
    expect(env.sim.count({ op: 'refreshToken', errorCode: -20655 })).toBe(1);
    expect(env.sim.count({ op: 'login', errorCode: 0 })).toBe(1);
    expect(client.terminalUUID).toBe(terminal);
    expect(env.sim.count({ op: 'getDeviceList', errorCode: 0 })).toBe(1);
  });

  it('refresh expiry with a password that no longer works → the session is lost', async () => {
    const stale = env.client({ account: { username: PLAIN.username, password: 'changed-elsewhere' } });
    expect(stale.hasSession()).toBe(true); // same DATA_DIR, same user: the stored session
    env.states.length = 0;
    env.details.length = 0;
    env.sim.expireAccessTokens();
    env.sim.expireRefreshTokens();
    const err = await thrown(() => stale.getDeviceList());
    expect(err).toMatchObject({ name: 'KasaUserActionError', reason: 'credentials_invalid' });
    expect(env.states).toEqual(['lost']);
    expect(env.details[0]).toMatchObject({ automatic: true, error: err });
    expect(stale.hasSession()).toBe(false);
    expect(await thrown(() => stale.getDeviceList())).toMatchObject({ name: 'KasaNotAuthenticatedError', action: 'relogin' });
  });

  describe('with an MFA account', () => {
    let mfaClient: KasaCloudClient;
    let target: CloudDevice;
    beforeEach(async () => {
      mfaClient = env.client({ account: MFA });
      await mfaClient.login();
      await mfaClient.completeMfa(env.sim.lastMfaCode(MFA.username)!);
      [target] = (await mfaClient.getDeviceList()) as [CloudDevice];
      env.sim.clearRequests();
      env.states.length = 0;
      env.details.length = 0;
      env.sim.expireAccessTokens();
      env.sim.expireRefreshTokens();
    });

    it('a trusted terminal logs in again without MFA', async () => {
      await expect(mfaClient.getDeviceList()).resolves.toHaveLength(1);
      expect(env.sim.count({ op: 'login', errorCode: 0 })).toBe(1);
      expect(env.sim.count({ op: 'getEmailVC4TerminalMFA' })).toBe(0);
    });

    it('an untrusted terminal gets KasaMfaRequiredError with the code dispatched, once for concurrent callers', async () => {
      env.sim.untrustTerminals(MFA.username);
      const errors = await Promise.all([1, 2, 3].map(() => thrown(() => mfaClient.passthrough(target, { system: { get_sysinfo: null } }))));
      for (const err of errors) {
        expect(err).toBeInstanceOf(KasaMfaRequiredError);
        expect(err).toMatchObject({ mfaType: 'email', action: 'mfa' });
      }
      expect(env.sim.count({ op: 'refreshToken' })).toBe(1);
      expect(env.sim.count({ op: 'login' })).toBe(1);
      expect(env.sim.count({ op: 'getEmailVC4TerminalMFA', errorCode: 0 })).toBe(1);
      expect(env.states).toEqual(['mfa_required']);
      expect(env.details[0]).toMatchObject({ automatic: true, mfaType: 'email' });
      expect(mfaClient.hasSession()).toBe(false);

      // Meanwhile requests fail fast without touching the cloud.
      const before = env.sim.requests.length;
      expect(await thrown(() => mfaClient.getDeviceList())).toBeInstanceOf(KasaMfaRequiredError);
      expect(env.sim.requests.length).toBe(before);

      await mfaClient.completeMfa(env.sim.lastMfaCode(MFA.username)!);
      await expect(mfaClient.passthrough(target, { system: { get_sysinfo: null } })).resolves.toHaveProperty('system');
      expect(env.states).toEqual(['mfa_required', 'authenticated']);
    });
  });
});

describe('passthrough per family', () => {
  it('plug: set + read-back in one request, through the device host', async () => {
    const d = dev(DEVICES.plug.deviceId);
    const reply = await client.passthrough(d, { system: { set_relay_state: { state: 1 }, get_sysinfo: null } });
    expect(methodResult(reply, 'system', 'set_relay_state')).toMatchObject({ err_code: 0 });
    expect(sysinfo(reply)['relay_state']).toBe(1);
    expect(env.sim.device(d.deviceId).sysinfo()['relay_state']).toBe(1);
    expect(env.sim.count({ op: 'passthrough', host: 'device0', deviceId: d.deviceId, errorCode: 0 })).toBe(1);
  });

  it('switch: off and read back', async () => {
    const reply = await client.passthrough(dev(DEVICES.switch.deviceId), { system: { set_relay_state: { state: 0 }, get_sysinfo: null } });
    expect(sysinfo(reply)['relay_state']).toBe(0);
  });

  it('dimmer: brightness and read back', async () => {
    const reply = await client.passthrough(dev(DEVICES.dimmer.deviceId), {
      'smartlife.iot.dimmer': { set_brightness: { brightness: 40 } },
      system: { set_relay_state: { state: 1 }, get_sysinfo: null },
    });
    expect(methodResult(reply, 'smartlife.iot.dimmer', 'set_brightness')).toBeDefined();
    expect(sysinfo(reply)).toMatchObject({ brightness: 40, relay_state: 1 });
  });

  it('strip: one outlet via context.child_ids, with its meter', async () => {
    const id = DEVICES.strip.deviceId;
    const child = `${id}02`;
    const reply = await client.passthrough(dev(id), {
      context: { child_ids: [child] },
      system: { set_relay_state: { state: 1 }, get_sysinfo: null },
      emeter: { get_realtime: null },
    });
    const children = sysinfo(reply)['children'] as { id: string; state: number }[];
    expect(children.find((c) => c.id === child || `${id}${c.id}` === child)?.state).toBe(1);
    expect(methodResult(reply, 'emeter', 'get_realtime')).toHaveProperty('power_mw');
  });

  it('bulb: transition_light_state answers the new state', async () => {
    const reply = await client.passthrough(dev(DEVICES.bulb.deviceId), {
      'smartlife.iot.smartbulb.lightingservice': { transition_light_state: { on_off: 1, brightness: 30, ignore_default: 1 } },
    });
    expect(methodResult(reply, 'smartlife.iot.smartbulb.lightingservice', 'transition_light_state')).toMatchObject({ on_off: 1, brightness: 30 });
  });

  it('light strip: set_light_state then get_light_state in one request', async () => {
    const reply = await client.passthrough(dev(DEVICES.lightstrip.deviceId), {
      'smartlife.iot.lightStrip': { set_light_state: { on_off: 1, brightness: 75 }, get_light_state: {} },
    });
    expect(methodResult(reply, 'smartlife.iot.lightStrip', 'get_light_state')).toMatchObject({ on_off: 1, brightness: 75 });
  });

  it('metered plug on the other device host; unsupported module beside a supported one', async () => {
    const meter = dev(DEVICES.meterPlug.deviceId);
    expect(meter.appServerUrl).toBe(env.sim.deviceUrls[1]);
    const reply = await client.passthrough(meter, { emeter: { get_realtime: null }, system: { get_sysinfo: null } });
    expect(methodResult(reply, 'emeter', 'get_realtime')).toHaveProperty('power_mw');
    expect(env.sim.count({ op: 'passthrough', host: 'device1', errorCode: 0 })).toBe(1);

    const plain = await client.passthrough(dev(DEVICES.plug.deviceId), { emeter: { get_realtime: null }, system: { get_sysinfo: null } });
    expect(methodResult(plain, 'emeter', 'get_realtime')).toBeUndefined();
    expect(sysinfo(plain)['deviceId']).toBe(DEVICES.plug.deviceId);
  });

  it('responseData as an object is accepted', async () => {
    env.sim.faults.responseDataAsObject = true;
    const reply = await client.passthrough(dev(DEVICES.plug.deviceId), { system: { get_sysinfo: null } });
    expect(sysinfo(reply)['deviceId']).toBe(DEVICES.plug.deviceId);
  });

  it('an offline device → KasaDeviceOfflineError naming the device, no refresh or login', async () => {
    const err = await thrown(() => client.passthrough(dev(DEVICES.offline.deviceId), { system: { get_sysinfo: null } }));
    expect(err).toBeInstanceOf(KasaDeviceOfflineError);
    expect(err).toMatchObject({ code: -20571, action: 'device_offline', deviceId: DEVICES.offline.deviceId });
    expect(env.sim.count({ op: 'refreshToken' }) + env.sim.count({ op: 'login' })).toBe(0);
  });
});

describe('cloud faults', () => {
  it('throttling → KasaRateLimitError; blackList → blacklisted', async () => {
    env.sim.faults.throttle = true;
    const err = await thrown(() => client.getDeviceList());
    expect(err).toBeInstanceOf(KasaRateLimitError);
    expect(err).toMatchObject({ code: -20004, blacklisted: false, action: 'back_off' });
    env.sim.resetFaults();
    env.sim.faults.blackList = true;
    expect(await thrown(() => client.getDeviceList())).toMatchObject({ name: 'KasaRateLimitError', blacklisted: true });
    env.sim.resetFaults();
    await expect(client.getDeviceList()).resolves.not.toHaveLength(0);
  });

  it('HTTP 500 → KasaNetworkError with the status; the next request works', async () => {
    env.sim.faults.http500 = 1;
    const err = await thrown(() => client.getDeviceList());
    expect(err).toBeInstanceOf(KasaNetworkError);
    expect(err).toMatchObject({ status: 500, timeout: false });
    await expect(client.getDeviceList()).resolves.not.toHaveLength(0);
  });

  it('a slow cloud → KasaNetworkError timeout, quickly', async () => {
    const fast = env.client({ requestTimeoutMs: 150 });
    env.sim.faults.delayMs = 3000;
    const started = Date.now();
    const err = await thrown(() => fast.getDeviceList());
    expect(err).toBeInstanceOf(KasaNetworkError);
    expect((err as KasaNetworkError).timeout).toBe(true);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('an aborted signal stops the request: before sending and in flight', async () => {
    const ctl = new AbortController();
    ctl.abort();
    expect(await thrown(() => client.getDeviceList(ctl.signal))).toMatchObject({ name: 'AbortError' });
    expect(env.sim.count()).toBe(0);

    env.sim.faults.delayMs = 3000;
    const ctl2 = new AbortController();
    const started = Date.now();
    const pending = thrown(() => client.passthrough(dev(DEVICES.plug.deviceId), { system: { get_sysinfo: null } }, ctl2.signal));
    ctl2.abort();
    expect(await pending).toMatchObject({ name: 'AbortError' });
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('close() aborts what is in flight', async () => {
    env.sim.faults.delayMs = 3000;
    const pending = thrown(() => client.getDeviceList());
    await client.close();
    expect(await pending).toBeInstanceOf(Error);
  });
});
