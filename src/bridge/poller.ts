import { spreadOffsetMs } from '../scheduler/scheduler.js';
import { energyRequests } from '../devices/families.js';
import type { DeviceNode } from '../devices/node.js';
import type { BridgeContext, BridgePart } from './context.js';
import { describeError } from './errors.js';
import type { NodesChangedEvent } from './eventBus.js';

/** A device that has not answered for this many poll intervals is shown offline until it does. */
const STALE_AFTER_POLLS = 3;

interface DeviceTimers {
  start: NodeJS.Timeout;
  every?: NodeJS.Timeout;
}

/**
 * Reads every physical device once per KASA_POLL_INTERVAL (one request per device: a strip's
 * sysinfo gives all outlets, single-socket meters ride along), spread over the interval; HS300
 * per-outlet meters after a device's first answer and then once per KASA_ENERGY_POLL_INTERVAL.
 */
export class Poller implements BridgePart {
  readonly name = 'poller';
  readonly #timers = new Map<string, DeviceTimers>();
  readonly #energyRead = new Set<string>();
  /** Outlets whose energy read is queued or in flight: a slow device must not collect a pile of them. */
  readonly #energyPending = new Set<string>();
  readonly #off: (() => void)[] = [];
  #energyTimer: NodeJS.Timeout | undefined;
  #running = false;
  readonly #log;

  constructor(private readonly ctx: BridgeContext) {
    this.#log = ctx.logger.child({ module: 'poller' });
  }

  async start(): Promise<void> {
    this.#running = true;
    this.#off.push(this.ctx.events.on('nodesChanged', this.#onNodesChanged), this.ctx.events.on('deviceAnswered', this.#onDeviceAnswered));
    this.#energyTimer = setInterval(() => this.#readAllEnergy(), this.ctx.config.KASA_ENERGY_POLL_INTERVAL * 1000);
    this.#energyTimer.unref();
  }

  async stop(): Promise<void> {
    this.#running = false;
    for (const off of this.#off.splice(0)) off();
    clearInterval(this.#energyTimer);
    for (const id of [...this.#timers.keys()]) this.#unschedule(id);
  }

  readonly #onDeviceAnswered = (device: DeviceNode): void => {
    if (!this.#running || this.#energyRead.has(device.id)) return;
    this.#energyRead.add(device.id);
    this.#readEnergy(device);
  };

  #readEnergy(device: DeviceNode): void {
    const { registry, scheduler, client, auth, readings } = this.ctx;
    for (const { childId: nodeId, requestData } of energyRequests(device, new Date(), readings.requestOptions(device.id))) {
      const node = registry.node(nodeId);
      if (!node || this.#energyPending.has(nodeId) || scheduler.isPaused('energy') || !auth.usable) continue;
      this.#energyPending.add(nodeId);
      scheduler
        .run('energy', (signal) => client.passthrough(device, requestData, signal), { label: `energy ${node.key}`, device: device.id })
        .then((response) => readings.applyEnergy(node, response))
        .catch((err: unknown) => this.#log.debug({ id: nodeId, err: describeError(err) }, 'energy read failed'))
        .finally(() => this.#energyPending.delete(nodeId));
    }
  }

  #readAllEnergy(): void {
    if (!this.#running) return;
    for (const device of this.ctx.registry.physicalDevices()) this.#readEnergy(device);
  }

  readonly #onNodesChanged = ({ added, removed }: NodesChangedEvent): void => {
    for (const node of removed) this.#unschedule(node.id);
    if (added.some((n) => n.parentId === undefined)) this.#reschedule();
  };

  /** Spreads the periodic polls of all devices evenly over the interval. */
  #reschedule(): void {
    if (!this.#running) return;
    const intervalMs = this.ctx.config.KASA_POLL_INTERVAL * 1000;
    const devices = this.ctx.registry.physicalDevices();
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
    const { registry, publisher, auth, scheduler, readings } = this.ctx;
    const device = registry.node(deviceId);
    if (!device) return;
    const maxAgeMs = STALE_AFTER_POLLS * this.ctx.config.KASA_POLL_INTERVAL * 1000;
    for (const node of [device, ...registry.children(device)]) publisher.expireIfStale(node, maxAgeMs);
    if (!auth.usable || scheduler.isPaused('poll')) return;
    readings.read(device).catch(() => undefined);
  }

  #unschedule(id: string): void {
    const timers = this.#timers.get(id);
    if (!timers) return;
    clearTimeout(timers.start);
    clearInterval(timers.every);
    this.#timers.delete(id);
    this.#energyRead.delete(id);
  }
}
