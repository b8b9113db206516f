import type { SimErrorCodes } from './types.js';

/** Cloud error codes pinned by captures (docs/protocol.md, "Error codes"). */
export const CloudError = {
  rateLimited: -20004,
  methodNotExist: -20103,
  parameterMissing: -20104,
  wrongServiceEntry: -20212,
  deviceOffline: -20571,
  requestDataMissing: -20573,
  accountNotFound: -20600,
  wrongPassword: -20601,
  tokenExpired: -20651,
  refreshTokenExpired: -20655,
  accountLocked: -20675,
  mfaRequired: -20677,
  /** "Account locked" to a login; "token invalid" to a token-bearing call (docs/protocol.md, "Error codes"). */
  tokenInvalid: -20675,
  appTooOld: -23003,
  /** The Tapo gateway's answer to a bad signature, and to a Kasa-keyed call of a Tapo-only endpoint. */
  signatureMismatch: -10301,
} as const;

/**
 * Defaults for the codes no capture settles (docs/protocol.md, "Simulator", "cfg"):
 * - signature: -20571 "Invalid request or signature", the only code [S0] names for it.
 * - mfaWrongCode: -20601 with `remainAttempts`, like a wrong password (TP-Link login answers carry counters).
 * - mfaNoProcess: -20104, the process id (or the user/terminal pair) does not name a live process.
 * - blackList: -20005, a code no other outcome uses, so clients can tell it from -20004.
 */
export const DEFAULT_ERROR_CODES: SimErrorCodes = {
  signature: CloudError.deviceOffline,
  malformedBody: CloudError.parameterMissing,
  appIdentity: CloudError.appTooOld,
  wrongAppType: CloudError.appTooOld,
  missingToken: CloudError.parameterMissing,
  deviceNotOwned: CloudError.deviceOffline,
  wrongDeviceHost: CloudError.deviceOffline,
  badRequestData: CloudError.parameterMissing,
  mfaWrongCode: CloudError.wrongPassword,
  mfaNoProcess: CloudError.parameterMissing,
  blackList: -20005,
};

export const Msg = {
  signature: 'Invalid request or signature',
  parameter: "Parameter doesn't exist",
  methodNotExist: 'Method does not exist',
  appTooOld: 'App version is too old',
  wrongServiceEntry: 'Incorrect service entry address',
  deviceOffline: 'Device is offline',
  requestDataMissing: 'Request data is missing',
  accountNotFound: 'Account not found',
  wrongPassword: 'Incorrect email or password',
  accountLocked: 'Account is locked, try again later',
  mfaRequired: 'MFA feature enabled',
  mfaWrongCode: 'Incorrect verification code',
  mfaNoProcess: 'MFA process does not exist or has expired',
  tokenExpired: 'Token expired',
  tokenInvalid: 'Cloud token expired or invalid',
  refreshTokenExpired: 'Refresh token expired',
  rateLimited: 'API rate limit exceeded',
  blackList: 'Access denied request in blackList',
  /** Spelled as the server spells it. */
  signatureMismatch: 'Signature dose not match',
} as const;

/** An API outcome other than success: answered as HTTP 200 with this envelope. */
export class CloudFailure extends Error {
  constructor(
    readonly code: number,
    msg: string,
    readonly result?: Record<string, unknown>,
  ) {
    super(msg);
  }
}

export function fail(code: number, msg: string, result?: Record<string, unknown>): never {
  throw new CloudFailure(code, msg, result);
}
