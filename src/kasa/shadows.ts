/**
 * The `shadows` SMART transport: a device's on/off (and any other key its shadow reports) through
 * the app server's thing shadows (docs/protocol.md, "SMART transports"). REST without signing:
 * `Authorization: ut|<token>` and `app-cid: app:<appType>:<terminal>`.
 *
 * SMART requests are adapted, not forwarded: `get_device_info` is answered from the shadow's
 * `reported` state (`on` as `device_on`), `set_device_info` becomes a PATCH of `desired`, and
 * every other method is answered with -1002 in its place, so the modules see "not supported".
 *
 * The tokens come from callbacks (the Kasa session first, then the Tapo one): this module knows
 * no client. Which one the app server took is remembered per host, so later requests send it first.
 */
import { isRecord } from '../isRecord.js';
import {
  KasaError,
  KasaNetworkError,
  KasaProtocolError,
  KasaShadowVersionError,
  KasaTokenExpiredError,
  KasaTransportUnsupportedError,
  sanitizeCloudMessage,
} from './errors.js';
import type { SmartDeviceRef, SmartTransport } from './smartTransport.js';
import type { KasaTransport } from './transport.js';

/** One app's access token, as the app server takes it. */
export interface ShadowTokenSource {
  /** The app the token belongs to (`Kasa_Android_Mix`, `TP-Link_Tapo_Android`); named in `app-cid`. */
  readonly appType: string;
  /** The terminal UUID of that app's session; named in `app-cid`. */
  terminalUUID(): string;
  /** The current access token; rejects with a KasaError when this app has no session. */
  token(signal: AbortSignal): Promise<string>;
  /** A fresh token after the app server answered 401 to `stale`; rejects when the session cannot be refreshed. */
  refreshToken(stale: string, signal: AbortSignal): Promise<string>;
}

export interface ShadowsTransportOptions {
  /** The app server's base URL (regional, e.g. `https://use1-app-server.iot.i.tplinknbu.com`). */
  appServerUrl: string;
  /** Tried in this order until the app server takes one (the Kasa token first, then the Tapo one). */
  tokens: readonly ShadowTokenSource[];
  /** HTTP: timeouts, request events and trace (the caller owns and closes it). */
  http: KasaTransport;
  timeoutMs: number;
}

/** python-kasa's `SmartErrorCode`: UNKNOWN_METHOD_ERROR and PARAMS_ERROR. */
export const SMART_UNKNOWN_METHOD = -1002;
export const SMART_PARAMS_ERROR = -1008;

/** The app server's version-conflict code (docs/protocol.md, "App server"). */
export const SHADOW_VERSION_CONFLICT = 11000;

const READ_OP = 'shadows';
const WRITE_OP = 'shadows/update';
const MULTIPLE_REQUEST = 'multipleRequest';

interface Shadow {
  reported: Record<string, unknown>;
  version: number | undefined;
}

interface Seen {
  version: number | undefined;
  keys: ReadonlySet<string>;
}

interface Call {
  method: string;
  params: unknown;
}

export class ShadowsTransport implements SmartTransport {
  readonly name = 'shadows' as const;
  private readonly base: URL;
  private readonly options: ShadowsTransportOptions;
  /** Host → index in `tokens` of the source the app server took last. */
  private readonly workingSource = new Map<string, number>();
  /**
   * Device → the shadow's version and reported keys last seen, so a write needs no read first
   * (a stale version costs one 11000 and a re-read).
   */
  private readonly seen = new Map<string, Seen>();

  constructor(options: ShadowsTransportOptions) {
    if (options.tokens.length === 0) throw new Error('the shadows transport needs at least one token source');
    this.options = options;
    this.base = new URL(options.appServerUrl);
  }

