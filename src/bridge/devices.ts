import type { DeviceNode } from '../devices/node.js';
import type { CloudDevice } from '../kasa/protocol.js';
import { publicConfig } from '../config.js';
import { VERSION } from '../version.js';
import type { BridgeContext } from './context.js';
import type { DeviceRegistry, NodesChange } from './registry.js';
import type { StatePublisher } from './statePublisher.js';
import { describeError } from './errors.js';

/** At most one `bridge/devices` publish per this gap (the last change always goes out). */
const DIRECTORY_PUBLISH_GAP_MS = 1_000;

/**
 * Keeps the node list in step with the cloud: device-list refreshes on an interval and on
 * request, outlets found in sysinfo, `bridge/devices`, `bridge/info` and the device events.
 */
export class DevicesExtension {
  #timer: NodeJS.Timeout | undefined;
  #refreshing: Promise<number> | undefined;
  #suspectEmpty = false;
  #listedOnce = false;
  #devicesJson: string | undefined;
  #directoryTimer: NodeJS.Timeout | undefined;
  #lastDirectoryPublish = 0;
  #infoDirty = false;
  readonly #log;

  constructor(
    private readonly ctx: BridgeContext,
    private readonly registry: DeviceRegistry,
    private readonly publisher: StatePublisher,
  ) {
    this.#log = ctx.logger.child({ module: 'devices' });
  }

  get listedOnce(): boolean {
    return this.#listedOnce;
  }

