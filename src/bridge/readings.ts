import type { NodeState } from '../api/types.js';
import type { Priority } from '../scheduler/scheduler.js';
import { SchedulerStoppedError } from '../scheduler/scheduler.js';
import { cadenceRequests, deviceUtcOffsetMinutes, moduleReadings, pollRequest, PROTOCOLS, sysinfoOf, type NodeRequest } from '../devices/families.js';
import { modulesOf } from '../devices/protocols.js';
import { readOf } from '../devices/requests.js';
import type { ReadCadence, RequestData } from '../devices/module.js';
import type { DeviceNode } from '../devices/node.js';
import { KasaDeviceOfflineError } from '../kasa/errors.js';
import type { CloudDevice } from '../kasa/protocol.js';
import type { BridgeContext } from './context.js';
import type { Device } from './device.js';
import { describeError, SessionUnavailableError } from './errors.js';
import type { NodesChange } from './registry.js';

export type ReadingsContext = Pick<
  BridgeContext,
  'logger' | 'mqtt' | 'topics' | 'client' | 'scheduler' | 'events' | 'auth' | 'registry' | 'publisher' | 'publishEvent' | 'timing' | 'config'
>;

/** Daily reads (firmware, cloud connection) go out at most this often per device, and again after a restart. */
export const DAILY_READ_INTERVAL_MS = 24 * 60 * 60_000;
/** A daily read that failed (a timeout, a cloud error) is tried again this much later, not a day later. */
export const DAILY_RETRY_MS = 60 * 60_000;

/** The scheduler lane of each cadence's own requests. */
const CADENCE_LANE: Record<Exclude<ReadCadence, 'poll' | 'after_set'>, Priority> = { energy: 'energy', daily: 'daily' };

/**
 * The one place where what a device says reaches the bridge, and the one place that reads devices:
 * a poll, a set's read-back, a targeted or daily read, or a device-offline error updates the
 * registry, the node states, availability and the events. After each poll answer it sends the
 * reads of other cadences that are due.
 */
export class DeviceReadings {
  readonly #log;

  constructor(private readonly ctx: ReadingsContext) {
    this.#log = ctx.logger.child({ module: 'readings' });
  }

  /** Reads every physical device once now; failures are logged, not thrown. */
  async readAll(priority: Priority = 'poll'): Promise<void> {
    await Promise.all(this.ctx.registry.physicalDevices().map((node) => this.read(node, priority).catch(() => undefined)));
  }

