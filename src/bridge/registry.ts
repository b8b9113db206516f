import type { BridgeDeviceEntry } from '../api/types.js';
import { bridgeDeviceEntry, buildNodes, classify, unsupportedBridgeEntry, unsupportedDevice } from '../devices/families.js';
import type { DeviceNode, UnsupportedDevice } from '../devices/node.js';
import type { TopicKeyStore } from '../devices/topicKeys.js';
import type { CloudDevice } from '../kasa/protocol.js';

export interface NodesChange {
  added: DeviceNode[];
  removed: DeviceNode[];
  changed: DeviceNode[];
  /** Alias changes, for `alias_changed` events. */
  renamedAliases: { node: DeviceNode; from: string }[];
}

const emptyChange = (): NodesChange => ({ added: [], removed: [], changed: [], renamedAliases: [] });

/**
 * Every node the bridge knows: built from the cloud device list, refined by each device's
 * sysinfo (strip outlets, dimmers and light strips behind unknown models), keyed by the
 * persisted topic keys.
 */
export class DeviceRegistry {
  readonly #nodes = new Map<string, DeviceNode>();
  readonly #entries = new Map<string, CloudDevice>();
  readonly #sysinfo = new Map<string, Record<string, unknown>>();
  #unsupported: UnsupportedDevice[] = [];
  #listed = false;

  constructor(private readonly keys: TopicKeyStore) {}

  get size(): number {
    return this.#nodes.size;
  }

  nodes(): DeviceNode[] {
    return [...this.#nodes.values()];
  }

  node(id: string): DeviceNode | undefined {
    return this.#nodes.get(id);
  }

  /** A node by topic key, device id or outlet child id, as given in an incoming topic. */
  resolve(keyOrId: string): DeviceNode | undefined {
    const id = this.keys.resolve(keyOrId);
    return id === undefined ? undefined : this.#nodes.get(id);
  }

  /** Devices that take one poll each: every node that is not an outlet. */
  physicalDevices(): DeviceNode[] {
    return this.nodes().filter((n) => n.parentId === undefined);
  }

  children(node: DeviceNode): DeviceNode[] {
    return (node.childIds ?? []).map((id) => this.#nodes.get(id)).filter((n): n is DeviceNode => n !== undefined);
  }

  entry(deviceId: string): CloudDevice | undefined {
    return this.#entries.get(deviceId);
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
      this.#entries.set(entry.deviceId, entry);
      this.#rebuild(entry.deviceId, change);
    }
    for (const node of this.physicalDevices()) {
      if (seen.has(node.id)) continue;
      for (const child of this.children(node)) this.#remove(child, change);
      this.#remove(node, change);
      this.#entries.delete(node.id);
      this.#sysinfo.delete(node.id);
    }
    this.#unsupported = unsupported;
    return change;
  }

  /** Applies a device's sysinfo: discovers outlets, refines the family, picks up outlet aliases. */
  applySysinfo(deviceId: string, sysinfo: Record<string, unknown>): NodesChange {
    const change = emptyChange();
    if (!this.#entries.has(deviceId)) return change;
    this.#sysinfo.set(deviceId, sysinfo);
    this.#rebuild(deviceId, change);
    return change;
  }

  /** Marks a physical device and its outlets online/offline (cloud flag or -20571). */
  setOnline(deviceId: string, online: boolean): DeviceNode[] {
    const node = this.#nodes.get(deviceId);
    if (!node || node.online === online) return [];
    const changed = [node, ...this.children(node)];
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
    return new Map([...this.keys.entries()].filter(([id]) => isOutlet(id) && !this.#nodes.has(id)));
  }

  /** Changes a node's topic key (bridge/request/device/rename). Returns the old key. */
  rename(id: string, newKey: string): string {
    const node = this.#nodes.get(id);
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
    const entry = this.#entries.get(deviceId);
    if (!entry) return;
    const built = buildNodes(entry, this.#sysinfo.get(deviceId), (id, name) => this.keys.keyFor(id, name));
    const builtIds = new Set(built.map((n) => n.id));
    const previous = this.#nodes.get(deviceId);
    if (previous) {
      for (const child of this.children(previous)) if (!builtIds.has(child.id)) this.#remove(child, change);
    }
    for (const fresh of built) {
      // Online is tracked by setOnline (device list flag and -20571 answers), not by rebuilds.
      const parentOnline = previous?.online;
      const old = this.#nodes.get(fresh.id);
      if (old) fresh.online = old.online;
      else if (parentOnline !== undefined) fresh.online = parentOnline;
      if (!old) {
        this.#nodes.set(fresh.id, fresh);
        change.added.push(fresh);
        continue;
      }
      if (old.alias !== fresh.alias) change.renamedAliases.push({ node: old, from: old.alias });
      if (JSON.stringify(old) !== JSON.stringify(fresh)) {
        Object.assign(old, fresh);
        change.changed.push(old);
      }
    }
  }

  #remove(node: DeviceNode, change: NodesChange): void {
    if (!this.#nodes.delete(node.id)) return;
    change.removed.push(node);
  }
}