  start(): void {
    this.publishInfo();
    this.#timer = setInterval(() => void this.refresh().catch(() => undefined), this.ctx.config.KASA_DEVICE_LIST_INTERVAL * 1000);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    // Whatever was waiting goes out now, before MQTT stops.
    if (this.#directoryTimer) this.#publishDirectory();
  }

  /** Re-reads the device list (one request at a time; concurrent callers share it). Resolves to the node count. */
  refresh(): Promise<number> {
    this.#refreshing ??= this.#refresh().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #refresh(): Promise<number> {
    let list: CloudDevice[];
    try {
      list = await this.ctx.scheduler.run('device_list', (signal) => this.ctx.client.getDeviceList(signal), {
        label: 'getDeviceList',
      });
    } catch (err) {
      this.#log.warn({ err: describeError(err) }, 'device list refresh failed');
      throw err;
    }
    // The cloud sometimes answers an empty list under load: believe it only when it repeats. Right
    // after a start nothing is known yet, but stored keys say the account had devices.
    if (list.length === 0 && (this.registry.size > 0 || this.registry.hasStoredKeys) && !this.#suspectEmpty) {
      this.#suspectEmpty = true;
      this.#log.warn('the cloud answered an empty device list; keeping the known devices until the next refresh confirms it');
      // Nothing known yet: fail, so the start-up sync retries instead of treating the account as empty.
      if (this.registry.size === 0) throw new EmptyDeviceListError();
      return this.registry.size;
    }
    this.#suspectEmpty = false;
    this.#listedOnce = true;
    this.#applyChange(this.registry.applyDeviceList(list));
    for (const entry of list) {
      for (const node of this.registry.setOnline(entry.deviceId, entry.status !== 0)) this.publisher.refreshAvailability(node);
    }
    this.publishDevices();
    return this.registry.size;
  }

  /** The poller hands over every sysinfo: outlets appear, aliases change, families refine. */
  onSysinfo(deviceId: string, sysinfo: Record<string, unknown>): void {
    // Polls find outlets one strip at a time: batch those list updates (see publishDevicesSoon).
    this.#applyChange(this.registry.applySysinfo(deviceId, sysinfo), true);
  }

  /** Marks a device and its outlets offline/online from a passthrough answer. */
  setOnline(deviceId: string, online: boolean): void {
    const changed = this.registry.setOnline(deviceId, online);
    if (changed.length === 0) return;
    for (const node of changed) this.publisher.refreshAvailability(node);
    this.publishDevices();
  }

  rename(idOrKey: string, to: string): { id: string; from: string; to: string } {
    const node = this.registry.resolve(idOrKey);
    if (!node) throw new UnknownDeviceError(idOrKey);
    const oldKey = this.registry.rename(node.id, to);
    // Same key: nothing moves (clearing it would wipe the node's own state and availability).
    if (oldKey === to) return { id: node.id, from: oldKey, to };
    this.publisher.clear(node, oldKey);
    this.publisher.moved(node);
    this.ctx.events.emit('nodeRenamed', node, oldKey);
    this.publishDevices();
    this.#log.info({ id: node.id, from: oldKey, to }, 'topic key changed');
    return { id: node.id, from: oldKey, to };
  }

  /** Publishes `bridge/devices` now (and `bridge/info` when asked), with anything batched. */
  publishDevices(withInfo = false): void {
    this.#infoDirty ||= withInfo;
    this.#publishDirectory();
  }

  /**
   * Publishes `bridge/devices` at most once per DIRECTORY_PUBLISH_GAP_MS: at start-up every
   * strip's first answer changes the list, and at a thousand devices republishing the whole list
   * each time costs megabytes per second.
   */
  #publishDevicesSoon(withInfo: boolean): void {
    this.#infoDirty ||= withInfo;
    if (this.#directoryTimer) return;
    const wait = this.#lastDirectoryPublish + DIRECTORY_PUBLISH_GAP_MS - Date.now();
    if (wait <= 0) {
      this.#publishDirectory();
      return;
    }
    this.#directoryTimer = setTimeout(() => this.#publishDirectory(), wait);
    this.#directoryTimer.unref();
  }

  #publishDirectory(): void {
    clearTimeout(this.#directoryTimer);
    this.#directoryTimer = undefined;
    this.#lastDirectoryPublish = Date.now();
    if (this.#infoDirty) this.publishInfo();
    this.#infoDirty = false;
    const json = JSON.stringify(this.registry.bridgeDevices());
    if (json === this.#devicesJson) return;
    this.#devicesJson = json;
    void this.ctx.mqtt.publish(this.ctx.topics.bridgeDevices, json, { retain: true });
  }

  publishInfo(): void {
    const cloudHost = safeHost(this.ctx.config.KASA_CLOUD_URL);
    void this.ctx.mqtt.publish(
      this.ctx.topics.bridgeInfo,
      {
        version: VERSION,
        base_topic: this.ctx.config.MQTT_BASE_TOPIC,
        cloud_host: cloudHost,
        device_count: this.registry.size,
        config: publicConfig(this.ctx.config),
      },
      { retain: true },
    );
  }

  #applyChange(change: NodesChange, batched = false): void {
    const { added, removed, changed, renamedAliases } = change;
    if (added.length + removed.length + changed.length === 0) return;
    for (const node of added) {
      this.#log.info({ id: node.id, key: node.key, model: node.model }, `device added: ${node.name}`);
      this.ctx.publishEvent({ type: 'device_added', id: node.id, key: node.key, alias: node.alias });
      this.publisher.refreshAvailability(node);
      // Outlets are only known once the strip answers: until then, what earlier runs left
      // retained for them must not say online.
      if (node.parentId === undefined && node.childIds === undefined) {
        for (const key of this.registry.storedOutletKeys(node.id).values()) {
          void this.ctx.mqtt.publish(this.ctx.topics.nodeAvailability(key), { state: 'offline' }, { retain: true });
        }
      }
    }
    for (const node of removed) {
      this.#log.info({ id: node.id, key: node.key }, `device removed: ${node.name}`);
      this.publisher.clear(node);
      this.ctx.publishEvent({ type: 'device_removed', id: node.id, key: node.key, alias: node.alias });
    }
    for (const { node, from } of renamedAliases) {
      this.#log.info({ id: node.id, key: node.key, from, to: node.alias }, 'alias changed in the Kasa app; topics stay');
      this.ctx.publishEvent({ type: 'alias_changed', id: node.id, key: node.key, from, to: node.alias });
    }
    this.ctx.events.emit('nodesChanged', { added, removed, changed });
    const countChanged = added.length > 0 || removed.length > 0;
    if (batched) this.#publishDevicesSoon(countChanged);
    else this.publishDevices(countChanged);
  }
}

export class EmptyDeviceListError extends Error {
  constructor() {
    super('the cloud answered an empty device list; it is believed only when the next read confirms it');
    this.name = 'EmptyDeviceListError';
  }
}

export class UnknownDeviceError extends Error {
  constructor(readonly given: string) {
    super(`no device with key or id "${given}"`);
    this.name = 'UnknownDeviceError';
  }
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

export type { DeviceNode };
