import { seededUnit, type JsonObject } from '../../util.js';
import { SimDevice, type DeviceEnv, type DeviceIdentity, type Module } from '../base.js';
import { Meter } from '../meter.js';
import { mainsVoltage, type ModelInfo } from '../models.js';
import type { SimFirmware, SmartTransport } from '../../types.js';
import type { SmartModel } from './models.js';
import { answerOne, paramsError, SmartError, SmartCode, withMultipleRequest, type SmartMethod } from './protocol.js';
import { applyLight, checkSettable, decodeNickname, encodeNickname, intIn, type LightState, type SettableKey } from './state.js';
import { ShadowState } from './shadow.js';

const SSID = encodeNickname('My WiFi Network');

export interface SmartOptions {
  online: boolean;
  latencyMs: number;
  host: 0 | 1;
  utcOffsetMinutes?: number;
  availableFirmware?: SimFirmware;
}

/** One outlet of a power strip (P300): a child device addressed through `control_child`. */
class Outlet {
  on = false;
  onSince = 0;
  constructor(
    readonly deviceId: string,
    readonly position: number,
    public alias: string,
  ) {}
}

/**
 * A device on the SMART (Tapo) protocol: Tapo plugs, bulbs and strips, and the Kasa "remodels"
 * (KS205, KS225, KP125M, EP25 hw 2.6). The classic Kasa passthrough cannot reach it (-20571);
 * it answers SMART requests through the Tapo passthrough and keeps a thing shadow for the app
 * server. State per model as in ./models.ts.
 */
export class SmartDevice extends SimDevice {
  readonly family = 'smart' as const;
  protected readonly missingModule = { err_code: -1, err_msg: 'module not support' };
  readonly smart: SmartModel;
  private on = false;
  private onSince: number;
  private light: LightState;
  private readonly outlets: Outlet[];
  readonly meter: Meter | undefined;
  readonly shadow: ShadowState;
  /** Transports on which the device has stopped answering (requests wait until it answers again). */
  private readonly silent = new Set<SmartTransport>();
  private readonly waiters = new Set<() => void>();

  constructor(identity: DeviceIdentity, info: ModelInfo, env: DeviceEnv, opts: SmartOptions) {
    super(identity, info, env, opts);
    if (!info.smart) throw new Error(`${identity.model} is not a SMART model`);
    this.smart = info.smart;
    this.onSince = env.now();
    this.light = { brightness: 80, hue: 0, saturation: 100, colorTemp: this.smart.kelvin?.[0] ?? 0 };
    this.outlets = Array.from(
      { length: this.smart.outlets ?? 0 },
      (_, i) => new Outlet(`${identity.deviceId}${String(i).padStart(2, '0')}`, i + 1, `Outlet ${i + 1}`),
    );
    this.meter = this.smart.energy
      ? ((): Meter => {
          const meter: Meter = new Meter(identity.deviceId, mainsVoltage(identity.model), () => (this.on ? meter.loadW : 0), () => this.localNow());
          return meter;
        })()
      : undefined;
    this.shadow = new ShadowState(1 + Math.floor(seededUnit(`${identity.deviceId}:shadow`) * 200), () => this.reported());
  }

  /** The device list shows the nickname base64-encoded, as the Tapo app stores it. */
  override listFields(): JsonObject {
    return { ...super.listFields(), alias: encodeNickname(this.alias) };
  }

  /** `get_device_info` as the device would answer now. */
  sysinfo(): JsonObject {
    return this.deviceInfo();
  }

  setState(patch: Record<string, unknown>): void {
    if (typeof patch.outlet === 'number') {
      const outlet = this.outlets[patch.outlet];
      if (!outlet) throw new Error(`${this.model} has no outlet ${patch.outlet}`);
      if (typeof patch.on === 'boolean') this.switchOutlet(outlet, patch.on);
      if (typeof patch.alias === 'string') outlet.alias = patch.alias;
      return;
    }
    if (typeof patch.alias === 'string') this.alias = patch.alias;
    if (this.meter && (typeof patch.power_w === 'number' || typeof patch.voltage_v === 'number')) {
      this.meter.set({
        ...(typeof patch.power_w === 'number' ? { power_w: patch.power_w } : {}),
        ...(typeof patch.voltage_v === 'number' ? { voltage_v: patch.voltage_v } : {}),
      });
    }
    const light: JsonObject = {};
    for (const key of ['brightness', 'hue', 'saturation', 'color_temp'] as const) if (typeof patch[key] === 'number') light[key] = patch[key];
    if (Object.keys(light).length > 0) this.light = applyLight(this.light, light, this.smart.kelvin);
    if (typeof patch.on === 'boolean') this.switchTo(patch.on);
  }

