/**
 * The shadows SMART transport against the simulator's app server over real sockets: on/off read
 * and write, the version rule, 401 → one refresh → one retry, the 403 app-cid refusal, -1002 for
 * what the shadow cannot carry, the order of the token sources and which one is remembered.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { KasaCloudClient } from '../../src/kasa/cloudClient.js';
import {
  KasaError,
  KasaNetworkError,
  KasaNotAuthenticatedError,
  KasaProtocolError,
  KasaShadowVersionError,
  KasaTransportUnsupportedError,
} from '../../src/kasa/errors.js';
import { SessionStore } from '../../src/kasa/sessionStore.js';
import { ShadowsTransport, type ShadowTokenSource } from '../../src/kasa/shadows.js';
import { KasaTransport, type TransportRequestEvent } from '../../src/kasa/transport.js';
import { TAPO_APP, tapoCall, tapoLoginBody } from '../simulator/tapoClient.js';
import { PLAIN, captureLogs, startEnv, thrown, type Env } from './simEnv.js';

const id = (n: number): string => `5AD0C1B2A3948576A5B4C3D2E1F0A1B2C3D4${String(n).padStart(4, '0')}`;
const SMART = {
  p100: { deviceId: id(1), model: 'P100', alias: 'Kettle' },
  ks205: { deviceId: id(2), model: 'KS205(US)', alias: 'Hall' },
  p300: { deviceId: id(3), model: 'P300(EU)', alias: 'Strip' },
  classic: { deviceId: id(4), model: 'HS103(US)', alias: 'Classic' },
};

const logs = captureLogs();
let env: Env;
let client: KasaCloudClient;
let http: KasaTransport;
let events: TransportRequestEvent[];
let onEvent: ((e: TransportRequestEvent) => void) | undefined;

beforeEach(async () => {
  env = await startEnv({ accounts: [{ ...PLAIN, devices: Object.values(SMART) }] }, logs);
  client = env.client();
  await client.login();
  events = [];
  onEvent = undefined;
  http = new KasaTransport({
    logger: logs.logger,
    onRequest: (e) => {
      events.push(e);
      onEvent?.(e);
    },
  });
  env.sim.clearRequests();
});
afterEach(async () => {
  await http.close();
  await env.close();
});

interface CountingSource extends ShadowTokenSource {
  calls: { token: number; refresh: number };
}

function counting(source: ShadowTokenSource): CountingSource {
  const calls = { token: 0, refresh: 0 };
  return {
    appType: source.appType,
    terminalUUID: () => source.terminalUUID(),
    calls,
    token: (signal) => {
      calls.token += 1;
      return source.token(signal);
    },
    refreshToken: (stale, signal) => {
      calls.refresh += 1;
      return source.refreshToken(stale, signal);
    },
  };
}

/** The Kasa session of the cloud client, as the bridge would wire it. */
function kasaSource(c: KasaCloudClient = client): CountingSource {
  return counting({
    appType: 'Kasa_Android_Mix',
    terminalUUID: () => c.terminalUUID,
    token: () => Promise.resolve(c.accessToken()),
    refreshToken: (stale, signal) => c.refreshAccessToken(stale, signal),
  });
}

/** A Tapo-identity session, logged in and refreshed over the wire. */
async function tapoSource(): Promise<CountingSource> {
  const res = await tapoCall(env.sim.regionalUrl, '/api/v2/account/login', tapoLoginBody(PLAIN.username, PLAIN.password));
  let token = res.body.result.token as string;
  const refreshToken = res.body.result.refreshToken as string;
  return counting({
    appType: TAPO_APP,
    terminalUUID: () => client.terminalUUID,
    token: () => Promise.resolve(token),
    refreshToken: async () => {
      const r = await tapoCall(env.sim.regionalUrl, '/api/v2/account/refreshToken', {
        appType: TAPO_APP,
        refreshToken,
        terminalUUID: '2a8ced52-f200-4b79-a1fe-2f6b58193c4c',
      });
      token = r.body.result.token as string;
      return token;
    },
  });
}

