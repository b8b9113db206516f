/**
 * The Kasa cloud client: region lookup, login with two-step verification in every published
 * dialect, token refresh with one single-flight refresh for any number of concurrent requests,
 * recovery from revoked tokens, device list and passthrough (docs/protocol.md).
 * The same class logs in as the Kasa app or as the Tapo app (`identity`, appIdentity.ts): the
 * identity only changes the app names, the signing keys and the session file, and the Tapo
 * identity alone may use the Tapo-only endpoints (paged device list, SMART passthrough).
 * The password, tokens and MFA codes are never logged and never appear in error messages.
 */
import { isRecord } from '../isRecord.js';
import { urlForDisplay } from '../urlForDisplay.js';
import type { Logger } from '../logger.js';
import { KASA_IDENTITY, type AppIdentity } from './appIdentity.js';
import type {
  DeviceListByPageOptions,
  KasaCloudClientOptions,
  LoginResult,
  PassthroughTarget,
  PendingMfa,
  SessionChangeDetail,
  SessionState,
} from './clientTypes.js';
import {
  KasaError,
  KasaMfaCodeError,
  KasaMfaRequiredError,
  KasaNetworkError,
  KasaNotAuthenticatedError,
  KasaProtocolError,
  KasaRateLimitError,
  KasaTokenExpiredError,
  KasaUserActionError,
  KasaWrongRegionError,
  parseCode,
  type MfaDialect,
} from './errors.js';
import {
  MFA_TYPE_PUSH,
  METHOD_PATH,
  DEVICE_PAGE_SIZE,
  SMART_DEVICE_TYPES,
  accountPath,
  accountStatusBody,
  checkMfaBody,
  commonPath,
  deviceListBody,
  deviceListByPageBody,
  loginBody,
  mfaDispatchBody,
  nonEmpty,
  parseBaseUrl,
  parseDeviceList,
  passthroughBody,
  refreshTokenBody,
  smartPassthroughBody,
  type CloudDevice,
  type RequestDataForm,
} from './protocol.js';
import type { SessionStore, StoredSession } from './sessionStore.js';
import { linkSignals, raceSignal, type LinkedSignal } from './signals.js';
import { KasaTransport } from './transport.js';

export type {
  DeviceListByPageOptions,
  KasaCloudClientOptions,
  LoginResult,
  PassthroughTarget,
  PendingMfa,
  SessionChangeDetail,
  SessionState,
} from './clientTypes.js';
export { clientOptionsFromConfig } from './clientTypes.js';

interface MfaRound extends PendingMfa {
  dialect: MfaDialect;
  regionalUrl: string;
}

/** At most one password login per this interval that nobody asked for (docs/protocol.md, "Refresh"). */
export const AUTOMATIC_LOGIN_INTERVAL_MS = 10 * 60_000;

/**
 * What a cloud that takes only the JSON-text `requestData` may answer to the object form: the
 * published codes for a bad and for a missing `requestData` (docs/protocol.md, "Tapo identity").
 */
const OBJECT_FORM_REFUSALS: ReadonlySet<number> = new Set([-20104, -20573]);

/** Pages of the paged device list read at most, so a cloud whose `totalNum` keeps growing cannot loop the client. */
const MAX_DEVICE_PAGES = 50;

/** Actions of a failed refresh that mean "try again later", not "this refresh token is no good". */
const TRANSIENT_ACTIONS: ReadonlySet<KasaError['action']> = new Set(['retry', 'pause', 'back_off', 'stop']);

export interface LoginOptions {
  /** Nobody asked for this login (a retry after a failure): it counts against the automatic-login cap. */
  automatic?: boolean;
}

export class KasaCloudClient {
  /** The app this client logs in as. */
  readonly identity: AppIdentity;
  readonly #password: string;
  private readonly username: string;
  private readonly cloudUrl: string;
  private readonly store: SessionStore;
  private readonly timeoutMs: number;
  private readonly passthroughTimeoutMs: number;
  private readonly now: () => number;
  /** When the last automatic password login was sent; undefined before the first. */
  private lastAutomaticLogin: number | undefined;
  /** The code being checked, for the trace's scrubber only. */
  private codeInFlight: string | undefined;
  private readonly log: Logger;
  private readonly transport: KasaTransport;
  private readonly onSessionChange: KasaCloudClientOptions['onSessionChange'];
  private readonly closing = new AbortController();
  private mfaRound: MfaRound | undefined;
  private refreshFlight: Promise<void> | undefined;
  private state: SessionState | undefined;
  /** Per host: the `requestData` form its V2 passthrough takes, once it showed it wants the JSON text. */
  private readonly requestDataForms = new Map<string, RequestDataForm>();

