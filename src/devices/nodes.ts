/**
 * Device-list entry (+ sysinfo, once read) → the nodes the bridge exposes: the device itself and,
 * for a strip, one node per outlet (outlets are only known after the first sysinfo).
 */
import type { BridgeDeviceEntry, Capability } from '../api/types.js';
import type { DeviceNode, UnsupportedDevice } from './node.js';
import { classify, outletCapabilities, profileCapabilities, refineFromSysinfo, type ClassifiableEntry } from './profile.js';
import { isRecord } from '../isRecord.js';
import { nonEmptyString } from './reply.js';
import { slugKey } from './topicKeys.js';
import { applicableModules } from './protocols.js';
import { normaliseChildId } from './childId.js';

export { normaliseChildId };

/** The `getDeviceList` entry fields used here; the cloud client's `CloudDevice` fits it. */
export interface DeviceListEntry extends ClassifiableEntry {
  deviceId: string;
  alias?: string;
  /** 1 = online. */
  status?: number;
  appServerUrl?: string;
  fwVer?: string;
  deviceHwVer?: string;
  deviceMac?: string;
}

/** Gives a node its topic key: the persisted one, or a new one made from `name` (see TopicKeyStore.keyFor). */
export type KeyAssigner = (id: string, name: string) => string;

const unpersistedKey: KeyAssigner = (id, name) => slugKey(name, id);

/**
 * The nodes of one supported device ([] for unsupported ones): the device node first, then its
 * outlets in sysinfo order. Call again after each sysinfo that may change the picture
 * (first read, outlet renamed or added).
 */
export function buildNodes(
  entry: DeviceListEntry,
  sysinfo?: Record<string, unknown>,
  assignKey: KeyAssigner = unpersistedKey,
): DeviceNode[] {
  const classified = classify(entry);
  if (!classified) return [];
  const profile = sysinfo ? refineFromSysinfo(classified, sysinfo) : classified;

  const id = entry.deviceId;
  const alias = nonEmptyString(entry.alias) ?? nonEmptyString(sysinfo?.['alias']) ?? id;
  const model = nonEmptyString(entry.deviceModel) ?? nonEmptyString(sysinfo?.['model']) ?? 'unknown';
  const device: DeviceNode = {
    id,
    key: assignKey(id, alias),
    alias,
    name: alias,
    model,
    type: profile.nodeType,
    capabilities: profileCapabilities(profile),
    deviceId: id,
    online: entry.status === 1,
    protocol: 'iot',
    modules: [],
  };
  const appServerUrl = nonEmptyString(entry.appServerUrl);
  if (appServerUrl) device.appServerUrl = appServerUrl;
  // The device's own answer is newer than the device list (an update installed since the list was read).
  const fw = nonEmptyString(sysinfo?.['sw_ver']) ?? nonEmptyString(entry.fwVer);
  if (fw) device.fw = fw;
  const hw = nonEmptyString(sysinfo?.['hw_ver']) ?? nonEmptyString(entry.deviceHwVer);
  if (hw) device.hw = hw;
  const mac = formatMac(entry.deviceMac ?? sysinfo?.['mac'] ?? sysinfo?.['mic_mac']);
  if (mac) device.mac = mac;
  if (profile.kelvin) device.kelvin = { ...profile.kelvin };
  if (profile.meter) device.meter = profile.meter;
  device.modules = applicableModules(device.protocol, device);

  if (profile.nodeType !== 'strip') return [device];

  const outlets: DeviceNode[] = [];
  const children = Array.isArray(sysinfo?.['children']) ? sysinfo['children'] : [];
  children.forEach((child: unknown, index) => {
    if (!isRecord(child)) return;
    const rawId = child['id'];
    if (typeof rawId !== 'string' && typeof rawId !== 'number') return;
    const outletId = normaliseChildId(id, String(rawId));
    const outletAlias = nonEmptyString(child['alias']) ?? `Outlet ${index + 1}`;
    const name = `${alias} ${outletAlias}`;
    const outlet: DeviceNode = {
      id: outletId,
      key: assignKey(outletId, name),
      alias: outletAlias,
      name,
      model,
      type: 'outlet',
      capabilities: outletCapabilities(profile),
      deviceId: id,
      parentId: id,
      online: device.online,
      protocol: device.protocol,
      modules: [],
    };
    if (appServerUrl) outlet.appServerUrl = appServerUrl;
    if (fw) outlet.fw = fw;
    if (hw) outlet.hw = hw;
    if (profile.meter === 'outlets') outlet.meter = 'emeter';
    outlet.modules = applicableModules(outlet.protocol, outlet);
    outlets.push(outlet);
  });
  if (outlets.length > 0) device.childIds = outlets.map((o) => o.id);
  return [device, ...outlets];
}

