import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import {
  computeSignature,
  contentMd5,
  KASA_ACCESS_KEY,
  KASA_SECRET_KEY,
  parseAuthorization,
  TAPO_ACCESS_KEY,
  TAPO_SECRET_KEY,
} from '../kasa/signing.js';
import { ACCOUNT_ENDPOINTS } from './api/account.js';
import { METHODS } from './api/methods.js';
import { COMMON_ENDPOINTS } from './api/tapo.js';
import { handleAppServer } from './appServer.js';
import type { Answer, ApiRequest, Cloud, HostRole, LogFields } from './cloud.js';
import { identityOf, keyOwner, type AppIdentity } from './identity.js';
import { CloudError, CloudFailure, fail, Msg } from './errors.js';
import type { SimRequestLogEntry } from './types.js';
import { isRecord } from '../isRecord.js';
import { delay, type JsonObject } from './util.js';

const JSON_CONTENT_TYPE = 'application/json;charset=UTF-8';
const ACCOUNT_PATH = /^\/api\/v2\/account\/([A-Za-z0-9]+)$/;
/** The Tapo-only endpoints (the paged device list and the V2 passthrough). */
const COMMON_PATH = /^\/api\/v2\/common\/([A-Za-z0-9]+)$/;
const MAX_BODY_BYTES = 1 << 20;
/** The key pair is not tied to appType (a Tapo client signs with the Kasa pair and vice versa; docs/protocol.md, "Signing"). */
const SECRETS = new Map([
  [KASA_ACCESS_KEY, KASA_SECRET_KEY],
  [TAPO_ACCESS_KEY, TAPO_SECRET_KEY],
]);
const STRICT_QUERY_PARAMS = ['netType', 'ospf', 'brand', 'locale'];

/** HTTP-level outcome (not an API envelope): logged as the negative status. */
class HttpStatus extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

export function createListener(
  cloud: Cloud,
  role: HostRole,
  tls: { key: string | Buffer; cert: string | Buffer } | undefined,
): Server {
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    cloud.inFlight += 1;
    void (role === 'appServer' ? handleAppServer(cloud, req, res) : handle(cloud, role, req, res)).finally(() => {
      cloud.inFlight -= 1;
    });
  };
  return tls ? createHttpsServer({ key: tls.key, cert: tls.cert }, handler) : createHttpServer(handler);
}

async function handle(cloud: Cloud, role: HostRole, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const started = performance.now();
  const at = cloud.now();
  const rawUrl = req.url ?? '/';
  const queryAt = rawUrl.indexOf('?');
  const path = queryAt < 0 ? rawUrl : rawUrl.slice(0, queryAt);
  const query = new URLSearchParams(queryAt < 0 ? '' : rawUrl.slice(queryAt + 1));
  const common = COMMON_PATH.exec(path)?.[1];
  const log: LogFields = { op: ACCOUNT_PATH.exec(path)?.[1] ?? (common !== undefined ? `common/${common}` : path) };

  let status = 200;
  let envelope: JsonObject | undefined;
  let logCode: number;
  try {
    const answer = await evaluate(cloud, role, req, path, query, log);
    envelope = answer.envelope;
    logCode = answer.logCode ?? (typeof envelope.error_code === 'number' ? envelope.error_code : 0);
  } catch (err) {
    if (err instanceof CloudFailure) {
      envelope = { error_code: err.code, msg: err.message, ...(err.result ? { result: err.result } : {}) };
      logCode = err.code;
    } else {
      status = err instanceof HttpStatus ? err.status : 500;
      logCode = -status;
    }
  }

  await delay(cloud.faults.delayMs, cloud.timers);
  if (envelope) {
    const json = JSON.stringify(envelope);
    res.writeHead(status, { 'Content-Type': JSON_CONTENT_TYPE, 'Content-Length': Buffer.byteLength(json) });
    res.end(json);
  } else {
    res.writeHead(status, status === 405 ? { Allow: 'POST' } : {});
    res.end();
  }
  cloud.log.add(logEntry(at, role, path, log, logCode, performance.now() - started));
}

function logEntry(
  at: number,
  host: HostRole,
  path: string,
  log: LogFields,
  errorCode: number,
  durationMs: number,
): SimRequestLogEntry {
  return {
    at,
    host,
    path,
    op: log.op,
    ...(log.username !== undefined ? { username: log.username } : {}),
    ...(log.deviceId !== undefined ? { deviceId: log.deviceId } : {}),
    ...(log.requestData !== undefined ? { requestData: log.requestData } : {}),
    errorCode,
    durationMs,
  };
}

