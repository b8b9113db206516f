/**
 * Fixture answers copied from the WireMock set (test/fixtures/README.md) plus shapes from
 * docs/protocol.md, "Passthrough", for families the WireMock set lacks.
 */
import { readFileSync } from 'node:fs';
import type { DeviceListEntry } from '../../src/devices/nodes.js';

interface Envelope {
  result: { responseData: string; deviceList: DeviceListEntry[] };
}

function readJson(name: string): Envelope {
  return JSON.parse(readFileSync(new URL(`../fixtures/devices/${name}`, import.meta.url), 'utf8')) as Envelope;
}

/** The device's reply (`responseData`, double-encoded in the cloud envelope). */
export function deviceReply(name: string): Record<string, unknown> {
  return JSON.parse(readJson(name).result.responseData) as Record<string, unknown>;
}

/** `module.method` of a fixture reply. */
export function methodOf(name: string, module: string, method: string): Record<string, unknown> {
  return (deviceReply(name)[module] as Record<string, Record<string, unknown>>)[method]!;
}

export function sysinfoFixture(name: string): Record<string, unknown> {
  return methodOf(name, 'system', 'get_sysinfo');
}

export const deviceList: DeviceListEntry[] = readJson('get_device_list_response.json').result.deviceList;
export const tapoList: DeviceListEntry[] = readJson('tapo_get_device_list_response.json').result.deviceList;

export function entryByModel(prefix: string): DeviceListEntry {
  const entry = deviceList.find((e) => e.deviceModel?.startsWith(prefix));
  if (!entry) throw new Error(`no ${prefix} in the device list fixture`);
  return entry;
}

export function entry(overrides: Partial<DeviceListEntry> & { deviceId?: string }): DeviceListEntry {
  return {
    deviceId: '0000000000000000000000000000000000000001',
    deviceType: 'IOT.SMARTPLUGSWITCH',
    deviceModel: 'HS100(US)',
    alias: 'Test Device',
    status: 1,
    appServerUrl: 'https://use1-wap.tplinkcloud.com',
    fwVer: '1.0.0 Build 200101 Rel.000000',
    deviceHwVer: '1.0',
    deviceMac: '000000000001',
    ...overrides,
  };
}

/** KP125 (new-generation meter), docs/protocol.md, "Passthrough". */
export const kp125Sysinfo = {
  sw_ver: '1.0.6 Build 210928 Rel.185924', hw_ver: '1.0', model: 'KP125(US)',
  deviceId: '0000000000000000000000000000000000000001', rssi: -41, alias: 'Desk',
  mic_type: 'IOT.SMARTPLUGSWITCH', feature: 'TIM:ENE', mac: '00:00:00:00:00:01',
  led_off: 0, relay_state: 1, on_time: 301, err_code: 0,
};
export const kp125Realtime = { current_ma: 978, power_mw: 100277, total_wh: 12170, voltage_mv: 119425, err_code: 0 };
/** HS110 v1 (old-generation meter), docs/protocol.md, "Passthrough". */
export const hs110v1Realtime = { current: 0.128037, power: 7.677094, total: 30.404, voltage: 118.917389, err_code: 0 };

/** KL130 (colour bulb), docs/protocol.md, "Passthrough". */
export const kl130Sysinfo = {
  sw_ver: '1.8.11 Build 191113 Rel.105336', hw_ver: '1.0', model: 'KL130(US)', alias: 'Lamp',
  mic_type: 'IOT.SMARTBULB', mic_mac: '000000000001', deviceId: '0000000000000000000000000000000000000002',
  light_state: { on_off: 1, mode: 'normal', hue: 240, saturation: 100, color_temp: 0, brightness: 30 },
  is_dimmable: 1, is_color: 1, is_variable_color_temp: 1,
  preferred_state: [{ index: 0, hue: 0, saturation: 0, color_temp: 2700, brightness: 50 }],
  rssi: -52, err_code: 0,
};

/** HS220 dimmer, docs/protocol.md, "Passthrough". */
export const hs220Sysinfo = {
  sw_ver: '1.0.3 Build 200804 Rel.000000', hw_ver: '2.0', model: 'HS220(US)', alias: 'Hall Dimmer',
  mic_type: 'IOT.SMARTPLUGSWITCH', feature: 'TIM', mac: 'AA:BB:CC:00:00:03', relay_state: 1,
  brightness: 35, rssi: -60, err_code: 0,
};
