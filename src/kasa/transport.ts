/**
 * One signed POST to the Kasa cloud: serialise once, sign the exact bytes with the app
 * identity's keys, send with the app's headers and query, enforce a timeout, parse and check the
 * envelope (both error levels).
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { Agent, request, type Dispatcher } from 'undici';
import type { Logger } from '../logger.js';
import {
  KasaError,
  KasaNetworkError,
  KasaProtocolError,
  classifyCloudError,
  parseCode,
  sanitizeCloudMessage,
} from './errors.js';
import { isRecord } from '../isRecord.js';
import { KASA_IDENTITY, type AppIdentity } from './appIdentity.js';
import { appQuery, CONTENT_TYPE, USER_AGENT } from './protocol.js';
import { linkSignals } from './signals.js';
import { signRequest } from './signing.js';
import { traceLine, type TraceOptions } from './trace.js';

/** `certs/tplink-ca-chain.pem`, two levels up from this module in both `src/kasa/` and `dist/kasa/`. */
export const BUNDLED_CA_PATH = fileURLToPath(new URL('../../certs/tplink-ca-chain.pem', import.meta.url));

export type RequestOutcome = 'ok' | 'cloud_error' | 'network_error' | 'timeout' | 'aborted';

/** Reported once per HTTP request (metrics hook). Never carries secrets. */
export interface TransportRequestEvent {
  op: string;
  /** Origin only (`https://host:port`), never the query. */
  host: string;
  durationMs: number;
  outcome: RequestOutcome;
  /** Cloud error code (`error_code` or nested `result.errorCode`), or the HTTP status as a negative number. */
  errorCode?: number;
  /** Error class name when the request failed (`KasaTokenExpiredError`…). */
  errorName?: string;
}

export interface KasaTransportOptions {
  logger: Logger;
  /** KASA_CA_FILE: extra PEM roots. */
  caFile?: string | undefined;
  /** Extra PEM roots given directly (tests). */
  extraCa?: readonly string[] | undefined;
  onRequest?: ((event: TransportRequestEvent) => void) | undefined;
  /** Use this dispatcher instead of building the Agent (tests: undici MockAgent). Not closed by `close()`. */
  dispatcher?: Dispatcher | undefined;
  /** The redacted protocol trace (KASA_TRACE, `login --trace`). */
  trace?: TraceOptions | undefined;
  /** Whose query, `appName` and signing keys every request carries; default the Kasa app. */
  app?: AppIdentity | undefined;
}

export interface PostOptions {
  /** Operation name for logs, metrics and messages (`login`, `passthrough`…). */
  op: string;
  /** The session's terminal UUID, sent as `termID`. */
  terminalUUID: string;
  /** Access token; only for method-endpoint calls. */
  token?: string | undefined;
  /** Device the call is about (for error messages). */
  deviceId?: string | undefined;
  signal?: AbortSignal | undefined;
  timeoutMs: number;
}

export interface RestOptions<T> {
  /** Operation name for logs, metrics and messages (`shadows`, `shadows/update`). */
  op: string;
  method: 'GET' | 'PATCH';
  url: URL;
  /** Sent as they are (the caller's authorisation headers); never traced. */
  headers: Record<string, string>;
  body?: Record<string, unknown> | undefined;
  deviceId?: string | undefined;
  signal?: AbortSignal | undefined;
  timeoutMs: number;
  /** Reads the answer: the value, or a thrown classified KasaError. */
  read: (status: number, text: string) => T;
}

interface Exchange<T> {
  op: string;
  method: 'GET' | 'PATCH' | 'POST';
  url: URL;
  headers: Record<string, string>;
  /** The exact bytes sent (what `post` signed). */
  payload: string | undefined;
  /** The body as the trace shows it. */
  body: unknown;
  deviceId?: string | undefined;
  signal?: AbortSignal | undefined;
  timeoutMs: number;
  read: (status: number, text: string) => T;
}

/**
 * The trust list: system roots + the bundled TP-Link CA certificates (CA certificates only; the
 * bundled leaf is skipped, it must never be pinned) + extra PEMs.
 */
export function buildCaList(options: { caFile?: string | undefined; extraCa?: readonly string[] | undefined } = {}): string[] {
  const bundled = splitPem(readFileSync(BUNDLED_CA_PATH, 'utf8')).filter((pem) => {
    try {
      return new X509Certificate(pem).ca;
    } catch {
      return false;
    }
  });
  const extra: string[] = [];
  if (options.caFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(options.caFile, 'utf8');
    } catch (err) {
      throw new Error(`KASA_CA_FILE ${options.caFile} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}); fix the path or unset it`, { cause: err });
    }
    const pems = splitPem(text);
    if (pems.length === 0) throw new Error(`KASA_CA_FILE ${options.caFile} contains no PEM certificate`);
    extra.push(...pems);
  }
  for (const pem of options.extraCa ?? []) extra.push(...splitPem(pem));
  return [...rootCertificates, ...bundled, ...extra];
}

