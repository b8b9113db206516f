/**
 * The app server ("NBU", `*-app-server.iot.i.tplinknbu.com`): thing shadows of SMART devices.
 * Unlike the V2 API it is REST without signing: `Authorization: ut|<token>` and an `app-cid`
 * header, answers by HTTP status (docs/protocol.md, "Simulator", "App server").
 *
 * - `GET /v1/server-info` → `{appServerUrl}` (this listener plays the global and the regional host);
 * - `GET /v1/things/shadows?thingNames=<id>[,<id>…]` → `{shadows:[{thingName, state:{desired, reported}, version}]}`;
 * - `PATCH /v1/things/<id>/shadows` `{state:{desired:{on}}, version}` → `{version, requestId}`;
 *   a version other than the current one plus one → 400 `{code:11000, message, data:{curVersion}}`.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Cloud } from './cloud.js';
import { SmartDevice } from './devices/index.js';
import { isRecord } from '../isRecord.js';
import { delay, type JsonObject } from './util.js';

const SHADOWS = '/v1/things/shadows';
const THING_SHADOW = /^\/v1\/things\/([0-9A-Fa-f]{40})\/shadows$/;
const SERVER_INFO = '/v1/server-info';
const MAX_BODY_BYTES = 64 * 1024;
const APP_CID = /^app:[^:\s]+:\S+$/;
/** The shadow's version conflict code and message (the message is prefixed with a request id). */
const VERSION_CONFLICT = 11000;

interface Reply {
  status: number;
  body?: JsonObject;
  /** Logged instead of the status (11000 for a version conflict). */
  logCode?: number;
  allow?: string;
}

const error = (status: number, code: number, message: string, data?: JsonObject): Reply => ({
  status,
  body: { code, message, ...(data ? { data } : {}) },
  logCode: -status,
});

export async function handleAppServer(cloud: Cloud, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const started = performance.now();
  const at = cloud.now();
  const url = new URL(req.url ?? '/', 'http://app-server');
  const log: { op: string; username?: string; deviceId?: string } = { op: `app-server ${req.method ?? ''} ${url.pathname}` };
  let reply: Reply;
  try {
    reply = await route(cloud, req, url, log);
  } catch {
    reply = { status: 500 };
  }
  await delay(cloud.faults.delayMs, cloud.timers);
  const json = reply.body ? JSON.stringify(reply.body) : '';
  res.writeHead(reply.status, {
    ...(reply.body ? { 'Content-Type': 'application/json;charset=UTF-8', 'Content-Length': Buffer.byteLength(json) } : {}),
    ...(reply.allow ? { Allow: reply.allow } : {}),
  });
  res.end(json);
  cloud.log.add({
    at,
    host: 'appServer',
    path: url.pathname,
    op: log.op,
    ...(log.username !== undefined ? { username: log.username } : {}),
    ...(log.deviceId !== undefined ? { deviceId: log.deviceId } : {}),
    errorCode: reply.logCode ?? (reply.status === 200 ? 0 : -reply.status),
    durationMs: performance.now() - started,
  });
}

async function route(cloud: Cloud, req: IncomingMessage, url: URL, log: { op: string; username?: string; deviceId?: string }): Promise<Reply> {
  const raw = await readBody(req);
  if (raw === undefined) return { status: 413 };
  if (cloud.faults.http500 > 0) {
    cloud.faults.http500 -= 1;
    return { status: 500 };
  }
  const thing = THING_SHADOW.exec(url.pathname)?.[1]?.toUpperCase();
  const known = url.pathname === SHADOWS || url.pathname === SERVER_INFO || thing !== undefined;
  if (!known) return error(404, 404, 'Not Found');
  const allowed = thing !== undefined ? 'PATCH' : 'GET';
  if (req.method !== allowed) return { status: 405, allow: allowed };

  const cid = req.headers['app-cid'];
  if (typeof cid !== 'string' || !APP_CID.test(cid)) return error(403, 403, 'missing appCid or invalid');
  const username = authenticate(cloud, req.headers.authorization);
  if (username === undefined) return error(401, 401, 'Unauthorized');
  log.username = username;

  if (url.pathname === SERVER_INFO) {
    log.op = 'server-info';
    return { status: 200, body: { appServerUrl: cloud.urls.appServer } };
  }
  if (thing === undefined) {
    log.op = 'shadows';
    return readShadows(cloud, username, url);
  }
  log.op = 'shadows/update';
  log.deviceId = thing;
  return updateShadow(cloud, username, thing, raw);
}

/** `ut|<token>`: any live access token of the account (Kasa or Tapo session); else undefined (401). */
function authenticate(cloud: Cloud, header: string | undefined): string | undefined {
  if (header === undefined || !header.startsWith('ut|')) return undefined;
  const check = cloud.tokens.checkAccess(header.slice(3));
  if (!check.ok) return undefined;
  return cloud.accounts.find(check.token.username)?.username;
}

/** The SMART device the account owns and the grant lets shadows reach, else undefined. */
function shadowDevice(cloud: Cloud, username: string, deviceId: string): SmartDevice | undefined {
  const device = cloud.ownedDevice(username, deviceId);
  return device instanceof SmartDevice && cloud.grants('shadows') ? device : undefined;
}

async function readShadows(cloud: Cloud, username: string, url: URL): Promise<Reply> {
  const names = (url.searchParams.get('thingNames') ?? '').split(',').filter((n) => n !== '');
  if (names.length === 0) return error(400, 400, 'thingNames is required');
  const devices = names.map((n) => shadowDevice(cloud, username, n.toUpperCase())).filter((d): d is SmartDevice => d !== undefined);
  for (const device of devices) await device.untilAnswering('shadows', cloud.stopped);
  // An offline device keeps its last shadow: the app server answers for it.
  return { status: 200, body: { shadows: devices.map((d) => ({ thingName: d.deviceId, ...d.shadow.document() })) } };
}

async function updateShadow(cloud: Cloud, username: string, deviceId: string, raw: Buffer): Promise<Reply> {
  const owned = cloud.ownedDevice(username, deviceId);
  if (!(owned instanceof SmartDevice)) return error(404, 404, 'thing not found');
  const device = shadowDevice(cloud, username, deviceId);
  if (!device) return error(403, 403, 'Forbidden');
  const body = parseJson(raw);
  const desired = isRecord(body) && isRecord(body.state) && isRecord(body.state.desired) ? body.state.desired : undefined;
  const version = isRecord(body) ? versionOf(body.version) : undefined;
  const keys = desired ? Object.keys(desired) : [];
  if (!desired || version === undefined || keys.length === 0 || keys.some((k) => k !== 'on') || typeof desired.on !== 'boolean') {
    return error(400, 400, 'Bad Request');
  }
  if (device.smart.kind === 'powerstrip') return error(400, 400, 'Bad Request');
  await device.untilAnswering('shadows', cloud.stopped);
  const current = device.shadow.currentVersion();
  if (version !== current + 1) {
    return {
      ...error(400, VERSION_CONFLICT, `[${randomUUID()}] Update version is smaller than present version.`, { curVersion: current }),
      logCode: VERSION_CONFLICT,
    };
  }
  if (device.reachable) device.applyDesired(desired.on);
  device.shadow.accept({ on: desired.on }, version);
  return { status: 200, body: { version, requestId: randomUUID() } };
}

/** The published samples send the version as a number (one guide writes it quoted). */
function versionOf(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  if (typeof value === 'string' && /^\d{1,15}$/.test(value)) return Number(value);
  return undefined;
}

function parseJson(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    return undefined;
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}
