/**
 * The public MQTT API (docs/mqtt-api.md) written once: topic shapes and payload types used by
 * the code and by the tests. `<base>` is MQTT_BASE_TOPIC (default `kasa`).
 */

export type OnOff = 'ON' | 'OFF';

/**
 * The lists below are data, not only types, so docs/mqtt-api.md's tables are generated from them
 * (`npm run docs`): each entry is one line of the docs. A new entry needs only its line here.
 */

/** `type` in `<base>/bridge/devices`. */
export const NODE_TYPES = {
  plug: 'a smart plug',
  switch: 'a wall switch',
  dimmer: 'a wall dimmer',
  strip: 'a power strip; its outlets are nodes of their own',
  outlet: 'one outlet of a power strip',
  bulb: 'a bulb',
  lightstrip: 'a light strip',
} as const satisfies Record<string, string>;
export type NodeType = keyof typeof NODE_TYPES;

/** `capabilities` in `<base>/bridge/devices`. */
export const CAPABILITIES = {
  onoff: 'can be switched on and off',
  brightness: 'dimmable (1–100)',
  color_temp: 'variable white, in Kelvin',
  color: 'colour (hue and saturation)',
  energy: 'has an energy meter',
  rssi: 'reports its Wi-Fi signal',
} as const satisfies Record<string, string>;
export type Capability = keyof typeof CAPABILITIES;

/** `<base>/bridge/state` (retained; last will `offline`). */
export interface BridgeStatePayload {
  state: 'online' | 'offline';
  /**
   * While a file in DATA_DIR cannot be saved (e.g. `session.json: not saved (ENOSPC)`): the bridge
   * runs on what it keeps in memory; gone once a later save succeeds. Never holds a secret.
   */
  storage_error?: string;
}

/** `state` in `<base>/bridge/auth`. */
export const AUTH_STATES = {
  logging_in: 'a login is under way',
  mfa_required: 'waiting for the two-step verification code on `<base>/bridge/mfa`',
  verifying: 'a code is being checked',
  authenticated: 'the cloud session is usable',
  error: 'the session is not usable; `last_error` says why',
} as const satisfies Record<string, string>;
export type AuthState = keyof typeof AUTH_STATES;

/** `last_error` in `<base>/bridge/auth`. */
export const AUTH_ERRORS = {
  credentials_invalid: 'wrong e-mail or password (or an app identity the cloud refuses); not retried by the bridge',
  account_locked: 'the cloud locked the account after failed logins; not retried by the bridge',
  rate_limited: 'the cloud throttled the login; retried with backoff',
  cloud_unreachable: 'a network or TLS failure; retried with backoff (30 s doubling, at most 15 min)',
  code_invalid: 'a wrong MFA code; `attempts_left` says how many remain',
  code_expired: 'the MFA round expired (`KASA_MFA_TIMEOUT`) before a right code arrived',
  retained_rejected: 'an MFA code was published retained; it was deleted from the broker and refused',
  protocol_error: 'an answer the client could not understand; never retried in a loop (the log says what was missing)',
  session_revoked:
    'the cloud rejected the session again within 10 min of an automatic login; the bridge waits for `auth/login`, the HA "Log in" button or a restart',
} as const satisfies Record<string, string>;
export type AuthError = keyof typeof AUTH_ERRORS;

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

/** One line per event type for the docs: its other keys, and when it is sent. */
export const BRIDGE_EVENT_TYPES = {
  device_added: { keys: '`id`, `key`, `alias`', when: 'a device appeared in the device list' },
  device_removed: { keys: '`id`, `key`, `alias`', when: 'a device left the device list' },
  alias_changed: { keys: '`id`, `key`, `from`, `to`', when: 'renamed in the Kasa app; the key stays' },
  auth_state_changed: { keys: '`state`, `last_error`?', when: "every change of `bridge/auth`'s state" },
  rate_limited: {
    keys: '`until` (ISO 8601), `reason` (`throttled`, `blacklisted`, `server_errors`)',
    when: 'background polling paused; commands are still sent',
  },
  command_failed: { keys: '`id`, `key`, `error: {code, message}`', when: 'every failed set, including refused payloads' },
} as const satisfies Record<BridgeEvent['type'], { keys: string; when: string }>;

