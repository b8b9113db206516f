import type { DeviceFamily, MeterGeneration } from '../types.js';
import type { JsonObject } from '../util.js';
import {
  argObject,
  colonMac,
  DeviceError,
  intArg,
  plugFamilySysinfo,
  SimDevice,
  type DeviceEnv,
  type DeviceIdentity,
  type Module,
} from './base.js';
import { CountdownRules } from './countdown.js';
import { Meter } from './meter.js';
import { mainsVoltage, type ModelInfo } from './models.js';

export const INVALID_ARGUMENT = new DeviceError(-3, 'invalid argument');

export interface RelayOptions {
  online: boolean;
  latencyMs: number;
  host: 0 | 1;
  meter?: MeterGeneration;
  on?: boolean;
  brightness?: number;
}

/** Plugs, wall switches and dimmers: one relay, optionally an energy meter or a dimmer module. */
export class RelayDevice extends SimDevice {
  readonly family: DeviceFamily;
  protected readonly missingModule = { err_code: -1, err_msg: 'module not support' };
  private on: boolean;
  private onSince: number;
  private ledOff = false;
  private brightness: number;
  readonly meter: Meter | undefined;
  readonly meterGeneration: MeterGeneration | undefined;
  readonly countdown: CountdownRules;

  constructor(identity: DeviceIdentity, info: ModelInfo, env: DeviceEnv, opts: RelayOptions) {
    super(identity, info, env, opts);
    this.countdown = new CountdownRules(env.now, (on) => this.setRelay(on));
    this.family = info.family;
    this.on = opts.on ?? false;
    this.onSince = env.now();
    this.brightness = opts.brightness ?? 80;
    this.meterGeneration = info.meter ? (opts.meter ?? info.meter) : undefined;
    this.meter = this.meterGeneration
      ? switchedMeter(identity.deviceId, mainsVoltage(identity.model), () => this.on, () => this.localNow())
      : undefined;
  }

  protected override tick(): void {
    this.countdown.tick();
  }

  sysinfo(): JsonObject {
    this.tick();
    const id = this.identity;
    const onTime = this.on ? Math.floor((this.env.now() - this.onSince) / 1000) : 0;
    const feature = this.meter ? 'TIM:ENE' : 'TIM';
    if (this.meterGeneration === 'old') {
      // Old firmware (HS110 v1): `type`, float lat/long and fwId instead of the newer names.
      return {
        sw_ver: id.fwVer,
        hw_ver: id.hwVer,
        type: this.info.deviceType,
        model: id.model,
        mac: colonMac(id.mac),
        deviceId: id.deviceId,
        hwId: id.hwId,
        fwId: '00000000000000000000000000000000',
        oemId: id.oemId,
        alias: id.alias,
        dev_name: id.deviceName,
        icon_hash: '',
        relay_state: this.on ? 1 : 0,
        on_time: onTime,
        active_mode: 'none',
        feature,
        updating: 0,
        rssi: id.rssi,
        led_off: this.ledOff ? 1 : 0,
        latitude: 22.5431,
        longitude: 114.0579,
        err_code: 0,
      };
    }
    return {
      ...plugFamilySysinfo(id, this.info.deviceType, feature, this.ledOff),
      relay_state: this.on ? 1 : 0,
      on_time: onTime,
      ...(this.family === 'dimmer'
        ? {
            brightness: this.brightness,
            preferred_state: [25, 50, 75, 100].map((b, index) => ({ index, brightness: b })),
            ...(id.model.startsWith('KS230') ? { dc_state: 0 } : {}),
          }
        : {}),
      icon_hash: '',
      dev_name: id.deviceName,
      active_mode: 'none',
      next_action: { type: -1 },
      ntc_state: 0,
      err_code: 0,
    };
  }

  setState(patch: Record<string, unknown>): void {
    this.tick();
    this.meter?.accrue();
    if (typeof patch.on === 'boolean') this.setRelay(patch.on);
    if (typeof patch.led === 'boolean') this.ledOff = !patch.led;
    if (typeof patch.alias === 'string') this.alias = patch.alias;
    if (typeof patch.brightness === 'number' && this.family === 'dimmer') this.brightness = patch.brightness;
    if (this.meter) applyMeterPatch(this.meter, patch);
  }

