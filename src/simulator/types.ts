/**
 * The simulator's public surface: what tests, the benchmark and the demo use to drive a fake
 * Kasa cloud over real sockets. Implementation lives beside this file; this is the contract.
 */

/**
 * Which published shape of the MFA-required answer the simulator speaks (docs/protocol.md, "MFA"):
 * - `tapo`: `-20677` with `MFAProcessId` and `supportedMFATypes: [1, 2]` (the live Tapo/Deco clients);
 * - `kasa`: `-20677` with only `mfaType: "verifyCodeLogin"` and no process id (the Kasa-app clients);
 * - `nested`: `error_code 0` and `result {errorCode: "-20677", MFAProcessId, supportedMFATypes}`;
 * - `wiki`: `-20677` with `mfaProcessId` and the account's types as names, `supportedMFATypes: ["push", "email"]` (the decompiled-app notes).
 */
export type MfaDialect = 'tapo' | 'kasa' | 'nested' | 'wiki';

export const MFA_DIALECTS: readonly MfaDialect[] = ['tapo', 'kasa', 'nested', 'wiki'];

/** `smart`: a device on the SMART (Tapo) protocol, Tapo-branded or a Kasa remodel (KS205, KP125M, EP25 hw 2.6…). */
export type DeviceFamily = 'plug' | 'switch' | 'dimmer' | 'strip' | 'bulb' | 'lightstrip' | 'smart';

/** The two cloud paths to a SMART device: the Tapo V2 passthrough and the app server's thing shadows. */
export type SmartTransport = 'passthrough' | 'shadows';

/** Which SMART transports the simulated cloud grants (docs/protocol.md, "Simulator"). */
export type SmartGrant = 'none' | 'passthrough' | 'shadows' | 'both';

export const SMART_GRANTS: readonly SmartGrant[] = ['none', 'passthrough', 'shadows', 'both'];

/** Which generation of emeter field names a metered plug answers with. */
export type MeterGeneration = 'old' | 'new';

export interface SimDeviceSpec {
  /** 40 upper-case hex chars; generated when absent. */
  deviceId?: string;
  /** With region, e.g. `HS110(US)`, `KL430(US)`, `P100` (Tapo), `KP125M(US)`. */
  model: string;
  /** Hardware version; picks the revision where a model changed protocol (`EP25(US)` + `2.6` is SMART). */
  hwVer?: string;
  alias: string;
  /** Cloud online flag (`status` 1/0 in the device list; offline answers -20571). */
  online?: boolean;
  /** Meter generation for metered plugs (HS110 v1 = old, KP115/KP125/HS300 = new). */
  meter?: MeterGeneration;
  /** Number of outlets for strips (default by model: HS300 6, KP303 3, KP200/KP400/HS107 2, EP40 2). */
  outlets?: number;
  /** Which device host serves this device: 0 = the first device host (default), 1 = the "other region" host. */
  host?: 0 | 1;
  /** Extra latency for this device's passthrough answers, ms. */
  latencyMs?: number;
  /** The device's time zone as its offset from UTC, minutes (default 0): drives its clock and energy calendar. */
  utcOffsetMinutes?: number;
  /** A firmware the cloud offers the device (its `get_intl_fw_list`); none by default: up to date. */
  availableFirmware?: SimFirmware;
}

/** A firmware offered in a device's `fw_list`; the simulator fills the entry's other fields. */
export interface SimFirmware {
  /** `fwVer`, e.g. `1.0.12 Build 240227 Rel.160022`. */
  version: string;
  /** `fwTitle`: the cloud's notice. */
  title?: string;
  /** `fwReleaseLog`. */
  releaseNotes?: string;
  /** `fwReleaseDate`, `YYYY-MM-DD`. */
  releaseDate?: string;
}

export interface SimAccountSpec {
  username: string;
  password: string;
  mfa?: boolean;
  /** Fixed MFA code (the demo prints it); random 6 digits per dispatch otherwise. */
  mfaCode?: string;
  /** Supported MFA types answered at login; default [1, 2] (push, e-mail). [1] = push only. */
  mfaTypes?: number[];
  devices?: SimDeviceSpec[];
}

