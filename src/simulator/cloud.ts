import { AccountStore, type Account } from './accounts.js';
import { createDevice, type SimDevice } from './devices/index.js';
import { CloudError, DEFAULT_ERROR_CODES, fail, Msg } from './errors.js';
import { defaultFaults } from './faults.js';
import { RateLimiter } from './rateLimit.js';
import { RequestLog } from './requestLog.js';
import { TokenStore, type AccessToken } from './tokens.js';
import { identityOf, KASA_APP_TYPE, type AppIdentity } from './identity.js';
import type { MfaDialect, SimAccountSpec, SimDeviceSpec, SimErrorCodes, SimFaults, SimRequestLogEntry, SimulatorOptions, SmartGrant, SmartTransport } from './types.js';
import { isRecord } from '../isRecord.js';
import type { JsonObject } from './util.js';

export type HostRole = SimRequestLogEntry['host'];

export { KASA_APP_TYPE };

export interface CloudUrls {
  global: string;
  regional: string;
  device0: string;
  device1: string;
  appServer: string;
}

/** What a handler learns about a request, for the request log. */
export interface LogFields {
  op: string;
  username?: string;
  deviceId?: string;
  requestData?: unknown;
}

/** A request that passed the transport, signature and query checks (docs/protocol.md, "Simulator", steps 1–7). */
export interface ApiRequest {
  role: HostRole;
  /** The app identity the query's `appName` names. */
  app: AppIdentity;
  query: URLSearchParams;
  body: JsonObject;
  log: LogFields;
}

/** What a handler answers; `logCode` differs from `envelope.error_code` for nested MFA answers. */
export interface Answer {
  envelope: JsonObject;
  logCode?: number;
}

export function ok(result?: JsonObject): Answer {
  return { envelope: result === undefined ? { error_code: 0 } : { error_code: 0, result } };
}

/** The simulated cloud's state, shared by every listener. */
export class Cloud {
  /** Requests received and not yet answered (tests wait on this to act while one is in flight). */
  inFlight = 0;
  readonly strict: boolean;
  readonly codes: SimErrorCodes;
  readonly now: () => number;
  /** How long a device is unreachable after `reboot`, ms. */
  readonly rebootMs: number;
  readonly faults: SimFaults = defaultFaults();
  readonly log = new RequestLog();
  readonly accounts: AccountStore;
  readonly tokens: TokenStore;
  readonly rateLimiter: RateLimiter;
  readonly rotateRefreshTokens: boolean;
  mfaDialect: MfaDialect;
  smartTransports: SmartGrant;
  urls: CloudUrls = { global: '', regional: '', device0: '', device1: '', appServer: '' };
  /** Resolves at stop: requests held by a silent device give up then. */
  readonly stopped: Promise<void>;
  readonly markStopped: () => void;
  /** Pending latency/delay timers, cleared on stop. */
  readonly timers = new Set<NodeJS.Timeout>();
  private readonly devicesById = new Map<string, { device: SimDevice; owner: string }>();

  constructor(options: SimulatorOptions) {
    this.strict = options.strict ?? true;
    this.rebootMs = options.rebootMs ?? 5_000;
    this.codes = { ...DEFAULT_ERROR_CODES, ...options.errorCodes };
    this.now = options.clock ?? Date.now;
    this.rotateRefreshTokens = options.rotateRefreshTokens ?? false;
    this.mfaDialect = options.mfaDialect ?? 'tapo';
    this.smartTransports = options.smartTransports ?? 'both';
    let markStopped = (): void => {};
    this.stopped = new Promise((resolve) => {
      markStopped = resolve;
    });
    this.markStopped = markStopped;
    this.accounts = new AccountStore({
      maxPasswordFailures: options.maxPasswordFailures ?? 5,
      maxMfaFailures: options.maxMfaFailures ?? 5,
      mfaCodeTtlMs: options.mfaCodeTtlMs ?? 10 * 60_000,
      lockDurationMs: options.lockDurationMs ?? 30 * 60_000,
      now: this.now,
    });
    this.tokens = new TokenStore(
      options.accessTokenTtlMs ?? 24 * 3_600_000,
      options.refreshTokenTtlMs ?? 30 * 24 * 3_600_000,
      this.now,
    );
    this.rateLimiter = new RateLimiter(options.rateLimitPerMinute ?? Number.POSITIVE_INFINITY, this.now);
  }

  addAccount(spec: SimAccountSpec): void {
    this.accounts.add(spec);
    for (const device of spec.devices ?? []) this.addDevice(spec.username, device);
  }