  protected modules(): Record<string, Module> {
    return {};
  }

  /** Answers one SMART request (`{method, params?}`, multipleRequest included). */
  smartRequest(request: JsonObject): JsonObject {
    return answerOne(withMultipleRequest(this.methods()), request);
  }

  /** Whether this device answers on `transport` now. */
  answersOn(transport: SmartTransport): boolean {
    return !this.silent.has(transport);
  }

  /** Stops (or resumes) answering on a transport; held requests are answered on resume. */
  setAnswering(transport: SmartTransport, answering: boolean): void {
    if (answering) this.silent.delete(transport);
    else this.silent.add(transport);
    if (answering) for (const wake of [...this.waiters]) wake();
  }

  /** Resolves once the device answers on `transport` again (or `release` is called, at stop). */
  untilAnswering(transport: SmartTransport, release: Promise<void>): Promise<void> {
    if (this.answersOn(transport)) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        if (!this.answersOn(transport)) return;
        this.waiters.delete(wake);
        resolve();
      };
      this.waiters.add(wake);
      void release.then(() => {
        this.waiters.delete(wake);
        resolve();
      });
    });
  }

  /** What the shadow reports: `on` for devices with one relay or light; nothing for a strip's parent. */
  private reported(): JsonObject {
    return this.smart.kind === 'powerstrip' ? {} : { on: this.on };
  }

  /** A shadow write of `desired.on` switches the device as the app would. */
  applyDesired(on: boolean): void {
    this.switchTo(on);
  }

  private switchTo(on: boolean): void {
    this.meter?.accrue();
    if (on && !this.on) this.onSince = this.env.now();
    this.on = on;
  }

  private switchOutlet(outlet: Outlet, on: boolean): void {
    if (on && !outlet.on) outlet.onSince = this.env.now();
    outlet.on = on;
  }

  private onTime(on: boolean, since: number): number {
    return on ? Math.floor((this.env.now() - since) / 1000) : 0;
  }

  private methods(): Record<string, SmartMethod> {
    const m: Record<string, SmartMethod> = {
      get_device_info: () => this.deviceInfo(),
      set_device_info: (params) => {
        this.setDeviceInfo(params);
        return undefined;
      },
      component_nego: () => ({ component_list: this.smart.components.map(([id, ver_code]) => ({ id, ver_code })) }),
      get_device_time: () => ({
        time_diff: this.utcOffsetMinutes,
        timestamp: Math.floor(this.env.now() / 1000),
        region: this.region(),
      }),
    };
    if (this.meter) {
      m.get_energy_usage = () => this.energyUsage();
      m.get_current_power = () => ({ current_power: Math.round(this.meter!.powerW()) });
    }
    if (this.smart.emeterData) m.get_emeter_data = () => this.emeterData();
    if (this.outlets.length > 0) {
      m.get_child_device_list = (params) => this.childList(params);
      m.get_child_device_component_list = () => ({
        child_component_list: this.outlets.map((o) => ({ device_id: o.deviceId, component_list: OUTLET_COMPONENTS.map(([id, ver_code]) => ({ id, ver_code })) })),
        start_index: 0,
        sum: this.outlets.length,
      });
      m.control_child = (params) => this.controlChild(params);
    }
    return m;
  }

  private settableKeys(): SettableKey[] {
    switch (this.smart.kind) {
      case 'powerstrip':
        return ['nickname'];
      case 'dimmer':
        return ['device_on', 'nickname', 'brightness'];
      case 'bulb':
      case 'lightstrip':
        return ['device_on', 'nickname', 'brightness', 'hue', 'saturation', 'color_temp'];
      case 'plug':
      case 'switch':
        return ['device_on', 'nickname'];
    }
  }

  private setDeviceInfo(raw: JsonObject | undefined): void {
    const params = checkSettable(raw, this.settableKeys());
    const alias = 'nickname' in params ? decodeNickname(params.nickname) : undefined;
    const isLight = this.smart.kind === 'bulb' || this.smart.kind === 'lightstrip' || this.smart.kind === 'dimmer';
    const light = isLight ? applyLight(this.light, params, this.smart.kelvin) : this.light;
    this.light = light;
    if (alias !== undefined) this.alias = alias;
    if (typeof params.device_on === 'boolean') this.switchTo(params.device_on);
  }

  private region(): string {
    if (this.utcOffsetMinutes === 0) return 'UTC';
    // IANA's Etc/GMT zones carry the opposite sign (Etc/GMT+10 is UTC-10).
    const hours = Math.round(-this.utcOffsetMinutes / 60);
    return `Etc/GMT${hours >= 0 ? '+' : ''}${hours}`;
  }

  private signalLevel(): number {
    const rssi = this.identity.rssi;
    return rssi >= -50 ? 3 : rssi >= -65 ? 2 : 1;
  }

  /** The fields every SMART device answers (python-kasa fixtures' get_device_info), values our own. */
  private commonInfo(): JsonObject {
    const id = this.identity;
    const octet = 10 + Math.floor(seededUnit(`${id.deviceId}:ip`) * 200);
    return {
      device_id: id.deviceId,
      fw_ver: id.fwVer,
      hw_ver: id.hwVer,
      type: this.info.deviceType,
      model: this.smart.infoModel,
      mac: id.mac.match(/../g)?.join('-') ?? id.mac,
      hw_id: id.hwId,
      fw_id: '00000000000000000000000000000000',
      oem_id: id.oemId,
      ip: `192.0.2.${octet}`,
      time_diff: this.utcOffsetMinutes,
      ssid: SSID,
      rssi: id.rssi,
      signal_level: this.signalLevel(),
      latitude: 0,
      longitude: 0,
      lang: 'en_US',
      avatar: this.smart.avatar,
      region: this.region(),
      specs: '',
      nickname: encodeNickname(this.alias),
      has_set_location_info: false,
    };
  }

  private deviceInfo(): JsonObject {
    const info = this.commonInfo();
    const smart = this.smart;
    if (smart.kind === 'powerstrip') return info;
    info.device_on = this.on;
    if (smart.kind !== 'bulb' && smart.kind !== 'lightstrip') info.on_time = this.onTime(this.on, this.onSince);
    if (smart.overheat === 'overheated') info.overheated = false;
    if (smart.overheat === 'overheat_status') info.overheat_status = 'normal';
    if (smart.overcurrent) info.overcurrent_status = 'normal';
    if (smart.powerProtection) info.power_protection_status = 'normal';
    if (smart.autoOff) {
      info.auto_off_status = 'off';
      info.auto_off_remain_time = 0;
    }
    const lightState = { brightness: this.light.brightness, hue: this.light.hue, saturation: this.light.saturation, color_temp: this.light.colorTemp };
    switch (smart.kind) {
      case 'dimmer':
        info.brightness = this.light.brightness;
        info.default_states = { re_power_type: 'always_off', re_power_type_capability: ['last_states', 'always_on', 'always_off'], type: 'last_states' };
        break;
      case 'bulb':
      case 'lightstrip':
        Object.assign(info, lightState, { color_temp_range: [...(smart.kelvin ?? [0, 0])] });
        info.default_states = { re_power_type: 'always_on', state: lightState, type: 'last_states' };
        if (smart.kind === 'bulb') info.dynamic_light_effect_enable = false;
        else Object.assign(info, { music_rhythm_enable: false, music_rhythm_mode: 'single_lamp' });
        break;
      case 'plug':
      case 'switch':
        info.default_states = { state: {}, type: 'last_states' };
    }
    return info;
  }

  /** get_energy_usage: power in mW, energy in Wh, runtime in minutes, on the device's calendar. */
  private energyUsage(): JsonObject {
    const meter = this.meter!;
    const local = new Date(this.localNow());
    const days = meter.daystat('new', local.getUTCFullYear(), local.getUTCMonth() + 1).day_list as { day: number; energy_wh: number }[];
    const todayWh = days.find((d) => d.day === local.getUTCDate())?.energy_wh ?? 0;
    const monthWh = days.reduce((sum, d) => sum + d.energy_wh, 0);
    const minutesAt = (wh: number): number => (meter.loadW > 0 ? Math.round((wh / meter.loadW) * 60) : 0);
    return {
      today_runtime: minutesAt(todayWh),
      month_runtime: minutesAt(monthWh),
      today_energy: todayWh,
      month_energy: monthWh,
      local_time: local.toISOString().slice(0, 19).replace('T', ' '),
      electricity_charge: [0, 0, 0],
      current_power: Math.round(meter.powerW() * 1000),
    };
  }

  /** get_emeter_data (KP125M): the IOT-style realtime units. */
  private emeterData(): JsonObject {
    const meter = this.meter!;
    const usage = this.energyUsage();
    return {
      current_ma: Math.round(meter.currentA() * 1000),
      energy_wh: usage.month_energy,
      power_mw: Math.round(meter.powerW() * 1000),
      voltage_mv: Math.round(meter.voltageV * 1000),
    };
  }

  private outletInfo(outlet: Outlet): JsonObject {
    const id = this.identity;
    return {
      avatar: '',
      bind_count: 1,
      category: 'plug.powerstrip.sub-plug',
      default_states: { type: 'last_states' },
      device_id: outlet.deviceId,
      device_on: outlet.on,
      fw_id: '00000000000000000000000000000000',
      fw_ver: id.fwVer,
      has_set_location_info: false,
      hw_id: id.hwId,
      hw_ver: id.hwVer,
      latitude: 0,
      longitude: 0,
      mac: id.mac,
      model: this.smart.infoModel,
      nickname: encodeNickname(outlet.alias),
      oem_id: id.oemId,
      on_time: this.onTime(outlet.on, outlet.onSince),
      original_device_id: id.deviceId,
      overheat_status: 'normal',
      position: outlet.position,
      region: this.region(),
      slot_number: this.outlets.length,
      status_follow_edge: true,
      type: this.info.deviceType,
    };
  }

  private childList(params: JsonObject | undefined): JsonObject {
    const start = params?.start_index === undefined ? 0 : intIn(params.start_index, 0, this.outlets.length);
    return {
      child_device_list: this.outlets.slice(start).map((o) => this.outletInfo(o)),
      start_index: start,
      sum: this.outlets.length,
    };
  }

  /** `control_child {device_id, requestData:{method, params?}}` → `{responseData:{error_code, result?}}`. */
  private controlChild(params: JsonObject | undefined): JsonObject {
    const outlet = this.outlets.find((o) => o.deviceId === params?.device_id);
    const request = params?.requestData;
    if (!outlet || typeof request !== 'object' || request === null || Array.isArray(request)) throw paramsError();
    const methods = withMultipleRequest({
      get_device_info: () => this.outletInfo(outlet),
      set_device_info: (p) => {
        const checked = checkSettable(p, ['device_on', 'nickname']);
        const alias = 'nickname' in checked ? decodeNickname(checked.nickname) : undefined;
        if (alias !== undefined) outlet.alias = alias;
        if (typeof checked.device_on === 'boolean') this.switchOutlet(outlet, checked.device_on);
        return undefined;
      },
    });
    return { responseData: answerOne(methods, request) };
  }
}

/** What each P300 outlet lists in get_child_device_component_list. */
const OUTLET_COMPONENTS: readonly (readonly [string, number])[] = [
  ['device', 2],
  ['quick_setup', 3],
  ['time', 1],
  ['device_local_time', 1],
  ['schedule', 2],
  ['countdown', 2],
  ['antitheft', 1],
  ['account', 1],
  ['synchronize', 1],
  ['sunrise_sunset', 1],
  ['cloud_connect', 1],
  ['iot_cloud', 1],
  ['firmware', 2],
  ['default_states', 1],
  ['overheat_protection', 1],
];

export { SmartError, SmartCode };
