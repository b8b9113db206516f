/**
 * The Tapo app identity of the cloud client against the simulator over real sockets: its own
 * login and session file beside the Kasa one, MFA, refresh, the paged device list, the V2 SMART
 * passthrough in both published shapes, error classification, and the tapo-passthrough transport.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, MockAgent, type Dispatcher } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { TAPO_IDENTITY } from '../../src/kasa/appIdentity.js';
import type { KasaCloudClient } from '../../src/kasa/cloudClient.js';
import { KasaDeviceOfflineError, KasaNetworkError, KasaProtocolError } from '../../src/kasa/errors.js';
import { commonPath, deviceListByPageBody, SMART_DEVICE_TYPES } from '../../src/kasa/protocol.js';
import { SessionStore } from '../../src/kasa/sessionStore.js';
import { TapoPassthroughTransport } from '../../src/kasa/tapoPassthroughTransport.js';
import { KasaTransport } from '../../src/kasa/transport.js';
import { createLogger } from '../../src/logger.js';
import type { SimAccountSpec } from '../../src/simulator/types.js';
import { captureLogs, startEnv, thrown, type Env } from './simEnv.js';

const USER = { username: 'tapo.owner@example.com', password: 'Tapo-0wner-Pa55' };
const MFA_USER = { username: 'tapo.mfa@example.com', password: 'Tapo-Mfa-Pa55' };
const id = (n: number): string => `9C8B7A6F5E4D3C2B1A0F9C8B7A6F5E4D3C2B${String(n).padStart(4, '0')}`;
const SMART = {
  plug: { deviceId: id(1), model: 'P110(EU)', alias: 'Washer' },
  bulb: { deviceId: id(2), model: 'L530E(EU)', alias: 'Lamp' },
  switch: { deviceId: id(3), model: 'KS205(US)', alias: 'Hall' },
  kettle: { deviceId: id(5), model: 'P100', alias: 'Kettle' },
  lost: { deviceId: id(6), model: 'P100', alias: 'Lost', online: false },
};
const CLASSIC = { deviceId: id(4), model: 'HS103(US)', alias: 'Classic plug' };

function accounts(): SimAccountSpec[] {
  return [
    { ...USER, devices: [...Object.values(SMART), CLASSIC].map((d) => ({ ...d })) },
    { ...MFA_USER, mfa: true, devices: [{ ...SMART.kettle, deviceId: id(9) }] },
  ];
}

let env: Env | undefined;
const dispatchers: Dispatcher[] = [];
afterEach(async () => {
  await env?.close();
  env = undefined;
  await Promise.allSettled(dispatchers.splice(0).map((d) => d.close()));
});

const tapo = (e: Env, overrides: Parameters<Env['client']>[0] = {}): KasaCloudClient => e.client({ account: USER, identity: TAPO_IDENTITY, ...overrides });
const sessionFile = (e: Env, name: string): Record<string, string> => JSON.parse(readFileSync(join(e.dataDir, name), 'utf8')) as Record<string, string>;
const signal = (): AbortSignal => new AbortController().signal;

interface Sent {
  path: string;
  body: Record<string, unknown>;
}

/** A real socket agent that records every request body it carries (the wire shape the client chose). */
function recordingAgent(sent: Sent[], base: Dispatcher = new Agent()): Dispatcher {
  dispatchers.push(base);
  return base.compose((dispatch) => (opts, handler) => {
    if (typeof opts.body === 'string') sent.push({ path: opts.path.split('?')[0]!, body: JSON.parse(opts.body) as Record<string, unknown> });
    return dispatch(opts, handler);
  });
}

