import { deviceUtcOffsetMinutes, energyRequests, parseEnergyResponse, parseResponse, pollRequest } from '../devices/families.js';
import type { DeviceNode } from '../devices/node.js';
import { spreadOffsetMs } from '../cloud/spread.js';
import { SchedulerStoppedError } from '../cloud/errors.js';
import type { Priority } from '../cloud/priority.js';
import { KasaDeviceOfflineError } from '../kasa/errors.js';
import { tryMethodResult } from '../kasa/deviceResponse.js';
import type { BridgeContext } from './context.js';
import type { DevicesExtension } from './devices.js';
import type { DeviceRegistry } from './registry.js';
import type { StatePublisher } from './statePublisher.js';
import { describeError, SessionUnavailableError } from './errors.js';

/** A device that has not answered for this many poll intervals is shown offline until it does. */
const STALE_AFTER_POLLS = 3;

interface DeviceTimers {
  start: NodeJS.Timeout;
  every?: NodeJS.Timeout;
}

/**
 * Reads every physical device once per KASA_POLL_INTERVAL (one request per device: a strip's
 * sysinfo gives all outlets, single-socket meters ride along), spread over the interval; HS300
 * per-outlet meters once per KASA_ENERGY_POLL_INTERVAL.
 */
export class Poller {
  readonly #timers = new Map<string, DeviceTimers>();
  readonly #inFlight = new Map<string, Promise<void>>();
  readonly #energyRead = new Set<string>();
  /** Devices restarted on command: until when their absence is expected (ms since the epoch). */
  readonly #restartingUntil = new Map<string, number>();
  /** Each device's offset from UTC (minutes), from its `get_time` answers: energy by its calendar. */
  readonly #utcOffsets = new Map<string, number>();
  #energyTimer: NodeJS.Timeout | undefined;
  #running = false;
  readonly #log;

  constructor(
    private readonly ctx: BridgeContext,
    private readonly registry: DeviceRegistry,
    private readonly devices: DevicesExtension,
    private readonly publisher: StatePublisher,
    private readonly sessionUsable: () => boolean,
  ) {
    this.#log = ctx.logger.child({ module: 'poller' });
  }