/** A source whose token the app server never takes, even "refreshed". */
function refusedSource(): CountingSource {
  return counting({
    appType: 'Kasa_Android_Mix',
    terminalUUID: () => client.terminalUUID,
    token: () => Promise.resolve('not-a-token'),
    refreshToken: () => Promise.resolve('still-not-a-token'),
  });
}

function shadows(tokens: ShadowTokenSource[] = [kasaSource()]): ShadowsTransport {
  return new ShadowsTransport({ appServerUrl: env.sim.appServerUrl, tokens, http, timeoutMs: 5000 });
}

const signal = (): AbortSignal => new AbortController().signal;
const ref = (deviceId: string) => ({ deviceId });
const getInfo = { method: 'get_device_info' };
const setOn = (on: boolean) => ({ method: 'set_device_info', params: { device_on: on } });
const multi = (...requests: Record<string, unknown>[]) => ({ method: 'multipleRequest', params: { requests } });
/** What reached the app server, as `<read|write> <code>` (the log's op is only named once past the header checks). */
const appServerOps = (): string[] =>
  env.sim.requests.filter((r) => r.host === 'appServer').map((r) => `${r.path === '/v1/things/shadows' ? 'shadows' : 'shadows/update'} ${r.errorCode}`);

describe('on/off', () => {
  it('reads the reported state as get_device_info with device_on', async () => {
    const t = shadows();
    expect(await t.request(ref(SMART.p100.deviceId), getInfo, signal())).toEqual({
      error_code: 0,
      result: { device_id: SMART.p100.deviceId, device_on: false },
    });
    env.sim.device(SMART.p100.deviceId).setState({ on: true });
    expect(await t.request(ref(SMART.p100.deviceId), getInfo, signal())).toMatchObject({ result: { device_on: true } });
    expect(appServerOps()).toEqual(['shadows 0', 'shadows 0']);
  });

  it('switches the device with a PATCH of desired, and a later read in the same request sees it', async () => {
    const t = shadows();
    const answer = await t.request(ref(SMART.ks205.deviceId), multi(setOn(true), getInfo), signal());
    expect(answer).toEqual({
      error_code: 0,
      result: {
        responses: [
          { method: 'set_device_info', error_code: 0 },
          { method: 'get_device_info', error_code: 0, result: { device_id: SMART.ks205.deviceId, device_on: true } },
        ],
      },
    });
    expect(env.sim.device(SMART.ks205.deviceId).sysinfo()['device_on']).toBe(true);
    // No version known yet: read, write, then the read the request asked for.
    expect(appServerOps()).toEqual(['shadows 0', 'shadows/update 0', 'shadows 0']);
    env.sim.clearRequests();
    await t.request(ref(SMART.ks205.deviceId), setOn(false), signal());
    // The version is known now: one PATCH and nothing else.
    expect(appServerOps()).toEqual(['shadows/update 0']);
    expect(env.sim.device(SMART.ks205.deviceId).sysinfo()['device_on']).toBe(false);
  });
});

describe('the version rule', () => {
  it('a change on the device between read and write: 11000, one re-read, one retry that lands', async () => {
    const t = shadows();
    const device = ref(SMART.p100.deviceId);
    await t.request(device, getInfo, signal());
    env.sim.device(SMART.p100.deviceId).setState({ on: true }); // the button
    env.sim.clearRequests();
    expect(await t.request(device, setOn(false), signal())).toEqual({ error_code: 0 });
    expect(appServerOps()).toEqual(['shadows/update 11000', 'shadows 0', 'shadows/update 0']);
    expect(env.sim.device(SMART.p100.deviceId).sysinfo()['device_on']).toBe(false);
  });

  it('a second change between the re-read and the retry: gives up with KasaShadowVersionError, no third try', async () => {
    const t = shadows();
    const device = ref(SMART.p100.deviceId);
    await t.request(device, getInfo, signal());
    const plug = env.sim.device(SMART.p100.deviceId);
    plug.setState({ on: true });
    // Someone presses the button again right after each re-read.
    onEvent = (e) => {
      if (e.op === 'shadows') plug.setState({ on: plug.sysinfo()['device_on'] !== true });
    };
    env.sim.clearRequests();
    const err = await thrown(() => t.request(device, setOn(true), signal()));
    expect(err).toBeInstanceOf(KasaShadowVersionError);
    expect(err).toMatchObject({ action: 'retry', code: 11000 });
    expect(appServerOps()).toEqual(['shadows/update 11000', 'shadows 0', 'shadows/update 11000']);
  });
});