describe('Tapo login and session', () => {
  it('logs in on the same account with the Tapo app, in its own 0600 file with its own terminal, beside the Kasa session', async () => {
    env = await startEnv({ accounts: accounts() });
    const kasa = env.client({ account: USER });
    const client = tapo(env);
    expect(client.identity.name).toBe('tapo');
    await expect(client.login()).resolves.toEqual({ status: 'authenticated' });
    await expect(kasa.login()).resolves.toEqual({ status: 'authenticated' });
    expect(env.sim.count({ op: 'getAccountStatusAndUrl', host: 'global', errorCode: 0 })).toBe(2);
    expect(env.sim.count({ op: 'login', host: 'regional', errorCode: 0 })).toBe(2);

    const tapoFile = join(env.dataDir, 'tapo-session.json');
    expect(statSync(tapoFile).mode & 0o777).toBe(0o600);
    const tapoSession = sessionFile(env, 'tapo-session.json');
    const kasaSession = sessionFile(env, 'session.json');
    expect(tapoSession).toMatchObject({ username: USER.username, token: expect.any(String), refreshToken: expect.any(String) });
    expect(tapoSession.terminalUUID).not.toBe(kasaSession.terminalUUID);
    expect(tapoSession.token).not.toBe(kasaSession.token);
    expect(client.terminalUUID).toBe(tapoSession.terminalUUID);

    // Each session works on its own app's endpoints: the Tapo-only list takes only a Tapo session.
    await expect(client.getDeviceListByPage()).resolves.toHaveLength(Object.keys(SMART).length);
    await expect(kasa.getDeviceList()).resolves.toHaveLength(Object.keys(SMART).length + 1);
    expect(env.sim.count({ errorCode: -10301 })).toBe(0);
  });

  it('a restarted client reuses the stored Tapo session: no lookup, no password login', async () => {
    env = await startEnv({ accounts: accounts() });
    await tapo(env).login();
    env.sim.clearRequests();
    const restarted = tapo(env);
    expect(restarted.hasSession()).toBe(true);
    await expect(restarted.getDeviceListByPage()).resolves.not.toHaveLength(0);
    expect(env.sim.count({ op: 'login' })).toBe(0);
    expect(env.sim.count({ op: 'getAccountStatusAndUrl' })).toBe(0);
    expect(env.sim.count({ op: 'common/getDeviceListByPage', host: 'regional', errorCode: 0 })).toBe(1);
    // The Kasa identity's session is separate: still none.
    expect(env.client({ account: USER }).hasSession()).toBe(false);
  });

  it('refuses a session store that is not the identity\'s own file', async () => {
    env = await startEnv({ accounts: accounts() });
    const e = env;
    const kasaFile = new SessionStore({ dataDir: e.dataDir, logger: createLogger({ level: 'silent' }) });
    expect(() => tapo(e, { store: kasaFile })).toThrow(/tapo identity keeps its session in tapo-session\.json, not session\.json/);
  });

  it('a Tapo login that needs MFA (tapoMfa fault): mfa_required, completeMfa, then the terminal is trusted', async () => {
    env = await startEnv({ accounts: accounts() });
    env.sim.faults.tapoMfa = true;
    await expect(env.client({ account: USER }).login()).resolves.toEqual({ status: 'authenticated' }); // Kasa: unaffected
    const client = tapo(env);
    await expect(client.login()).resolves.toEqual({ status: 'mfa_required', mfaType: 'email', mfaTypes: [1, 2] });
    expect(client.hasSession()).toBe(false);
    expect(env.states.at(-1)).toBe('mfa_required');
    expect(env.sim.count({ op: 'getEmailVC4TerminalMFA', errorCode: 0 })).toBe(1);
    const code = env.sim.lastMfaCode(USER.username)!;
    const wrong = code === '000000' ? '111111' : '000000';
    expect(await thrown(() => client.completeMfa(wrong))).toMatchObject({ name: 'KasaMfaCodeError', action: 'mfa', expired: false });
    await client.completeMfa(code);
    expect(client.hasSession()).toBe(true);
    expect(env.states.at(-1)).toBe('authenticated');
    await expect(client.getDeviceListByPage()).resolves.not.toHaveLength(0);

    env.sim.clearRequests();
    await expect(tapo(env).login()).resolves.toEqual({ status: 'authenticated' });
    expect(env.sim.count({ op: 'getEmailVC4TerminalMFA' })).toBe(0);
  });

  it.each(['tapo', 'kasa', 'nested', 'wiki'] as const)('an MFA account asks the Tapo login for a code in the %s dialect', async (dialect) => {
    env = await startEnv({ accounts: accounts(), mfaDialect: dialect });
    const client = tapo(env, { account: MFA_USER });
    await expect(client.login()).resolves.toMatchObject({ status: 'mfa_required' });
    await client.completeMfa(env.sim.lastMfaCode(MFA_USER.username)!);
    await expect(client.getDeviceListByPage()).resolves.toEqual([expect.objectContaining({ deviceId: id(9) })]);
  });
});

