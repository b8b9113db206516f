/**
 * Typed errors for the Kasa cloud client: the one place where a cloud answer gets its meaning.
 * Each error carries the cloud code (when there is one) and what to do about it (`action`); the
 * scheduler's failure classes and the public command error codes are both read from `action`
 * through the tables at the end of this file. Messages never contain a password, token, refresh
 * token or MFA code: they are built only from the operation name, the host, the cloud code and
 * the cloud's own `msg` text. Evidence for each code: docs/protocol.md, "Error codes".
 */

export type KasaErrorAction =
  | 'retry' // transient: network failure or timeout; retry later
  | 'pause' // the cloud is failing (HTTP 5xx): pause background traffic, retry later
  | 'back_off' // throttled (-20004): pause background traffic with a growing backoff
  | 'stop' // blacklisted: stop and back off for a long time
  | 'refresh' // the access token expired or was revoked: refresh it, retry once
  | 'relogin' // no usable refresh: one password login on the trusted terminal
  | 'mfa' // two-step verification needed / code problem
  | 'ask_user' // credentials, lock, unknown account, app refused, automatic-login cap: a human must act
  | 'device_offline' // the device is not connected to the cloud
  | 'unsupported' // this way to the device does not carry it (a SMART transport): use another one, try this one again later
  | 'report'; // an answer the client does not understand, or a client bug: report it, never loop

export interface KasaErrorOptions {
  code?: number | undefined;
  /** Operation that failed (`login`, `passthrough`…), for messages and metrics. */
  op?: string | undefined;
  cause?: unknown;
}

export class KasaError extends Error {
  readonly action: KasaErrorAction;
  readonly code?: number;
  readonly op?: string;

  constructor(message: string, action: KasaErrorAction, options: KasaErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.action = action;
    if (options.code !== undefined) this.code = options.code;
    if (options.op !== undefined) this.op = options.op;
  }
}

/** Network failure, timeout, HTTP status other than 200, or a body that is not a JSON envelope. */
export class KasaNetworkError extends KasaError {
  readonly timeout: boolean;
  readonly status?: number;

  constructor(message: string, options: KasaErrorOptions & { timeout?: boolean; status?: number } = {}) {
    super(message, options.status !== undefined && options.status >= 500 && options.status <= 599 ? 'pause' : 'retry', options);
    this.timeout = options.timeout ?? false;
    if (options.status !== undefined) this.status = options.status;
  }
}

/** `-20004` "API rate limit exceeded", or "Access denied request in blackList" (`blacklisted`). */
export class KasaRateLimitError extends KasaError {
  readonly blacklisted: boolean;

  constructor(message: string, options: KasaErrorOptions & { blacklisted?: boolean } = {}) {
    super(message, options.blacklisted === true ? 'stop' : 'back_off', options);
    this.blacklisted = options.blacklisted ?? false;
  }
}

/**
 * `-20651`, or on a token-bearing call `-20675` or an answer saying the token is invalid
 * (`revoked`): refresh the token and retry once.
 */
export class KasaTokenExpiredError extends KasaError {
  readonly revoked: boolean;

  constructor(message: string, options: KasaErrorOptions & { revoked?: boolean } = {}) {
    super(message, 'refresh', options);
    this.revoked = options.revoked ?? false;
  }
}

/** `-20655`: the refresh token expired; log in again with the password (same terminal UUID). */
export class KasaRefreshExpiredError extends KasaError {
  constructor(message: string, options: KasaErrorOptions = {}) {
    super(message, 'relogin', options);
  }
}

/** No usable session: nothing stored, or the stored one was dropped. Call `login()`. */
export class KasaNotAuthenticatedError extends KasaError {
  constructor(message: string, options: KasaErrorOptions = {}) {
    super(message, 'relogin', options);
  }
}

