import type { DeviceFamily, MeterGeneration } from '../types.js';
import { SMART_MODELS, type SmartModel } from './smart/models.js';

export interface ModelInfo {
  family: DeviceFamily;
  deviceType: string;
  deviceName: string;
  hwVer: string;
  fwVer: string;
  /** Metered models and the generation of field names their firmware answers with. */
  meter?: MeterGeneration;
  outlets?: number;
  /** Bulbs: Kelvin range when the colour temperature is variable (docs/protocol.md, "Passthrough"). */
  kelvin?: readonly [number, number];
  color?: boolean;
  /**
   * The firmware has no `get_intl_fw_list` in its cloud module (answers -2). No capture says which
   * models lack it; two old ones are given none so a bridge meets the answer.
   */
  noFirmwareList?: true;
  /** SMART (Tapo-protocol) models: what the device answers (family `smart`). */
  smart?: SmartModel;
}

const PLUG = 'IOT.SMARTPLUGSWITCH';
const BULB = 'IOT.SMARTBULB';

const plug = (deviceName: string, fwVer: string, meter?: MeterGeneration): ModelInfo => ({
  family: 'plug',
  deviceType: PLUG,
  deviceName,
  hwVer: '1.0',
  fwVer,
  ...(meter ? { meter } : {}),
});
const sw = (family: 'switch' | 'dimmer', deviceName: string, fwVer: string): ModelInfo => ({
  family,
  deviceType: PLUG,
  deviceName,
  hwVer: '2.0',
  fwVer,
});
const strip = (deviceName: string, outlets: number, meter?: MeterGeneration): ModelInfo => ({
  family: 'strip',
  deviceType: PLUG,
  deviceName,
  hwVer: '1.0',
  fwVer: '1.0.19 Build 200224 Rel.090814',
  outlets,
  ...(meter ? { meter } : {}),
});
const light = (
  family: 'bulb' | 'lightstrip',
  deviceName: string,
  kelvin?: readonly [number, number],
  color = false,
): ModelInfo => ({
  family,
  deviceType: BULB,
  deviceName,
  hwVer: family === 'lightstrip' ? '2.0' : '1.0',
  fwVer: family === 'lightstrip' ? '1.0.8 Build 210121 Rel.084339' : '1.8.11 Build 191113 Rel.105336',
  ...(kelvin ? { kelvin } : {}),
  color,
});
const smart = (deviceType: string, deviceName: string, model: string, hwVer: string, fwVer: string): ModelInfo => {
  const smartModel = SMART_MODELS[model];
  if (!smartModel) throw new Error(`no SMART model ${model}`);
  return { family: 'smart', deviceType, deviceName, hwVer, fwVer, smart: smartModel };
};
const TAPO_PLUG = 'SMART.TAPOPLUG';
const TAPO_BULB = 'SMART.TAPOBULB';
const KASA_PLUG = 'SMART.KASAPLUG';
const KASA_SWITCH = 'SMART.KASASWITCH';

const WIDE: readonly [number, number] = [2500, 9000];
const NARROW: readonly [number, number] = [2700, 5000];

