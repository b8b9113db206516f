import { createHash } from 'node:crypto';
import type { DeviceFamily, SimDeviceHandle, SimFirmware } from '../types.js';
import { isRecord } from '../../isRecord.js';
import type { JsonObject } from '../util.js';
import type { ModelInfo } from './models.js';

/** A device-level failure, answered inside responseData as `err_code`/`err_msg` (docs/protocol.md, "Passthrough"). */
export class DeviceError extends Error {
  constructor(
    readonly errCode: number,
    readonly errMsg: string,
  ) {
    super(errMsg);
  }
}

export interface CallContext {
  /** `context.child_ids` of the request, when present. */
  childIds: string[] | undefined;
}

export type Method = (args: unknown, ctx: CallContext) => JsonObject;
export type Module = Record<string, Method>;

export interface DeviceIdentity {
  deviceId: string;
  model: string;
  alias: string;
  oemId: string;
  hwId: string;
  /** 12 upper-case hex digits, no separators (device-list form). */
  mac: string;
  fwVer: string;
  hwVer: string;
  deviceName: string;
  rssi: number;
}

export interface DeviceEnv {
  now: () => number;
  /** Owner's user name, reported by cnCloud.get_info. */
  owner: string;
  /** How long a device stays unreachable after `reboot`, ms (default 5 s). */
  rebootMs?: number;
}

export const MEMBER_NOT_SUPPORT = { err_code: -2, err_msg: 'member not support' } as const;

/** Identity values derived from the deviceId for devices that no fixture describes. */
export function deriveIdentity(deviceId: string, model: string, alias: string, info: ModelInfo): DeviceIdentity {
  const hash = (salt: string): string => createHash('md5').update(`${salt}:${deviceId}`).digest('hex').toUpperCase();
  return {
    deviceId,
    model,
    alias,
    oemId: hash('oem'),
    hwId: createHash('md5').update(`hw:${model}`).digest('hex').toUpperCase(),
    mac: `50C7BF${hash('mac').slice(0, 6)}`, // TP-Link's OUI
    fwVer: info.fwVer,
    hwVer: info.hwVer,
    deviceName: info.deviceName,
    rssi: -35 - Math.floor(Number.parseInt(hash('rssi').slice(0, 2), 16) / 12),
  };
}

export function colonMac(mac: string): string {
  return mac.match(/../g)?.join(':') ?? mac;
}

/** The sysinfo fields current plug-family firmware (plugs, switches, dimmers, strips) starts with. */
export function plugFamilySysinfo(id: DeviceIdentity, deviceType: string, feature: string, ledOff: boolean): JsonObject {
  return {
    sw_ver: id.fwVer,
    hw_ver: id.hwVer,
    model: id.model,
    deviceId: id.deviceId,
    oemId: id.oemId,
    hwId: id.hwId,
    rssi: id.rssi,
    longitude_i: 1140579,
    latitude_i: 225431,
    alias: id.alias,
    status: 'configured',
    obd_src: 'tplink',
    mic_type: deviceType,
    feature,
    mac: colonMac(id.mac),
    updating: 0,
    led_off: ledOff ? 1 : 0,
  };
}

/** Getter arguments may be null or {}; setters need an object. */
export function argObject(args: unknown, invalid: DeviceError): JsonObject {
  if (args === null || args === undefined) return {};
  if (!isRecord(args)) throw invalid;
  return args;
}

export function intArg(
  args: JsonObject,
  name: string,
  min: number,
  max: number,
  invalid: DeviceError,
): number | undefined {
  const value = args[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) throw invalid;
  return value;
}

/**
 * A stateful device speaking the IOT JSON protocol. `execute` runs modules and methods in the
 * textual order of the request, so a `set_*` followed by `get_sysinfo` reads back the new state.
 */
export abstract class SimDevice implements SimDeviceHandle {
  readonly deviceId: string;
  readonly model: string;
  abstract readonly family: DeviceFamily;
  online: boolean;
  latencyMs: number;
  readonly host: 0 | 1;
  /** The device's own time zone: its clock, calendar and energy statistics are local to it. */
  utcOffsetMinutes: number;
  /** What the cloud offers in `get_intl_fw_list`; undefined = up to date (an empty `fw_list`). */
  availableFirmware: SimFirmware | undefined;
  /** Until when (cloud clock ms) a reboot keeps the device away from the cloud. */
  #rebootingUntil = 0;

  protected abstract readonly missingModule: { err_code: number; err_msg: string };

  constructor(
    readonly identity: DeviceIdentity,
    readonly info: ModelInfo,
    protected readonly env: DeviceEnv,
    opts: { online: boolean; latencyMs: number; host: 0 | 1; utcOffsetMinutes?: number; availableFirmware?: SimFirmware },
  ) {
    this.deviceId = identity.deviceId;
    this.model = identity.model;
    this.utcOffsetMinutes = opts.utcOffsetMinutes ?? 0;
    this.availableFirmware = opts.availableFirmware;
    this.online = opts.online;
    this.latencyMs = opts.latencyMs;
    this.host = opts.host;
  }

  get alias(): string {
    return this.identity.alias;
  }

  set alias(value: string) {
    this.identity.alias = value;
  }

  /** Online in the cloud and not in the middle of a reboot. */
  get reachable(): boolean {
    return this.online && this.env.now() >= this.#rebootingUntil;
  }

  /** The device's local time as ms since the epoch, as if its wall clock were UTC. */
  localNow(): number {
    return this.env.now() + this.utcOffsetMinutes * 60_000;
  }