  start(): void {
    this.#running = true;
    this.ctx.events.on('nodesChanged', this.#onNodesChanged);
    this.ctx.events.on('deviceRestarting', this.#onRestarting);
    this.#energyTimer = setInterval(() => this.#readAllEnergy(), this.ctx.config.KASA_ENERGY_POLL_INTERVAL * 1000);
    this.#energyTimer.unref();
  }

  stop(): void {
    this.#running = false;
    this.ctx.events.off('nodesChanged', this.#onNodesChanged);
    this.ctx.events.off('deviceRestarting', this.#onRestarting);
    clearInterval(this.#energyTimer);
    for (const id of [...this.#timers.keys()]) this.#unschedule(id);
  }

  /** Reads every device once now (start-up, device refresh), then keeps the spread schedule. */
  pollAll(priority: Priority = 'poll'): Promise<void> {
    const devices = this.registry.physicalDevices();
    return Promise.all(devices.map((node) => this.poll(node, priority).catch(() => undefined))).then(() => undefined);
  }

  /** Reads one physical device (or an outlet's strip). Concurrent callers share one request. */
  poll(node: DeviceNode, priority: Priority = 'poll'): Promise<void> {
    const device = node.parentId === undefined ? node : this.registry.node(node.parentId);
    if (!device) return Promise.resolve();
    const running = this.#inFlight.get(device.id);
    if (running) return running;
    const read = this.#read(device, priority).finally(() => this.#inFlight.delete(device.id));
    this.#inFlight.set(device.id, read);
    return read;
  }

  async #read(device: DeviceNode, priority: Priority): Promise<void> {
    if (!this.sessionUsable()) throw new SessionUnavailableError();
    let response: Record<string, unknown>;
    try {
      response = await this.ctx.scheduler.run(
        priority,
        (signal) => this.ctx.client.passthrough(device, pollRequest(device, new Date(), this.requestOptions(device.id)), signal),
        { label: `poll ${device.key}` },
      );
    } catch (err) {
      if (err instanceof KasaDeviceOfflineError && this.#restarting(device.id)) {
        this.#log.debug({ id: device.id }, 'device is restarting: absence expected');
      } else if (err instanceof KasaDeviceOfflineError) {
        this.devices.setOnline(device.id, false);
      } else if (err instanceof SchedulerStoppedError) {
        this.#log.debug({ id: device.id }, 'device read dropped: shutting down');
      } else {
        this.#log.warn({ id: device.id, key: device.key, err: describeError(err) }, 'device read failed');
      }
      throw err;
    }
    this.applyResponse(device, response);
    if (!this.#energyRead.has(device.id)) {
      this.#energyRead.add(device.id);
      this.#readEnergy(device);
    }
  }

  /** Publishes what a sysinfo-bearing answer (poll or command read-back) says about a device and its outlets. */
  applyResponse(device: DeviceNode, response: Record<string, unknown>, target?: DeviceNode): void {
    const sysinfo = tryMethodResult(response, 'system', 'get_sysinfo');
    if (sysinfo) this.devices.onSysinfo(device.id, sysinfo);
    this.devices.setOnline(device.id, true);
    const now = new Date();
    const offset = deviceUtcOffsetMinutes(response, now);
    if (offset !== undefined) this.#utcOffsets.set(device.id, offset);
    const fresh = this.registry.node(device.id) ?? device;
    const options = { now, ...this.requestOptions(device.id), ...(target ? { target } : {}) };
    const readings = parseResponse([fresh, ...this.registry.children(fresh)], response, options);
    for (const [id, reading] of readings) {
      const node = this.registry.node(id);
      if (node) this.publisher.reading(node, reading);
    }
  }

  #readEnergy(device: DeviceNode): void {
    const offset = this.requestOptions(device.id);
    for (const { childId: nodeId, requestData } of energyRequests(device, new Date(), offset)) {
      const node = this.registry.node(nodeId);
      if (!node || this.ctx.scheduler.isPaused('energy') || !this.sessionUsable()) continue;
      this.ctx.scheduler
        .run('energy', (signal) => this.ctx.client.passthrough(device, requestData, signal), { label: `energy ${node.key}` })
        .then((response) => {
          this.publisher.reading(node, parseEnergyResponse(node, response, new Date(), offset.utcOffsetMinutes), 'energy');
        })
        .catch((err: unknown) => this.#log.debug({ id: nodeId, err: describeError(err) }, 'energy read failed'));
    }
  }

  #readAllEnergy(): void {
    if (!this.#running) return;
    for (const device of this.registry.physicalDevices()) this.#readEnergy(device);
  }

  /** What requests to a device need to know of it: its UTC offset, once its clock has been read. */
  requestOptions(deviceId: string): { utcOffsetMinutes?: number } {
    const offset = this.#utcOffsets.get(deviceId);
    return offset === undefined ? {} : { utcOffsetMinutes: offset };
  }

  #restarting(deviceId: string): boolean {
    const until = this.#restartingUntil.get(deviceId);
    if (until === undefined) return false;
    if (Date.now() < until) return true;
    this.#restartingUntil.delete(deviceId);
    return false;
  }

  readonly #onRestarting = (deviceId: string): void => {
    this.#restartingUntil.set(deviceId, Date.now() + this.ctx.timing.restartGraceMs);
  };

  readonly #onNodesChanged = ({ added, removed }: { added: DeviceNode[]; removed: DeviceNode[] }): void => {
    for (const node of removed) this.#unschedule(node.id);
    if (added.some((n) => n.parentId === undefined)) this.#reschedule();
  };

  /** Spreads the periodic polls of all devices evenly over the interval. */
  #reschedule(): void {
    if (!this.#running) return;
    const intervalMs = this.ctx.config.KASA_POLL_INTERVAL * 1000;
    const devices = this.registry.physicalDevices();
    devices.forEach((device, index) => {
      if (this.#timers.has(device.id)) return;
      const offset = spreadOffsetMs(index, devices.length, intervalMs);
      const timers: DeviceTimers = {
        start: setTimeout(() => {
          timers.every = setInterval(() => this.#tick(device.id), intervalMs);
          timers.every.unref();
          this.#tick(device.id);
        }, intervalMs + offset),
      };
      timers.start.unref();
      this.#timers.set(device.id, timers);
    });
  }

  #tick(deviceId: string): void {
    const device = this.registry.node(deviceId);
    if (!device) return;
    const maxAgeMs = STALE_AFTER_POLLS * this.ctx.config.KASA_POLL_INTERVAL * 1000;
    for (const node of [device, ...this.registry.children(device)]) this.publisher.expireIfStale(node, maxAgeMs);
    if (!this.sessionUsable() || this.ctx.scheduler.isPaused('poll')) return;
    this.poll(device).catch(() => undefined);
  }

  #unschedule(id: string): void {
    const timers = this.#timers.get(id);
    if (!timers) return;
    clearTimeout(timers.start);
    clearInterval(timers.every);
    this.#timers.delete(id);
    this.#energyRead.delete(id);
    this.#utcOffsets.delete(id);
    this.#restartingUntil.delete(id);
  }
}