/** Bridge requests: `<base>/bridge/request/<cmd>` → `<base>/bridge/response/<cmd>`. */
export const BRIDGE_REQUESTS = {
  'devices/refresh': { payload: '`{}`', answer: '`{"device_count"}`: the device list and every device read again' },
  'device/rename': {
    payload: '`{"from":"<key or id>","to":"<new key>"}` (`"id"` works for `"from"`)',
    answer:
      '`{"id","from","to"}`: old retained topics cleared, state republished under the new key, HA discovery updated; at most 10 per minute, and a burst\'s key-file saves are one save',
  },
  'homeassistant/rediscover': {
    payload: '`{}`',
    answer:
      '`{"coalesced":false}`: every discovery config republished now; within 10 s of that, `{"coalesced":true,"republish_at"}`: joined to the one republish due then',
  },
  'auth/login': { payload: '`{}`', answer: '`{"state"}`: `logging_in` (a round started) or `authenticated` (nothing to do)' },
  health_check: {
    payload: '`{}`',
    answer:
      'the readiness report (as `GET /readyz`): `healthy`, `status`, `reasons`, `mqtt`, `auth`, `devices`, `devices_online`, `queue_depth`, `rate_limited_until`?, `storage_error`?',
  },
} as const satisfies Record<string, { payload: string; answer: string }>;
export type BridgeRequestName = keyof typeof BRIDGE_REQUESTS;

/** `error.code` of a refused bridge request. */
export const BRIDGE_REQUEST_ERROR_CODES = {
  unknown_request: 'not one of the bridge requests, whatever the payload',
  invalid_payload: 'not a JSON object, larger than 16 KiB, nested too deep, or a bad rename (e.g. the new key is taken or not a valid key)',
  unknown_device: 'a rename of a key or id that does not exist',
  unsupported: '`homeassistant/rediscover` with `HA_DISCOVERY=false`',
  busy: '`auth/login` while a login or code check is under way',
  rate_limited:
    'with `"retry_after":"<ISO time>"` beside `error`: a requested login the login rules refuse (see "Login and MFA"), or an 11th rename within a minute',
  cloud_error: 'the cloud failed during the request, or the session is not usable (e.g. a code is awaited); the message says which',
} as const satisfies Record<string, string>;
export type BridgeRequestErrorCode = keyof typeof BRIDGE_REQUEST_ERROR_CODES;

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
  /** Firmware the Kasa cloud offers the device (physical devices whose firmware answers the list). */
  update?: FirmwareUpdateState;
  /** The device's own view of its cloud connection (physical devices). */
  cloud?: CloudConnectionState;
  /** SMART: the auto-off setting (switch off this many minutes after switching on). */
  auto_off?: AutoOffState;
  /** SMART: the device's buttons locked (`ON`) or not. */
  child_lock?: OnOff;
  /** SMART: the device reports overheating (or cooling down after it). */
  overheated?: boolean;
  /** SMART: the device reports an overcurrent. */
  overcurrent?: boolean;
  /** SMART: the power protection switched the device off (until it is switched on again). */
  overloaded?: boolean;
  last_seen?: string;
}

/** `auto_off` in the state: whether the device switches itself off, and after how many minutes on. */
export interface AutoOffState {
  enabled: boolean;
  minutes: number;
}

/** `auto_off` in a set: either or both fields; the other keeps its value. */
export interface AutoOffSet {
  enabled?: boolean;
  minutes?: number;
}

/** `update` in the state, shaped like zigbee2mqtt's: `available` when the cloud offers a newer version. */
export interface FirmwareUpdateState {
  state: 'available' | 'idle';
  /** The running version, when known. */
  installed_version?: string;
  /** The newest version offered; the installed one when nothing newer is. */
  latest_version?: string;
  /** The cloud's notice for the offered version (`available` only, when it has one). */
  title?: string;
  /** The offered version's release notes (`available` only, when it has them). */
  release_notes?: string;
}

/** `cloud` in the state: only the fields the device answered. */
export interface CloudConnectionState {
  /** The device holds a connection to the Kasa cloud now. */
  connected?: boolean;
  /** The device is bound to a Kasa account. */
  bound?: boolean;
  /** The cloud host the device connects to. */
  server?: string;
}

