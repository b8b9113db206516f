/**
 * The public MQTT API (docs/mqtt-api.md) written once: topic shapes and payload types used by
 * the code and by the tests. `<base>` is MQTT_BASE_TOPIC (default `kasa`).
 */

export type OnOff = 'ON' | 'OFF';

export type NodeType = 'plug' | 'switch' | 'dimmer' | 'strip' | 'outlet' | 'bulb' | 'lightstrip';

export type Capability = 'onoff' | 'brightness' | 'color_temp' | 'color' | 'energy' | 'rssi';

/** `<base>/bridge/state` (retained; last will `offline`). */
export interface BridgeStatePayload {
  state: 'online' | 'offline';
  /**
   * While a file in DATA_DIR cannot be saved (e.g. `session.json: not saved (ENOSPC)`): the bridge
   * runs on what it keeps in memory; gone once a later save succeeds. Never holds a secret.
   */
  storage_error?: string;
}

export type AuthState = 'logging_in' | 'mfa_required' | 'verifying' | 'authenticated' | 'error';

export type AuthError =
  | 'credentials_invalid'
  | 'account_locked'
  | 'rate_limited'
  | 'cloud_unreachable'
  | 'code_invalid'
  | 'code_expired'
  | 'retained_rejected'
  /** An answer the client could not understand; never retried in a loop (the log says what was missing). */
  | 'protocol_error'
  /** The cloud kept rejecting the session; the bridge stopped logging in by itself (at most once per 10 min). */
  | 'session_revoked';

/** `<base>/bridge/auth` (retained). Never a password, token or code. */
export interface BridgeAuthPayload {
  state: AuthState;
  since: string;
  mfa_type?: 'email' | 'push';
  challenge?: string;
  expires_at?: string;
  attempts_left?: number;
  last_error?: AuthError;
}

/** `<base>/bridge/mfa` (in): a plain code or this object. */
export interface MfaSubmission {
  code: string;
  challenge?: string;
}

/** `<base>/bridge/info` (retained). */
export interface BridgeInfoPayload {
  version: string;
  base_topic: string;
  cloud_host: string;
  device_count: number;
  /** The effective configuration: secrets left out, the e-mail masked, URLs without `user:password@`. */
  config: Record<string, unknown>;
}

/** One element of `<base>/bridge/devices` (retained array). */
export interface BridgeDeviceEntry {
  id: string;
  key: string;
  alias: string;
  model: string;
  type: NodeType | 'unsupported';
  parent_id?: string;
  children?: string[];
  online: boolean;
  fw?: string;
  hw?: string;
  mac?: string;
  capabilities: Capability[];
  supported: boolean;
}

export type BridgeEvent =
  | { type: 'device_added'; id: string; key: string; alias: string }
  | { type: 'device_removed'; id: string; key: string; alias: string }
  | { type: 'alias_changed'; id: string; key: string; from: string; to: string }
  | { type: 'auth_state_changed'; state: AuthState; last_error?: AuthError }
  | { type: 'rate_limited'; until: string; reason: 'throttled' | 'blacklisted' | 'server_errors' }
  | { type: 'command_failed'; id: string; key: string; error: { code: CommandErrorCode; message: string } };

/** Bridge requests: `<base>/bridge/request/<cmd>` → `<base>/bridge/response/<cmd>`. */
export type BridgeRequestName =
  | 'devices/refresh'
  | 'device/rename'
  | 'homeassistant/rediscover'
  | 'auth/login'
  | 'health_check';

/**
 * `error.code` of a bridge response: `unknown_request`, `invalid_payload`, `unknown_device`,
 * `unsupported`, `busy`, `cloud_error`, or `rate_limited` (with `retry_after`).
 */
export interface BridgeResponse<T = unknown> {
  status: 'ok' | 'error';
  data?: T;
  error?: { code: string; message: string };
  /** With `rate_limited`: when the same request may be accepted (ISO 8601). */
  retry_after?: string;
  /** Echoed from the request, on every answer. */
  transaction?: unknown;
}

/** `data` of `homeassistant/rediscover`: done now, or joined to the one due at `republish_at`. */
export type RediscoverResult = { coalesced: false } | { coalesced: true; republish_at: string };