/** Keyed by model prefix; the longest matching prefix wins (so `KL120(EU)` beats `KL120`). */
const MODELS: Record<string, ModelInfo> = {
  HS100: { ...plug('Smart Wi-Fi Plug', '1.5.6 Build 191114 Rel.104204'), noFirmwareList: true },
  HS103: plug('Smart Wi-Fi Plug Lite', '1.1.3 Build 200804 Rel.095135'),
  HS105: plug('Smart Wi-Fi Plug Mini', '1.5.6 Build 191114 Rel.104204'),
  HS110: plug('Wi-Fi Smart Plug With Energy Monitoring', '1.2.6 Build 200727 Rel.121701', 'old'),
  KP100: plug('Kasa Smart Wi-Fi Plug Slim', '1.0.1 Build 200831 Rel.141525'),
  KP105: plug('Kasa Smart Wi-Fi Plug Slim', '1.0.7 Build 211126 Rel.164139'),
  KP115: plug('Smart Wi-Fi Plug Slim with Energy Monitoring', '1.0.17 Build 210506 Rel.075231', 'new'),
  KP125: plug('Smart Wi-Fi Plug Mini', '1.0.6 Build 210928 Rel.185924', 'new'),
  KP401: plug('Kasa Smart Outdoor Plug', '1.0.0 Build 220804 Rel.100914'),
  EP10: plug('Smart Wi-Fi Plug Mini', '1.0.2 Build 200915 Rel.085940'),
  EP25: plug('Smart Wi-Fi Plug Mini', '1.0.11 Build 230515 Rel.145224', 'new'),
  HS200: sw('switch', 'Smart Wi-Fi Light Switch', '1.0.10 Build 210121 Rel.084339'),
  HS210: sw('switch', 'Smart Wi-Fi 3-Way Light Switch', '1.1.5 Build 201104 Rel.150547'),
  KS200: sw('switch', 'Smart Wi-Fi Light Switch', '1.0.8 Build 211201 Rel.123928'),
  KS205: smart(KASA_SWITCH, 'Kasa Smart Wi-Fi Light Switch', 'KS205', '1.0', '1.1.1 Build 240520 Rel.093208'),
  HS220: sw('dimmer', 'Smart Wi-Fi Dimmer', '1.0.3 Build 200804 Rel.095135'),
  KS220: sw('dimmer', 'Smart Wi-Fi Dimmer', '1.0.13 Build 230506 Rel.163315'),
  KS230: sw('dimmer', 'Smart Wi-Fi 3-Way Dimmer', '1.0.11 Build 220427 Rel.140217'),
  ES20M: sw('dimmer', 'Smart Wi-Fi Dimmer with Motion Sensor', '1.0.8 Build 211201 Rel.123928'),
  KP405: sw('dimmer', 'Kasa Smart Wi-Fi Outdoor Plug-In Dimmer', '1.0.5 Build 221011 Rel.092222'),
  HS300: strip('Wi-Fi Smart Power Strip', 6, 'new'),
  HS107: strip('Smart Wi-Fi Plug 2-Outlet', 2),
  KP200: strip('Smart Wi-Fi Outdoor Plug', 2),
  KP303: strip('Kasa Smart Wi-Fi Power Strip', 3),
  KP400: strip('Smart Wi-Fi Outdoor Plug', 2),
  EP40: strip('Kasa Smart Wi-Fi Outdoor Plug', 2),
  KL50: { ...light('bulb', 'Kasa Filament Smart Bulb, Soft White'), noFirmwareList: true },
  KL60: light('bulb', 'Kasa Filament Smart Bulb, Soft White'),
  KL110: light('bulb', 'Smart Wi-Fi LED Bulb with Dimmable Light'),
  KB100: light('bulb', 'Smart Wi-Fi LED Bulb with Dimmable Light'),
  LB100: light('bulb', 'Smart Wi-Fi LED Bulb with Dimmable Light'),
  LB110: light('bulb', 'Smart Wi-Fi LED Bulb with Dimmable Light'),
  KL120: light('bulb', 'Smart Wi-Fi LED Bulb with Tunable White Light', NARROW),
  'KL120(EU)': light('bulb', 'Smart Wi-Fi LED Bulb with Tunable White Light', [2700, 6500]),
  LB120: light('bulb', 'Smart Wi-Fi LED Bulb with Tunable White Light', NARROW),
  KL125: light('bulb', 'Smart Wi-Fi LED Bulb with Color Changing', [2500, 6500], true),
  KL130: light('bulb', 'Smart Wi-Fi LED Bulb with Color Changing', WIDE, true),
  KL135: light('bulb', 'Smart Wi-Fi LED Bulb with Color Changing', WIDE, true),
  KB130: light('bulb', 'Smart Wi-Fi LED Bulb with Color Changing', WIDE, true),
  LB130: light('bulb', 'Smart Wi-Fi LED Bulb with Color Changing', WIDE, true),
  LB230: light('bulb', 'Smart Wi-Fi BR30 LED Bulb with Color Changing', WIDE, true),
  KL400: light('lightstrip', 'Kasa Smart Light Strip, Multicolor', WIDE, true),
  KL420: light('lightstrip', 'Kasa Smart LED Light Strip', NARROW, true),
  KL430: light('lightstrip', 'Kasa Smart Light Strip, Multicolor', WIDE, true),
  P100: smart(TAPO_PLUG, 'Tapo Mini Smart Wi-Fi Plug', 'P100', '1.0.0', '1.3.5 Build 20230601 Rel. 52411'),
  P105: smart(TAPO_PLUG, 'Tapo Mini Smart Wi-Fi Plug', 'P105', '1.0', '1.4.1 Build 20231103 Rel. 60512'),
  P110: smart(TAPO_PLUG, 'Tapo Mini Smart Wi-Fi Plug with Energy Monitoring', 'P110', '1.0', '1.3.2 Build 240617 Rel.103314'),
  P115: smart(TAPO_PLUG, 'Tapo Mini Smart Wi-Fi Plug with Energy Monitoring', 'P115', '1.0', '1.2.5 Build 240411 Rel.154021'),
  P300: smart(TAPO_PLUG, 'Tapo Smart Wi-Fi Power Strip', 'P300', '1.0', '1.0.14 Build 231204 Rel.091127'),
  L530: smart(TAPO_BULB, 'Tapo Smart Wi-Fi Light Bulb, Multicolor', 'L530', '2.0', '1.1.2 Build 231011 Rel.170925'),
  L900: smart(TAPO_BULB, 'Tapo Smart Light Strip, Multicolor', 'L900', '1.0', '1.1.1 Build 231127 Rel.142206'),
  KP125M: smart(KASA_PLUG, 'Kasa Smart Wi-Fi Plug Mini with Energy Monitoring', 'KP125M', '1.0', '1.2.4 Build 240812 Rel.100337'),
  KS225: smart(KASA_SWITCH, 'Kasa Smart Wi-Fi Dimmer Switch', 'KS225', '1.0', '1.1.2 Build 240903 Rel.112515'),
};