  async request(device: SmartDeviceRef, request: Record<string, unknown>, signal: AbortSignal): Promise<Record<string, unknown>> {
    const multiple = request['method'] === MULTIPLE_REQUEST;
    const calls = multiple ? callsOf(request['params']) : [{ method: String(request['method']), params: request['params'] }];
    if (calls === undefined) return { error_code: SMART_PARAMS_ERROR };
    // One read answers every get in the request, unless a write came between.
    let shadow: Shadow | undefined;
    const answers: Record<string, unknown>[] = [];
    for (const call of calls) {
      if (call.method === 'get_device_info') {
        shadow ??= await this.read(device.deviceId, signal);
        answers.push({ error_code: 0, result: deviceInfo(device.deviceId, shadow) });
      } else if (call.method === 'set_device_info') {
        const desired = desiredOf(call.params);
        if (typeof desired === 'number') {
          answers.push({ error_code: desired });
          continue;
        }
        // Only what the shadow reports can be written (a P300's parent reports nothing).
        const keys = (this.seen.get(device.deviceId) ?? seenOf(shadow ?? (await this.read(device.deviceId, signal)))).keys;
        if (Object.keys(desired).some((k) => !keys.has(k))) {
          answers.push({ error_code: SMART_UNKNOWN_METHOD });
          continue;
        }
        await this.write(device.deviceId, desired, signal);
        shadow = undefined;
        answers.push({ error_code: 0 });
      } else {
        answers.push({ error_code: SMART_UNKNOWN_METHOD });
      }
    }
    if (!multiple) return answers[0]!;
    return { error_code: 0, result: { responses: calls.map((c, i) => ({ method: c.method, ...answers[i] })) } };
  }

  /** The device's shadow; a device the app server leaves out is one this transport does not carry. */
  private async read(deviceId: string, signal: AbortSignal): Promise<Shadow> {
    const url = new URL('/v1/things/shadows', this.base);
    url.searchParams.set('thingNames', deviceId);
    const body = await this.exchange('GET', url, undefined, deviceId, signal);
    const shadow = shadowOf(body, deviceId);
    if (shadow === undefined) {
      throw new KasaTransportUnsupportedError(`the app server has no shadow for device ${deviceId}`, { op: READ_OP, deviceId });
    }
    this.seen.set(deviceId, seenOf(shadow));
    return shadow;
  }

  /**
   * PATCHes `desired` with the version after the last one seen (read first when none is known). An
   * `11000` (the shadow changed since) → one re-read and one retry; a second one is thrown.
   */
  private async write(deviceId: string, desired: Record<string, unknown>, signal: AbortSignal): Promise<void> {
    const url = new URL(`/v1/things/${encodeURIComponent(deviceId)}/shadows`, this.base);
    const known = this.seen.get(deviceId)?.version ?? (await this.read(deviceId, signal)).version;
    try {
      await this.patch(url, deviceId, desired, requireVersion(known, deviceId), signal);
    } catch (err) {
      if (!(err instanceof KasaShadowVersionError)) throw err;
      const again = (await this.read(deviceId, signal)).version;
      try {
        await this.patch(url, deviceId, desired, requireVersion(again, deviceId), signal);
      } catch (retryErr) {
        if (!(retryErr instanceof KasaShadowVersionError)) throw retryErr;
        this.seen.delete(deviceId);
        throw new KasaShadowVersionError(
          `the shadow of device ${deviceId} changed again between the re-read and the write (11000 twice); the command was not applied`,
          { op: WRITE_OP, code: SHADOW_VERSION_CONFLICT, currentVersion: retryErr.currentVersion, cause: retryErr },
        );
      }
    }
  }

  private async patch(url: URL, deviceId: string, desired: Record<string, unknown>, current: number, signal: AbortSignal): Promise<void> {
    const next = current + 1;
    const answer = await this.exchange('PATCH', url, { state: { desired }, version: next }, deviceId, signal);
    const version = isRecord(answer) ? versionOf(answer['version']) : undefined;
    const keys = this.seen.get(deviceId)?.keys ?? new Set(Object.keys(desired));
    this.seen.set(deviceId, { version: version ?? next, keys });
  }