describe('Tapo refresh', () => {
  it('refreshes once, under the Tapo app, for concurrent SMART requests, and persists the new token', async () => {
    env = await startEnv({ accounts: accounts() });
    const client = tapo(env);
    await client.login();
    const before = sessionFile(env, 'tapo-session.json');
    env.sim.clearRequests();
    env.sim.expireAccessTokens();
    const answers = await Promise.all(
      [SMART.plug, SMART.bulb, SMART.kettle].map((d) => client.smartPassthrough(d, { method: 'get_device_info' }, signal())),
    );
    expect(answers.map((a) => (a['result'] as Record<string, unknown>)['device_id'])).toEqual([SMART.plug, SMART.bulb, SMART.kettle].map((d) => d.deviceId));
    // Strict mode refuses a refresh token under another app (-20655): success proves the Tapo appType.
    expect(env.sim.count({ op: 'refreshToken' })).toBe(1);
    expect(env.sim.count({ op: 'refreshToken', errorCode: 0 })).toBe(1);
    expect(env.sim.count({ op: 'login' })).toBe(0);
    const after = sessionFile(env, 'tapo-session.json');
    expect(after.token).not.toBe(before.token);
    expect(after.terminalUUID).toBe(before.terminalUUID);
  });

  it('an expired refresh token → one password login on the same Tapo terminal, then the list', async () => {
    env = await startEnv({ accounts: accounts() });
    const client = tapo(env);
    await client.login();
    const terminal = client.terminalUUID;
    env.sim.clearRequests();
    env.sim.expireAccessTokens();
    env.sim.expireRefreshTokens();
    await expect(client.getDeviceListByPage()).resolves.not.toHaveLength(0);
    expect(env.sim.count({ op: 'refreshToken', errorCode: -20655 })).toBe(1);
    expect(env.sim.count({ op: 'login', errorCode: 0 })).toBe(1);
    expect(client.terminalUUID).toBe(terminal);
  });
});

describe('getDeviceListByPage', () => {
  it('reads every page and returns the SMART entries as listed (base64 aliases), never the classic devices', async () => {
    env = await startEnv({ accounts: accounts() });
    const client = tapo(env);
    await client.login();
    env.sim.clearRequests();
    const list = await client.getDeviceListByPage({ pageSize: 2 });
    expect(list.map((d) => d.deviceId).sort()).toEqual(Object.values(SMART).map((d) => d.deviceId).sort());
    expect(list.map((d) => d.deviceId)).not.toContain(CLASSIC.deviceId);
    expect(env.sim.count({ op: 'common/getDeviceListByPage', host: 'regional', errorCode: 0 })).toBe(3);
    expect(list.find((d) => d.deviceId === SMART.bulb.deviceId)).toMatchObject({
      deviceType: 'SMART.TAPOBULB',
      alias: Buffer.from('Lamp').toString('base64'),
      status: 1,
    });
    expect(list.find((d) => d.deviceId === SMART.lost.deviceId)).toMatchObject({ status: 0 });
    const switches = await client.getDeviceListByPage({ deviceTypes: ['SMART.KASASWITCH'] });
    expect(switches.map((d) => d.deviceId)).toEqual([SMART.switch.deviceId]);
  });

  it('asks for every SMART type with TA2k\'s page size by default', async () => {
    env = await startEnv({ accounts: accounts() });
    const sent: Sent[] = [];
    const client = tapo(env, { dispatcher: recordingAgent(sent) });
    await client.login();
    await client.getDeviceListByPage();
    const pages = sent.filter((s) => s.path === commonPath('getDeviceListByPage'));
    expect(pages).toEqual([{ path: commonPath('getDeviceListByPage'), body: deviceListByPageBody(0, 30, SMART_DEVICE_TYPES) }]);
  });
});

