import type { JsonObject } from '../util.js';
import {
  argObject,
  DeviceError,
  intArg,
  SimDevice,
  type DeviceEnv,
  type DeviceIdentity,
  type Module,
} from './base.js';
import { Meter } from './meter.js';
import type { ModelInfo } from './models.js';
import { INVALID_ARGUMENT } from './plug.js';

/** Bulb firmware's answer to arguments it cannot apply. */
const INVALID_INPUT = new DeviceError(-10000, 'Invalid input argument');

export interface LightState {
  on: boolean;
  hue: number;
  saturation: number;
  color_temp: number;
  brightness: number;
}

export interface LightOptions {
  online: boolean;
  latencyMs: number;
  host: 0 | 1;
  state?: Partial<LightState>;
}

const STRIP_LENGTH = 16;

/**
 * Bulbs (`smartlife.iot.smartbulb.lightingservice`) and light strips (`smartlife.iot.lightStrip`,
 * setter `set_light_state`). Each answers -2001 for the other's lighting module (docs/protocol.md, "Passthrough").
 */
export class LightDevice extends SimDevice {
  readonly family: 'bulb' | 'lightstrip';
  protected readonly missingModule = { err_code: -2001, err_msg: 'Module not support' };
  private readonly state: LightState;
  private effect: { name: string; id: string; brightness: number } | undefined;
  readonly meter: Meter;

  constructor(identity: DeviceIdentity, info: ModelInfo, env: DeviceEnv, opts: LightOptions) {
    super(identity, info, env, opts);
    this.family = info.family === 'lightstrip' ? 'lightstrip' : 'bulb';
    this.state = {
      on: false,
      hue: 0,
      saturation: 0,
      color_temp: info.kelvin ? Math.min(Math.max(2700, info.kelvin[0]), info.kelvin[1]) : 2700,
      brightness: 80,
      ...opts.state,
    };
    const maxW = this.family === 'lightstrip' ? 18 : 10;
    this.meter = new Meter(
      identity.deviceId,
      0,
      () => (this.state.on ? 0.6 + (maxW * this.state.brightness) / 100 : 0),
      () => this.localNow(),
    );
  }

  get isColor(): boolean {
    return this.info.color === true;
  }

  get isVariableColorTemp(): boolean {
    return this.info.kelvin !== undefined;
  }

  lightState(): JsonObject {
    const { on, ...values } = this.state;
    const settings = { mode: 'normal', ...values };
    return on ? { on_off: 1, ...settings } : { on_off: 0, dft_on_state: settings };
  }

  sysinfo(): JsonObject {
    const id = this.identity;
    return {
      sw_ver: id.fwVer,
      hw_ver: id.hwVer,
      model: id.model,
      description: id.deviceName,
      alias: id.alias,
      mic_type: this.info.deviceType,
      dev_state: 'normal',
      mic_mac: id.mac,
      deviceId: id.deviceId,
      oemId: id.oemId,
      hwId: id.hwId,
      is_factory: false,
      disco_ver: '1.0',
      ctrl_protocols: { name: 'Linkie', version: '1.0' },
      light_state: this.lightState(),
      is_dimmable: 1,
      is_color: this.isColor ? 1 : 0,
      is_variable_color_temp: this.isVariableColorTemp ? 1 : 0,
      preferred_state: [
        { index: 0, hue: 0, saturation: 0, color_temp: this.state.color_temp, brightness: 50 },
        { index: 1, hue: 0, saturation: 75, color_temp: 0, brightness: 100 },
      ],
      ...(this.family === 'lightstrip'
        ? {
            length: STRIP_LENGTH,
            LEF: 1,
            lighting_effect_state: {
              enable: this.effect ? 1 : 0,
              name: this.effect?.name ?? 'station',
              id: this.effect?.id ?? '',
              brightness: this.effect?.brightness ?? 100,
              custom: 0,
            },
          }
        : {}),
      rssi: id.rssi,
      active_mode: 'none',
      heapsize: 305252,
      err_code: 0,
    };
  }

  setState(patch: Record<string, unknown>): void {
    this.meter.accrue();
    if (typeof patch.alias === 'string') this.alias = patch.alias;
    if (typeof patch.on === 'boolean') this.state.on = patch.on;
    for (const key of ['brightness', 'hue', 'saturation', 'color_temp'] as const) {
      const value = patch[key];
      if (typeof value === 'number') this.state[key] = value;
    }
    if (typeof patch.power_w === 'number') this.meter.set({ power_w: patch.power_w });
  }

