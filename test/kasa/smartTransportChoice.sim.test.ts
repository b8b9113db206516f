/**
 * The transport choice driven over the simulator's real paths, for every arrangement of its grant
 * switch (none / passthrough / shadows / both): the device settles on the right transport within
 * one try per transport, a restart goes straight to the remembered one, and a transport that
 * starts working again is taken back after its wait.
 *
 * The Tapo passthrough here is a few lines over the wire (the real adapter is built elsewhere);
 * the shadows transport is the real one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { classifyCloudError, parseCode } from '../../src/kasa/errors.js';
import { ShadowsTransport } from '../../src/kasa/shadows.js';
import type { SmartTransport, SmartTransportName } from '../../src/kasa/smartTransport.js';
import { SmartTransportChoice, failsTransport, type SmartTransportPick } from '../../src/kasa/smartTransportChoice.js';
import { KasaTransport } from '../../src/kasa/transport.js';
import { startSimulator } from '../../src/simulator/index.js';
import type { Simulator, SmartGrant } from '../../src/simulator/types.js';
import { TAPO_APP, tapoLogin, tapoCall } from '../simulator/tapoClient.js';
import { TERMINAL } from '../simulator/client.js';
import { captureLogs } from './simEnv.js';

const USER = { username: 'choice@example.com', password: 'choice-Pa55' };
const PLUG = { deviceId: 'E0E1E2E3E4E5E6E7E8E9EAEBECEDEEEFF0F1F2F3', model: 'P110(EU)', alias: 'Plug' };
const MIN = 60_000;

const logs = captureLogs();
let sim: Simulator;
let http: KasaTransport;
let dataDir: string;
let clock: number;
let transports: Record<SmartTransportName, SmartTransport>;

/** The Tapo V2 passthrough, as small as a test needs. */
function tapoPassthrough(token: string): SmartTransport {
  return {
    name: 'tapo-passthrough',
    async request(device, request) {
      const res = await tapoCall(sim.regionalUrl, '/api/v2/common/passthrough', { deviceId: device.deviceId, requestData: request }, { token });
      const code = parseCode(res.body?.error_code) ?? -1;
      if (code !== 0) throw classifyCloudError(code, res.body?.msg, res.body?.result, { op: 'passthrough', deviceId: device.deviceId, authed: true });
      return res.body.result.responseData as Record<string, unknown>;
    },
  };
}

beforeEach(async () => {
  sim = await startSimulator({ accounts: [{ ...USER, devices: [PLUG] }] });
  http = new KasaTransport({ logger: logs.logger });
  dataDir = mkdtempSync(join(tmpdir(), 'kasa-choice-sim-'));
  clock = Date.UTC(2026, 11, 8);
  const token = await tapoLogin(sim, USER.username, USER.password);
  transports = {
    'tapo-passthrough': tapoPassthrough(token),
    shadows: new ShadowsTransport({
      appServerUrl: sim.appServerUrl,
      http,
      timeoutMs: 5000,
      tokens: [
        {
          appType: TAPO_APP,
          terminalUUID: () => TERMINAL,
          token: () => Promise.resolve(token),
          refreshToken: () => Promise.reject(new Error('not expected')),
        },
      ],
    }),
  };
});
afterEach(async () => {
  await http.close();
  await sim.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const choice = (): SmartTransportChoice => new SmartTransportChoice({ dataDir, logger: logs.logger, now: () => clock });

/** How the bridge uses the choice for one poll: pick, send, record; at most one try per transport. */
async function poll(c: SmartTransportChoice): Promise<{ pick: SmartTransportPick; tried: SmartTransportName[] }> {
  const tried: SmartTransportName[] = [];
  for (;;) {
    const pick = c.choose(PLUG.deviceId);
    if (pick.transport === 'none') return { pick, tried };
    if (tried.includes(pick.transport)) throw new Error(`${pick.transport} chosen twice in one poll`);
    tried.push(pick.transport);
    try {
      await transports[pick.transport].request({ deviceId: PLUG.deviceId }, { method: 'get_device_info' }, new AbortController().signal);
      c.succeeded(PLUG.deviceId, pick.transport);
      return { pick, tried };
    } catch (err) {
      if (!failsTransport(err)) throw err;
      c.failed(PLUG.deviceId, pick.transport, (err as Error).message);
    }
  }
}

describe('every arrangement of the grant switch', () => {
  it.each<[SmartGrant, SmartTransportName | 'none', SmartTransportName[]]>([
    ['both', 'tapo-passthrough', ['tapo-passthrough']],
    ['passthrough', 'tapo-passthrough', ['tapo-passthrough']],
    ['shadows', 'shadows', ['tapo-passthrough', 'shadows']],
    ['none', 'none', ['tapo-passthrough', 'shadows']],
  ])('%s → %s', async (grant, expected, tried) => {
    sim.smartTransports = grant;
    const c = choice();
    const result = await poll(c);
    expect(result.tried).toEqual(tried);
    expect(result.pick.transport).toBe(expected);
    if (result.pick.transport === 'none') {
      expect(result.pick.reason).toMatch(/^tapo-passthrough: .*-20571.*; shadows: .*no shadow/);
      expect(result.pick.retryAt).toBe(clock + 5 * MIN);
      // While everything waits, choosing sends nothing.
      sim.clearRequests();
      expect((await poll(c)).tried).toEqual([]);
      expect(sim.requests).toEqual([]);
    } else {
      expect(c.working(PLUG.deviceId)).toBe(expected);
    }
  });
});

it('after a restart the remembered transport is used straight away, and the preferred one is taken back after its wait', async () => {
  sim.smartTransports = 'shadows';
  await poll(choice());
  expect(sim.count({ op: 'common/passthrough', errorCode: -20571 })).toBe(1);
  sim.clearRequests();
  const restarted = choice();
  expect(await poll(restarted)).toMatchObject({ tried: ['shadows'] });
  expect(sim.count({ op: 'common/passthrough' })).toBe(0);
  // The cloud starts carrying the passthrough again; it is tried once its wait is over.
  sim.smartTransports = 'both';
  clock += 5 * MIN;
  expect(await poll(restarted)).toMatchObject({ tried: ['tapo-passthrough'], pick: { transport: 'tapo-passthrough', retry: true } });
  expect(restarted.working(PLUG.deviceId)).toBe('tapo-passthrough');
});
