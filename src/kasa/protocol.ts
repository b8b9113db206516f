/**
 * Wire shapes of the Kasa cloud V2 API as the Kasa Android app 3.4.451 sends them, and the
 * Tapo-only `/api/v2/common/*` endpoints (docs/protocol.md). Body builders return plain objects
 * whose key insertion order is the order on the wire; the transport serialises them compactly.
 * Every builder that names the app takes the app's names (`AppNames`); the default is the Kasa app.
 */
import type { MfaDialect } from './errors.js';

import { isRecord } from '../isRecord.js';

export const APP_TYPE = 'Kasa_Android_Mix';
export const APP_VERSION = '3.4.451';
export const PLATFORM = 'Android';
export const TERMINAL_NAME = 'Pixel';
export const TERMINAL_META = 'Pixel';

export const CONTENT_TYPE = 'application/json;charset=UTF-8';
export const USER_AGENT = 'Dalvik/2.1.0 (Linux; U; Android 14; Pixel Build/UP1A)';

/** How an app names itself: `appType` in account bodies and `appName` in the query, and its version. */
export interface AppNames {
  readonly appType: string;
  readonly appVersion: string;
}

export const KASA_APP_NAMES: AppNames = { appType: APP_TYPE, appVersion: APP_VERSION };

/** docs/protocol.md, "Signing": sent on every request, in this order (the server does not care about order). */
export function appQuery(app: AppNames): Record<string, string> {
  return {
    appName: app.appType,
    appVer: app.appVersion,
    netType: 'wifi',
    ospf: 'Android 14',
    brand: 'TPLINK',
    locale: 'en_US',
    model: TERMINAL_NAME,
    termName: TERMINAL_NAME,
    termMeta: TERMINAL_META,
  };
}

/** The Kasa app's query (every request but `token` and `termID`). */
export const APP_QUERY: Readonly<Record<string, string>> = appQuery(KASA_APP_NAMES);

/** The method endpoint (getDeviceList, passthrough). */
export const METHOD_PATH = '/';

export type AccountEndpoint =
  | 'getAccountStatusAndUrl'
  | 'login'
  | 'refreshToken'
  | 'getEmailVC4TerminalMFA'
  | 'getPushVC4TerminalMFA'
  | 'checkMFACodeAndLogin';

export function accountPath(name: AccountEndpoint): string {
  return `/api/v2/account/${name}`;
}

/** MFA type numbers as the live service encodes them (docs/protocol.md, "MFA"). */
export const MFA_TYPE_PUSH = 1;
export const MFA_TYPE_EMAIL = 2;

// --- account endpoint bodies -----------------------------------------------------------------

export function accountStatusBody(username: string, app: AppNames = KASA_APP_NAMES): Record<string, unknown> {
  return { appType: app.appType, cloudUserName: username };
}

/** docs/protocol.md, "Login": exact key order. */
export function loginBody(username: string, password: string, terminalUUID: string, app: AppNames = KASA_APP_NAMES): Record<string, unknown> {
  return {
    appType: app.appType,
    appVersion: app.appVersion,
    cloudPassword: password,
    cloudUserName: username,
    platform: PLATFORM,
    refreshTokenNeeded: true,
    supportBindAccount: false,
    terminalUUID,
    terminalName: TERMINAL_NAME,
    terminalMeta: TERMINAL_META,
  };
}

export function refreshTokenBody(refreshToken: string, terminalUUID: string, app: AppNames = KASA_APP_NAMES): Record<string, unknown> {
  return { appType: app.appType, refreshToken, terminalUUID };
}

/**
 * Dispatch body for `getEmailVC4TerminalMFA` and `getPushVC4TerminalMFA`: what the live clients
 * send, plus the process id under the key the cloud used, when it gave one (docs/protocol.md, "MFA").
 */
export function mfaDispatchBody(
  username: string,
  password: string,
  terminalUUID: string,
  dialect: MfaDialect,
  app: AppNames = KASA_APP_NAMES,
): Record<string, unknown> {
  return {
    appType: app.appType,
    cloudUserName: username,
    cloudPassword: password,
    terminalUUID,
    ...(dialect.process ? { [dialect.process.key]: dialect.process.id } : {}),
  };
}

/**
 * `checkMFACodeAndLogin`: the union of the published bodies. The process id and the MFA type go
 * in the spelling the cloud used, and are left out when it gave none (a bare `mfaType` is not echoed).
 */