/** One line per state key for the docs; `nodes` is left out for a feature's key (the docs list the node types that have the feature). */
export const NODE_STATE_KEYS = {
  state: { values: '`"ON"` / `"OFF"`', nodes: 'every node but strips' },
  brightness: { values: '1–100', nodes: 'dimmers, bulbs, light strips' },
  color_temp: { values: 'Kelvin', nodes: 'bulbs and light strips with variable white' },
  color: { values: '`{"h":0–360,"s":0–100}`', nodes: 'colour bulbs and light strips' },
  color_mode: { values: '`"hs"` / `"color_temp"`: which of the two the light shows', nodes: 'bulbs and light strips with colour or variable white' },
  effect: { values: "the running effect's name, or `null`" },
  power_w: { values: 'W', nodes: 'metered plugs, outlets, bulbs and light strips' },
  voltage_v: { values: 'V', nodes: 'plugs and outlets with a full meter' },
  current_a: { values: 'A', nodes: 'plugs and outlets with a full meter' },
  energy_kwh: { values: "kWh, the meter's total", nodes: 'metered nodes' },
  energy_today_kwh: { values: "kWh, the device's own day (its clock and time zone)", nodes: 'plugs and outlets with a full meter' },
  energy_month_kwh: { values: "kWh, the device's own month", nodes: 'plugs and outlets with a full meter' },
  rssi: { values: 'dBm', nodes: 'physical devices (not outlets)' },
  outlets_on: { values: 'how many outlets are on', nodes: 'strips' },
  led: { values: '`"ON"` / `"OFF"`: the indicator LED lit or not' },
  countdown: { values: '`{"seconds_left","state"}` of the running countdown ("Timer" in the Kasa app), or `null`' },
  on_since: { values: 'ISO 8601, when the relay was switched on; `null` while off' },
  update: {
    values:
      '`{"state":"available"|"idle","installed_version","latest_version","title"?,"release_notes"?}`: firmware the Kasa cloud offers, read daily (`latest_version` = `installed_version` when up to date)',
    nodes: 'physical devices (not outlets) whose firmware answers the cloud firmware list',
  },
  cloud: {
    values: '`{"connected","bound","server"}` (the fields the device answers): its own view of its Kasa cloud connection, read daily',
    nodes: 'physical devices (not outlets)',
  },
  auto_off: { values: '`{"enabled","minutes"}`: the device switches itself off `minutes` after it was switched on, when `enabled`', nodes: 'SMART plugs, switches and outlets with auto-off' },
  child_lock: { values: "`\"ON\"` / `\"OFF\"`: the device's buttons locked", nodes: 'SMART devices that publish a child lock' },
  overheated: { values: '`true` while the device reports overheating or cooling down after it', nodes: 'SMART devices and outlets that report it' },
  overcurrent: { values: '`true` while the device reports an overcurrent', nodes: 'SMART plugs with overcurrent protection' },
  overloaded: { values: '`true` after the power protection switched the device off, until it is switched on again', nodes: 'SMART plugs with power protection' },
  last_seen: { values: 'ISO 8601, the last successful read' },
} as const satisfies Record<keyof NodeState, { values: string; nodes?: string }>;

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
  /** SMART: the auto-off setting. */
  auto_off?: AutoOffSet;
  /** SMART: lock or unlock the device's buttons. */
  child_lock?: OnOff;
  transaction?: unknown;
}

/** One line per set key for the docs; `needs` is the capability, or `feature` for a key a device feature takes. */
export const SET_KEYS = {
  state: { value: '`ON`, `OFF`, `TOGGLE` (also `true`/`false`/`1`/`0`)', needs: 'onoff' },
  brightness: { value: 'integer 1–100 (use `state: OFF` to turn off)', needs: 'brightness' },
  color_temp: { value: "integer Kelvin within the model's range", needs: 'color_temp' },
  color: { value: '`{"h":0–360,"s":0–100}`, exactly those two keys', needs: 'color' },
  transition: { value: 'seconds, 0–3600', needs: 'brightness' },
  led: { value: '`ON` / `OFF`: the indicator LED', needs: 'feature' },
  restart: { value: '`true`: reboot the device (the seconds it is away afterwards are not a failure)', needs: 'feature' },
  countdown: {
    value: '`{"seconds":1–86400,"state"?:"ON"|"OFF"}` (`state` defaults to the opposite of now), plain seconds, or `0` to cancel',
    needs: 'feature',
  },
  effect: { value: 'a built-in effect name (`Aurora`, `Rainbow`, …), or `off`', needs: 'feature' },
  auto_off: { value: '`{"enabled"?: true|false, "minutes"?: 1–1440}`, at least one; the other keeps its value (SMART devices with auto-off)', needs: 'feature' },
  child_lock: { value: "`ON` / `OFF`: lock the device's buttons (SMART devices that publish a child lock)", needs: 'feature' },
  transaction: { value: 'any JSON value (bounded depth); echoed in the answer', needs: 'none' },
} as const satisfies Record<keyof SetPayload, { value: string; needs: Capability | 'feature' | 'none' }>;