/**
 * Hardware revisions that moved a model to the SMART protocol (the Kasa "remodels"): EP25 hw 2.6
 * is `SMART.KASAPLUG` while EP25 hw 1.0 speaks IOT; likewise HS200 hw 5.26 and HS220 hw 3.26
 * (python-kasa keeps their fixtures under `tests/fixtures/smart/`).
 */
const SMART_HARDWARE: Record<string, Record<string, ModelInfo>> = {
  EP25: { '2.6': smart(KASA_PLUG, 'Kasa Smart Wi-Fi Plug Mini with Energy Monitoring', 'EP25', '2.6', '1.0.3 Build 240118 Rel.172254') },
  HS200: { '5.26': smart(KASA_SWITCH, 'Kasa Smart Wi-Fi Light Switch', 'HS200', '5.26', '1.0.4 Build 240812 Rel.141103') },
  HS220: { '3.26': smart(KASA_SWITCH, 'Kasa Smart Wi-Fi Dimmer Switch', 'HS220', '3.26', '1.0.2 Build 240905 Rel.121437') },
};

const PREFIXES = Object.keys(MODELS).sort((a, b) => b.length - a.length);

/** The model's description; `hwVer` picks a hardware revision where one differs (EP25 2.6). */
export function modelInfo(model: string, hwVer?: string): ModelInfo {
  const prefix = PREFIXES.find((p) => model.startsWith(p));
  const revision = prefix === undefined || hwVer === undefined ? undefined : SMART_HARDWARE[prefix]?.[hwVer];
  if (revision) return revision;
  const info = prefix === undefined ? undefined : MODELS[prefix];
  if (!info) throw new Error(`the simulator has no model ${model}`);
  return info;
}

/** Nominal mains voltage for the model's region suffix. */
export function mainsVoltage(model: string): number {
  return /\((US|CA|MX|JP)\)/.test(model) ? 120 : 230;
}