describe('401: one fresh token, one retry', () => {
  it('an expired token is refreshed through the token source and the read retried once', async () => {
    const kasa = kasaSource();
    const t = shadows([kasa]);
    env.sim.expireAccessTokens();
    expect(await t.request(ref(SMART.p100.deviceId), getInfo, signal())).toMatchObject({ error_code: 0 });
    expect(kasa.calls).toEqual({ token: 1, refresh: 1 });
    expect(env.sim.count({ op: 'refreshToken', errorCode: 0 })).toBe(1);
    expect(appServerOps()).toEqual(['shadows -401', 'shadows 0']);
  });

  it('a token refused again after the refresh is not retried a third time', async () => {
    const refused = refusedSource();
    const t = shadows([refused]);
    const err = await thrown(() => t.request(ref(SMART.p100.deviceId), getInfo, signal()));
    expect(err).toBeInstanceOf(KasaTransportUnsupportedError);
    expect((err as KasaError).action).toBe('unsupported');
    expect(refused.calls).toEqual({ token: 1, refresh: 1 });
    expect(appServerOps()).toEqual(['shadows -401', 'shadows -401']);
  });
});

describe('403 missing appCid', () => {
  it('is a client bug: classified as report, never retried, no refresh, no other token', async () => {
    const broken = counting({ ...kasaSource(), appType: '' });
    const tapo = await tapoSource();
    const t = shadows([broken, tapo]);
    const err = await thrown(() => t.request(ref(SMART.p100.deviceId), getInfo, signal()));
    expect(err).toBeInstanceOf(KasaProtocolError);
    expect((err as KasaError).action).toBe('report');
    expect(err.message).toContain('missing appCid or invalid');
    expect(appServerOps()).toEqual(['shadows -403']);
    expect(broken.calls.refresh).toBe(0);
    expect(tapo.calls.token).toBe(0);
  });
});

describe('what the shadow cannot carry', () => {
  it('answers -1002 for other methods in their place, sending nothing for them', async () => {
    const t = shadows();
    expect(await t.request(ref(SMART.p100.deviceId), { method: 'get_energy_usage' }, signal())).toEqual({ error_code: -1002 });
    expect(appServerOps()).toEqual([]);
    const answer = await t.request(ref(SMART.p100.deviceId), multi(getInfo, { method: 'component_nego' }, { method: 'get_device_time' }), signal());
    expect(answer).toEqual({
      error_code: 0,
      result: {
        responses: [
          { method: 'get_device_info', error_code: 0, result: { device_id: SMART.p100.deviceId, device_on: false } },
          { method: 'component_nego', error_code: -1002 },
          { method: 'get_device_time', error_code: -1002 },
        ],
      },
    });
    expect(appServerOps()).toEqual(['shadows 0']);
  });

  it('answers -1002 to a set of a key the shadow does not report, and writes nothing', async () => {
    const t = shadows();
    expect(await t.request(ref(SMART.p100.deviceId), { method: 'set_device_info', params: { nickname: 'S2V0dGxl' } }, signal())).toEqual({
      error_code: -1002,
    });
    // A P300 parent reports no `on`: switching it is not carried either.
    expect(await t.request(ref(SMART.p300.deviceId), setOn(true), signal())).toEqual({ error_code: -1002 });
    expect(env.sim.count({ op: 'shadows/update' })).toBe(0);
    expect(await t.request(ref(SMART.p100.deviceId), { method: 'set_device_info', params: { device_on: 'yes' } }, signal())).toEqual({
      error_code: -1008,
    });
  });

  it('a device the app server leaves out (classic, or withheld by the grant) is unsupported on this transport', async () => {
    const t = shadows();
    const classic = await thrown(() => t.request(ref(SMART.classic.deviceId), getInfo, signal()));
    expect(classic).toBeInstanceOf(KasaTransportUnsupportedError);
    env.sim.smartTransports = 'passthrough';
    const read = await thrown(() => t.request(ref(SMART.p100.deviceId), getInfo, signal()));
    expect(read).toMatchObject({ action: 'unsupported' });
    // A write with a version already known meets the PATCH refusal (403), classified the same.
    env.sim.smartTransports = 'both';
    await t.request(ref(SMART.p100.deviceId), getInfo, signal());
    env.sim.smartTransports = 'passthrough';
    const write = await thrown(() => t.request(ref(SMART.p100.deviceId), setOn(true), signal()));
    expect(write).toMatchObject({ action: 'unsupported' });
    expect(env.sim.count({ op: 'shadows/update', errorCode: -403 })).toBe(1);
  });

  it('a device that stops answering on the shadows: the request times out as a network error', async () => {
    env.sim.device(SMART.p100.deviceId).setAnswering?.('shadows', false);
    const t = new ShadowsTransport({ appServerUrl: env.sim.appServerUrl, tokens: [kasaSource()], http, timeoutMs: 300 });
    const err = await thrown(() => t.request(ref(SMART.p100.deviceId), getInfo, signal()));
    expect(err).toBeInstanceOf(KasaNetworkError);
    expect(err).toMatchObject({ timeout: true, action: 'retry' });
    env.sim.device(SMART.p100.deviceId).setAnswering?.('shadows', true);
  });
});