/** The checks of docs/protocol.md, "Simulator", in its order. */
async function evaluate(
  cloud: Cloud,
  role: HostRole,
  req: IncomingMessage,
  path: string,
  query: URLSearchParams,
  log: LogFields,
): Promise<Answer> {
  if (req.method !== 'POST') {
    req.resume();
    throw new HttpStatus(405);
  }
  const raw = await readBody(req);
  if (cloud.faults.http500 > 0) {
    cloud.faults.http500 -= 1;
    throw new HttpStatus(500);
  }
  const accountName = ACCOUNT_PATH.exec(path)?.[1];
  const commonName = COMMON_PATH.exec(path)?.[1];
  if (path !== '/' && accountName === undefined && commonName === undefined) throw new HttpStatus(404);
  const body = parseBody(raw);
  if (path === '/' && typeof body?.method === 'string') log.op = body.method;

  if (cloud.faults.blackList) fail(cloud.codes.blackList, Msg.blackList);
  if (cloud.faults.throttle) fail(CloudError.rateLimited, Msg.rateLimited);

  const accountHandler = accountName !== undefined && Object.hasOwn(ACCOUNT_ENDPOINTS, accountName)
    ? ACCOUNT_ENDPOINTS[accountName]
    : undefined;
  if (accountName !== undefined && !accountHandler) fail(CloudError.methodNotExist, Msg.methodNotExist);
  const commonHandler = commonName !== undefined && Object.hasOwn(COMMON_ENDPOINTS, commonName) ? COMMON_ENDPOINTS[commonName] : undefined;
  if (commonName !== undefined && !commonHandler) fail(CloudError.methodNotExist, Msg.methodNotExist);
  if (cloud.strict && !/^application\/json/i.test(req.headers['content-type'] ?? '')) throw new HttpStatus(415);
  if (!body) fail(cloud.codes.malformedBody, Msg.parameter);
  // The Tapo-only endpoints check the signature with the Tapo secret alone, and say so with -10301.
  const accessKey = verifySignature(cloud, req, raw, path, commonHandler ? CloudError.signatureMismatch : cloud.codes.signature);
  if (commonHandler && keyOwner(accessKey) !== 'tapo') fail(CloudError.signatureMismatch, Msg.signatureMismatch);
  const app = checkQuery(cloud, query);
  if (commonHandler && app !== 'tapo') fail(cloud.codes.appIdentity, Msg.appTooOld);

  const apiRequest: ApiRequest = { role, app, query, body, log };
  if (accountHandler) return accountHandler(cloud, apiRequest);
  if (commonHandler) return commonHandler(cloud, apiRequest);
  const method = typeof body.method === 'string' && Object.hasOwn(METHODS, body.method) ? METHODS[body.method] : undefined;
  if (!method) fail(CloudError.methodNotExist, Msg.methodNotExist);
  return method(cloud, apiRequest);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY_BYTES) throw new HttpStatus(413);
    chunks.push(buf);
  }
  // The app signs `{}` for a bodiless call (docs/protocol.md, "Signing"), so an empty body counts as `{}`.
  return size === 0 ? Buffer.from('{}') : Buffer.concat(chunks);
}

/** A valid UTF-8 JSON object, else undefined. */
function parseBody(raw: Buffer): JsonObject | undefined {
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
    const value: unknown = JSON.parse(text);
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * "Simulator" steps 3–6, over the raw bytes received (no canonicalisation; docs/protocol.md,
 * "Signing"); answers the AccessKey that signed. `code` is what a failure answers.
 */
function verifySignature(cloud: Cloud, req: IncomingMessage, raw: Buffer, path: string, code: number): string {
  const msg = code === CloudError.signatureMismatch ? Msg.signatureMismatch : Msg.signature;
  const header = req.headers['x-authorization'];
  const auth = typeof header === 'string' ? parseAuthorization(header) : undefined;
  if (!auth) fail(code, msg);
  const secret = SECRETS.get(auth.accessKey);
  if (secret === undefined) fail(code, msg);
  const md5 = contentMd5(raw);
  const sentMd5 = req.headers['content-md5'];
  if (sentMd5 === undefined ? cloud.strict : sentMd5 !== md5) fail(code, msg);
  if (computeSignature(secret, md5, auth.timestamp, auth.nonce, path) !== auth.signature) fail(code, msg);
  return auth.accessKey;
}

/** docs/protocol.md, "Simulator" step 7: app identity (Kasa or Tapo), terminal id, and (strict) the rest of the app's query string. */
function checkQuery(cloud: Cloud, query: URLSearchParams): AppIdentity {
  const app = identityOf(query.get('appName'));
  if (app === undefined || !query.get('appVer')) fail(cloud.codes.appIdentity, Msg.appTooOld);
  if (!query.get('termID')) fail(CloudError.parameterMissing, Msg.parameter);
  if (cloud.strict && STRICT_QUERY_PARAMS.some((name) => !query.get(name))) {
    fail(CloudError.parameterMissing, Msg.parameter);
  }
  return app;
}
