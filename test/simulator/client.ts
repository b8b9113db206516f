/** A minimal signed client for exercising the simulator over real sockets. */
import { request, type Dispatcher } from 'undici';
import { signRequest } from '../../src/kasa/signing.js';
import type { Simulator } from '../../src/simulator/types.js';

export const TERMINAL = '2a8ced52-f200-4b79-a1fe-2f6b58193c4c';
export const OTHER_TERMINAL = '7d1f0c3e-9a55-4b6e-8f21-0c6d5e4b3a29';
export const APP_TYPE = 'Kasa_Android_Mix';

export interface CallOptions {
  /** Query overrides; `undefined` removes a default parameter. */
  query?: Record<string, string | undefined>;
  token?: string;
  /** Header overrides; `undefined` removes a default header. */
  headers?: Record<string, string | undefined>;
  /** Send these bytes instead of JSON.stringify(body) (still signed unless signedBody is given). */
  rawBody?: string;
  /** Sign these bytes while sending the real body (to forge a bad signature). */
  signedBody?: string;
  method?: Dispatcher.HttpMethod;
  /** How spaces in the query are encoded on the wire. */
  spaces?: '+' | '%20';
  dispatcher?: Dispatcher;
  /** Sign with this key pair (default: the Kasa app's). */
  keys?: { accessKey: string; secretKey: string };
}

export interface CallResult {
  status: number;
  contentType: string | undefined;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export function defaultQuery(): Record<string, string> {
  return {
    appName: APP_TYPE,
    appVer: '3.4.451',
    netType: 'wifi',
    termID: TERMINAL,
    ospf: 'Android 14',
    brand: 'TPLINK',
    locale: 'en_US',
    model: 'Pixel',
  };
}

function encodeQuery(params: Record<string, string | undefined>, spaces: '+' | '%20'): string {
  return Object.entries(params)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => `${k}=${encodeURIComponent(v).replace(/%20/g, spaces)}`)
    .join('&');
}

export async function call(base: string, path: string, body: unknown, opts: CallOptions = {}): Promise<CallResult> {
  const text = opts.rawBody ?? JSON.stringify(body);
  const signed = signRequest(opts.signedBody ?? text, path, undefined, opts.keys);
  const query = { ...defaultQuery(), ...(opts.token !== undefined ? { token: opts.token } : {}), ...opts.query };
  const headers: Record<string, string | undefined> = {
    'content-type': 'application/json;charset=UTF-8',
    'content-md5': signed.contentMd5,
    'x-authorization': signed.xAuthorization,
    'user-agent': 'Dalvik/2.1.0 (Linux; U; Android 14; Pixel Build/UP1A)',
    ...opts.headers,
  };
  const res = await request(`${base}${path}?${encodeQuery(query, opts.spaces ?? '+')}`, {
    method: opts.method ?? 'POST',
    headers: Object.fromEntries(Object.entries(headers).filter((e): e is [string, string] => e[1] !== undefined)),
    ...(opts.method === undefined || opts.method === 'POST' ? { body: text } : {}),
    ...(opts.dispatcher ? { dispatcher: opts.dispatcher } : {}),
  });
  const raw = await res.body.text();
  const contentType = res.headers['content-type'];
  return {
    status: res.statusCode,
    contentType: typeof contentType === 'string' ? contentType : undefined,
    body: raw === '' ? undefined : JSON.parse(raw),
  };
}

export function loginBody(username: string, password: string, terminalUUID = TERMINAL): Record<string, unknown> {
  return {
    appType: APP_TYPE,
    appVersion: '3.4.451',
    cloudPassword: password,
    cloudUserName: username,
    platform: 'Android',
    refreshTokenNeeded: true,
    supportBindAccount: false,
    terminalUUID,
    terminalName: 'Pixel',
    terminalMeta: 'Pixel',
  };
}

/** Logs in on the regional host (no MFA expected) and returns token + refresh token. */
export async function login(
  sim: Simulator,
  username: string,
  password: string,
): Promise<{ token: string; refreshToken: string }> {
  const res = await call(sim.regionalUrl, '/api/v2/account/login', loginBody(username, password));
  if (res.body?.error_code !== 0) throw new Error(`login failed: ${JSON.stringify(res.body)}`);
  return { token: res.body.result.token, refreshToken: res.body.result.refreshToken };
}

/** Runs a passthrough on the device's own host and returns the envelope plus the parsed reply. */
export async function passthrough(
  sim: Simulator,
  token: string,
  deviceId: string,
  requestData: unknown,
  base = sim.deviceUrls[sim.device(deviceId).host],
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
): Promise<{ envelope: any; reply: any }> {
  const res = await call(
    base,
    '/',
    { method: 'passthrough', params: { deviceId, requestData: typeof requestData === 'string' ? requestData : JSON.stringify(requestData) } },
    { token },
  );
  const data = res.body?.result?.responseData;
  return { envelope: res.body, reply: typeof data === 'string' ? JSON.parse(data) : data };
}
