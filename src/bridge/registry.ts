import type { BridgeDeviceEntry } from '../api/types.js';
import { bridgeDeviceEntry, buildNodes, classify, sysinfoShape, unsupportedBridgeEntry, unsupportedDevice } from '../devices/families.js';
import type { DeviceNode, UnsupportedDevice } from '../devices/node.js';
import type { TopicKeyStore } from '../devices/topicKeys.js';
import type { CloudDevice } from '../kasa/protocol.js';
import { Device, NodeRecord } from './device.js';

export interface NodesChange {
  added: DeviceNode[];
  removed: DeviceNode[];
  changed: DeviceNode[];
  /** Alias changes, for `alias_changed` events. */
  renamedAliases: { node: DeviceNode; from: string }[];
}

const emptyChange = (): NodesChange => ({ added: [], removed: [], changed: [], renamedAliases: [] });

/**
 * Every device the bridge knows, each a `Device` owning its nodes and what the bridge keeps of
 * them: built from the cloud device list, refined by each device's sysinfo (strip outlets, dimmers
 * and light strips behind unknown models), keyed by the persisted topic keys.
 */
export class DeviceRegistry {
  readonly #devices = new Map<string, Device>();
  /** Every node of every device by id (outlets included): an index into `#devices`, kept in step. */
  readonly #index = new Map<string, NodeRecord>();
  #unsupported: UnsupportedDevice[] = [];
  #listed = false;

  constructor(private readonly keys: TopicKeyStore) {}

  /** How many nodes (devices and outlets). */
  get size(): number {
    return this.#index.size;
  }