export interface SimulatorOptions {
  host?: string; // default 127.0.0.1
  /** Serve HTTPS with this key/cert (PEM); plain HTTP otherwise. */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Strict mode (default true): the docs/protocol.md "Simulator" checks, including Content-MD5 presence, strict query, terminal match, device host. */
  strict?: boolean;
  accounts?: SimAccountSpec[];
  accessTokenTtlMs?: number; // default 24 h
  refreshTokenTtlMs?: number; // default 30 days
  /** Requests per minute per account above which -20004 is answered; default Infinity. */
  rateLimitPerMinute?: number;
  /** Wrong passwords before the account locks (-20675); default 5. */
  maxPasswordFailures?: number;
  /** Wrong MFA codes per MFA process before it is invalidated; default 5. */
  maxMfaFailures?: number;
  /** MFA code validity, ms; default 10 min. */
  mfaCodeTtlMs?: number;
  /** Port of the global listener (`url`); default 0 = a free port. */
  port?: number;
  /** Ports of the other listeners; default 0 = a free port each. */
  ports?: { regional?: number; device0?: number; device1?: number; appServer?: number };
  /** Host name put into the URLs the simulator hands out; default `host`, or 127.0.0.1 for a wildcard host. */
  advertisedHost?: string;
  /** How long a lock after maxPasswordFailures lasts, ms; default 30 min. */
  lockDurationMs?: number;
  /** Issue a new refresh token on every refresh (the old one stops working); default false. */
  rotateRefreshTokens?: boolean;
  /** Time source for expiry, lockout, rate windows and meters; default Date.now. */
  clock?: () => number;
  /** How long a device is unreachable (-20571) after `reboot`, ms; default 5 s. */
  rebootMs?: number;
  /** Codes for the outcomes docs/protocol.md leaves open ("Simulator", "cfg"). */
  errorCodes?: Partial<SimErrorCodes>;
  /** The MFA answer shape; default `tapo`. Can be changed at run time (`Simulator.mfaDialect`). */
  mfaDialect?: MfaDialect;
  /** Which transports reach SMART devices; default `both`. Can be changed at run time (`Simulator.smartTransports`). */
  smartTransports?: SmartGrant;
}

/** Error codes that no capture pins down; each has a default in `src/simulator/errors.ts`. */
export interface SimErrorCodes {
  /** Bad/missing X-Authorization, unknown AccessKey, Content-MD5 mismatch, bad signature. Default -20571. */
  signature: number;
  /** Body is not a JSON object. Default -20104. */
  malformedBody: number;
  /** appName wrong or appVer missing in the query. Default -23003. */
  appIdentity: number;
  /** Body appType present but not Kasa_Android_Mix. Default -23003 (missing appType is -20104). */
  wrongAppType: number;
  /** Method endpoint called without a `token` query parameter. Default -20104. */
  missingToken: number;
  /** Passthrough for a deviceId the account does not own. Default -20571. */
  deviceNotOwned: number;
  /** Passthrough sent to a host other than the device's appServerUrl (strict). Default -20571. */
  wrongDeviceHost: number;
  /** requestData not a string holding a JSON object. Default -20104. */
  badRequestData: number;
  /** checkMFACodeAndLogin with a wrong (or never dispatched, or expired) code; carries remainAttempts. Default -20601. */
  mfaWrongCode: number;
  /** MFA call naming no live MFA process for that user and terminal. Default -20104. */
  mfaNoProcess: number;
  /** The "Access denied request in blackList" answer. Default -20005. */
  blackList: number;
}

/** One request as the simulator saw it, for tests to assert what reached the cloud. */
export interface SimRequestLogEntry {
  at: number; // Date.now()
  /** Which listener it arrived on. */
  host: 'global' | 'regional' | 'device0' | 'device1' | 'appServer';
  path: string;
  /**
   * Account endpoint name (`login`, `refreshToken`…), method (`getDeviceList`, `passthrough`),
   * Tapo-only endpoint (`common/getDeviceListByPage`, `common/passthrough`) or app-server call
   * (`server-info`, `shadows`, `shadows/update`).
   */
  op: string;
  username?: string;
  deviceId?: string;
  /** Parsed requestData for passthrough. */
  requestData?: unknown;
  /** The error_code answered (0 on success; nested-form MFA answers log -20677). HTTP-level faults log the status as a negative number, e.g. -500. */
  errorCode: number;
  durationMs: number;
}

