/** Public types of the cloud client (re-exported by `cloudClient.ts`). */
import type { Dispatcher } from 'undici';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { AppIdentity } from './appIdentity.js';
import type { KasaError } from './errors.js';
import type { SessionStore } from './sessionStore.js';
import type { TransportRequestEvent } from './transport.js';

export type LoginResult =
  | { status: 'authenticated' }
  | { status: 'mfa_required'; mfaType: 'email' | 'push'; mfaTypes: number[] };

export type SessionState = 'authenticated' | 'mfa_required' | 'lost';

export interface SessionChangeDetail {
  /**
   * True when the client changed the session by itself (token refresh, or the password login it
   * runs when the refresh token expired); false when caused by a call to `login()`/`completeMfa()`,
   * whose result the caller already has.
   */
  automatic: boolean;
  /** For `mfa_required`: how the code was dispatched and what the account offers. */
  mfaType?: 'email' | 'push';
  mfaTypes?: number[];
  /** For `lost`: the error that ended the session. */
  error?: KasaError;
}

export interface KasaCloudClientOptions {
  /** Global entry host (KASA_CLOUD_URL), http or https. */
  cloudUrl: string;
  username: string;
  password: string;
  /** The app to log in as; default the Kasa app. The store's file must be the identity's `sessionFile`. */
  identity?: AppIdentity | undefined;
  store: SessionStore;
  /** KASA_REQUEST_TIMEOUT in ms: each account and device-list request. */
  requestTimeoutMs: number;
  /** KASA_PASSTHROUGH_TIMEOUT in ms: each device passthrough (the cloud holds it while it wakes the device). */
  passthroughTimeoutMs?: number | undefined;
  /** Where the redacted protocol trace goes (KASA_TRACE, `login --trace`): one line per exchange. */
  traceWrite?: ((line: string) => void) | undefined;
  /** Time source for the automatic-login cap (tests); default Date.now. */
  now?: (() => number) | undefined;
  /** KASA_CA_FILE. */
  caFile?: string | undefined;
  /** Extra PEM roots (tests). */
  extraCa?: readonly string[] | undefined;
  logger: Logger;
  onSessionChange?: ((state: SessionState, detail: SessionChangeDetail) => void) | undefined;
  onRequest?: ((event: TransportRequestEvent) => void) | undefined;
  /** Tests only: an undici dispatcher (MockAgent) instead of the TLS Agent. */
  dispatcher?: Dispatcher | undefined;
}

export interface PendingMfa {
  mfaType: 'email' | 'push';
  mfaTypes: number[];
  startedAt: number;
}

export interface DeviceListByPageOptions {
  /** `deviceTypeList`; default every SMART type (protocol.ts `SMART_DEVICE_TYPES`). */
  deviceTypes?: readonly string[] | undefined;
  /** `limit` of each page; default DEVICE_PAGE_SIZE. */
  pageSize?: number | undefined;
}

export interface PassthroughTarget {
  deviceId: string;
  appServerUrl?: string | undefined;
}

/** The client options that come from the configuration, shared by the daemon and `kasa2mqtt login`. */
export function clientOptionsFromConfig(
  config: Config,
): Pick<KasaCloudClientOptions, 'cloudUrl' | 'username' | 'password' | 'requestTimeoutMs' | 'passthroughTimeoutMs' | 'caFile'> {
  return {
    cloudUrl: config.KASA_CLOUD_URL,
    username: config.KASA_USERNAME,
    password: config.KASA_PASSWORD,
    requestTimeoutMs: config.KASA_REQUEST_TIMEOUT * 1000,
    passthroughTimeoutMs: config.KASA_PASSTHROUGH_TIMEOUT * 1000,
    caFile: config.KASA_CA_FILE,
  };
}