  protected modules(): Record<string, Module> {
    const modules: Record<string, Module> = {
      system: {
        get_sysinfo: () => this.sysinfo(),
        set_relay_state: (args) => {
          const state = intArg(argObject(args, INVALID_ARGUMENT), 'state', 0, 1, INVALID_ARGUMENT);
          if (state === undefined) throw INVALID_ARGUMENT;
          this.setRelay(state === 1);
          return {};
        },
        set_led_off: (args) => {
          const off = intArg(argObject(args, INVALID_ARGUMENT), 'off', 0, 1, INVALID_ARGUMENT);
          if (off === undefined) throw INVALID_ARGUMENT;
          this.ledOff = off === 1;
          return {};
        },
        set_dev_alias: (args) => {
          const alias = argObject(args, INVALID_ARGUMENT).alias;
          if (typeof alias !== 'string' || alias.length === 0 || alias.length > 31) throw INVALID_ARGUMENT;
          this.alias = alias;
          return {};
        },
        reboot: this.rebootMethod(INVALID_ARGUMENT),
      },
      time: this.timeModule(),
      netif: this.netifModule(),
      schedule: this.scheduleModule(),
      cnCloud: this.cloudModule(),
      count_down: this.countdown.module(),
    };
    if (this.meter && this.meterGeneration) modules.emeter = meterModule(this.meter, this.meterGeneration, () => ({}));
    if (this.family === 'dimmer') modules['smartlife.iot.dimmer'] = this.dimmerModule();
    return modules;
  }

  private setRelay(on: boolean): void {
    this.meter?.accrue();
    if (on && !this.on) this.onSince = this.env.now();
    this.on = on;
  }

  private dimmerModule(): Module {
    return {
      set_brightness: (args) => {
        // Dimmers reject 0 (python-kasa coerces it to 1 for that reason).
        const brightness = intArg(argObject(args, INVALID_ARGUMENT), 'brightness', 1, 100, INVALID_ARGUMENT);
        if (brightness === undefined) throw INVALID_ARGUMENT;
        this.brightness = brightness;
        return {};
      },
      set_dimmer_transition: (args) => {
        const a = argObject(args, INVALID_ARGUMENT);
        const brightness = intArg(a, 'brightness', 0, 100, INVALID_ARGUMENT);
        intArg(a, 'duration', 0, 60_000, INVALID_ARGUMENT);
        if (brightness === undefined) throw INVALID_ARGUMENT;
        if (brightness === 0) {
          this.setRelay(false);
        } else {
          this.brightness = brightness;
          this.setRelay(true);
        }
        return {};
      },
      get_dimmer_parameters: () => ({
        minThreshold: 11,
        fadeOnTime: 1000,
        fadeOffTime: 1000,
        gentleOnTime: 3000,
        gentleOffTime: 10000,
        rampRate: 30,
        bulb_type: 1,
      }),
      get_default_behavior: () => ({
        double_click: { mode: 'none' },
        long_press: { mode: 'instant_on_off' },
        hard_on: { mode: 'last_status' },
        soft_on: { mode: 'last_status' },
      }),
      set_double_click_action: () => ({}),
      set_long_press_action: () => ({}),
      set_fade_on_time: () => ({}),
      set_fade_off_time: () => ({}),
      set_gentle_on_time: () => ({}),
      set_gentle_off_time: () => ({}),
    };
  }
}

/** A meter drawing its load while `isOn()`, nothing otherwise. */
export function switchedMeter(seed: string, voltage: number, isOn: () => boolean, now: () => number): Meter {
  const meter: Meter = new Meter(seed, voltage, () => (isOn() ? meter.loadW : 0), now);
  return meter;
}

/** `emeter` for plugs and HS300 outlets; `extra` adds per-answer fields such as `slot_id`. */
export function meterModule(meter: Meter, generation: MeterGeneration, extra: () => JsonObject): Module {
  const yearArg = (args: unknown): JsonObject => {
    const a = argObject(args, INVALID_ARGUMENT);
    if (intArg(a, 'year', 2000, 2100, INVALID_ARGUMENT) === undefined) throw INVALID_ARGUMENT;
    return a;
  };
  return {
    get_realtime: () => ({ ...meter.realtime(generation), ...extra() }),
    get_daystat: (args) => {
      const a = yearArg(args);
      const month = intArg(a, 'month', 1, 12, INVALID_ARGUMENT);
      if (month === undefined) throw INVALID_ARGUMENT;
      return meter.daystat(generation, a.year as number, month);
    },
    get_monthstat: (args) => meter.monthstat(generation, yearArg(args).year as number),
    erase_emeter_stat: () => {
      meter.erase();
      return {};
    },
    get_vgain_igain: () => ({ vgain: 13462, igain: 16835 }),
  };
}

export function applyMeterPatch(meter: Meter, patch: Record<string, unknown>): void {
  const num = (k: string): number | undefined => (typeof patch[k] === 'number' ? patch[k] : undefined);
  const voltage = num('voltage_v');
  const current = num('current_a');
  const power = num('power_w') ?? (current !== undefined ? current * (voltage ?? meter.voltageV) : undefined);
  const total = num('total_kwh');
  meter.set({
    ...(power !== undefined ? { power_w: power } : {}),
    ...(voltage !== undefined ? { voltage_v: voltage } : {}),
    ...(total !== undefined ? { total_kwh: total } : {}),
  });
}