/** How the cloud spelled its MFA answer; the verification echoes the same spelling. */
export interface MfaDialect {
  /** The process id and the key it came under; absent when the cloud gave none. */
  process?: { key: 'MFAProcessId' | 'mfaProcessId'; id: string };
  /** How the offered types were written: a list of ints, a list of strings, a bare `mfaType`, or not at all. */
  typeEncoding: 'int' | 'string' | 'bare' | 'none';
}

/** `-20677`: two-step verification needed (the client dispatches the code and keeps the process). */
export class KasaMfaRequiredError extends KasaError {
  /** Supported MFA types as the cloud lists them, normalised to ints: 1 = push, 2 = e-mail. */
  readonly mfaTypes: number[];
  /** The process id and spellings; not secret, but never put in messages. */
  readonly dialect: MfaDialect;
  /** The type a code was dispatched with, when the client already dispatched one. */
  mfaType?: 'email' | 'push';

  constructor(message: string, options: KasaErrorOptions & { mfaTypes?: number[]; dialect?: MfaDialect } = {}) {
    super(message, 'mfa', options);
    this.mfaTypes = options.mfaTypes ?? [];
    this.dialect = options.dialect ?? { typeEncoding: 'none' };
  }

  get processId(): string | undefined {
    return this.dialect.process?.id;
  }
}

/** The MFA code was wrong (`attemptsLeft` when the cloud says), or the round/process is gone (`expired`). */
export class KasaMfaCodeError extends KasaError {
  readonly attemptsLeft?: number;
  /** The MFA process is no longer open: a new `login()` round is needed. */
  readonly expired: boolean;

  constructor(message: string, options: KasaErrorOptions & { attemptsLeft?: number | undefined; expired?: boolean } = {}) {
    super(message, 'mfa', options);
    if (options.attemptsLeft !== undefined) this.attemptsLeft = options.attemptsLeft;
    this.expired = options.expired ?? false;
  }
}

/** `session_revoked`: the cloud kept rejecting the session and the automatic-login cap was reached. */
export type KasaUserActionReason = 'credentials_invalid' | 'account_locked' | 'account_not_found' | 'app_rejected' | 'session_revoked';

/** A human must act: wrong credentials (-20601), locked (-20675), unknown account (-20600), app refused (-23003). */
export class KasaUserActionError extends KasaError {
  readonly reason: KasaUserActionReason;
  readonly attemptsLeft?: number;
  readonly lockedMinutes?: number;

  constructor(
    message: string,
    reason: KasaUserActionReason,
    options: KasaErrorOptions & { attemptsLeft?: number | undefined; lockedMinutes?: number | undefined } = {},
  ) {
    super(message, 'ask_user', options);
    this.reason = reason;
    if (options.attemptsLeft !== undefined) this.attemptsLeft = options.attemptsLeft;
    if (options.lockedMinutes !== undefined) this.lockedMinutes = options.lockedMinutes;
  }
}

/** `-20571`: the device is not connected to the cloud. */
export class KasaDeviceOfflineError extends KasaError {
  readonly deviceId?: string;

  constructor(message: string, options: KasaErrorOptions & { deviceId?: string | undefined } = {}) {
    super(message, 'device_offline', options);
    if (options.deviceId !== undefined) this.deviceId = options.deviceId;
  }
}

/** `-20212`: the account lives in another region; `appServerUrl` names the right host. */
export class KasaWrongRegionError extends KasaError {
  readonly appServerUrl?: string;

  constructor(message: string, options: KasaErrorOptions & { appServerUrl?: string | undefined } = {}) {
    super(message, 'retry', options);
    if (options.appServerUrl !== undefined) this.appServerUrl = options.appServerUrl;
  }
}

/**
 * A SMART transport does not carry this device (docs/protocol.md, "SMART transports"): the app
 * server has no shadow for it, refuses it, or refuses every token we have. The transport choice
 * skips that transport for the device for a while.
 */
export class KasaTransportUnsupportedError extends KasaError {
  readonly deviceId?: string;

  constructor(message: string, options: KasaErrorOptions & { deviceId?: string | undefined } = {}) {
    super(message, 'unsupported', options);
    if (options.deviceId !== undefined) this.deviceId = options.deviceId;
  }
}