  /**
   * One request with the first token the app server takes: the source that worked on this host
   * first, then the others in order. A 401 asks that source for a fresh token and retries once;
   * anything but a 401 is thrown as it is (it is not about the token).
   */
  private async exchange(method: 'GET' | 'PATCH', url: URL, body: Record<string, unknown> | undefined, deviceId: string, signal: AbortSignal): Promise<unknown> {
    const host = url.origin;
    const sources = this.options.tokens;
    const first = this.workingSource.get(host) ?? 0;
    const order = [first, ...sources.keys()].filter((i, at, all) => all.indexOf(i) === at);
    let sessionError: KasaError | undefined;
    const refused: string[] = [];
    for (const index of order) {
      const source = sources[index]!;
      let token: string | undefined;
      // The source's token, then (after a 401) a fresh one: two tries per source.
      for (const fresh of [false, true]) {
        try {
          token = fresh && token !== undefined ? await source.refreshToken(token, signal) : await source.token(signal);
        } catch (err) {
          if (!(err instanceof KasaError)) throw err;
          sessionError ??= err;
          break;
        }
        try {
          const answer = await this.send(method, url, body, deviceId, source, token, signal);
          this.workingSource.set(host, index);
          return answer;
        } catch (err) {
          if (!(err instanceof KasaTokenExpiredError)) throw err;
          if (fresh) refused.push(source.appType);
        }
      }
    }
    // A session problem (MFA pending, no login) is for the user to fix; a token the app server
    // refuses even fresh means this transport does not work with our sessions.
    if (sessionError !== undefined && refused.length === 0) throw sessionError;
    throw new KasaTransportUnsupportedError(
      `the app server ${host} refused the access token of ${refused.join(' and ')} even after a refresh`,
      { op: method === 'GET' ? READ_OP : WRITE_OP, deviceId },
    );
  }

  private send(
    method: 'GET' | 'PATCH',
    url: URL,
    body: Record<string, unknown> | undefined,
    deviceId: string,
    source: ShadowTokenSource,
    token: string,
    signal: AbortSignal,
  ): Promise<unknown> {
    const op = method === 'GET' ? READ_OP : WRITE_OP;
    return this.options.http.rest({
      op,
      method,
      url,
      headers: {
        Authorization: `ut|${token}`,
        'app-cid': `app:${source.appType}:${source.terminalUUID()}`,
      },
      body,
      deviceId,
      signal,
      timeoutMs: this.options.timeoutMs,
      read: (status, text) => readAnswer(status, text, { op, host: url.origin, deviceId }),
    });
  }
}

/**
 * The app server answers by HTTP status (docs/protocol.md, "App server"): 200 with JSON; 400
 * `{code:11000, data:{curVersion}}` for a version conflict; 401 for a token it does not take; 403
 * "missing appCid or invalid" for our header (a bug on our side), another 403 or a 404 for a
 * device it does not carry; 5xx as any cloud failure.
 */