  /** `reboot {delay}`: the device answers, then is gone for the reboot time (delay validated, not waited for). */
  protected rebootMethod(invalid: DeviceError): Method {
    return (args) => {
      intArg(argObject(args, invalid), 'delay', 0, 60, invalid);
      this.#rebootingUntil = this.env.now() + (this.env.rebootMs ?? 5_000);
      return {};
    };
  }

  abstract sysinfo(): JsonObject;
  abstract setState(patch: Record<string, unknown>): void;
  protected abstract modules(): Record<string, Module>;

  /** Lets time-driven state (countdown rules) catch up with the clock. */
  protected tick(): void {}

  execute(request: JsonObject): JsonObject {
    this.tick();
    const ctx: CallContext = { childIds: parseChildIds(request.context) };
    const modules = this.modules();
    const reply: JsonObject = {};
    for (const [name, body] of Object.entries(request)) {
      if (name === 'context') continue;
      const module = Object.hasOwn(modules, name) ? modules[name] : undefined;
      if (!module) {
        reply[name] = { ...this.missingModule };
        continue;
      }
      if (!isRecord(body)) {
        reply[name] = { ...MEMBER_NOT_SUPPORT };
        continue;
      }
      const answers: JsonObject = {};
      for (const [methodName, args] of Object.entries(body)) {
        const method = Object.hasOwn(module, methodName) ? module[methodName] : undefined;
        answers[methodName] = method ? runMethod(method, args, ctx) : { ...MEMBER_NOT_SUPPORT };
      }
      reply[name] = answers;
    }
    return reply;
  }

  /** The common part of a device-list entry (docs/protocol.md, "Device list"); the server adds appServerUrl and region. */
  listFields(): JsonObject {
    return {
      deviceType: this.info.deviceType,
      role: 0,
      fwVer: this.identity.fwVer,
      deviceId: this.deviceId,
      deviceName: this.identity.deviceName,
      deviceHwVer: this.identity.hwVer,
      alias: this.alias,
      deviceMac: this.identity.mac,
      oemId: this.identity.oemId,
      deviceModel: this.model,
      hwId: this.identity.hwId,
      fwId: '00000000000000000000000000000000',
    };
  }

  protected timeModule(): Module {
    return {
      get_time: () => {
        const d = new Date(this.localNow());
        return {
          year: d.getUTCFullYear(),
          month: d.getUTCMonth() + 1,
          mday: d.getUTCDate(),
          hour: d.getUTCHours(),
          min: d.getUTCMinutes(),
          sec: d.getUTCSeconds(),
        };
      },
      // As captured; the index table is the firmware's, and the bridge reads the offset from get_time.
      get_timezone: () => ({ index: 6 }),
    };
  }

  protected netifModule(): Module {
    return {
      get_stainfo: () => ({ ssid: 'My WiFi Network', key_type: 3, rssi: this.identity.rssi }),
    };
  }

  protected scheduleModule(): Module {
    return {
      get_rules: () => ({ enable: 1, rule_list: [] }),
      get_next_action: () => ({ type: -1 }),
      get_daystat: () => ({ day_list: [] }),
      get_monthstat: () => ({ month_list: [] }),
    };
  }

  /**
   * `cnCloud` on plug-family firmware, `smartlife.iot.common.cloud` on bulbs (each device class
   * registers it under its own name, so the other name is a missing module). Shapes as in
   * python-kasa's fixtures (EP25, KL130(EU), KL430(US) v2), values the simulator's own.
   */
  protected cloudModule(): Module {
    const module: Module = {
      get_info: () => ({
        username: this.env.owner,
        server: 'n-devs.tplinkcloud.com',
        binded: 1,
        cld_connection: 1,
        illegalType: 0,
        stopConnect: 0,
        tcspStatus: 1,
        fwDlPage: '',
        tcspInfo: '',
        fwNotifyType: -1,
      }),
      get_intl_fw_list: () => ({ fw_list: this.availableFirmware ? [this.firmwareEntry(this.availableFirmware)] : [] }),
    };
    if (this.info.noFirmwareList) delete module.get_intl_fw_list;
    return module;
  }

  private firmwareEntry(offer: SimFirmware): JsonObject {
    const file = `${this.model.replace(/\W/g, '')}_${offer.version.replace(/\W+/g, '_')}.bin`;
    return {
      fwType: 1,
      fwVer: offer.version,
      fwUrl: `http://download.tplinkcloud.com/firmware/${file}`,
      fwLocation: 0,
      fwReleaseDate: offer.releaseDate ?? '2026-06-01',
      fwReleaseLog: offer.releaseNotes ?? 'Modifications and Bug Fixes:\n1. Improved stability.',
      // The cloud's own placeholder text for a missing release-notes link.
      fwReleaseLogUrl: 'undefined yet',
      fwTitle: offer.title ?? 'Hi, a new firmware is available for your device.',
    };
  }
}

function runMethod(method: Method, args: unknown, ctx: CallContext): JsonObject {
  try {
    return { ...method(args, ctx), err_code: 0 };
  } catch (err) {
    if (err instanceof DeviceError) return { err_code: err.errCode, err_msg: err.errMsg };
    throw err;
  }
}

function parseChildIds(context: unknown): string[] | undefined {
  if (!isRecord(context) || !Array.isArray(context.child_ids)) return undefined;
  return context.child_ids.filter((id): id is string => typeof id === 'string');
}