/** The app server's `11000`: the shadow changed again between our re-read and our write; try later. */
export class KasaShadowVersionError extends KasaError {
  /** The version the app server holds now, when it said. */
  readonly currentVersion?: number;

  constructor(message: string, options: KasaErrorOptions & { currentVersion?: number | undefined } = {}) {
    super(message, 'retry', options);
    if (options.currentVersion !== undefined) this.currentVersion = options.currentVersion;
  }
}

/**
 * An answer the client does not understand (an unknown code, a success without the field it
 * needs), or one saying the client sent something malformed (-20104, -20103, -20573). Never
 * retried in a loop; the message says what was missing, for a bug report.
 */
export class KasaProtocolError extends KasaError {
  constructor(message: string, options: KasaErrorOptions = {}) {
    super(message, 'report', options);
  }
}

// ---------------------------------------------------------------------------------------------
// Classification: one table from cloud code to error.

/** Where the error happened; changes the meaning of a few codes (e.g. -20601 on an MFA check). */
export interface CloudErrorContext {
  op?: string | undefined;
  host?: string | undefined;
  deviceId?: string | undefined;
  /** The request carried an access token: -20675 and "token invalid" then mean a revoked token. */
  authed?: boolean | undefined;
}

/** "Signature dose not match": the Tapo-only endpoints' answer to a bad signature or a Kasa-keyed request. */
export const SIGNATURE_MISMATCH_CODE = -10301;

/** The code that asks for two-step verification, at the top level or nested in `result.errorCode`. */
export const MFA_REQUIRED_CODE = -20677;

export const MFA_CHECK_OPS: ReadonlySet<string> = new Set(['checkMFACodeAndLogin']);

type Builder = (text: string, o: KasaErrorOptions, extra: Extra) => KasaError;

interface Extra {
  result: Record<string, unknown> | undefined;
  ctx: CloudErrorContext;
  msg: string | undefined;
}

export const CLOUD_ERROR_TABLE: ReadonlyMap<number, Builder> = new Map<number, Builder>([
  [-20004, (t, o, x) => new KasaRateLimitError(`${t}: rate limited by the cloud, back off`, { ...o, blacklisted: isBlackList(x.msg) })],
  [-20103, (t, o) => new KasaProtocolError(`${t}: the cloud does not know this method (client bug)`, o)],
  [-20104, (t, o) => new KasaProtocolError(`${t}: the cloud rejected a missing or invalid parameter (client bug)`, o)],
  [-20573, (t, o) => new KasaProtocolError(`${t}: passthrough without requestData (client bug)`, o)],
  [
    SIGNATURE_MISMATCH_CODE,
    (t, o) => new KasaProtocolError(`${t}: the cloud did not accept the request signature (client bug: wrong app keys for this endpoint)`, o),
  ],
  [-20107, (t, o) => new KasaProtocolError(`${t}: the cloud rejected the request envelope for this endpoint (client bug)`, o)],
  [
    -20212,
    (t, o, x) =>
      new KasaWrongRegionError(`${t}: the account belongs to another region`, {
        ...o,
        appServerUrl: str(x.result?.['appServerUrl']),
      }),
  ],
  [
    -20571,
    (t, o, x) =>
      new KasaDeviceOfflineError(`${t}: the device is offline (not connected to the cloud)`, { ...o, deviceId: x.ctx.deviceId }),
  ],
  [
    -20600,
    (t, o) => new KasaUserActionError(`${t}: no TP-Link account with this user name; check KASA_USERNAME`, 'account_not_found', o),
  ],
  [
    -20601,
    (t, o, x) =>
      new KasaUserActionError(`${t}: incorrect e-mail or password; check KASA_USERNAME / KASA_PASSWORD`, 'credentials_invalid', {
        ...o,
        attemptsLeft: num(x.result?.['remainAttempts']),
        lockedMinutes: num(x.result?.['lockedMinutes']),
      }),
  ],
  [
    -20675,
    // Sources disagree (docs/protocol.md, "Error codes"): "account locked" as the answer to a
    // login, "token expired or invalid" on a token-bearing call.
    (t, o, x) =>
      x.ctx.authed === true
        ? new KasaTokenExpiredError(`${t}: the cloud rejected the access token (revoked or invalid)`, { ...o, revoked: true })
        : new KasaUserActionError(`${t}: the account is locked after too many failed logins; wait or unlock it in the Kasa app`, 'account_locked', {
            ...o,
            lockedMinutes: num(x.result?.['lockedMinutes']),
          }),
  ],
  [
    -23003,
    (t, o) => new KasaUserActionError(`${t}: the cloud refused this app identity ("app version is too old")`, 'app_rejected', o),
  ],
  [-20651, (t, o) => new KasaTokenExpiredError(`${t}: access token expired`, o)],
  [-20655, (t, o) => new KasaRefreshExpiredError(`${t}: refresh token expired, a password login is needed`, o)],
  [MFA_REQUIRED_CODE, (t, o, x) => new KasaMfaRequiredError(`${t}: two-step verification required`, { ...o, ...readMfaAnswer(x.result) })],
]);