  constructor(options: KasaCloudClientOptions) {
    this.identity = options.identity ?? KASA_IDENTITY;
    if (options.store.fileName !== this.identity.sessionFile) {
      // One file per identity: a Tapo token in the Kasa file (or the reverse) would be sent to the wrong app's endpoints.
      throw new Error(`the ${this.identity.name} identity keeps its session in ${this.identity.sessionFile}, not ${options.store.fileName}`);
    }
    this.#password = options.password;
    this.username = options.username;
    const cloudUrl = parseBaseUrl(options.cloudUrl);
    if (cloudUrl === undefined) throw new Error(`KASA_CLOUD_URL must be an http(s) URL: ${urlForDisplay(options.cloudUrl)}`);
    this.cloudUrl = cloudUrl.toString();
    this.store = options.store;
    this.timeoutMs = options.requestTimeoutMs;
    this.passthroughTimeoutMs = options.passthroughTimeoutMs ?? options.requestTimeoutMs;
    this.now = options.now ?? Date.now;
    this.log = options.logger.child({ module: 'cloud', app: this.identity.name });
    this.onSessionChange = options.onSessionChange;
    this.transport = new KasaTransport({
      app: this.identity,
      logger: this.log,
      caFile: options.caFile,
      extraCa: options.extraCa,
      onRequest: options.onRequest,
      dispatcher: options.dispatcher,
      trace: options.traceWrite && {
        write: options.traceWrite,
        secrets: () => {
          const s = this.store.loadedUsername === this.username ? this.store.get() : undefined;
          return [this.#password, this.username, s?.token, s?.refreshToken, this.codeInFlight].filter((v): v is string => v !== undefined);
        },
      },
    });
    if (cloudUrl.protocol === 'http:' && !['127.0.0.1', 'localhost', '[::1]'].includes(cloudUrl.hostname)) {
      this.log.warn({ host: urlForDisplay(this.cloudUrl) }, 'KASA_CLOUD_URL is plain http: the password travels unencrypted');
    }
  }

  /** A stored access token exists (it may still turn out expired; requests refresh it). */
  hasSession(): boolean {
    return this.session().token !== undefined;
  }

  /** The open MFA round, if a code was dispatched and not yet accepted. */
  get pendingMfa(): PendingMfa | undefined {
    const r = this.mfaRound;
    return r && { mfaType: r.mfaType, mfaTypes: [...r.mfaTypes], startedAt: r.startedAt };
  }

  /** The persistent terminal UUID (not a secret). */
  get terminalUUID(): string {
    return this.session().terminalUUID;
  }

  /**
   * Password login: region lookup on the global host, login on the regional host with the stored
   * terminal UUID; when the cloud asks for two-step verification a code is dispatched (e-mail, or
   * push when it is the only type offered) and the round stays open for `completeMfa`.
   */
  async login(signal?: AbortSignal, options: LoginOptions = {}): Promise<LoginResult> {
    const linked = this.withClosing(signal);
    try {
      const automatic = options.automatic ?? false;
      if (!automatic) return await this.passwordLogin(linked.signal, false);
      return await this.automaticLogin(linked.signal);
    } finally {
      linked.release();
    }
  }

  /** When the automatic-login cap allows the next password login nobody asked for (ms epoch). */
  get nextAutomaticLoginAt(): number {
    return this.lastAutomaticLogin === undefined ? 0 : this.lastAutomaticLogin + AUTOMATIC_LOGIN_INTERVAL_MS;
  }

  /**
   * Every password login may mail a code, and failures lock the account: one that nobody asked
   * for is refused when another reached the cloud less than AUTOMATIC_LOGIN_INTERVAL_MS ago.
   * One that never got an answer (a transport error) does not count: those keep their backoff.
   */
  private async automaticLogin(signal: AbortSignal): Promise<LoginResult> {
    const now = this.now();
    if (now < this.nextAutomaticLoginAt) {
      throw new KasaUserActionError(
        'the cloud rejected the session again less than 10 minutes after an automatic login; not logging in again by itself (publish to bridge/request/auth/login or restart)',
        'session_revoked',
        { op: 'login' },
      );
    }
    const previous = this.lastAutomaticLogin;
    this.lastAutomaticLogin = now;
    try {
      return await this.passwordLogin(signal, true);
    } catch (err) {
      if (err instanceof KasaNetworkError) this.lastAutomaticLogin = previous;
      throw err;
    }
  }

  /** Sends the code for the open MFA round; on success the session is stored. */
  async completeMfa(code: string, signal?: AbortSignal): Promise<void> {
    const round = this.mfaRound;
    const op = 'checkMFACodeAndLogin';
    if (round === undefined) {
      throw new KasaMfaCodeError('no two-step verification round is open; start a new login', { op, expired: true });
    }
    const clean = code.trim();
    if (clean === '') throw new KasaMfaCodeError('the verification code is empty', { op });
    const body = checkMfaBody(this.username, this.#password, clean, this.terminalUUID, round.dialect, round.mfaType, this.identity);
    const linked = this.withClosing(signal);
    this.codeInFlight = clean;
    try {
      const result = await this.post(round.regionalUrl, accountPath('checkMFACodeAndLogin'), body, op, linked.signal);
      this.acceptLogin(result, round.regionalUrl, op, false);
    } catch (err) {
      if (err instanceof KasaMfaCodeError && err.expired && this.mfaRound === round) this.mfaRound = undefined;
      throw err;
    } finally {
      this.codeInFlight = undefined;
      linked.release();
    }
  }

  /** The account's devices (regional host). */
  async getDeviceList(signal?: AbortSignal): Promise<CloudDevice[]> {
    const result = await this.authed('getDeviceList', METHOD_PATH, () => this.regionalUrl(), deviceListBody(), signal);
    const list = parseDeviceList(result['deviceList'] ?? []);
    if (list === undefined) throw new KasaProtocolError('getDeviceList answered a deviceList that is not an array', { op: 'getDeviceList' });
    return list;
  }

  /**
   * Sends the device's local-protocol request through the cloud, to the device's own app server
   * (the regional host when it has none), and returns the device's parsed reply.
   */
  async passthrough(
    device: PassthroughTarget,
    requestData: Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<Record<string, unknown>> {
    const base = this.deviceBase(device);
    const body = passthroughBody(device.deviceId, requestData);
    const result = await this.authed('passthrough', METHOD_PATH, () => base ?? this.regionalUrl(), body, signal, device.deviceId);
    return readResponseData(result, device.deviceId, 'passthrough');
  }

  /**
   * The account's SMART devices as the Tapo cloud lists them (`getDeviceListByPage`, every page,
   * regional host), entries untouched (aliases stay base64). Tapo identity only.
   */
  async getDeviceListByPage(options: DeviceListByPageOptions = {}, signal?: AbortSignal): Promise<CloudDevice[]> {
    const op = 'getDeviceListByPage';
    this.requireCommonEndpoints(op);
    const types = options.deviceTypes ?? SMART_DEVICE_TYPES;
    const limit = options.pageSize ?? DEVICE_PAGE_SIZE;
    const byId = new Map<string, CloudDevice>();
    let index = 0;
    for (let pages = 0; pages < MAX_DEVICE_PAGES; pages++) {
      const body = deviceListByPageBody(index, limit, types);
      const result = await this.authed(op, commonPath(op), () => this.regionalUrl(), body, signal);
      const page = parseDeviceList(result['deviceList'] ?? []);
      if (page === undefined) throw new KasaProtocolError(`${op} answered a deviceList that is not an array`, { op });
      for (const device of page) byId.set(device.deviceId, device);
      index += page.length;
      const total = parseCode(result['totalNum']);
      // Without totalNum a short page is the last one; an empty page always is.
      if (page.length === 0 || (total !== undefined ? index >= total : page.length < limit)) return [...byId.values()];
    }
    this.log.warn({ op, pages: MAX_DEVICE_PAGES }, 'the paged device list did not end; using the pages read');
    return [...byId.values()];
  }

  /**
   * Sends a SMART request (`{method, params?}` or `multipleRequest`) to the device through the V2
   * passthrough on the regional host and returns the device's answer (`{error_code, result?}`).
   * `requestData` goes as an object first; a host that answers with the JSON text, or refuses the
   * object with the published code, gets the JSON text from then on. Tapo identity only.
   */
  async smartPassthrough(
    device: PassthroughTarget,
    request: Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<Record<string, unknown>> {
    const op = 'smartPassthrough';
    this.requireCommonEndpoints(op);
    const path = commonPath('passthrough');
    const host = this.regionalUrl();
    const form = this.requestDataForms.get(host) ?? 'object';
    let result: Record<string, unknown>;
    try {
      result = await this.authed(op, path, () => this.regionalUrl(), smartPassthroughBody(device.deviceId, request, form), signal, device.deviceId);
    } catch (err) {
      if (form !== 'object' || !(err instanceof KasaProtocolError) || err.code === undefined || !OBJECT_FORM_REFUSALS.has(err.code)) throw err;
      this.log.info({ host: urlForDisplay(host), errorCode: err.code }, 'the V2 passthrough refused requestData as an object; sending it as JSON text');
      result = await this.authed(op, path, () => this.regionalUrl(), smartPassthroughBody(device.deviceId, request, 'string'), signal, device.deviceId);
      this.requestDataForms.set(host, 'string');
      return readResponseData(result, device.deviceId, op);
    }
    if (form === 'object' && typeof result['responseData'] === 'string') {
      this.log.info({ host: urlForDisplay(host) }, 'the V2 passthrough answers responseData as JSON text; sending requestData the same way');
      this.requestDataForms.set(host, 'string');
    }
    return readResponseData(result, device.deviceId, op);
  }

  /**
   * The access token, for a SMART transport that sends it itself (the shadows' `ut|` header).
   * Throws KasaNotAuthenticatedError, or KasaMfaRequiredError while a code is pending.
   */
  accessToken(): string {
    return this.currentToken();
  }

  /**
   * A fresh access token after another service refused `stale`: the same single-flight refresh
   * as a `-20651` (a password login on the trusted terminal when the refresh token is gone,
   * within the automatic-login cap). Answers at once when the token changed since `stale`.
   */
  async refreshAccessToken(stale: string, signal?: AbortSignal): Promise<string> {
    const linked = this.withClosing(signal);
    try {
      await this.refresh(stale, linked.signal);
      return this.currentToken();
    } finally {
      linked.release();
    }
  }

  /** Aborts everything in flight and closes the connection pool. */
  async close(): Promise<void> {
    this.closing.abort(new KasaNetworkError('the cloud client is closing'));
    await this.transport.close();
  }

  // --- login -------------------------------------------------------------------------------

  private async discoverRegion(signal: AbortSignal): Promise<string> {
    const op = 'getAccountStatusAndUrl';
    try {
      const result = await this.post(this.cloudUrl, accountPath(op), accountStatusBody(this.username, this.identity), op, signal);
      const url = this.safeBaseUrl(result['appServerUrl']);
      if (url !== undefined) return url;
      this.log.debug({ op }, 'no usable appServerUrl in the answer; using the global host');
    } catch (err) {
      if (!(err instanceof KasaError) || err instanceof KasaNetworkError || err instanceof KasaRateLimitError) throw err;
      const redirect = err instanceof KasaWrongRegionError ? this.safeBaseUrl(err.appServerUrl) : undefined;
      if (redirect !== undefined) return redirect;
      this.log.debug({ op, errorCode: err.code }, 'region lookup failed; using the global host');
    }
    return this.cloudUrl;
  }

  private async passwordLogin(signal: AbortSignal, automatic: boolean): Promise<LoginResult> {
    const regional = await this.discoverRegion(signal);
    return await this.loginAt(regional, signal, true, automatic);
  }

  private async loginAt(regionalUrl: string, signal: AbortSignal, mayFollow: boolean, automatic: boolean): Promise<LoginResult> {
    const body = loginBody(this.username, this.#password, this.terminalUUID, this.identity);
    try {
      const result = await this.post(regionalUrl, accountPath('login'), body, 'login', signal);
      this.acceptLogin(result, regionalUrl, 'login', automatic);
      return { status: 'authenticated' };
    } catch (err) {
      if (err instanceof KasaWrongRegionError && mayFollow) {
        const next = this.safeBaseUrl(err.appServerUrl);
        if (next !== undefined && next !== regionalUrl) {
          this.log.info({ host: next }, 'account lives in another region; logging in there');
          return await this.loginAt(next, signal, false, automatic);
        }
      }
      if (err instanceof KasaMfaRequiredError) return await this.startMfa(err, regionalUrl, signal, automatic);
      throw err;
    }
  }

  private async startMfa(
    required: KasaMfaRequiredError,
    regionalUrl: string,
    signal: AbortSignal,
    automatic: boolean,
  ): Promise<LoginResult> {
    // Without a process id the round is found by account and terminal (the Kasa-app shape).
    const types = required.mfaTypes;
    const pushOnly = types.length > 0 && types.every((t) => t === MFA_TYPE_PUSH);
    const mfaType = pushOnly ? 'push' : 'email';
    const op = pushOnly ? 'getPushVC4TerminalMFA' : 'getEmailVC4TerminalMFA';
    const body = mfaDispatchBody(this.username, this.#password, this.terminalUUID, required.dialect, this.identity);
    await this.post(regionalUrl, accountPath(op), body, op, signal);
    this.mfaRound = { dialect: required.dialect, mfaType, mfaTypes: types, regionalUrl, startedAt: Date.now() };
    this.log.info(
      { mfaType, mfaTypes: types, processId: required.dialect.process ? 'given' : 'none', typeEncoding: required.dialect.typeEncoding },
      'two-step verification required; code dispatched',
    );
    this.setState('mfa_required', { automatic, mfaType, mfaTypes: types });
    return { status: 'mfa_required', mfaType, mfaTypes: types };
  }

  private acceptLogin(result: Record<string, unknown>, regionalUrl: string, op: string, automatic: boolean): void {
    const token = nonEmpty(result['token']);
    if (token === undefined) throw new KasaProtocolError(`${op} succeeded without a token`, { op });
    this.store.save({ token, refreshToken: nonEmpty(result['refreshToken']), regionalUrl });
    this.mfaRound = undefined;
    this.log.info({ host: regionalUrl }, 'logged in to the cloud');
    this.setState('authenticated', { automatic });
  }

  // --- authenticated requests and refresh ---------------------------------------------------

  private async authed(
    op: string,
    path: string,
    target: () => string,
    body: Record<string, unknown>,
    signal: AbortSignal | undefined,
    deviceId?: string,
  ): Promise<Record<string, unknown>> {
    const linked = this.withClosing(signal);
    const sig = linked.signal;
    try {
      if (this.refreshFlight) await raceSignal(this.refreshFlight, sig);
      const token = this.currentToken();
      try {
        return await this.post(target(), path, body, op, sig, token, deviceId);
      } catch (err) {
        if (!(err instanceof KasaTokenExpiredError)) throw err;
        if (err.revoked) this.log.info({ op, errorCode: err.code }, 'the cloud rejected the access token; refreshing');
        else this.log.debug({ op }, 'access token expired; refreshing');
      }
      await this.refresh(token, sig);
      return await this.post(target(), path, body, op, sig, this.currentToken(), deviceId);
    } finally {
      linked.release();
    }
  }

  /** One refresh for everyone who saw `staleToken` expire; callers only wait on it. */
  private async refresh(staleToken: string, signal: AbortSignal): Promise<void> {
    const current = this.session().token;
    if (this.refreshFlight === undefined) {
      // Refreshed (or logged in again) since this request was sent: retry with the new token.
      if (current !== undefined && current !== staleToken) return;
      // The session was dropped since (a relogin that needs MFA, or that failed): a late -20651
      // must not start another password login, which would mail a new code and void the first.
      if (current === undefined) this.currentToken();
    }
    this.refreshFlight ??= this.runRefresh().finally(() => {
      this.refreshFlight = undefined;
    });
    await raceSignal(this.refreshFlight, signal);
  }

  /**
   * Refresh the access token; when there is no refresh token, or the refresh fails with anything
   * but a transient error, one password login on the trusted terminal (within the cap).
   */
  private async runRefresh(): Promise<void> {
    const signal = this.closing.signal;
    const s = this.session();
    if (s.refreshToken !== undefined) {
      const op = 'refreshToken';
      try {
        const result = await this.post(this.regionalUrl(), accountPath(op), refreshTokenBody(s.refreshToken, s.terminalUUID, this.identity), op, signal);
        const token = nonEmpty(result['token']);
        if (token === undefined) throw new KasaProtocolError('refreshToken answered success without a token', { op });
        this.store.save({ token, refreshToken: nonEmpty(result['refreshToken']) ?? s.refreshToken });
        this.log.debug({ op }, 'access token refreshed');
        this.setState('authenticated', { automatic: true });
        return;
      } catch (err) {
        if (!(err instanceof KasaError) || TRANSIENT_ACTIONS.has(err.action)) throw err;
        this.log.info({ errorCode: err.code, error: err.name }, 'token refresh refused; logging in again with the password and the same terminal');
      }
    } else {
      this.log.info('no refresh token; logging in again with the password and the same terminal');
    }
    this.store.clearTokens();
    let result: LoginResult;
    try {
      result = await this.automaticLogin(signal);
    } catch (err) {
      if (err instanceof KasaError) this.setState('lost', { automatic: true, error: err });
      throw err;
    }
    if (result.status === 'mfa_required') {
      const err = new KasaMfaRequiredError('the session expired and the new login needs two-step verification; a code was sent', {
        op: 'login',
        mfaTypes: result.mfaTypes,
      });
      err.mfaType = result.mfaType;
      throw err;
    }
  }

  private currentToken(): string {
    const token = this.session().token;
    if (token !== undefined) return token;
    const round = this.mfaRound;
    if (round !== undefined) {
      const err = new KasaMfaRequiredError('two-step verification is pending; submit the code first', { mfaTypes: round.mfaTypes });
      err.mfaType = round.mfaType;
      throw err;
    }
    throw new KasaNotAuthenticatedError('no cloud session; log in first');
  }

  // --- helpers -------------------------------------------------------------------------------

  private post(
    baseUrl: string,
    path: string,
    body: Record<string, unknown>,
    op: string,
    signal: AbortSignal,
    token?: string,
    deviceId?: string,
  ): Promise<Record<string, unknown>> {
    return this.transport.post(baseUrl, path, body, {
      op,
      terminalUUID: this.terminalUUID,
      token,
      deviceId,
      signal,
      timeoutMs: op === 'passthrough' || op === 'smartPassthrough' ? this.passthroughTimeoutMs : this.timeoutMs,
    });
  }

  /** The Tapo-only endpoints check the signature with the Tapo secret alone: another identity never sends them a request. */
  private requireCommonEndpoints(op: string): void {
    if (this.identity.commonEndpoints) return;
    throw new KasaProtocolError(`${op} is a Tapo-app endpoint; the ${this.identity.name} identity cannot call it (client bug)`, { op });
  }

  private session(): StoredSession {
    if (this.store.loadedUsername !== this.username) this.store.load(this.username);
    return this.store.get();
  }

  private regionalUrl(): string {
    return this.safeBaseUrl(this.session().regionalUrl) ?? this.cloudUrl;
  }

  private deviceBase(device: PassthroughTarget): string | undefined {
    if (device.appServerUrl === undefined) return undefined;
    const base = this.safeBaseUrl(device.appServerUrl);
    if (base === undefined) {
      this.log.warn({ deviceId: device.deviceId }, 'device appServerUrl unusable; using the regional host');
    }
    return base;
  }

  /** A cloud-supplied base URL: http(s) only, and never a downgrade from https to http. */
  private safeBaseUrl(value: unknown): string | undefined {
    const url = parseBaseUrl(value);
    if (url === undefined) return undefined;
    if (url.protocol === 'http:' && this.cloudUrl.startsWith('https:')) {
      this.log.warn({ host: url.origin }, 'refusing a plain-http host from an https cloud');
      return undefined;
    }
    return url.toString();
  }

  private withClosing(signal: AbortSignal | undefined): LinkedSignal {
    return linkSignals(signal, this.closing.signal);
  }

  private setState(state: SessionState, detail: SessionChangeDetail): void {
    if (state === this.state && state !== 'mfa_required') return;
    this.state = state;
    try {
      this.onSessionChange?.(state, detail);
    } catch (err) {
      this.log.warn({ err }, 'onSessionChange handler threw');
    }
  }
}

/** The device's answer in `result.responseData`: an object, or its JSON text. */
function readResponseData(result: Record<string, unknown>, deviceId: string, op: string): Record<string, unknown> {
  const data = result['responseData'];
  if (isRecord(data)) return data;
  if (typeof data === 'string') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch (err) {
      throw new KasaProtocolError(`device ${deviceId} answered responseData that is not JSON`, { op, cause: err });
    }
    if (isRecord(parsed)) return parsed;
  }
  throw new KasaProtocolError(`${op} for device ${deviceId} answered without a responseData object`, { op });
}