describe('V2 SMART passthrough', () => {
  it('sends requestData as an object first and returns the device\'s answer; writes reach the device', async () => {
    env = await startEnv({ accounts: accounts() });
    const sent: Sent[] = [];
    const client = tapo(env, { dispatcher: recordingAgent(sent) });
    await client.login();
    const info = await client.smartPassthrough(SMART.bulb, { method: 'get_device_info' }, signal());
    expect(info).toMatchObject({ error_code: 0, result: { device_id: SMART.bulb.deviceId, model: 'L530' } });
    const passes = sent.filter((s) => s.path === commonPath('passthrough'));
    expect(passes).toEqual([{ path: commonPath('passthrough'), body: { deviceId: SMART.bulb.deviceId, requestData: { method: 'get_device_info' } } }]);

    const on = !(info['result'] as { device_on: boolean }).device_on;
    const batch = await client.smartPassthrough(
      SMART.bulb,
      { method: 'multipleRequest', params: { requests: [{ method: 'set_device_info', params: { device_on: on } }, { method: 'get_device_info' }] } },
      signal(),
    );
    expect(batch).toMatchObject({ error_code: 0 });
    expect(env.sim.device(SMART.bulb.deviceId).sysinfo()).toMatchObject({ device_on: on });
    expect(sent.filter((s) => s.path === commonPath('passthrough')).every((s) => typeof s.body['requestData'] === 'object')).toBe(true);
    expect(env.sim.count({ op: 'common/passthrough', host: 'regional', errorCode: 0 })).toBe(2);
  });

  it('a cloud that refuses the object form (-20104): the JSON text is sent, and remembered for that host', async () => {
    env = await startEnv({ accounts: accounts() });
    const sent: Sent[] = [];
    // The cloud's answer to the object form is scripted; everything else reaches the simulator.
    const mock = new MockAgent();
    mock.enableNetConnect();
    mock
      .get(env.sim.regionalUrl.replace(/\/$/, ''))
      .intercept({ path: (p) => p.startsWith(commonPath('passthrough')), method: 'POST', body: (b) => (JSON.parse(b) as { requestData: unknown }).requestData instanceof Object })
      .reply(200, { error_code: -20104, msg: "Parameter doesn't exist" })
      .persist();
    const client = tapo(env, { dispatcher: recordingAgent(sent, mock) });
    await client.login();
    env.sim.clearRequests();

    const first = await client.smartPassthrough(SMART.plug, { method: 'get_device_info' }, signal());
    expect(first).toMatchObject({ error_code: 0, result: { device_id: SMART.plug.deviceId } });
    const second = await client.smartPassthrough(SMART.kettle, { method: 'get_device_info' }, signal());
    expect(second).toMatchObject({ error_code: 0, result: { device_id: SMART.kettle.deviceId } });

    const forms = sent.filter((s) => s.path === commonPath('passthrough')).map((s) => typeof s.body['requestData']);
    expect(forms).toEqual(['object', 'string', 'string']);
    expect(JSON.parse(sent.at(-1)!.body['requestData'] as string)).toEqual({ method: 'get_device_info' });
    expect(env.sim.count({ op: 'common/passthrough', errorCode: 0 })).toBe(2);
  });

  it('a cloud that answers the object form with the JSON text: parsed, and the JSON text is sent from then on', async () => {
    env = await startEnv({ accounts: accounts() });
    const sent: Sent[] = [];
    const mock = new MockAgent();
    mock.enableNetConnect();
    const device = { error_code: 0, result: { device_id: SMART.plug.deviceId, device_on: true } };
    mock
      .get(env.sim.regionalUrl.replace(/\/$/, ''))
      .intercept({ path: (p) => p.startsWith(commonPath('passthrough')), method: 'POST' })
      .reply(200, { error_code: 0, result: { responseData: JSON.stringify(device) } });
    const client = tapo(env, { dispatcher: recordingAgent(sent, mock) });
    await client.login();
    await expect(client.smartPassthrough(SMART.plug, { method: 'get_device_info' }, signal())).resolves.toEqual(device);
    // The next one reaches the simulator, in the string form, and its string answer is parsed.
    const real = await client.smartPassthrough(SMART.bulb, { method: 'get_device_info' }, signal());
    expect(real).toMatchObject({ error_code: 0, result: { device_id: SMART.bulb.deviceId } });
    const forms = sent.filter((s) => s.path === commonPath('passthrough')).map((s) => typeof s.body['requestData']);
    expect(forms).toEqual(['object', 'string']);
  });

  it('classifies -20571 (offline, classic device, path withheld) and transport failures by action', async () => {
    env = await startEnv({ accounts: accounts() });
    const client = tapo(env, { passthroughTimeoutMs: 400 });
    await client.login();
    for (const target of [SMART.lost, CLASSIC]) {
      const err = await thrown(() => client.smartPassthrough(target, { method: 'get_device_info' }, signal()));
      expect(err).toBeInstanceOf(KasaDeviceOfflineError);
      expect(err).toMatchObject({ code: -20571, action: 'device_offline', deviceId: target.deviceId });
    }
    env.sim.smartTransports = 'shadows';
    expect(await thrown(() => client.smartPassthrough(SMART.plug, { method: 'get_device_info' }, signal()))).toMatchObject({ action: 'device_offline' });
    env.sim.smartTransports = 'both';

    env.sim.faults.http500 = 1;
    const failing = await thrown(() => client.smartPassthrough(SMART.plug, { method: 'get_device_info' }, signal()));
    expect(failing).toBeInstanceOf(KasaNetworkError);
    expect(failing).toMatchObject({ status: 500, action: 'pause' });

    env.sim.faults.throttle = true;
    expect(await thrown(() => client.getDeviceListByPage())).toMatchObject({ name: 'KasaRateLimitError', action: 'back_off' });
    env.sim.resetFaults();

    const silent = env.sim.device(SMART.kettle.deviceId);
    silent.setAnswering!('passthrough', false);
    const slow = await thrown(() => client.smartPassthrough(SMART.kettle, { method: 'get_device_info' }, signal()));
    expect(slow).toBeInstanceOf(KasaNetworkError);
    expect(slow).toMatchObject({ timeout: true, action: 'retry' });
    silent.setAnswering!('passthrough', true);
  });
});

