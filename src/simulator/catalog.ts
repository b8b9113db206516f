import { createHash } from 'node:crypto';
import type { SimAccountSpec, SimDeviceSpec } from './types.js';

/** The identity `kasa2mqtt simulator` and the demo print. */
export const DEMO_IDENTITY = {
  username: 'demo@kasa2mqtt.local',
  password: 'demo-Pa55word',
  mfaCode: '246810',
} as const;

/** A stable 40-hex deviceId derived from a label, so demo ids survive restarts. */
export function stableDeviceId(label: string): string {
  return createHash('sha1').update(`kasa2mqtt-sim:${label}`).digest('hex').toUpperCase();
}

export interface DemoAccountOptions {
  username?: string;
  password?: string;
  mfa?: boolean;
  mfaCode?: string;
}

/** A few devices of every family; ids of the WireMock fixtures where one fits. */
export function demoDevices(): SimDeviceSpec[] {
  return [
    { deviceId: '2F50687F0187798768F86EAE340E844A660B2444', model: 'HS103(US)', alias: 'Bedroom Desk Light' },
    { deviceId: '6572495E336088D1DF4BD661CAB8A89862DF6603', model: 'HS110(US)', alias: 'Bedroom Light', meter: 'old' },
    { deviceId: stableDeviceId('kp125'), model: 'KP125(US)', alias: 'Washing Machine' },
    { deviceId: 'A1B2C3D4E5F6A1B2C3D4E5F6A1B2C3D4A1B20001', model: 'HS200(US)', alias: 'Kitchen Light Switch' },
    { deviceId: stableDeviceId('hs220'), model: 'HS220(US)', alias: 'Dining Room Dimmer' },
    { deviceId: '5BFA53B31294DDA5AB4DEBA1B62582E8EC2F789E', model: 'HS300(US)', alias: 'Office Power Strip', host: 1 },
    { deviceId: stableDeviceId('kp303'), model: 'KP303(US)', alias: 'Desk Strip' },
    { deviceId: stableDeviceId('kl130'), model: 'KL130(US)', alias: 'Living Room Lamp' },
    { deviceId: stableDeviceId('kl110'), model: 'KL110(US)', alias: 'Hallway Bulb' },
    {
      deviceId: '140BED90F6EF82191649329403A40C66528411D2',
      model: 'KL430(US)',
      alias: 'TV Light Strip',
      // So the demo shows a firmware update on offer (the strip runs 1.0.8).
      availableFirmware: { version: '1.0.10 Build 220314 Rel.091532', releaseNotes: 'Modifications and Bug Fixes:\n1. Smoother effect transitions.\n2. Improved stability.' },
    },
    { deviceId: '9F231AD114D92FE98DEB7843ADC91D0EEEF2D0B8', model: 'HS105(US)', alias: 'Garage Plug', online: false },
    { deviceId: stableDeviceId('p100'), model: 'P100', alias: 'Tapo Plug' },
  ];
}

export function demoAccount(opts: DemoAccountOptions = {}): SimAccountSpec {
  return {
    username: opts.username ?? DEMO_IDENTITY.username,
    password: opts.password ?? DEMO_IDENTITY.password,
    mfa: opts.mfa ?? true,
    mfaCode: opts.mfaCode ?? DEMO_IDENTITY.mfaCode,
    devices: demoDevices(),
  };
}

const MIX: readonly Omit<SimDeviceSpec, 'alias' | 'deviceId'>[] = [
  { model: 'HS103(US)' },
  { model: 'KP125(US)' },
  { model: 'HS200(US)' },
  { model: 'KL130(US)' },
  { model: 'HS300(US)' },
  { model: 'HS110(US)', meter: 'old' },
  { model: 'HS220(US)' },
  { model: 'KP303(US)' },
  { model: 'KL110(US)' },
  { model: 'KL430(US)' },
];

/** `n` devices in a realistic mix (strips included), every fifth on the other-region host. */
export function manyDevices(n: number): SimDeviceSpec[] {
  return Array.from({ length: n }, (_, i) => {
    const kind = MIX[i % MIX.length]!;
    return {
      ...kind,
      deviceId: stableDeviceId(`bench-${i}`),
      alias: `${kind.model.replace(/\(.*\)/, '')} ${i + 1}`,
      ...(i % 5 === 4 ? { host: 1 as const } : {}),
    };
  });
}
