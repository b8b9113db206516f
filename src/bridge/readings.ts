import type { Priority } from '../scheduler/scheduler.js';
import { SchedulerStoppedError } from '../scheduler/scheduler.js';
import { deviceUtcOffsetMinutes, parseEnergyResponse, parseResponse, pollRequest, sysinfoOf } from '../devices/families.js';
import type { DeviceNode } from '../devices/node.js';
import { KasaDeviceOfflineError } from '../kasa/errors.js';
import type { CloudDevice } from '../kasa/protocol.js';
import type { BridgeContext } from './context.js';
import { describeError, SessionUnavailableError } from './errors.js';
import type { NodesChange } from './registry.js';

export type ReadingsContext = Pick<
  BridgeContext,
  'logger' | 'mqtt' | 'topics' | 'client' | 'scheduler' | 'events' | 'auth' | 'registry' | 'publisher' | 'publishEvent' | 'timing'
>;

/**
 * The one place where what a device says reaches the bridge: a poll's answer, a set's read-back,
 * an energy read or a device-offline error updates the registry, the node states, availability
 * and the events. The poller and the commands both read through here.
 */
export class DeviceReadings {
  readonly #inFlight = new Map<string, Promise<void>>();
  /** Each device's offset from UTC (minutes), from its `get_time` answers: energy by its calendar. */
  readonly #utcOffsets = new Map<string, number>();
  /** Devices restarted on command: until when their absence is expected (ms since the epoch). */
  readonly #restartingUntil = new Map<string, number>();
  readonly #log;

  constructor(private readonly ctx: ReadingsContext) {
    this.#log = ctx.logger.child({ module: 'readings' });
  }

  /** Reads every physical device once now; failures are logged, not thrown. */
  async readAll(priority: Priority = 'poll'): Promise<void> {
    await Promise.all(this.ctx.registry.physicalDevices().map((node) => this.read(node, priority).catch(() => undefined)));
  }

  /** Reads one physical device (or an outlet's strip). Concurrent callers share one request. */
  read(node: DeviceNode, priority: Priority = 'poll'): Promise<void> {
    const device = this.#deviceOf(node);
    if (!device) return Promise.resolve();
    const running = this.#inFlight.get(device.id);
    if (running) return running;
    const read = this.#read(device, priority).finally(() => this.#inFlight.delete(device.id));
    this.#inFlight.set(device.id, read);
    return read;
  }

