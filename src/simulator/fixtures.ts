/**
 * Device identities and initial states from the WireMock fixtures of piekstra/tplink-cloud-api
 * (`tests/wiremock/__files/get_device_list_response.json` and the `*_get_sys_info_response.json`
 * files), copied so the running simulator does not depend on test/fixtures/.
 */
export interface FixtureDevice {
  deviceId: string;
  model: string;
  alias: string;
  deviceName: string;
  fwVer: string;
  hwVer: string;
  mac: string;
  oemId: string;
  hwId: string;
  rssi: number;
  on?: boolean;
  outlets?: { alias: string; on: boolean }[];
  light?: { on: boolean; hue: number; saturation: number; color_temp: number; brightness: number };
}

export const FIXTURE_DEVICES: readonly FixtureDevice[] = [
  {
    deviceId: '2F50687F0187798768F86EAE340E844A660B2444',
    model: 'HS103(US)',
    alias: 'Bedroom Desk Light',
    deviceName: 'Smart Wi-Fi Plug Lite',
    fwVer: '1.1.3 Build 200804 Rel.095135',
    hwVer: '2.1',
    mac: '11CE6AE69422',
    oemId: '349181B1B7F5C59B1E0A932424779904',
    hwId: 'AB12E0C542A5202934C7C4183B13970A',
    rssi: -38,
    on: false,
  },
  {
    deviceId: '9F231AD114D92FE98DEB7843ADC91D0EEEF2D0B8',
    model: 'HS105(US)',
    alias: 'Left Lamp',
    deviceName: 'Smart Wi-Fi Plug Mini',
    fwVer: '1.5.6 Build 191114 Rel.104204',
    hwVer: '1.0',
    mac: 'D2A8326B0871',
    oemId: 'EDC2878EAA7AF9F1812E945E048F2AD5',
    hwId: '7E041C9693106D65C4254EA0E4C01E1A',
    rssi: -39,
  },
  {
    deviceId: '6572495E336088D1DF4BD661CAB8A89862DF6603',
    model: 'HS110(US)',
    alias: 'Bedroom Light',
    deviceName: 'Wi-Fi Smart Plug With Energy Monitoring',
    fwVer: '1.2.6 Build 200727 Rel.121701',
    hwVer: '1.0',
    mac: '65A4CE143E03',
    oemId: '3580D70F8387F7B530A5020A325EE8CC',
    hwId: 'E0CF474A985A06B8A9EE75C1FEBE03C7',
    rssi: -52,
    on: true,
  },
  {
    deviceId: '5BFA53B31294DDA5AB4DEBA1B62582E8EC2F789E',
    model: 'HS300(US)',
    alias: 'TP-LINK_Power Strip_9704',
    deviceName: 'Wi-Fi Smart Power Strip',
    fwVer: '1.0.19 Build 200224 Rel.090814',
    hwVer: '1.0',
    mac: '28A69C74BA90',
    oemId: 'C20341B1E3455640F77F93C8286CD3E3',
    hwId: 'F0209F82A6A831CA4AD1CEE3FE574BA2',
    rssi: -38,
    outlets: [
      { alias: 'Plug 1', on: false },
      { alias: 'Plug 2', on: false },
      { alias: 'Plug 3', on: true },
      { alias: 'Plug 4', on: false },
      { alias: 'Plug 5', on: false },
      { alias: 'Plug 6', on: true },
    ],
  },
  {
    deviceId: '140BED90F6EF82191649329403A40C66528411D2',
    model: 'KL430(US)',
    alias: 'Test Strip',
    deviceName: 'Kasa Smart Light Strip, Multicolor',
    fwVer: '1.0.8 Build 210121 Rel.084339',
    hwVer: '2.0',
    mac: '7B2ACF4AE02B',
    oemId: '8BB9A4E25D621BC7163EEF9CDDE2E37C',
    hwId: '6E2F6FA0EEE2CC63C8E1CA1C90698437',
    rssi: -38,
    light: { on: false, hue: 0, saturation: 0, color_temp: 2700, brightness: 50 },
  },
  {
    deviceId: 'A1B2C3D4E5F6A1B2C3D4E5F6A1B2C3D4A1B20001',
    model: 'HS200(US)',
    alias: 'Kitchen Light Switch',
    deviceName: 'Smart Wi-Fi Light Switch',
    fwVer: '1.0.10 Build 210121 Rel.084339',
    hwVer: '3.0',
    mac: 'AABBCCDDEE01',
    oemId: 'ABCD1234EFGH5678ABCD1234EFGH5678',
    hwId: '1234ABCD5678EFGH1234ABCD5678EFGH',
    rssi: -42,
    on: true,
  },
  {
    deviceId: 'B2C3D4E5F6A1B2C3D4E5F6A1B2C3D4E5B2C30002',
    model: 'KP200(US)',
    alias: 'Front Porch Plug',
    deviceName: 'Smart Wi-Fi Outdoor Plug',
    fwVer: '1.0.3 Build 210121 Rel.084339',
    hwVer: '1.0',
    mac: 'AABBCCDDEE02',
    oemId: 'ABCD1234KP200001ABCD1234KP200001',
    hwId: '1234ABCDKP200001ABCD1234KP200001',
    rssi: -35,
    outlets: [
      { alias: 'Porch Light', on: true },
      { alias: 'Fountain', on: false },
    ],
  },
  {
    deviceId: 'C3D4E5F6A1B2C3D4E5F6A1B2C3D4E5F6C3D40003',
    model: 'KP400(US)',
    alias: 'Backyard Plug',
    deviceName: 'Smart Wi-Fi Outdoor Plug',
    fwVer: '1.0.5 Build 210121 Rel.084339',
    hwVer: '1.0',
    mac: 'AABBCCDDEE03',
    oemId: 'ABCD1234KP400001ABCD1234KP400001',
    hwId: '1234ABCDKP400001ABCD1234KP400001',
    rssi: -40,
    outlets: [
      { alias: 'Garden Lights', on: false },
      { alias: 'Pool Pump', on: true },
    ],
  },
  {
    deviceId: 'D4E5F6A1B2C3D4E5F6A1B2C3D4E5F6A1D4E50004',
    model: 'KL420L5(US)',
    alias: 'Living Room Strip',
    deviceName: 'Kasa Smart LED Light Strip',
    fwVer: '1.0.11 Build 210929 Rel.084339',
    hwVer: '1.0',
    mac: 'AABBCCDDEE04',
    oemId: 'ABCD1234KL420001ABCD1234KL420001',
    hwId: '1234ABCDKL420001ABCD1234KL420001',
    rssi: -45,
    light: { on: true, hue: 240, saturation: 100, color_temp: 0, brightness: 75 },
  },
];

export function fixtureDevice(deviceId: string): FixtureDevice | undefined {
  return FIXTURE_DEVICES.find((d) => d.deviceId === deviceId);
}
