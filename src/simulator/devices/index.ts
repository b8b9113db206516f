import { fixtureDevice } from '../fixtures.js';
import type { SimDeviceSpec } from '../types.js';
import { randomDeviceId } from '../util.js';
import { deriveIdentity, type DeviceEnv, type DeviceIdentity, type SimDevice } from './base.js';
import { LightDevice } from './light.js';
import { modelInfo } from './models.js';
import { RelayDevice } from './plug.js';
import { StripDevice } from './strip.js';
import { SmartDevice } from './smart/device.js';

export { SimDevice } from './base.js';
export { LightDevice } from './light.js';
export { RelayDevice } from './plug.js';
export { StripDevice } from './strip.js';
export { SmartDevice } from './smart/device.js';

/** Builds a device for a spec; ids that match a WireMock fixture take that fixture's identity and state. */
export function createDevice(spec: SimDeviceSpec, env: DeviceEnv): SimDevice {
  const info = modelInfo(spec.model, spec.hwVer);
  const deviceId = spec.deviceId ?? randomDeviceId();
  if (!/^[0-9A-F]{40}$/.test(deviceId)) throw new Error(`deviceId must be 40 upper-case hex chars: ${deviceId}`);
  const fixture = fixtureDevice(deviceId);
  const derived: DeviceIdentity =
    fixture && fixture.model === spec.model
      ? { ...fixture, alias: spec.alias }
      : deriveIdentity(deviceId, spec.model, spec.alias, info);
  const identity = spec.hwVer !== undefined ? { ...derived, hwVer: spec.hwVer } : derived;
  const base = {
    online: spec.online ?? true,
    latencyMs: spec.latencyMs ?? 0,
    host: spec.host ?? 0,
    ...(spec.utcOffsetMinutes !== undefined ? { utcOffsetMinutes: spec.utcOffsetMinutes } : {}),
    ...(spec.availableFirmware !== undefined ? { availableFirmware: { ...spec.availableFirmware } } : {}),
  };
  switch (info.family) {
    case 'plug':
    case 'switch':
    case 'dimmer':
      return new RelayDevice(identity, info, env, {
        ...base,
        ...(spec.meter ? { meter: spec.meter } : {}),
        ...(fixture?.on !== undefined ? { on: fixture.on } : {}),
      });
    case 'strip':
      return new StripDevice(identity, info, env, {
        ...base,
        outlets: spec.outlets ?? info.outlets ?? 2,
        ...(fixture?.outlets ? { outletSeeds: fixture.outlets } : {}),
      });
    case 'bulb':
    case 'lightstrip':
      return new LightDevice(identity, info, env, { ...base, ...(fixture?.light ? { state: fixture.light } : {}) });
    case 'smart':
      return new SmartDevice(identity, info, env, base);
  }
}