/** `<base>/<key>` (retained): one JSON object per node, full every time. */
export interface NodeState {
  state?: OnOff;
  brightness?: number;
  color_temp?: number;
  color?: { h: number; s: number };
  color_mode?: 'hs' | 'color_temp';
  effect?: string | null;
  power_w?: number | null;
  voltage_v?: number | null;
  current_a?: number | null;
  energy_kwh?: number | null;
  energy_today_kwh?: number | null;
  energy_month_kwh?: number | null;
  rssi?: number;
  outlets_on?: number;
  /** The device's indicator LED: `ON` = lit (plugs, switches, dimmers, strips). */
  led?: OnOff;
  /** The running countdown ("Timer" in the Kasa app), or null when none runs. */
  countdown?: CountdownState | null;
  /** When the relay was switched on (ISO 8601); null while off. */
  on_since?: string | null;
  last_seen?: string;
}

/** `countdown` in the state: seconds until the device switches to `state`. */
export interface CountdownState {
  seconds_left: number;
  state: OnOff;
}

/** `countdown` in a set: run one countdown of `seconds` ending in `state` (default: the opposite of now). */
export interface CountdownSet {
  seconds: number;
  state?: OnOff;
}

/** `<base>/<key>/availability` (retained). */
export interface AvailabilityPayload {
  state: 'online' | 'offline';
}

/** `<base>/<key>/set` (in), after parsing plain forms. */
export interface SetPayload {
  state?: OnOff | 'TOGGLE';
  brightness?: number;
  color_temp?: number;
  color?: { h: number; s: number };
  transition?: number;
  /** Indicator LED on or off. */
  led?: OnOff;
  /** Reboot the device (`system.reboot`). */
  restart?: true;
  /** Start a countdown; `0` cancels it. */
  countdown?: CountdownSet | 0;
  /** A built-in light-strip effect by name, or `off`. */
  effect?: string;
  transaction?: unknown;
}

export type CommandErrorCode =
  | 'device_offline'
  | 'invalid_payload'
  | 'unsupported'
  | 'rate_limited'
  | 'auth_required'
  | 'timeout'
  | 'cloud_error'
  | 'unknown_device';

/** `<base>/<key>/response/set`. */
export interface SetResponse {
  status: 'ok' | 'error';
  data?: Partial<NodeState>;
  error?: { code: CommandErrorCode; message: string };
  latency_ms?: number;
  transaction?: unknown;
}

/** Topic builders, so code and tests spell topics the same way; `…Filter` are subscription filters. */
export function topics(base: string) {
  const prefix = `${base}/`;
  return {
    bridgeState: `${base}/bridge/state`,
    bridgeAuth: `${base}/bridge/auth`,
    bridgeMfa: `${base}/bridge/mfa`,
    bridgeInfo: `${base}/bridge/info`,
    bridgeDevices: `${base}/bridge/devices`,
    bridgeEvent: `${base}/bridge/event`,
    bridgeRequest: (cmd: string) => `${base}/bridge/request/${cmd}`,
    bridgeRequestFilter: `${base}/bridge/request/#`,
    bridgeResponse: (cmd: string) => `${base}/bridge/response/${cmd}`,
    nodeState: (key: string) => `${base}/${key}`,
    nodeAvailability: (key: string) => `${base}/${key}/availability`,
    nodeAvailabilityFilter: `${base}/+/availability`,
    nodeSet: (key: string) => `${base}/${key}/set`,
    nodeSetFilter: `${base}/+/set`,
    nodeSetAttribute: (key: string, attr: string) => `${base}/${key}/set/${attr}`,
    nodeSetAttributeFilter: `${base}/+/set/+`,
    nodeGet: (key: string) => `${base}/${key}/get`,
    nodeGetFilter: `${base}/+/get`,
    nodeSetResponse: (key: string) => `${base}/${key}/response/set`,
    /** The levels of `topic` below `<base>/` (`[key, 'set', attr]`, `['bridge', 'request', …]`); undefined elsewhere. */
    levels: (topic: string): string[] | undefined => (topic.startsWith(prefix) ? topic.slice(prefix.length).split('/') : undefined),
  };
}

export type Topics = ReturnType<typeof topics>;

/** Home Assistant device-based discovery topics under HA_DISCOVERY_PREFIX. */
export function discoveryTopics(prefix: string) {
  const head = `${prefix}/device/`;
  const tail = '/config';
  return {
    /** `<prefix>/device/<objectId>/config`. */
    device: (objectId: string) => `${head}${objectId}${tail}`,
    deviceFilter: `${head}+${tail}`,
    /** The object id of a device discovery topic; undefined for any other topic. */
    objectIdOf: (topic: string): string | undefined => {
      if (!topic.startsWith(head) || !topic.endsWith(tail)) return undefined;
      const objectId = topic.slice(head.length, -tail.length);
      return objectId === '' || objectId.includes('/') ? undefined : objectId;
    },
  };
}