/**
 * Maps a cloud envelope (`error_code`/`msg`, or a nested `result.errorCode`/`errorMsg`) to the
 * right error class. `result` is the envelope's `result`, if any (attempt counters, MFA fields).
 */
export function classifyCloudError(
  code: number,
  msg: string | undefined,
  result?: Record<string, unknown>,
  ctx: CloudErrorContext = {},
): KasaError {
  const cleanMsg = sanitizeCloudMessage(msg);
  const where = `${ctx.op ?? 'request'}${ctx.host ? ` to ${ctx.host}` : ''}`;
  const text = `${where} failed with cloud error ${code}${cleanMsg ? ` "${cleanMsg}"` : ''}`;
  const options: KasaErrorOptions = { code, op: ctx.op };
  const extra: Extra = { result, ctx, msg: cleanMsg };

  if (isBlackList(cleanMsg)) {
    return new KasaRateLimitError(`${text}: the cloud blacklisted this client; stop and back off for a long time`, {
      ...options,
      blacklisted: true,
    });
  }
  if (ctx.op !== undefined && MFA_CHECK_OPS.has(ctx.op)) {
    const mfaError = classifyMfaCheck(code, text, options, result, cleanMsg);
    if (mfaError) return mfaError;
  }
  const build = CLOUD_ERROR_TABLE.get(code);
  if (build) return build(text, options, extra);
  if (ctx.authed === true && TOKEN_INVALID.test(cleanMsg ?? '')) {
    return new KasaTokenExpiredError(`${text}: the cloud rejected the access token`, { ...options, revoked: true });
  }
  return new KasaProtocolError(`${text}: a cloud error code this client does not know`, options);
}

/**
 * On `checkMFACodeAndLogin` the cloud's wrong-code answer is not pinned by any capture (docs/protocol.md, "MFA"):
 * credential-style codes mean "wrong code", and anything mentioning expiry or an unknown process
 * means the round is over.
 */
function classifyMfaCheck(
  code: number,
  text: string,
  options: KasaErrorOptions,
  result: Record<string, unknown> | undefined,
  msg: string | undefined,
): KasaError | undefined {
  const attemptsLeft = num(result?.['remainAttempts']);
  if (/expire|not exist|invalid (mfa )?process|no process/i.test(msg ?? '') || attemptsLeft === 0) {
    return new KasaMfaCodeError(`${text}: the verification round is over; start a new login`, {
      ...options,
      attemptsLeft,
      expired: true,
    });
  }
  const passthroughCodes = new Set([-20004, -20103, -20104, -20675, -20600, -23003, -20212]);
  if (passthroughCodes.has(code)) return undefined;
  return new KasaMfaCodeError(`${text}: the verification code is wrong`, { ...options, attemptsLeft });
}

const TOKEN_INVALID = /token.{0,20}(invalid|expired|revoked|not exist)|invalid.{0,10}token/i;