  /** Polls one physical device (or an outlet's strip). Concurrent callers share one request. */
  read(node: DeviceNode, priority: Priority = 'poll'): Promise<void> {
    const device = this.ctx.registry.device(node);
    if (!device?.self) return Promise.resolve();
    device.reading ??= this.#poll(device, device.self.info, priority).finally(() => {
      device.reading = undefined;
    });
    return device.reading;
  }

  async #poll(device: Device, node: DeviceNode, priority: Priority): Promise<void> {
    if (!this.ctx.auth.usable) throw new SessionUnavailableError();
    const request = () => pollRequest(node, new Date(), device.requestOptions(), device.children().map((c) => c.info), device.self?.lacking);
    let response: Record<string, unknown>;
    try {
      response = await this.ctx.scheduler.run(priority, (signal) => this.#send(node, request(), signal), { label: `poll ${node.key}`, device: device.id });
    } catch (err) {
      this.failed(node, err);
      if (err instanceof SchedulerStoppedError) this.#log.debug({ id: device.id }, 'device read dropped: shutting down');
      else if (!(err instanceof KasaDeviceOfflineError)) this.#log.warn({ id: device.id, key: node.key, err: describeError(err) }, 'device read failed');
      throw err;
    }
    this.apply(node, response);
    this.#readDue(device);
  }

  /** Sends a request made for `node` to its device, through the node's family. */
  async #send(node: DeviceNode, requestData: RequestData, signal: AbortSignal): Promise<Record<string, unknown>> {
    const device = this.ctx.registry.node(node.parentId ?? node.id) ?? node;
    const raw = await this.ctx.client.passthrough(device, requestData, signal);
    return PROTOCOLS[node.protocol].unwrap(raw);
  }

  /** Sends a set's request for `node` (commands.ts): the answer comes back unwrapped, not yet applied. */
  send(node: DeviceNode, requestData: RequestData, signal: AbortSignal): Promise<Record<string, unknown>> {
    return this.#send(node, requestData, signal);
  }

  /**
   * Applies an answer to a request made for `target` (a poll or a set's read-back for a device, or
   * an outlet's own request): outlets appear, aliases change, the device is online, and every node
   * the answer speaks for gets what its modules read. Returns `target`'s state afterwards.
   */
  apply(target: DeviceNode, response: Record<string, unknown>): NodeState | undefined {
    const { registry, publisher } = this.ctx;
    const device = registry.device(target);
    if (!device) return undefined;
    const sysinfo = sysinfoOf(response);
    // Polls find outlets one strip at a time: `bridge/devices` may batch those list updates.
    if (sysinfo) this.applyChange(registry.applySysinfo(device.id, sysinfo), true);
    this.setOnline(device.id, true);
    const now = new Date();
    device.utcOffsetMinutes = deviceUtcOffsetMinutes(response, now) ?? device.utcOffsetMinutes;
    const options = { now, ...device.requestOptions() };
    let targetState: NodeState | undefined;
    for (const record of device.nodes.values()) {
      const node = record.info;
      const targeted = node.id === target.id;
      // A request made for an outlet answers for its device only through the sysinfo it carries.
      if (!targeted && target.parentId !== undefined && !sysinfo) continue;
      const readings = moduleReadings(node, response, targeted, options);
      this.#noteLacking(record, node, response, targeted);
      const state = readings.size > 0 ? publisher.reading(node, readings) : undefined;
      if (targeted) targetState = state ?? record.peek();
    }
    return targetState;
  }

  /** Optional modules whose reads this answer says do not exist on the model are turned off for the node. */
  #noteLacking(record: NonNullable<ReturnType<ReadingsContext['registry']['record']>>, node: DeviceNode, response: Record<string, unknown>, targeted: boolean): void {
    if (!targeted) return;
    const spec = PROTOCOLS[node.protocol];
    for (const module of modulesOf(node)) {
      if (!module.optional || record.lacking.has(module.name)) continue;
      const part = readOf(module, node)?.request(node, { now: new Date() });
      if (!part || !asked(part, response)) continue;
      if (!spec.lacks(part, response)) continue;
      record.lacking.add(module.name);
      this.#log.debug({ id: node.id, module: module.name }, 'the device has no such module: not read again');
      this.ctx.events.emit('nodesChanged', { added: [], removed: [], changed: [node], batched: true });
    }
  }

  /** After a poll answer: the energy reads (first answer, then every KASA_ENERGY_POLL_INTERVAL) and daily reads that are due. */
  #readDue(device: Device): void {
    const now = Date.now();
    const energyDue = (device.lastRead.energy ?? -Infinity) + this.ctx.config.KASA_ENERGY_POLL_INTERVAL * 1000 <= now;
    if (energyDue) this.readCadence(device, 'energy');
    // A device that answers a poll after a restart is back: its firmware may have changed.
    const dailyDue = device.restarted || (device.lastRead.daily ?? -Infinity) + DAILY_READ_INTERVAL_MS <= now;
    if (dailyDue) {
      device.restarted = false;
      this.readCadence(device, 'daily');
    }
  }

  /** Sends the reads of `cadence` of one device (its own and each outlet's), each on the cadence's lane. */
  readCadence(device: Device, cadence: Exclude<ReadCadence, 'poll' | 'after_set'>): void {
    const { scheduler, auth } = this.ctx;
    const lane = CADENCE_LANE[cadence];
    const self = device.self;
    if (!self || scheduler.isPaused(lane) || !auth.usable) return;
    device.lastRead[cadence] = Date.now();
    const children = device.children();
    const requests = cadenceRequests(self.info, children.map((c) => c.info), cadence, new Date(), device.requestOptions(), (id) =>
      device.nodes.get(id)?.lacking,
    );
    for (const request of requests) this.#sendTargeted(device, request, lane, cadence);
  }

  #sendTargeted(device: Device, { node, requestData }: NodeRequest, lane: Priority, cadence: Exclude<ReadCadence, 'poll' | 'after_set'>): void {
    const record = device.nodes.get(node.id);
    if (!record || record.targetedReadPending) return;
    record.targetedReadPending = true;
    this.ctx.scheduler
      .run(lane, (signal) => this.#send(node, requestData, signal), { label: `${lane} ${node.key}`, device: device.id })
      .then((response) => this.apply(node, response))
      .catch((err: unknown) => {
        this.failed(node, err);
        this.#log.debug({ id: node.id, lane, err: describeError(err) }, 'read failed');
        if (cadence === 'daily') device.lastRead.daily = Date.now() - DAILY_READ_INTERVAL_MS + DAILY_RETRY_MS;
      })
      .finally(() => {
        record.targetedReadPending = false;
      });
  }

  /** A restart was sent: the device's short absence that follows is expected, and its daily reads are done again. */
  expectRestart(node: DeviceNode): void {
    const device = this.ctx.registry.device(node);
    if (!device) return;
    device.restartingUntil = Date.now() + this.ctx.timing.restartGraceMs;
    device.restarted = true;
  }

  /** A failed request to a device: the cloud's "device is offline" marks it and its outlets offline, unless it is restarting. */
  failed(node: DeviceNode, err: unknown): void {
    if (!(err instanceof KasaDeviceOfflineError)) return;
    const device = this.ctx.registry.device(node);
    if (!device) return;
    if (device.isRestarting()) {
      this.#log.debug({ id: device.id }, 'device is restarting: absence expected');
      return;
    }
    this.setOnline(device.id, false);
  }

  /** Marks a device and its outlets online/offline (cloud flag or device-offline answer). */
  setOnline(deviceId: string, online: boolean): void {
    this.#announceOnline(this.ctx.registry.setOnline(deviceId, online));
  }

  /** The online flags of a fresh device list: availability follows; the device list part publishes the list itself. */
  applyListedOnline(list: readonly CloudDevice[]): void {
    for (const entry of list) for (const node of this.ctx.registry.setOnline(entry.deviceId, entry.status !== 0)) this.ctx.publisher.refreshAvailability(node);
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
      publisher.clear(node.key);
      publishEvent({ type: 'device_removed', id: node.id, key: node.key, alias: node.alias });
    }
    for (const { node, from } of renamedAliases) {
      this.#log.info({ id: node.id, key: node.key, from, to: node.alias }, 'alias changed in the Kasa app; topics stay');
      publishEvent({ type: 'alias_changed', id: node.id, key: node.key, from, to: node.alias });
    }
    this.ctx.events.emit('nodesChanged', { added, removed, changed, batched });
  }
}

/** Whether `response` answers anything of `part` (iot: a module it asked is in the reply). */
function asked(part: RequestData, response: Record<string, unknown>): boolean {
  return Object.keys(part).some((key) => key !== 'context' && key in response);
}