  nodes(): DeviceNode[] {
    return [...this.#index.values()].map((r) => r.info);
  }

  node(id: string): DeviceNode | undefined {
    return this.#index.get(id)?.info;
  }

  /** What the bridge keeps of a node (state, availability, discovery, queued sets). */
  record(id: string): NodeRecord | undefined {
    return this.#index.get(id);
  }

  /** The physical device a node belongs to (itself, or an outlet's strip). */
  device(nodeOrId: DeviceNode | string): Device | undefined {
    const id = typeof nodeOrId === 'string' ? nodeOrId : (nodeOrId.parentId ?? nodeOrId.id);
    return this.#devices.get(id);
  }

  devices(): Device[] {
    return [...this.#devices.values()];
  }

  /** A node by topic key, device id or outlet child id, as given in an incoming topic. */
  resolve(keyOrId: string): DeviceNode | undefined {
    const id = this.keys.resolve(keyOrId);
    return id === undefined ? undefined : this.#index.get(id)?.info;
  }

  /** Devices that take one poll each: every node that is not an outlet. */
  physicalDevices(): DeviceNode[] {
    return this.devices().flatMap((d) => (d.self ? [d.self.info] : []));
  }

  children(node: DeviceNode): DeviceNode[] {
    return (node.childIds ?? []).map((id) => this.#index.get(id)?.info).filter((n): n is DeviceNode => n !== undefined);
  }

  entry(deviceId: string): CloudDevice | undefined {
    return this.#devices.get(deviceId)?.entry;
  }

  /** Applies a fresh device list: added, removed, alias and online changes. */
  applyDeviceList(list: CloudDevice[]): NodesChange {
    return this.keys.batch(() => this.#applyDeviceList(list));
  }

  #applyDeviceList(list: CloudDevice[]): NodesChange {
    this.#listed = true;
    const change = emptyChange();
    const seen = new Set<string>();
    const unsupported: UnsupportedDevice[] = [];
    for (const entry of list) {
      if (classify(entry) === undefined) {
        unsupported.push(unsupportedDevice(entry));
        continue;
      }
      seen.add(entry.deviceId);
      const device = this.#devices.get(entry.deviceId);
      if (device) device.entry = entry;
      else this.#devices.set(entry.deviceId, new Device(entry.deviceId, entry));
      this.#rebuild(entry.deviceId, change);
    }
    for (const device of this.devices()) {
      if (seen.has(device.id)) continue;
      for (const child of device.children()) this.#remove(device, child, change);
      if (device.self) this.#remove(device, device.self, change);
      device.dispose();
      this.#devices.delete(device.id);
    }
    this.#unsupported = unsupported;
    return change;
  }

  /** Applies a device's sysinfo: discovers outlets, refines the family, picks up outlet aliases. */
  applySysinfo(deviceId: string, sysinfo: Record<string, unknown>): NodesChange {
    const change = emptyChange();
    const device = this.#devices.get(deviceId);
    if (!device) return change;
    device.sysinfo = sysinfo;
    // Most polls change only values (relay, power): the nodes stay as they are.
    const shape = sysinfoShape(sysinfo);
    if (shape === device.builtShape) return change;
    device.builtShape = shape;
    this.#rebuild(deviceId, change);
    return change;
  }

  /** Marks a physical device and its outlets online/offline (cloud flag or -20571). */
  setOnline(deviceId: string, online: boolean): DeviceNode[] {
    const device = this.#devices.get(deviceId);
    const node = device?.self?.info;
    if (!device || !node || node.online === online) return [];
    const changed = [node, ...device.children().map((c) => c.info)];
    for (const n of changed) n.online = online;
    return changed;
  }

  /** A device list has been applied since start: the nodes are what the account holds. */
  get listed(): boolean {
    return this.#listed;
  }

  /** Whether topic keys from earlier runs are stored (the account had devices before). */
  get hasStoredKeys(): boolean {
    return this.keys.entries().size > 0;
  }

  /**
   * Outlets of `deviceId` that earlier runs stored keys for but that are not nodes now (the strip
   * has not answered since start), as id → key.
   */
  storedOutletKeys(deviceId: string): Map<string, string> {
    const isOutlet = (id: string) =>
      id.length === deviceId.length + 2 && id.toUpperCase().startsWith(deviceId.toUpperCase()) && /\d{2}$/.test(id);
    return new Map([...this.keys.entries()].filter(([id]) => isOutlet(id) && !this.#index.has(id)));
  }

  /** Changes a node's topic key (bridge/request/device/rename). Returns the old key. */
  rename(id: string, newKey: string): string {
    const node = this.#index.get(id)?.info;
    if (!node) throw new Error(`no device with id ${id}`);
    const result = this.keys.rename(id, newKey);
    if ('error' in result) throw new Error(result.error.message);
    node.key = result.ok.to;
    return result.ok.from;
  }

  bridgeDevices(): BridgeDeviceEntry[] {
    return [...this.nodes().map((n) => bridgeDeviceEntry(n)), ...this.#unsupported.map((u) => unsupportedBridgeEntry(u))];
  }

  #rebuild(deviceId: string, change: NodesChange): void {
    const device = this.#devices.get(deviceId);
    if (!device) return;
    const built = buildNodes(device.entry, device.sysinfo, (id, name) => this.keys.keyFor(id, name));
    const builtIds = new Set(built.map((n) => n.id));
    const previous = device.self?.info;
    for (const child of device.children()) if (!builtIds.has(child.id)) this.#remove(device, child, change);
    for (const fresh of built) {
      // Online is tracked by setOnline (device list flag and -20571 answers), not by rebuilds.
      const old = device.nodes.get(fresh.id);
      if (old) fresh.online = old.info.online;
      else if (previous !== undefined) fresh.online = previous.online;
      if (!old) {
        const record = new NodeRecord(fresh);
        device.nodes.set(fresh.id, record);
        this.#index.set(fresh.id, record);
        change.added.push(fresh);
        continue;
      }
      if (old.info.alias !== fresh.alias) change.renamedAliases.push({ node: old.info, from: old.info.alias });
      if (JSON.stringify(old.info) !== JSON.stringify(fresh)) {
        Object.assign(old.info, fresh);
        change.changed.push(old.info);
      }
    }
  }

  #remove(device: Device, record: NodeRecord, change: NodesChange): void {
    if (!device.nodes.delete(record.id)) return;
    this.#index.delete(record.id);
    change.removed.push(record.info);
  }
}
