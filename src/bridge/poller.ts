import { spreadOffsetMs } from '../scheduler/scheduler.js';
import type { BridgeContext } from './context.js';
import type { Device } from './device.js';
import type { NodesChangedEvent } from './eventBus.js';
import { PartBase } from './partBase.js';

/** A device that has not answered for this many poll intervals is shown offline until it does. */
const STALE_AFTER_POLLS = 3;

/**
 * Reads every physical device once per KASA_POLL_INTERVAL (one request per device: a strip's
 * sysinfo gives all outlets, single-socket meters ride along), spread over the interval, and
 * sends the energy reads (HS300 per-outlet meters) once per KASA_ENERGY_POLL_INTERVAL. Each
 * device's timers live on the device (device.ts), so a device that leaves the account takes them.
 */
export class Poller extends PartBase {
  readonly name = 'poller';
  #running = false;

  constructor(ctx: BridgeContext) {
    super(ctx);
  }

  override async start(): Promise<void> {
    this.#running = true;
    this.listen('nodesChanged', this.#onNodesChanged);
    this.every(this.ctx.config.KASA_ENERGY_POLL_INTERVAL * 1000, () => this.#readAllEnergy());
    this.onStop(() => {
      for (const device of this.ctx.registry.devices()) device.dispose();
    });
  }

  override async stop(): Promise<void> {
    this.#running = false;
    await super.stop();
  }

  #readAllEnergy(): void {
    if (!this.#running) return;
    for (const device of this.ctx.registry.devices()) this.ctx.readings.readCadence(device, 'energy');
  }

  readonly #onNodesChanged = ({ added }: NodesChangedEvent): void => {
    if (added.some((n) => n.parentId === undefined)) this.#reschedule();
  };

  /** Spreads the periodic polls of all devices evenly over the interval. */
  #reschedule(): void {
    if (!this.#running) return;
    const intervalMs = this.ctx.config.KASA_POLL_INTERVAL * 1000;
    const devices = this.ctx.registry.devices();
    devices.forEach((device, index) => {
      if (!device.pollTimers) this.#schedule(device, intervalMs + spreadOffsetMs(index, devices.length, intervalMs), intervalMs);
    });
  }

  /** A device's timers, on the device. Their closures see only it (not the list it was scheduled with, which would keep removed devices alive). */
  #schedule(device: Device, firstMs: number, intervalMs: number): void {
    const timers: NonNullable<Device['pollTimers']> = {
      start: setTimeout(() => {
        timers.every = setInterval(() => this.#tick(device), intervalMs);
        timers.every.unref();
        this.#tick(device);
      }, firstMs),
    };
    timers.start.unref();
    device.pollTimers = timers;
  }

  #tick(device: Device): void {
    const { publisher, auth, scheduler, readings } = this.ctx;
    const self = device.self;
    if (!self) return;
    const maxAgeMs = STALE_AFTER_POLLS * this.ctx.config.KASA_POLL_INTERVAL * 1000;
    for (const record of device.nodes.values()) publisher.expireIfStale(record.info, maxAgeMs);
    if (!auth.usable || scheduler.isPaused('poll')) return;
    readings.read(self.info).catch(() => undefined);
  }
}