export interface SimFaults {
  /** Answer HTTP 500 to the next N requests (Infinity = until cleared). */
  http500: number;
  /** Delay every answer by this many ms. */
  delayMs: number;
  /** Answer MFA-required nested in result.errorCode (string or int) with error_code 0. */
  nestedMfa: false | 'string' | 'int';
  /** Answer passthrough responseData as an object instead of a string. */
  responseDataAsObject: boolean;
  /** Answer -20004 to everything until cleared. */
  throttle: boolean;
  /** Answer "Access denied request in blackList" to everything until cleared. */
  blackList: boolean;
  /** Answer the device list as empty (the cloud's quirk). */
  emptyDeviceList: boolean;
  /** Hold every passthrough this long before answering, ms (the cloud waking a slow device). */
  holdPassthroughMs: number;
  /** Answer logins with an error code no source knows (-29999), as a cloud that changed would. */
  unknownLoginAnswer: boolean;
  /** The Kasa device list shows SMART devices with `status: 0` although they are online (the research notes' source U1). */
  smartListedOffline: boolean;
  /** Tapo-identity logins ask for MFA (even on an account without it) until a Tapo MFA round trusts the terminal. */
  tapoMfa: boolean;
}

export interface SimDeviceHandle {
  readonly deviceId: string;
  readonly family: DeviceFamily;
  readonly model: string;
  alias: string;
  online: boolean;
  /** Which device host serves it: its appServerUrl is `deviceUrls[host]`. */
  readonly host: 0 | 1;
  /** Extra latency for this device's passthrough answers, ms; may be changed at run time. */
  latencyMs: number;
  /** The device's offset from UTC, minutes; may be changed at run time (a trip across zones). */
  utcOffsetMinutes: number;
  /** The firmware the cloud offers it, or undefined (up to date); may be changed at run time. */
  availableFirmware: SimFirmware | undefined;
  /** Online and not rebooting: passthrough reaches it. */
  readonly reachable: boolean;
  /** The device's own sysinfo as `get_sysinfo` would answer now (children included for strips). */
  sysinfo(): Record<string, unknown>;
  /**
   * SMART devices: stop (false) or resume (true) answering on one transport. Requests held while
   * it is silent are answered when it resumes (or dropped when the simulator stops).
   */
  setAnswering?(transport: SmartTransport, answering: boolean): void;
  /** Change state as if someone pressed the button / used the Kasa app. Keys per family:
   *  plug/switch: {on}; dimmer: {on, brightness}; bulb/lightstrip: {on, brightness, hue, saturation, color_temp};
   *  strip: {outlet: index, on}. Meter: {power_w, voltage_v, current_a, total_kwh}. Plug family: {led}.
   *  smart: {on, alias, brightness, hue, saturation, color_temp, power_w, voltage_v}; P300 {outlet: index, on, alias}. */
  setState(patch: Record<string, unknown>): void;
}

export interface Simulator {
  /** The global entry URL (KASA_CLOUD_URL). */
  readonly url: string;
  /** The regional app server URL (answered by getAccountStatusAndUrl); a different port. */
  readonly regionalUrl: string;
  /** Device host URLs (appServerUrl of devices); different ports again. */
  readonly deviceUrls: readonly [string, string];
  /** The app server (thing shadows, `KASA_APP_SERVER_URL`): GET/PATCH, `ut|` tokens, no signing. */
  readonly appServerUrl: string;
  /** Which transports reach SMART devices from now on. */
  smartTransports: SmartGrant;
  readonly faults: SimFaults;
  readonly requests: SimRequestLogEntry[];
  /** Requests received and not yet answered (the log records a request when it is answered). */
  readonly inFlight: number;

  addAccount(spec: SimAccountSpec): void;
  addDevice(username: string, spec: SimDeviceSpec): SimDeviceHandle;
  removeDevice(deviceId: string): void;
  device(deviceId: string): SimDeviceHandle;
  devices(username: string): SimDeviceHandle[];

  setMfa(username: string, enabled: boolean): void;
  /** The last code dispatched (e-mailed) for this account, or undefined if none was requested. */
  lastMfaCode(username: string): string | undefined;
  /** Forget trusted terminals (as "remove trusted device" in the app). */
  untrustTerminals(username: string): void;
  /** Unlock a locked account and reset failure counters. */
  unlock(username: string): void;

  /** The MFA answer shape spoken from now on. */
  mfaDialect: MfaDialect;

  expireAccessTokens(): void;
  expireRefreshTokens(): void;
  /**
   * Revoke every access token issued so far (as a password change or "log out everywhere"):
   * token-bearing calls answer -20675; with `refresh`, refresh tokens answer -20675 too.
   */
  revokeTokens(options?: { refresh?: boolean }): void;

  /** Count requests matching a filter (op, host, deviceId…). */
  count(filter?: Partial<Pick<SimRequestLogEntry, 'op' | 'host' | 'deviceId' | 'username' | 'errorCode'>>): number;
  clearRequests(): void;
  resetFaults(): void;

  stop(): Promise<void>;
}