/** `error.code` of `<base>/<key>/response/set`; `cloudRequest`: whether a request reached the cloud. */
export const COMMAND_ERROR_CODES = {
  invalid_payload: { meaning: 'not understood (the message says why)', cloudRequest: 'no' },
  unsupported: { meaning: 'the node cannot do that (e.g. `color` on a dimmer, `led` on a bulb)', cloudRequest: 'no' },
  unknown_device: { meaning: 'no node with that key or id; answered on the topic as given', cloudRequest: 'no' },
  device_offline: { meaning: 'the cloud lists the device offline (not sent), or answered so for this request', cloudRequest: 'no / yes' },
  auth_required: {
    meaning: 'the cloud session is not usable; see `bridge/auth` (before the first device list, every key is unknown for that reason)',
    cloudRequest: 'no',
  },
  rate_limited: { meaning: 'the cloud refused the request as throttling (`-20004`, "blackList")', cloudRequest: 'yes' },
  timeout: { meaning: 'no answer within `KASA_PASSTHROUGH_TIMEOUT`', cloudRequest: 'yes' },
  cloud_error: { meaning: 'any other failure (HTTP 5xx, unexpected answer, shutdown)', cloudRequest: 'yes' },
} as const satisfies Record<string, { meaning: string; cloudRequest: 'no' | 'yes' | 'no / yes' }>;
export type CommandErrorCode = keyof typeof COMMAND_ERROR_CODES;

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

/** One line per topic of `topics()` for the docs (the subscription filters and `levels` are not topics). */
export const TOPIC_DOCS = {
  bridgeState: {
    direction: 'out',
    retained: true,
    payload:
      '`{"state":"online"}` or `{"state":"offline"}` (last will, clean shutdown); `{"state":"online","storage_error":"<file>: not saved (<errno>)"}` while a DATA_DIR file cannot be saved',
  },
  bridgeAuth: { direction: 'out', retained: true, payload: 'the cloud session, see "Login and MFA"' },
  bridgeMfa: { direction: 'in', retained: false, payload: 'an MFA code (plain or `{"code","challenge"}`), only while a round is open' },
  bridgeInfo: {
    direction: 'out',
    retained: true,
    payload: '`{"version","base_topic","cloud_host","device_count","config"}` (secrets removed, e-mail masked)',
  },
  bridgeDevices: { direction: 'out', retained: true, payload: 'the device list, see below' },
  bridgeEvent: { direction: 'out', retained: false, payload: 'one event, see below' },
  bridgeRequest: { direction: 'in', retained: false, payload: 'a JSON object (or empty), optional `transaction`' },
  bridgeResponse: { direction: 'out', retained: false, payload: '`{"status","data"?,"error"?,"retry_after"?,"transaction"?}` (`retry_after` with `rate_limited`)' },
  nodeState: { direction: 'out', retained: true, payload: "the node's state, one JSON object" },
  nodeAvailability: { direction: 'out', retained: true, payload: '`{"state":"online"}` or `{"state":"offline"}`' },
  nodeSet: { direction: 'in', retained: false, payload: 'a set: JSON object or a plain word' },
  nodeSetAttribute: { direction: 'in', retained: false, payload: 'one set key as a plain value' },
  nodeGet: { direction: 'in', retained: false, payload: 'anything: read the device now' },
  nodeSetResponse: { direction: 'out', retained: false, payload: 'the answer to each set' },
} as const satisfies Record<Exclude<keyof Topics, `${string}Filter` | 'levels'>, { direction: 'in' | 'out'; retained: boolean; payload: string }>;

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
