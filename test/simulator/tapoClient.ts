/** The Tapo app identity and the app server, for exercising the simulator's SMART paths over real sockets. */
import { request } from 'undici';
import { TAPO_ACCESS_KEY, TAPO_SECRET_KEY } from '../../src/kasa/signing.js';
import type { Simulator } from '../../src/simulator/types.js';
import { call, loginBody, TERMINAL, type CallOptions, type CallResult } from './client.js';

export const TAPO_APP = 'TP-Link_Tapo_Android';
export const TAPO_KEYS = { accessKey: TAPO_ACCESS_KEY, secretKey: TAPO_SECRET_KEY };

/** A call as the Tapo app makes it: its appName in the query, signed with its key pair. */
export function tapoCall(base: string, path: string, body: unknown, opts: CallOptions = {}): Promise<CallResult> {
  return call(base, path, body, { keys: TAPO_KEYS, ...opts, query: { appName: TAPO_APP, appVer: '3.8.501', ...opts.query } });
}

export function tapoLoginBody(username: string, password: string, terminalUUID = TERMINAL): Record<string, unknown> {
  return { ...loginBody(username, password, terminalUUID), appType: TAPO_APP, appVersion: '3.8.501' };
}

export async function tapoLogin(sim: Simulator, username: string, password: string): Promise<string> {
  const res = await tapoCall(sim.regionalUrl, '/api/v2/account/login', tapoLoginBody(username, password));
  if (res.body?.error_code !== 0) throw new Error(`Tapo login failed: ${JSON.stringify(res.body)}`);
  return res.body.result.token as string;
}

/** A SMART request through the Tapo V2 passthrough; `asText` sends requestData as JSON text. */
export async function smart(
  sim: Simulator,
  token: string,
  deviceId: string,
  requestData: Record<string, unknown>,
  asText = false,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
): Promise<{ envelope: any; reply: any }> {
  const res = await tapoCall(
    sim.regionalUrl,
    '/api/v2/common/passthrough',
    { deviceId, requestData: asText ? JSON.stringify(requestData) : requestData },
    { token },
  );
  const data = res.body?.result?.responseData;
  return { envelope: res.body, reply: typeof data === 'string' ? JSON.parse(data) : data };
}

export interface AppServerOptions {
  method?: 'GET' | 'PATCH' | 'POST' | 'PUT';
  body?: unknown;
  /** Header overrides; `undefined` removes a default. */
  headers?: Record<string, string | undefined>;
}

/** A request to the app server with the headers the apps send (`ut|` token, app-cid). */
export async function appServer(
  sim: Simulator,
  token: string,
  path: string,
  opts: AppServerOptions = {},
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
): Promise<{ status: number; body: any }> {
  const headers: Record<string, string | undefined> = {
    authorization: `ut|${token}`,
    'app-cid': `app:${TAPO_APP}:${TERMINAL}`,
    'x-app-name': TAPO_APP,
    'x-app-version': '3.8.501',
    'x-term-id': TERMINAL,
    ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
    ...opts.headers,
  };
  const res = await request(`${sim.appServerUrl}${path}`, {
    method: opts.method ?? 'GET',
    headers: Object.fromEntries(Object.entries(headers).filter((e): e is [string, string] => e[1] !== undefined)),
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
  });
  const raw = await res.body.text();
  return { status: res.statusCode, body: raw === '' ? undefined : JSON.parse(raw) };
}

export const shadowsOf = (sim: Simulator, token: string, ...ids: string[]) =>
  appServer(sim, token, `/v1/things/shadows?thingNames=${ids.join(',')}`);

export const patchShadow = (sim: Simulator, token: string, id: string, on: boolean, version: unknown) =>
  appServer(sim, token, `/v1/things/${id}/shadows`, { method: 'PATCH', body: { state: { desired: { on } }, version } });