  protected modules(): Record<string, Module> {
    const alias: Module = {
      set_dev_alias: (args) => {
        const value = argObject(args, INVALID_ARGUMENT).alias;
        if (typeof value !== 'string' || value.length === 0 || value.length > 31) throw INVALID_INPUT;
        this.alias = value;
        return {};
      },
      reboot: this.rebootMethod(INVALID_INPUT),
    };
    const modules: Record<string, Module> = {
      system: { get_sysinfo: () => this.sysinfo(), ...alias },
      'smartlife.iot.common.system': alias,
      'smartlife.iot.common.emeter': {
        get_realtime: () => this.meter.bulbRealtime(),
        get_daystat: (args) => {
          const a = argObject(args, INVALID_INPUT);
          const year = intArg(a, 'year', 2000, 2100, INVALID_INPUT);
          const month = intArg(a, 'month', 1, 12, INVALID_INPUT);
          if (year === undefined || month === undefined) throw INVALID_INPUT;
          return this.meter.daystat('new', year, month);
        },
        get_monthstat: (args) => {
          const year = intArg(argObject(args, INVALID_INPUT), 'year', 2000, 2100, INVALID_INPUT);
          if (year === undefined) throw INVALID_INPUT;
          return this.meter.monthstat('new', year);
        },
        erase_emeter_stat: () => {
          this.meter.erase();
          return {};
        },
      },
      'smartlife.iot.common.timesetting': this.timeModule(),
      'smartlife.iot.common.schedule': this.scheduleModule(),
      'smartlife.iot.common.cloud': this.cloudModule(),
      netif: this.netifModule(),
    };
    if (this.family === 'bulb') {
      modules['smartlife.iot.smartbulb.lightingservice'] = {
        get_light_state: () => this.lightState(),
        transition_light_state: (args) => {
          this.apply(argObject(args, INVALID_INPUT));
          return this.lightState();
        },
        get_default_behavior: () => ({ soft_on: { mode: 'last_status' }, hard_on: { mode: 'last_status' } }),
      };
    } else {
      modules['smartlife.iot.lightStrip'] = {
        get_light_state: () => this.stripLightState(),
        set_light_state: (args) => {
          this.apply(argObject(args, INVALID_INPUT));
          this.effect = undefined;
          return this.stripLightState();
        },
      };
      modules['smartlife.iot.lighting_effect'] = { set_lighting_effect: (args) => this.setEffect(argObject(args, INVALID_INPUT)) };
    }
    return modules;
  }

  /**
   * `set_lighting_effect`: `{enable: 0}` stops the running effect; an effect definition (name,
   * type `sequence`/`random`, brightness, …) starts it and switches the strip on.
   */
  private setEffect(args: JsonObject): JsonObject {
    const enable = intArg(args, 'enable', 0, 1, INVALID_INPUT);
    if (enable === undefined) throw INVALID_INPUT;
    if (enable === 0) {
      this.effect = undefined;
      return {};
    }
    const { name, type, id } = args;
    const brightness = intArg(args, 'brightness', 0, 100, INVALID_INPUT);
    if (typeof name !== 'string' || name.length === 0 || (type !== 'sequence' && type !== 'random')) throw INVALID_INPUT;
    if (!Array.isArray(args.segments)) throw INVALID_INPUT;
    this.meter.accrue();
    this.effect = { name, id: typeof id === 'string' ? id : '', brightness: brightness ?? 100 };
    this.state.on = true;
    return {};
  }

  private stripLightState(): JsonObject {
    const s = this.state;
    return {
      ...this.lightState(),
      length: STRIP_LENGTH,
      transition: 500,
      groups: [[0, STRIP_LENGTH - 1, s.hue, s.saturation, s.brightness, s.color_temp]],
    };
  }

  /** Validates everything first, then applies: a rejected request changes nothing. */
  private apply(args: JsonObject): void {
    const onOff = intArg(args, 'on_off', 0, 1, INVALID_INPUT);
    const brightness = intArg(args, 'brightness', 0, 100, INVALID_INPUT);
    const hue = intArg(args, 'hue', 0, 360, INVALID_INPUT);
    const saturation = intArg(args, 'saturation', 0, 100, INVALID_INPUT);
    const colorTemp = intArg(args, 'color_temp', 0, 9000, INVALID_INPUT);
    intArg(args, 'transition_period', 0, 3_600_000, INVALID_INPUT);
    intArg(args, 'ignore_default', 0, 1, INVALID_INPUT);
    if (args.mode !== undefined && args.mode !== 'normal') throw INVALID_INPUT;
    if ((hue !== undefined || saturation !== undefined) && !this.isColor) throw INVALID_INPUT;
    if (colorTemp !== undefined && colorTemp !== 0) {
      const range = this.info.kelvin;
      if (!range || colorTemp < range[0] || colorTemp > range[1]) throw INVALID_INPUT;
    }
    if (colorTemp === 0 && this.isVariableColorTemp && !this.isColor) throw INVALID_INPUT;

    this.meter.accrue();
    const s = this.state;
    if (hue !== undefined) s.hue = hue;
    if (saturation !== undefined) s.saturation = saturation;
    if (colorTemp !== undefined) s.color_temp = colorTemp;
    else if ((hue !== undefined || saturation !== undefined) && this.isColor) s.color_temp = 0;
    const lightValueGiven = [brightness, hue, saturation, colorTemp].some((v) => v !== undefined);
    if (brightness === 0) s.on = false; // brightness 0 switches a bulb off and keeps the old level
    else if (brightness !== undefined) s.brightness = brightness;
    if (onOff !== undefined) s.on = onOff === 1;
    else if (lightValueGiven && brightness !== 0) s.on = true;
  }
}