export function readAnswer(status: number, text: string, ctx: { op: string; host: string; deviceId: string }): unknown {
  const json = parseJson(text);
  const where = `${ctx.op} to ${ctx.host}`;
  if (status === 200) {
    if (json === undefined) {
      throw new KasaNetworkError(`${where} answered a body that is not JSON (${text.length} bytes)`, { op: ctx.op, status });
    }
    return json;
  }
  const code = isRecord(json) && typeof json['code'] === 'number' ? json['code'] : undefined;
  const message = isRecord(json) ? sanitizeCloudMessage(json['message']) : undefined;
  const said = `${where} answered HTTP ${status}${message ? ` "${message}"` : ''}`;
  if (code === SHADOW_VERSION_CONFLICT) {
    const data = isRecord(json) && isRecord(json['data']) ? json['data'] : undefined;
    throw new KasaShadowVersionError(`${said}: the shadow changed since it was read`, {
      op: ctx.op,
      code,
      currentVersion: versionOf(data?.['curVersion']),
    });
  }
  if (status === 401) throw new KasaTokenExpiredError(`${said}: the app server refused the access token`, { op: ctx.op, revoked: true });
  if (status === 403 && /appcid/i.test(message ?? '')) {
    throw new KasaProtocolError(`${said}: the app server refused our app-cid header (client bug)`, { op: ctx.op });
  }
  if (status === 403 || status === 404) {
    throw new KasaTransportUnsupportedError(`${said}: the app server does not carry device ${ctx.deviceId}`, {
      op: ctx.op,
      deviceId: ctx.deviceId,
    });
  }
  if (status >= 500 && status <= 599) throw new KasaNetworkError(said, { op: ctx.op, status });
  throw new KasaProtocolError(`${said}: an answer this client does not expect`, { op: ctx.op });
}

/** The named thing's shadow; an answer naming no thing is taken when it holds exactly one (the published sample). */
function shadowOf(body: unknown, deviceId: string): Shadow | undefined {
  const list = isRecord(body) && Array.isArray(body['shadows']) ? body['shadows'].filter(isRecord) : undefined;
  if (list === undefined) throw new KasaProtocolError(`${READ_OP} answered without a shadows list`, { op: READ_OP });
  const named = list.find((s) => typeof s['thingName'] === 'string' && s['thingName'].toUpperCase() === deviceId.toUpperCase());
  const entry = named ?? (list.length === 1 && list[0]!['thingName'] === undefined ? list[0] : undefined);
  if (entry === undefined) return undefined;
  const state = isRecord(entry['state']) ? entry['state'] : {};
  const reported = isRecord(state['reported']) ? state['reported'] : {};
  return { reported, version: versionOf(entry['version']) };
}

/** `get_device_info` from the shadow: `on` as `device_on`, every other reported key as it is. */
function seenOf(shadow: Shadow): Seen {
  return { version: shadow.version, keys: new Set(Object.keys(shadow.reported)) };
}

function deviceInfo(deviceId: string, shadow: Shadow): Record<string, unknown> {
  const info: Record<string, unknown> = { device_id: deviceId };
  for (const [key, value] of Object.entries(shadow.reported)) {
    if (key === 'on') {
      if (typeof value === 'boolean') info['device_on'] = value;
    } else {
      info[key] = value;
    }
  }
  return info;
}

/** `set_device_info` params as the shadow's `desired` (`device_on` → `on`), or the SMART error code. */
function desiredOf(params: unknown): Record<string, unknown> | number {
  if (!isRecord(params) || Object.keys(params).length === 0) return SMART_PARAMS_ERROR;
  const desired: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(params)) {
    if (key === 'device_on') {
      if (typeof value !== 'boolean') return SMART_PARAMS_ERROR;
      desired['on'] = value;
    } else if (key === 'on') {
      // The shadow's name for device_on, not a SMART parameter.
      return SMART_PARAMS_ERROR;
    } else {
      desired[key] = value;
    }
  }
  return desired;
}

function callsOf(params: unknown): Call[] | undefined {
  const requests = isRecord(params) ? params['requests'] : undefined;
  if (!Array.isArray(requests) || requests.length === 0) return undefined;
  return requests.map((r) => (isRecord(r) && typeof r['method'] === 'string' ? { method: r['method'], params: r['params'] } : { method: '', params: undefined }));
}

function requireVersion(version: number | undefined, deviceId: string): number {
  if (version === undefined) throw new KasaProtocolError(`the shadow of device ${deviceId} has no version`, { op: READ_OP });
  return version;
}

/** The published samples send the version as a number (one guide quotes it). */
function versionOf(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  if (typeof value === 'string' && /^\d{1,15}$/.test(value)) return Number(value);
  return undefined;
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