/**
 * Every published shape of the MFA-required answer (docs/protocol.md, "MFA"): the process id as
 * `MFAProcessId`, `mfaProcessId` or absent; the offered types as ints, strings or a bare `mfaType`.
 */
export function readMfaAnswer(result: Record<string, unknown> | undefined): { mfaTypes: number[]; dialect: MfaDialect } {
  const dialect: MfaDialect = { typeEncoding: 'none' };
  for (const key of ['MFAProcessId', 'mfaProcessId'] as const) {
    const id = str(result?.[key]);
    if (id !== undefined) {
      dialect.process = { key, id };
      break;
    }
  }
  const listed = result?.['supportedMFATypes'];
  let types = mfaTypes(listed);
  if (Array.isArray(listed) && listed.length > 0) {
    dialect.typeEncoding = listed.every((v) => typeof v === 'number') ? 'int' : 'string';
  } else if (str(result?.['mfaType']) !== undefined) {
    dialect.typeEncoding = 'bare';
    types = mfaTypes([result?.['mfaType']]);
  }
  return { mfaTypes: types, dialect };
}

function isBlackList(msg: string | undefined): boolean {
  return msg !== undefined && /black\s*list/i.test(msg);
}

/** The cloud's own message, trimmed to one short line (it is untrusted text). */
export function sanitizeCloudMessage(msg: unknown): string | undefined {
  if (typeof msg !== 'string') return undefined;
  // eslint-disable-next-line no-control-regex
  const line = msg.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  if (line === '') return undefined;
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}

/** Reads an int code that may arrive as a number or a numeric string ("0", "-20677"). */
export function parseCode(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^\s*-?\d+\s*$/.test(value)) return Number.parseInt(value, 10);
  return undefined;
}

/** MFA types as ints: 1 = push, 2 = e-mail; strings "push"/"email"/"1"/"2", and "verifyCodeLogin" (an e-mailed code). */
export function mfaTypes(value: unknown): number[] {
  if (!Array.isArray(value)) return [];
  const out: number[] = [];
  for (const v of value) {
    const n = parseCode(v) ?? (typeof v === 'string' ? ({ push: 1, app: 1, email: 2, mail: 2, verifycodelogin: 2 } as Record<string, number>)[v.toLowerCase()] : undefined);
    if (n !== undefined && !out.includes(n)) out.push(n);
  }
  return out;
}

function num(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  return parseCode(value);
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

// ---------------------------------------------------------------------------------------------
// What each action means to the rest of the program: the scheduler and the public error codes.

/** How the scheduler treats a failed call: pause background traffic, or not. */
export type FailureClass = 'rate_limited' | 'blacklisted' | 'server_error' | 'other';

const FAILURE_CLASS: Readonly<Partial<Record<KasaErrorAction, FailureClass>>> = {
  back_off: 'rate_limited',
  stop: 'blacklisted',
  pause: 'server_error',
};

export function failureClass(err: unknown): FailureClass {
  return err instanceof KasaError ? (FAILURE_CLASS[err.action] ?? 'other') : 'other';
}

/** The public `response/set` error codes a cloud failure can become (docs/mqtt-api.md). */
export type CommandFailureCode = 'device_offline' | 'rate_limited' | 'auth_required' | 'timeout' | 'cloud_error';

const COMMAND_CODE: Readonly<Record<KasaErrorAction, CommandFailureCode>> = {
  retry: 'cloud_error',
  pause: 'cloud_error',
  back_off: 'rate_limited',
  stop: 'rate_limited',
  refresh: 'auth_required',
  relogin: 'auth_required',
  mfa: 'auth_required',
  ask_user: 'auth_required',
  device_offline: 'device_offline',
  unsupported: 'cloud_error',
  report: 'cloud_error',
};

export function commandFailureCode(err: KasaError): CommandFailureCode {
  if (err instanceof KasaNetworkError && err.timeout) return 'timeout';
  return COMMAND_CODE[err.action];
}