describe('Tapo-only endpoints and the Kasa identity', () => {
  it('the Kasa client never sends one; a Kasa-keyed request there answers -10301, a report error', async () => {
    env = await startEnv({ accounts: accounts() });
    const kasa = env.client({ account: USER });
    await kasa.login();
    env.sim.clearRequests();
    for (const call of [() => kasa.getDeviceListByPage(), () => kasa.smartPassthrough(SMART.plug, { method: 'get_device_info' }, signal())]) {
      const err = await thrown(call);
      expect(err).toBeInstanceOf(KasaProtocolError);
      expect(err).toMatchObject({ action: 'report' });
    }
    expect(env.sim.count()).toBe(0);
    expect(() => new TapoPassthroughTransport(kasa)).toThrow(/Tapo identity/);

    // What the cloud says when one is sent anyway: a Tapo token, a Kasa-keyed signature.
    const client = tapo(env);
    await client.login();
    const { token, terminalUUID } = sessionFile(env, 'tapo-session.json');
    const kasaKeyed = new KasaTransport({ logger: createLogger({ level: 'silent' }) });
    try {
      const err = await thrown(() =>
        kasaKeyed.post(env!.sim.regionalUrl, commonPath('getDeviceListByPage'), deviceListByPageBody(0, 10, SMART_DEVICE_TYPES), {
          op: 'getDeviceListByPage',
          terminalUUID: terminalUUID!,
          token,
          timeoutMs: 5000,
        }),
      );
      expect(err).toBeInstanceOf(KasaProtocolError);
      expect(err).toMatchObject({ code: -10301, action: 'report' });
      expect(err.message).toMatch(/signature/);
    } finally {
      await kasaKeyed.close();
    }
  });
});