function splitPem(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT']);

export class KasaTransport {
  private readonly log: Logger;
  private readonly options: KasaTransportOptions;
  private readonly app: AppIdentity;
  private readonly query: Readonly<Record<string, string>>;
  private agentInstance: Agent | undefined;
  private closed = false;

  constructor(options: KasaTransportOptions) {
    this.options = options;
    this.log = options.logger;
    this.app = options.app ?? KASA_IDENTITY;
    this.query = appQuery(this.app);
  }

  /** Built on first use, so constructing a client does no I/O. Verification is never disabled. */
  private agent(): Dispatcher {
    if (this.closed) throw new KasaNetworkError('the cloud client is closed');
    if (this.options.dispatcher) return this.options.dispatcher;
    this.agentInstance ??= new Agent({
      connect: { ca: buildCaList(this.options), rejectUnauthorized: true },
      keepAliveTimeout: 10_000,
    });
    return this.agentInstance;
  }

  /**
   * POSTs `body` to `path` on `baseUrl` and returns the envelope's `result` (`{}` when absent).
   * Throws a classified `KasaError`, or the caller's abort reason when `signal` aborts.
   */
  async post(baseUrl: string | URL, path: string, body: Record<string, unknown>, options: PostOptions): Promise<Record<string, unknown>> {
    options.signal?.throwIfAborted();
    const url = new URL(path, baseUrl);
    const query = new URLSearchParams({ ...this.query, termID: options.terminalUUID });
    if (options.token !== undefined) query.set('token', options.token);
    url.search = query.toString();
    const payload = JSON.stringify(body);
    const signed = signRequest(payload, url.pathname, undefined, this.app.keys);
    const headers = {
      'Content-Type': CONTENT_TYPE,
      'Content-MD5': signed.contentMd5,
      'X-Authorization': signed.xAuthorization,
      'User-Agent': USER_AGENT,
    };
    const ctx = { op: options.op, host: url.origin, deviceId: options.deviceId, authed: options.token !== undefined };
    return await this.send({
      op: options.op,
      method: 'POST',
      url,
      headers,
      payload,
      body,
      deviceId: options.deviceId,
      signal: options.signal,
      timeoutMs: options.timeoutMs,
      read: (status, text) => parseEnvelope(status, text, ctx),
    });
  }

  /**
   * One unsigned REST exchange (the app server's thing shadows): `body`, when given, is sent as
   * JSON. `read` turns the HTTP status and body into the value, or throws a classified KasaError.
   * Same timeout, request event, debug log and trace as `post`.
   */
  async rest<T>(options: RestOptions<T>): Promise<T> {
    options.signal?.throwIfAborted();
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers = {
      'User-Agent': USER_AGENT,
      ...(payload !== undefined ? { 'Content-Type': 'application/json;charset=UTF-8' } : {}),
      ...options.headers,
    };
    return await this.send({ ...options, headers, payload, body: options.body });
  }

  private async send<T>(req: Exchange<T>): Promise<T> {
    const { op, url } = req;
    const host = url.origin;
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(new Error('request timeout')), req.timeoutMs);
    const linked = linkSignals(req.signal, timeout.signal);
    const signal = linked.signal;
    const started = performance.now();
    let status: number | undefined;
    let text: string | undefined;
    const finish = (outcome: RequestOutcome, err?: unknown): void => {
      const event: TransportRequestEvent = { op, host, durationMs: Math.round(performance.now() - started), outcome };
      if (err instanceof KasaError) {
        event.errorName = err.name;
        if (err.code !== undefined) event.errorCode = err.code;
        else if (err instanceof KasaNetworkError && err.status !== undefined) event.errorCode = -err.status;
        else if (status !== undefined && status !== 200) event.errorCode = -status;
      }
      // Built only when wanted: this runs for every poll.
      if (this.log.isLevelEnabled('debug')) {
        this.log.debug(
          { op, host, deviceId: req.deviceId, durationMs: event.durationMs, outcome, errorCode: event.errorCode, error: event.errorName },
          outcome === 'ok' ? 'cloud request done' : 'cloud request failed',
        );
      }
      try {
        this.options.onRequest?.(event);
      } catch (hookErr) {
        this.log.warn({ err: hookErr }, 'onRequest hook threw');
      }
      this.writeTrace(() => ({
        app: this.app.name,
        op,
        method: req.method,
        host,
        path: url.pathname,
        query: url.searchParams,
        body: req.body,
        durationMs: event.durationMs,
        outcome,
        status,
        answer: text,
        errorCode: event.errorCode,
        error: err instanceof Error ? `${err.name}: ${err.message}` : undefined,
      }));
    };

    try {
      try {
        const res = await request(url, {
          method: req.method,
          headers: req.headers,
          ...(req.payload !== undefined ? { body: req.payload } : {}),
          dispatcher: this.agent(),
          signal,
          headersTimeout: req.timeoutMs,
          bodyTimeout: req.timeoutMs,
        });
        status = res.statusCode;
        text = await res.body.text();
      } catch (err) {
        if (err instanceof KasaError) throw err;
        if (req.signal?.aborted) throw abortReason(req.signal);
        const code = (err as { code?: unknown }).code;
        const isTimeout = timeout.signal.aborted || (typeof code === 'string' && TIMEOUT_CODES.has(code));
        throw new KasaNetworkError(
          isTimeout ? `${op} to ${host} timed out after ${req.timeoutMs} ms` : `${op} to ${host} failed: ${describeNetworkError(err)}`,
          { op, timeout: isTimeout, cause: err },
        );
      }
      const result = req.read(status, text);
      finish('ok');
      return result;
    } catch (err) {
      const outcome: RequestOutcome =
        err instanceof KasaNetworkError
          ? err.timeout
            ? 'timeout'
            : 'network_error'
          : err instanceof KasaError
            ? 'cloud_error'
            : 'aborted';
      finish(outcome, err);
      throw err;
    } finally {
      clearTimeout(timer);
      linked.release();
    }
  }

  /** The exchange is built only when a trace is on: this runs for every poll. */
  private writeTrace(exchange: () => Parameters<typeof traceLine>[0]): void {
    const trace = this.options.trace;
    if (!trace) return;
    try {
      trace.write(traceLine(exchange(), trace.secrets()));
    } catch (err) {
      this.log.warn({ err }, 'could not write the protocol trace');
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const agent = this.agentInstance;
    this.agentInstance = undefined;
    if (agent) await agent.close();
  }
}

/** Checks HTTP status, JSON, `error_code` and the nested `result.errorCode`; returns `result`. */
export function parseEnvelope(
  status: number,
  text: string,
  ctx: { op: string; host: string; deviceId?: string | undefined; authed?: boolean | undefined },
): Record<string, unknown> {
  if (status !== 200) {
    throw new KasaNetworkError(`${ctx.op} to ${ctx.host} answered HTTP ${status}`, { op: ctx.op, status });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new KasaNetworkError(`${ctx.op} to ${ctx.host} answered a body that is not JSON (${text.length} bytes)`, {
      op: ctx.op,
      status,
      cause: err,
    });
  }
  if (!isRecord(json)) {
    throw new KasaNetworkError(`${ctx.op} to ${ctx.host} answered JSON that is not an envelope object`, { op: ctx.op, status });
  }
  const code = parseCode(json['error_code']);
  if (code === undefined) {
    throw new KasaProtocolError(`${ctx.op} to ${ctx.host} answered an envelope without error_code`, { op: ctx.op });
  }
  const result = isRecord(json['result']) ? json['result'] : undefined;
  if (code !== 0) throw classifyCloudError(code, sanitizeCloudMessage(json['msg']), result, ctx);
  if (result === undefined) return {};
  const nested = parseCode(result['errorCode']);
  if (nested !== undefined && nested !== 0) {
    throw classifyCloudError(nested, sanitizeCloudMessage(result['errorMsg'] ?? result['msg'] ?? json['msg']), result, ctx);
  }
  return result;
}

/** What each TLS verification failure means to a user, and what to do about it. */
const TLS_FAILURES: ReadonlyArray<[RegExp, string]> = [
  [/^CERT_HAS_EXPIRED$/, 'the server certificate has expired (check the clock of this machine; if it is right, the cloud host serves an old certificate)'],
  [/^CERT_NOT_YET_VALID$/, 'the server certificate is not valid yet (check the clock of this machine)'],
  [
    /^ERR_TLS_CERT_ALTNAME_INVALID$/,
    'the server certificate is for another host name (check KASA_CLOUD_URL; a proxy or captive portal may be answering)',
  ],
  [
    /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT)$/,
    'the server certificate is issued by a CA this client does not trust (add that CA as a PEM file with KASA_CA_FILE; verification is never switched off)',
  ],
  [/CERT|ERR_TLS|SSL/i, 'the TLS handshake failed (if the host is right, add its CA with KASA_CA_FILE)'],
];

function describeNetworkError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  const base = typeof code === 'string' ? `${code} (${err.message})` : err.message;
  if (typeof code === 'string') {
    const tls = TLS_FAILURES.find(([pattern]) => pattern.test(code));
    if (tls) return `${base}: ${tls[1]}`;
  }
  const cause = err.cause;
  if (cause instanceof Error && cause !== err) return `${base}: ${describeNetworkError(cause)}`;
  return base;
}

function abortReason(signal: AbortSignal): unknown {
  const reason: unknown = signal.reason;
  return reason ?? new DOMException('This operation was aborted', 'AbortError');
}