  async #read(device: DeviceNode, priority: Priority): Promise<void> {
    if (!this.ctx.auth.usable) throw new SessionUnavailableError();
    let response: Record<string, unknown>;
    try {
      response = await this.ctx.scheduler.run(priority, (signal) => this.ctx.client.passthrough(device, pollRequest(device, new Date(), this.requestOptions(device.id)), signal), {
        label: `poll ${device.key}`,
        device: device.id,
      });
    } catch (err) {
      this.failed(device, err);
      if (err instanceof SchedulerStoppedError) this.#log.debug({ id: device.id }, 'device read dropped: shutting down');
      else if (!(err instanceof KasaDeviceOfflineError)) this.#log.warn({ id: device.id, key: device.key, err: describeError(err) }, 'device read failed');
      throw err;
    }
    this.apply(device, response);
  }

  /**
   * Applies a sysinfo-bearing answer (a poll, or a set's read-back) of a physical device: outlets
   * appear, aliases change, the device is online, and every node it speaks for gets its reading.
   * `target` is the node a set addressed (an outlet's values come from its own answer).
   */
  apply(device: DeviceNode, response: Record<string, unknown>, target?: DeviceNode): void {
    const { registry, publisher } = this.ctx;
    const sysinfo = sysinfoOf(response);
    // Polls find outlets one strip at a time: `bridge/devices` may batch those list updates.
    if (sysinfo) this.applyChange(registry.applySysinfo(device.id, sysinfo), true);
    this.setOnline(device.id, true);
    const now = new Date();
    const offset = deviceUtcOffsetMinutes(response, now);
    if (offset !== undefined) this.#utcOffsets.set(device.id, offset);
    const fresh = registry.node(device.id) ?? device;
    const options = { now, ...this.requestOptions(device.id), ...(target ? { target } : {}) };
    const readings = parseResponse([fresh, ...registry.children(fresh)], response, options);
    for (const [id, reading] of readings) {
      const node = registry.node(id);
      if (node) publisher.reading(node, reading);
    }
    this.ctx.events.emit('deviceAnswered', fresh);
  }

  /** Applies a separate energy read (HS300 per-outlet meters). */
  applyEnergy(node: DeviceNode, response: Record<string, unknown>): void {
    const deviceId = node.parentId ?? node.id;
    this.ctx.publisher.reading(node, parseEnergyResponse(node, response, new Date(), this.requestOptions(deviceId).utcOffsetMinutes), 'energy');
  }

  /** What requests to a device need to know of it: its UTC offset, once its clock has been read. */
  requestOptions(deviceId: string): { utcOffsetMinutes?: number } {
    const offset = this.#utcOffsets.get(deviceId);
    return offset === undefined ? {} : { utcOffsetMinutes: offset };
  }

  /** A restart was sent: the device's short absence that follows is expected, not a failure. */
  expectRestart(deviceId: string): void {
    this.#restartingUntil.set(deviceId, Date.now() + this.ctx.timing.restartGraceMs);
  }

  /** A failed request to a device: the cloud's "device is offline" marks it and its outlets offline, unless it is restarting. */
  failed(device: DeviceNode, err: unknown): void {
    if (!(err instanceof KasaDeviceOfflineError)) return;
    if (this.#restarting(device.id)) {
      this.#log.debug({ id: device.id }, 'device is restarting: absence expected');
      return;
    }
    this.setOnline(device.id, false);
  }

  #restarting(deviceId: string): boolean {
    const until = this.#restartingUntil.get(deviceId);
    if (until === undefined) return false;
    if (Date.now() < until) return true;
    this.#restartingUntil.delete(deviceId);
    return false;
  }

  /** Marks a device and its outlets online/offline (cloud flag or device-offline answer). */
  setOnline(deviceId: string, online: boolean): void {
    this.#announceOnline(this.ctx.registry.setOnline(deviceId, online));
  }

  /** The online flags of a fresh device list, announced once. */
  applyListedOnline(list: readonly CloudDevice[]): void {
    this.#announceOnline(list.flatMap((entry) => this.ctx.registry.setOnline(entry.deviceId, entry.status !== 0)));
  }

  #announceOnline(changed: DeviceNode[]): void {
    if (changed.length === 0) return;
    for (const node of changed) this.ctx.publisher.refreshAvailability(node);
    this.ctx.events.emit('nodesOnlineChanged', changed);
  }

  /** Logs, publishes and announces a change of the node list (device list or sysinfo). */
  applyChange(change: NodesChange, batched = false): void {
    const { added, removed, changed, renamedAliases } = change;
    if (added.length + removed.length + changed.length === 0) return;
    const { publisher, publishEvent, registry, mqtt, topics } = this.ctx;
    for (const node of added) {
      this.#log.info({ id: node.id, key: node.key, model: node.model }, `device added: ${node.name}`);
      publishEvent({ type: 'device_added', id: node.id, key: node.key, alias: node.alias });
      publisher.refreshAvailability(node);
      // Outlets are only known once the strip answers: until then, what earlier runs left
      // retained for them must not say online.
      if (node.parentId === undefined && node.childIds === undefined) {
        for (const key of registry.storedOutletKeys(node.id).values()) {
          void mqtt.publish(topics.nodeAvailability(key), { state: 'offline' }, { retain: true });
        }
      }
    }
    for (const node of removed) {
      this.#log.info({ id: node.id, key: node.key }, `device removed: ${node.name}`);
      publisher.clear(node);
      publishEvent({ type: 'device_removed', id: node.id, key: node.key, alias: node.alias });
    }
    for (const { node, from } of renamedAliases) {
      this.#log.info({ id: node.id, key: node.key, from, to: node.alias }, 'alias changed in the Kasa app; topics stay');
      publishEvent({ type: 'alias_changed', id: node.id, key: node.key, from, to: node.alias });
    }
    this.ctx.events.emit('nodesChanged', { added, removed, changed, batched });
  }

  #deviceOf(node: DeviceNode): DeviceNode | undefined {
    return node.parentId === undefined ? node : this.ctx.registry.node(node.parentId);
  }
}
