/**
 * SMART (Tapo-protocol) models: what each one answers in `get_device_info` and `component_nego`.
 * Component ids, version codes and the info fields per model follow the shapes of python-kasa's
 * recorded fixtures (`tests/fixtures/smart/<model>_<hw>_<fw>.json`); firmware strings and every
 * value are the simulator's own.
 */

/** What the device is, as far as its SMART methods go. */
export type SmartKind = 'plug' | 'switch' | 'dimmer' | 'bulb' | 'lightstrip' | 'powerstrip';

export interface SmartModel {
  kind: SmartKind;
  /** `model` in get_device_info: the bare name without region or variant (`L530E(US)` → `L530`). */
  infoModel: string;
  /** `avatar` in get_device_info. */
  avatar: string;
  /** Which overheat field the firmware reports: `overheated` (bool) or `overheat_status` ("normal"). */
  overheat: 'overheated' | 'overheat_status' | 'none';
  /** Reports `overcurrent_status` (KP125M, EP25 hw 2.6). */
  overcurrent?: true;
  /** Reports `power_protection_status` (models with the power_protection component). */
  powerProtection?: true;
  /** Has `get_energy_usage`/`get_current_power` (the energy_monitoring component). */
  energy?: true;
  /** Has `get_emeter_data` (KP125M). */
  emeterData?: true;
  /** Has the auto_off component: `auto_off_status`/`auto_off_remain_time` in the info. */
  autoOff?: true;
  /** Colour-temperature range in Kelvin (`color_temp_range`); [9000, 9000] = no white-tuning (L900). */
  kelvin?: readonly [number, number];
  /** Outlets answered by get_child_device_list and control_child (P300). */
  outlets?: number;
  /** component_nego, in the device's order: [id, ver_code]. */
  components: readonly (readonly [string, number])[];
}

const COMMON: readonly (readonly [string, number])[] = [
  ['device', 2],
  ['firmware', 2],
  ['quick_setup', 3],
  ['time', 1],
  ['wireless', 1],
  ['schedule', 2],
  ['countdown', 2],
  ['antitheft', 1],
  ['account', 1],
  ['synchronize', 1],
  ['sunrise_sunset', 1],
];
const CLOUD: readonly (readonly [string, number])[] = [
  ['cloud_connect', 1],
  ['iot_cloud', 1],
  ['device_local_time', 1],
  ['default_states', 1],
];
const ENERGY: readonly (readonly [string, number])[] = [
  ['auto_off', 2],
  ['energy_monitoring', 2],
  ['power_protection', 1],
];

const plugComponents = (extra: readonly (readonly [string, number])[]) => [...COMMON, ['led', 1] as const, ...CLOUD, ...extra];

export const SMART_MODELS: Record<string, SmartModel> = {
  P100: {
    kind: 'plug',
    infoModel: 'P100',
    avatar: 'plug',
    overheat: 'overheated',
    // The older P100 firmware has neither device_local_time nor auto_off.
    components: [...COMMON, ['led', 1], ['cloud_connect', 1], ['iot_cloud', 1], ['default_states', 1]],
  },
  P105: { kind: 'plug', infoModel: 'P105', avatar: 'plug', overheat: 'overheated', components: plugComponents([]) },
  P110: {
    kind: 'plug',
    infoModel: 'P110',
    avatar: 'plug',
    overheat: 'overheated',
    powerProtection: true,
    energy: true,
    autoOff: true,
    components: plugComponents(ENERGY),
  },
  P115: {
    kind: 'plug',
    infoModel: 'P115',
    avatar: 'plug',
    overheat: 'overheated',
    powerProtection: true,
    energy: true,
    autoOff: true,
    components: plugComponents(ENERGY),
  },
  KP125M: {
    kind: 'plug',
    infoModel: 'KP125M',
    avatar: 'plug',
    overheat: 'overheat_status',
    overcurrent: true,
    powerProtection: true,
    energy: true,
    emeterData: true,
    autoOff: true,
    components: plugComponents([...ENERGY, ['matter', 2], ['current_protection', 1]]),
  },
  EP25: {
    kind: 'plug',
    infoModel: 'EP25',
    avatar: 'plug',
    overheat: 'overheated',
    overcurrent: true,
    powerProtection: true,
    energy: true,
    autoOff: true,
    components: plugComponents([...ENERGY, ['homekit', 2], ['current_protection', 1]]),
  },
  P300: {
    kind: 'powerstrip',
    infoModel: 'P300',
    avatar: 'plug',
    overheat: 'none',
    outlets: 3,
    components: plugComponents([['control_child', 2], ['child_device', 2], ['homekit', 2], ['overheat_protection', 1]]),
  },
  KS205: {
    kind: 'switch',
    infoModel: 'KS205',
    avatar: 'switch_s500',
    overheat: 'overheat_status',
    autoOff: true,
    components: plugComponents([['auto_off', 2], ['matter', 2]]),
  },
  KS225: {
    kind: 'dimmer',
    infoModel: 'KS225',
    avatar: 'switch_s500d',
    overheat: 'overheat_status',
    components: [
      ...COMMON,
      ['led', 1],
      ...CLOUD,
      ['brightness', 1],
      ['preset', 1],
      ['on_off_gradually', 2],
      ['dimmer_calibration', 1],
      ['overheat_protection', 1],
      ['matter', 2],
    ],
  },
  // The Kasa remodels of two classic wall switches (HS200 hw 5.26, HS220 hw 3.26).
  HS200: {
    kind: 'switch',
    infoModel: 'HS200',
    avatar: 'switch',
    overheat: 'overheat_status',
    autoOff: true,
    components: [...COMMON, ['led', 3], ...CLOUD, ['auto_off', 2], ['delay_action', 2], ['smart_switch', 1]],
  },
  HS220: {
    kind: 'dimmer',
    infoModel: 'HS220',
    avatar: 'switch',
    overheat: 'overheat_status',
    components: [
      ...COMMON,
      ['led', 3],
      ...CLOUD,
      ['brightness', 1],
      ['preset', 1],
      ['on_off_gradually', 2],
      ['dimmer_calibration', 1],
      ['overheat_protection', 1],
      ['smart_switch', 1],
      ['dimmer_custom_action', 1],
    ],
  },
  L530: {
    kind: 'bulb',
    infoModel: 'L530',
    avatar: 'bulb',
    overheat: 'overheated',
    kelvin: [2500, 6500],
    components: [
      ...COMMON,
      ...CLOUD,
      ['preset', 1],
      ['brightness', 1],
      ['color', 1],
      ['color_temperature', 1],
      ['on_off_gradually', 1],
      ['light_effect', 1],
      ['bulb_quick_control', 1],
    ],
  },
  L900: {
    kind: 'lightstrip',
    infoModel: 'L900',
    avatar: 'light_strip',
    overheat: 'overheated',
    kelvin: [9000, 9000],
    components: [
      ['device', 2],
      ['light_strip', 1],
      ['light_strip_lighting_effect', 2],
      ...COMMON.slice(1),
      ...CLOUD,
      ['brightness', 1],
      ['color_temperature', 1],
      ['preset', 3],
      ['color', 1],
      ['on_off_gradually', 1],
      ['music_rhythm', 3],
      ['bulb_quick_control', 1],
    ],
  },
};