describe('token sources', () => {
  it('tries the Kasa token first and does not ask the Tapo source while it works', async () => {
    const kasa = kasaSource();
    const tapo = await tapoSource();
    const t = shadows([kasa, tapo]);
    await t.request(ref(SMART.p100.deviceId), getInfo, signal());
    await t.request(ref(SMART.p100.deviceId), setOn(true), signal());
    expect(kasa.calls.token).toBe(2);
    expect(tapo.calls.token).toBe(0);
  });

  it('falls through to the Tapo token when the Kasa one is refused, then sends the Tapo one first on that host', async () => {
    const kasa = refusedSource();
    const tapo = await tapoSource();
    const t = shadows([kasa, tapo]);
    expect(await t.request(ref(SMART.p100.deviceId), getInfo, signal())).toMatchObject({ error_code: 0 });
    expect(appServerOps()).toEqual(['shadows -401', 'shadows -401', 'shadows 0']);
    env.sim.clearRequests();
    await t.request(ref(SMART.p100.deviceId), setOn(true), signal());
    expect(appServerOps()).toEqual(['shadows/update 0']);
    expect(kasa.calls).toEqual({ token: 1, refresh: 1 });
    expect(tapo.calls.token).toBe(2);
  });

  it('falls through a source without a session; with none anywhere the first source\'s error is thrown', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kasa-shadows-'));
    try {
      // Another cloud client on its own data dir, never logged in.
      const loggedOut = env.client({ store: new SessionStore({ dataDir: dir, logger: logs.logger }) });
      const tapo = await tapoSource();
      const t = shadows([kasaSource(loggedOut), tapo]);
      expect(await t.request(ref(SMART.p100.deviceId), getInfo, signal())).toMatchObject({ error_code: 0 });
      expect(tapo.calls.token).toBe(1);
      const none = await thrown(() => shadows([kasaSource(loggedOut)]).request(ref(SMART.p100.deviceId), getInfo, signal()));
      expect(none).toBeInstanceOf(KasaNotAuthenticatedError);
      expect(appServerOps()).toEqual(['shadows 0']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an abort while the device is silent rejects with the caller\'s reason', async () => {
    env.sim.device(SMART.p100.deviceId).setAnswering?.('shadows', false);
    const t = shadows();
    const controller = new AbortController();
    const pending = t.request(ref(SMART.p100.deviceId), getInfo, controller.signal);
    await vi.waitFor(() => expect(env.sim.inFlight).toBe(1));
    const reason = new Error('bridge stopping');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    env.sim.device(SMART.p100.deviceId).setAnswering?.('shadows', true);
  });
});
