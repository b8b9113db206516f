/**
 * The device-family layer in one import (the table itself is in familyTable.ts): classify a
 * device-list entry, build its nodes, poll it, parse answers, validate sets and build set requests.
 */
export {
  FAMILIES,
  DEFAULT_KELVIN,
  DEVICE_TYPE_BULB,
  DEVICE_TYPE_PLUGSWITCH,
  findModel,
  type FamilyName,
  type FamilySpec,
  type KelvinRange,
  type LightAbilities,
  type ModelRow,
} from './familyTable.js';
export { classify, refineFromSysinfo, profileCapabilities, outletCapabilities, type DeviceProfile } from './profile.js';
export {
  buildNodes,
  sysinfoShape,
  bridgeDeviceEntry,
  capabilities,
  formatMac,
  normaliseChildId,
  unsupportedBridgeEntry,
  unsupportedDevice,
  type DeviceListEntry,
  type KeyAssigner,
} from './nodes.js';
export { methodResult, sysinfoOf, refusedSetters, isNotSupported, type RefusedMethod } from './reply.js';
export { parseResponse, parseEnergyResponse, moduleReadings, steadyReading, type ParseOptions } from './state.js';
export { lightState } from './iot/light.js';
export {
  pollRequest,
  energyRequests,
  cadenceRequests,
  setRequest,
  settingModules,
  mergeRequests,
  type NodeRequest,
  type OutletEnergyRequest,
  type RequestData,
  type RequestOptions,
} from './requests.js';
export { deviceUtcOffsetMinutes, deviceDate, type DeviceDate } from './iot/meter.js';
export { PROTOCOLS, modulesOf, applicableModules, type ProtocolSpec } from './protocols.js';
export { IOT_MODULES } from './iot/index.js';
export { EFFECT_OFF, EFFECT_LIST } from './iot/effect.js';
export type { DeviceModule, ModuleEntity, ModuleRead, ModuleReply, ModuleSet, ProtocolFamily, ReadCadence, SetKey } from './module.js';
export { LIGHT_STRIP_EFFECTS, LIGHT_STRIP_EFFECT_NAMES, lightStripEffect } from './lightStripEffects.js';
export { lightArguments } from './iot/light.js';
export {
  parseSetPayload,
  mergeSets,
  resolveToggle,
  MAX_SET_PAYLOAD_BYTES,
  type ParsedSet,
  type SetPayloadError,
} from './setPayload.js';
export { appliedData, unconfirmedAttributes } from './setResult.js';