export function checkMfaBody(
  username: string,
  password: string,
  code: string,
  terminalUUID: string,
  dialect: MfaDialect,
  mfaType: 'email' | 'push',
  app: AppNames = KASA_APP_NAMES,
): Record<string, unknown> {
  const typeField =
    dialect.typeEncoding === 'int'
      ? { MFAType: mfaType === 'push' ? MFA_TYPE_PUSH : MFA_TYPE_EMAIL }
      : dialect.typeEncoding === 'string'
        ? { mfaType }
        : {};
  return {
    appType: app.appType,
    cloudUserName: username,
    cloudPassword: password,
    code,
    terminalUUID,
    terminalBindEnabled: true,
    refreshTokenNeeded: true,
    ...(dialect.process ? { [dialect.process.key]: dialect.process.id } : {}),
    ...typeField,
  };
}

// --- method endpoint bodies ------------------------------------------------------------------

export function deviceListBody(): Record<string, unknown> {
  return { method: 'getDeviceList' };
}

export function passthroughBody(deviceId: string, requestData: Record<string, unknown>): Record<string, unknown> {
  return { method: 'passthrough', params: { deviceId, requestData: JSON.stringify(requestData) } };
}

// --- Tapo-only endpoints (/api/v2/common/<name>, regional host, Tapo keys only) ----------------

export type CommonEndpoint = 'getDeviceListByPage' | 'passthrough';

export function commonPath(name: CommonEndpoint): string {
  return `/api/v2/common/${name}`;
}

/**
 * The device types asked for by default: TA2k/ioBroker.tapo's list, plus the Kasa remodels the
 * Kasa app asks the app server for (docs/protocol.md, "Tapo identity"; whether the paged list
 * accepts those is a guess).
 */
export const SMART_DEVICE_TYPES: readonly string[] = [
  'SMART.TAPOPLUG',
  'SMART.TAPOBULB',
  'SMART.TAPOSWITCH',
  'SMART.TAPOHUB',
  'SMART.TAPOSENSOR',
  'SMART.IPCAMERA',
  'SMART.TAPODOORBELL',
  'SMART.TAPOCHIME',
  'SMART.TAPOLOCK',
  'SMART.TAPOROBOVAC',
  'SMART.TAPONVR',
  'SMART.KASAPLUG',
  'SMART.KASASWITCH',
  'SMART.KASAHUB',
  'SMART.KASAENERGY',
];

/** TA2k's page size; the simulator allows 1–100, the live limit is unknown. */
export const DEVICE_PAGE_SIZE = 30;

export function deviceListByPageBody(index: number, limit: number, deviceTypeList: readonly string[]): Record<string, unknown> {
  return { index, limit, deviceTypeList: [...deviceTypeList] };
}

/** The two published shapes of the V2 passthrough's `requestData` (and of its `responseData`). */
export type RequestDataForm = 'object' | 'string';

export function smartPassthroughBody(deviceId: string, request: Record<string, unknown>, form: RequestDataForm): Record<string, unknown> {
  return { deviceId, requestData: form === 'object' ? request : JSON.stringify(request) };
}

// --- answers ---------------------------------------------------------------------------------

/** One `getDeviceList` entry (docs/protocol.md, "Device list"). Only `deviceId` is guaranteed; everything else may be absent. */
export interface CloudDevice {
  deviceId: string;
  deviceType?: string;
  deviceModel?: string;
  alias?: string;
  deviceName?: string;
  /** 1 = online, 0 = offline. */
  status?: number;
  appServerUrl?: string;
  appServerUrlV2?: string;
  accountApiUrl?: string;
  deviceRegion?: string;
  isSameRegion?: boolean;
  fwVer?: string;
  deviceHwVer?: string;
  deviceMac?: string;
  oemId?: string;
  hwId?: string;
  fwId?: string;
  role?: number;
  lastBindTime?: number;
  [extra: string]: unknown;
}

/** Keeps the entries that carry a string `deviceId`; other fields pass through untouched. */
export function parseDeviceList(value: unknown): CloudDevice[] | undefined {
  if (!Array.isArray(value)) return undefined;
  return value.filter(
    (e): e is CloudDevice => isRecord(e) && typeof e['deviceId'] === 'string',
  );
}

export function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** `new URL('/', value)` for an http(s) URL string (the method endpoint base); otherwise undefined. */
export function parseBaseUrl(value: unknown): URL | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  let url: URL;
  try {
    url = new URL('/', value);
  } catch {
    return undefined;
  }
  return url.protocol === 'https:' || url.protocol === 'http:' ? url : undefined;
}