describe('tapo-passthrough transport', () => {
  it('carries SMART requests and answers in the SMART shape', async () => {
    env = await startEnv({ accounts: accounts() });
    const client = tapo(env);
    await client.login();
    const transport = new TapoPassthroughTransport(client);
    expect(transport.name).toBe('tapo-passthrough');
    const device = (await client.getDeviceListByPage()).find((d) => d.deviceId === SMART.switch.deviceId)!;
    await expect(transport.request(device, { method: 'set_device_info', params: { device_on: true } }, signal())).resolves.toEqual({ error_code: 0 });
    expect(env.sim.device(SMART.switch.deviceId).sysinfo()).toMatchObject({ device_on: true });
    await expect(transport.request(device, { method: 'get_device_time' }, signal())).resolves.toMatchObject({ error_code: 0, result: expect.any(Object) });
    await expect(transport.request(device, { method: 'no_such_method' }, signal())).resolves.toMatchObject({ error_code: -1002 });
  });
});

describe('Tapo secrets', () => {
  it('never appear in the trace, the debug log or an error', async () => {
    const logs = captureLogs('debug');
    env = await startEnv({ accounts: accounts() }, logs);
    env.sim.faults.tapoMfa = true;
    const lines: string[] = [];
    const client = tapo(env, { traceWrite: (line) => lines.push(line) });
    const errors: unknown[] = [];
    const secrets = new Set<string>([USER.password, USER.username]);
    const remember = (): void => {
      const s = sessionFile(env!, 'tapo-session.json');
      for (const v of [s.token, s.refreshToken, s.terminalUUID]) if (v) secrets.add(v);
    };

    await client.login();
    const code = env.sim.lastMfaCode(USER.username)!;
    // Six digits that no other traced value contains (ids and hashes hold runs of zeros).
    const wrong = code === '913570' ? '913571' : '913570';
    errors.push(await thrown(() => client.completeMfa(wrong)));
    await client.completeMfa(code);
    secrets.add(code);
    secrets.add(wrong);
    remember();
    await client.getDeviceListByPage();
    await client.smartPassthrough(SMART.plug, { method: 'get_device_info' }, signal());
    env.sim.expireAccessTokens();
    await client.smartPassthrough(SMART.bulb, { method: 'get_device_info' }, signal());
    remember();
    errors.push(await thrown(() => client.smartPassthrough(SMART.lost, { method: 'get_device_info' }, signal())));
    env.sim.faults.http500 = 1;
    errors.push(await thrown(() => client.getDeviceListByPage()));

    expect(lines.every((l) => (JSON.parse(l) as { app?: string }).app === 'tapo')).toBe(true);
    const ops = lines.map((l) => (JSON.parse(l) as { op: string }).op);
    for (const op of ['getAccountStatusAndUrl', 'login', 'getEmailVC4TerminalMFA', 'checkMFACodeAndLogin', 'getDeviceListByPage', 'smartPassthrough', 'refreshToken']) {
      expect(ops).toContain(op);
    }
    expect(secrets.size).toBeGreaterThanOrEqual(8);
    const errorText = errors.map((e) => `${(e as Error).message}\n${String((e as Error).stack)}\n${JSON.stringify(e)}`).join('\n');
    const output = logs.text();
    expect(output).toContain('"app":"tapo"');
    for (const secret of secrets) {
      for (const line of lines) expect(line).not.toContain(secret);
      expect(output).not.toContain(secret);
      expect(errorText).not.toContain(secret);
    }
    // The device's answer is traced, with its nickname and location redacted by key.
    const answer = lines.find((l) => l.includes('"op":"smartPassthrough"') && l.includes('"outcome":"ok"'))!;
    expect(answer).toContain('"nickname":"<redacted>"');
    expect(answer).not.toContain(Buffer.from('Washer').toString('base64'));
  });
});
