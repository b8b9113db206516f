import { publicConfig } from '../config.js';
import type { CloudDevice } from '../kasa/protocol.js';
import { VERSION } from '../version.js';
import { RequestError } from './bridgeRequests.js';
import type { BridgeContext } from './context.js';
import { PartBase } from './partBase.js';
import { describeError } from './errors.js';
import type { NodesChangedEvent } from './eventBus.js';
import { SlidingWindowLimit, rateLimited } from './requestLimits.js';

/** At most one `bridge/devices` publish per this gap (the last change always goes out). */
const DIRECTORY_PUBLISH_GAP_MS = 1_000;
const SYNC_RETRY_MIN_MS = 5_000;
/** Each rename clears and republishes a node's topics and its discovery: at most this many per minute. */
export const RENAMES_PER_MINUTE = 10;

/**
 * Keeps the device list in step with the cloud: the sync after each login, refreshes on an
 * interval and on request, renames, `bridge/devices` and `bridge/info`.
 */
export class DeviceListExtension extends PartBase {
  readonly name = 'device list';
  #running = false;
  #syncRetry: NodeJS.Timeout | undefined;
  #refreshing: Promise<number> | undefined;
  #suspectEmpty = false;
  #devicesJson: string | undefined;
  #directoryTimer: NodeJS.Timeout | undefined;
  #lastDirectoryPublish = 0;
  #infoDirty = false;
  readonly #renames = new SlidingWindowLimit(RENAMES_PER_MINUTE, 60_000);
  readonly #log;

  constructor(ctx: BridgeContext) {
    super(ctx);
    this.#log = ctx.logger.child({ module: 'device-list' });
  }

  override async start(): Promise<void> {
    this.#running = true;
    this.listen('sessionUsable', this.#onSessionUsable);
    this.listen('nodesChanged', this.#onNodesChanged);
    this.listen('nodesOnlineChanged', () => this.publishDevices());
    this.handle('devices/refresh', async () => {
      const count = await this.refresh();
      await this.ctx.readings.readAll('device_list');
      // Outlets found by those reads are in bridge/devices before the answer goes out.
      this.publishDevices();
      return { device_count: count };
    });
    this.handle('device/rename', async (body) => this.#rename(body));
    this.publishInfo();
    this.every(this.ctx.config.KASA_DEVICE_LIST_INTERVAL * 1000, () => void this.refresh().catch(() => undefined));
  }

  override async stop(): Promise<void> {
    this.#running = false;
    // Whatever was waiting goes out now, before MQTT stops.
    if (this.#directoryTimer) this.#publishDirectory();
    await super.stop();
  }

  readonly #onSessionUsable = (usable: boolean): void => {
    for (const node of this.ctx.registry.nodes()) this.ctx.publisher.refreshAvailability(node);
    if (usable) void this.#sync();
  };

  /** Changes found by devices' answers (outlets, refined families); the list's own changes are published by `#refresh`. */
  readonly #onNodesChanged = ({ added, removed, batched }: NodesChangedEvent): void => {
    if (batched) this.#publishDevicesSoon(added.length > 0 || removed.length > 0);
  };

  /**
   * After login: read the device list and every device once, then announce `devicesSynced`. A
   * failed list read is retried with backoff (5 s doubling, at most the device-list interval).
   */
  async #sync(delayMs = SYNC_RETRY_MIN_MS): Promise<void> {
    this.cancel(this.#syncRetry);
    try {
      await this.refresh();
    } catch (err) {
      if (!this.#running || !this.ctx.auth.usable) return;
      const next = Math.min(delayMs * 2, this.ctx.config.KASA_DEVICE_LIST_INTERVAL * 1000);
      this.#log.warn({ err: describeError(err), retryInMs: delayMs }, 'device list read failed; retrying');
      this.#syncRetry = this.later(delayMs, () => void this.#sync(next));
      return;
    }
    await this.ctx.readings.readAll();
    this.publishDevices();
    this.ctx.events.emit('devicesSynced');
  }

  /** Re-reads the device list (one request at a time; concurrent callers share it). Resolves to the node count. */
  refresh(): Promise<number> {
    this.#refreshing ??= this.#refresh().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #refresh(): Promise<number> {
    const { registry, readings } = this.ctx;
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
    if (list.length === 0 && (registry.size > 0 || registry.hasStoredKeys) && !this.#suspectEmpty) {
      this.#suspectEmpty = true;
      this.#log.warn('the cloud answered an empty device list; keeping the known devices until the next refresh confirms it');
      // Nothing known yet: fail, so the start-up sync retries instead of treating the account as empty.
      if (registry.size === 0) throw new EmptyDeviceListError();
      return registry.size;
    }
    this.#suspectEmpty = false;
    const change = registry.applyDeviceList(list);
    readings.applyChange(change);
    readings.applyListedOnline(list);
    this.publishDevices(change.added.length > 0 || change.removed.length > 0);
    return registry.size;
  }

  #rename(body: Record<string, unknown>): { id: string; from: string; to: string } {
    const given = body.id ?? body.from;
    const to = body.to;
    if (typeof given !== 'string' || given === '' || typeof to !== 'string') {
      throw new RequestError('invalid_payload', 'expected {"id" or "from": "<key or id>", "to": "<new key>"}');
    }
    const { registry, publisher } = this.ctx;
    const node = registry.resolve(given);
    if (!node) throw new RequestError('unknown_device', `no device with key or id "${given}"`);
    // Same key: nothing moves (clearing it would wipe the node's own state and availability).
    if (node.key === to) return { id: node.id, from: to, to };
    const limitedUntil = this.#renames.blockedUntil();
    if (limitedUntil !== undefined) throw rateLimited(`at most ${RENAMES_PER_MINUTE} renames per minute`, limitedUntil);
    let oldKey: string;
    try {
      oldKey = registry.rename(node.id, to);
    } catch (err) {
      throw new RequestError('invalid_payload', err instanceof Error ? err.message : String(err));
    }
    this.#renames.record();
    publisher.clear(oldKey);
    publisher.moved(node);
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
    this.#directoryTimer = this.later(wait, () => this.#publishDirectory());
  }

  #publishDirectory(): void {
    this.cancel(this.#directoryTimer);
    this.#directoryTimer = undefined;
    this.#lastDirectoryPublish = Date.now();
    if (this.#infoDirty) this.publishInfo();
    this.#infoDirty = false;
    const json = JSON.stringify(this.ctx.registry.bridgeDevices());
    if (json === this.#devicesJson) return;
    this.#devicesJson = json;
    void this.ctx.mqtt.publish(this.ctx.topics.bridgeDevices, json, { retain: true });
  }

  publishInfo(): void {
    void this.ctx.mqtt.publish(
      this.ctx.topics.bridgeInfo,
      {
        version: VERSION,
        base_topic: this.ctx.config.MQTT_BASE_TOPIC,
        cloud_host: safeHost(this.ctx.config.KASA_CLOUD_URL),
        device_count: this.ctx.registry.size,
        config: publicConfig(this.ctx.config),
      },
      { retain: true },
    );
  }
}

export class EmptyDeviceListError extends Error {
  constructor() {
    super('the cloud answered an empty device list; it is believed only when the next read confirms it');
    this.name = 'EmptyDeviceListError';
  }
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