/**
 * What of a sysinfo `buildNodes` (and `refineFromSysinfo`) depends on, as one string: two sysinfos
 * with the same shape build the same nodes, so a poll whose shape did not change rebuilds nothing.
 * Keep in step with what those two read.
 */
export function sysinfoShape(sysinfo: Record<string, unknown>): string {
  const children = Array.isArray(sysinfo['children'])
    ? sysinfo['children'].map((c: unknown) => (isRecord(c) ? [c['id'], c['alias']] : null))
    : null;
  return JSON.stringify([
    sysinfo['alias'],
    sysinfo['model'],
    sysinfo['sw_ver'],
    sysinfo['hw_ver'],
    sysinfo['mac'],
    sysinfo['mic_mac'],
    children,
    typeof sysinfo['brightness'] === 'number',
    sysinfo['feature'],
    typeof sysinfo['length'] === 'number',
    isRecord(sysinfo['lighting_effect_state']),
    sysinfo['is_dimmable'],
    sysinfo['is_color'],
    sysinfo['is_variable_color_temp'],
  ]);
}

/** `AABBCCDDEEFF`, `AA-BB-…`, `aa:bb:…` → `aa:bb:cc:dd:ee:ff`; undefined when not a MAC. */
export function formatMac(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const hex = value.replace(/[:\-.\s]/g, '').toLowerCase();
  if (!/^[0-9a-f]{12}$/.test(hex)) return undefined;
  return hex.match(/../g)?.join(':');
}

/** The entry of an unsupported device-list entry (Tapo, camera, router): listed, never polled. */
export function unsupportedDevice(entry: DeviceListEntry): UnsupportedDevice {
  const alias = nonEmptyString(entry.alias);
  const tapo = (entry.deviceType ?? '').toUpperCase().startsWith('SMART.');
  return {
    id: entry.deviceId,
    alias: (alias !== undefined && tapo ? decodeBase64Alias(alias) : alias) ?? entry.deviceId,
    model: nonEmptyString(entry.deviceModel) ?? 'unknown',
    deviceType: nonEmptyString(entry.deviceType) ?? 'unknown',
    online: entry.status === 1,
  };
}

/**
 * Tapo entries carry the alias base64-encoded (docs/protocol.md, "Device list"). Decoded only
 * when it is canonical base64 of valid UTF-8 text; anything else is shown as given.
 */
export function decodeBase64Alias(alias: string): string {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(alias) || alias.length % 4 !== 0) return alias;
  const bytes = Buffer.from(alias, 'base64');
  if (bytes.toString('base64') !== alias) return alias;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return alias;
  }
  // eslint-disable-next-line no-control-regex
  return text.trim() === '' || /[\u0000-\u001f\u007f]/.test(text) ? alias : text;
}

export function capabilities(node: DeviceNode): Capability[] {
  return [...node.capabilities];
}

/** One element of `<base>/bridge/devices`. */
export function bridgeDeviceEntry(node: DeviceNode): BridgeDeviceEntry {
  const entry: BridgeDeviceEntry = {
    id: node.id,
    key: node.key,
    alias: node.alias,
    model: node.model,
    type: node.type,
    online: node.online,
    capabilities: capabilities(node),
    supported: true,
  };
  if (node.parentId) entry.parent_id = node.parentId;
  if (node.childIds) entry.children = [...node.childIds];
  if (node.fw) entry.fw = node.fw;
  if (node.hw) entry.hw = node.hw;
  if (node.mac) entry.mac = node.mac;
  return entry;
}

/** Unsupported devices have no topics; their `key` is their id. */
export function unsupportedBridgeEntry(device: UnsupportedDevice): BridgeDeviceEntry {
  return {
    id: device.id,
    key: device.id,
    alias: device.alias,
    model: device.model,
    type: 'unsupported',
    online: device.online,
    capabilities: [],
    supported: false,
  };
}