  addDevice(username: string, spec: SimDeviceSpec): SimDevice {
    const owner = this.accounts.get(username).username;
    const device = createDevice(spec, { now: this.now, owner, rebootMs: this.rebootMs });
    if (this.devicesById.has(device.deviceId)) throw new Error(`device ${device.deviceId} already exists`);
    this.devicesById.set(device.deviceId, { device, owner });
    return device;
  }

  removeDevice(deviceId: string): void {
    if (!this.devicesById.delete(deviceId)) throw new Error(`no simulated device ${deviceId}`);
  }

  device(deviceId: string): SimDevice {
    const entry = this.devicesById.get(deviceId);
    if (!entry) throw new Error(`no simulated device ${deviceId}`);
    return entry.device;
  }

  /** The device if this account owns it. */
  ownedDevice(username: string, deviceId: string): SimDevice | undefined {
    const entry = this.devicesById.get(deviceId);
    return entry && entry.owner.toLowerCase() === username.toLowerCase() ? entry.device : undefined;
  }

  devices(username: string): SimDevice[] {
    const owner = username.toLowerCase();
    return [...this.devicesById.values()].filter((e) => e.owner.toLowerCase() === owner).map((e) => e.device);
  }

  deviceUrl(device: SimDevice): string {
    return device.host === 1 ? this.urls.device1 : this.urls.device0;
  }

  roleOfDevice(device: SimDevice): HostRole {
    return device.host === 1 ? 'device1' : 'device0';
  }

  /** Whether the grant switch lets `transport` reach SMART devices now. */
  grants(transport: SmartTransport): boolean {
    return this.smartTransports === 'both' || this.smartTransports === transport;
  }

  /** -20004 once an account goes over its per-minute budget (docs/protocol.md, "Error codes"). */
  throttle(username: string): void {
    if (this.rateLimiter.exceeded(username.toLowerCase())) fail(CloudError.rateLimited, Msg.rateLimited);
  }

  /** The account a `token` query parameter belongs to (docs/protocol.md, "Simulator", step 12). */
  authenticate(query: URLSearchParams, app?: AppIdentity): { account: Account; token: string; session: AccessToken } {
    const token = query.get('token');
    if (token === null || token === '') fail(this.codes.missingToken, Msg.parameter);
    const check = this.tokens.checkAccess(token);
    if (!check.ok) fail(check.revoked ? CloudError.tokenInvalid : CloudError.tokenExpired, check.revoked ? Msg.tokenInvalid : Msg.tokenExpired);
    // Tapo-only endpoints know only Tapo sessions: a Kasa token is as unknown there as an expired one.
    if (app !== undefined && check.token.app !== app) fail(CloudError.tokenExpired, Msg.tokenExpired);
    const account = this.accounts.find(check.token.username);
    if (!account) fail(CloudError.tokenExpired, Msg.tokenExpired);
    return { account, token, session: check.token };
  }

  /** Strict mode: account and list calls belong on the regional host; elsewhere -20212 names it. */
  requireHost(role: HostRole, allowed: readonly HostRole[]): void {
    if (!this.strict || allowed.includes(role)) return;
    fail(CloudError.wrongServiceEntry, Msg.wrongServiceEntry, { appServerUrl: this.urls.regional });
  }
}

/** A non-empty string body field, else -20104. */
export function requireString(body: JsonObject, name: string): string {
  const value = body[name];
  if (typeof value !== 'string' || value === '') fail(CloudError.parameterMissing, Msg.parameter);
  return value;
}

export function optionalString(body: JsonObject, name: string): string | undefined {
  const value = body[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * Account bodies must name the app the query names (docs/protocol.md, "Simulator", step 8):
 * missing → -20104, another app or an unknown one → cfg.
 */
export function requireAppType(cloud: Cloud, req: ApiRequest, body: JsonObject, required = true): void {
  const appType = body.appType;
  if (appType === undefined && !required) return;
  if (appType === undefined || appType === null || appType === '') fail(CloudError.parameterMissing, Msg.parameter);
  if (typeof appType !== 'string' || identityOf(appType) !== req.app) fail(cloud.codes.wrongAppType, Msg.appTooOld);
}

/** Strict: a terminalUUID in the body must equal the query's termID. */
export function requireSameTerminal(cloud: Cloud, req: ApiRequest, terminalUUID: string): void {
  if (cloud.strict && terminalUUID !== req.query.get('termID')) fail(CloudError.parameterMissing, Msg.parameter);
}

export function paramsObject(body: JsonObject): JsonObject {
  const params = body.params;
  if (params === undefined) return {};
  if (!isRecord(params)) fail(CloudError.parameterMissing, Msg.parameter);
  return params;
}
