import type { BridgeContext, BridgePart } from './context.js';
import type { BridgeEventMap } from './eventBus.js';
import type { BridgeRequestName } from '../api/types.js';
import type { RequestHandler } from './bridgeRequests.js';
import type { MqttMessage } from '../mqtt/connection.js';
import type { SubscribeOptions } from '../mqtt/subscriptions.js';

type Cleanup = () => void | Promise<void>;

/**
 * What every bridge part shares: the context, and ownership of what it set up. Listeners, request
 * handlers, MQTT subscriptions and timers made through these helpers are undone by `stop()`, in
 * reverse order, so a part cannot leave one behind.
 */
export abstract class PartBase implements BridgePart {
  abstract readonly name: string;
  readonly #cleanups: Cleanup[] = [];
  readonly #timeouts = new Set<NodeJS.Timeout>();

  constructor(protected readonly ctx: BridgeContext) {}

  async start(): Promise<void> {}

  async stop(): Promise<void> {
    for (const timeout of this.#timeouts) clearTimeout(timeout);
    this.#timeouts.clear();
    for (const cleanup of this.#cleanups.splice(0).reverse()) await cleanup();
  }

  /** Something else to undo at stop. */
  protected onStop(cleanup: Cleanup): void {
    this.#cleanups.push(cleanup);
  }

  protected listen<K extends keyof BridgeEventMap>(event: K, listener: (...args: BridgeEventMap[K]) => void): void {
    this.#cleanups.push(this.ctx.events.on(event, listener));
  }

  protected handle(name: BridgeRequestName, handler: RequestHandler): void {
    this.#cleanups.push(this.ctx.requests.handle(name, handler));
  }

  protected async subscribe(filter: string, handler: (message: MqttMessage) => void, options: SubscribeOptions): Promise<void> {
    this.#cleanups.push(await this.ctx.mqtt.subscribe(filter, handler, options));
  }

  /** A repeating timer that does not keep the process alive. */
  protected every(ms: number, callback: () => void): void {
    const interval = setInterval(callback, ms);
    interval.unref();
    this.#cleanups.push(() => clearInterval(interval));
  }

  /** A one-shot timer that does not keep the process alive; `cancel` it to drop it earlier. */
  protected later(ms: number, callback: () => void): NodeJS.Timeout {
    const timeout = setTimeout(() => {
      this.#timeouts.delete(timeout);
      callback();
    }, ms);
    timeout.unref();
    this.#timeouts.add(timeout);
    return timeout;
  }

  protected cancel(timeout: NodeJS.Timeout | undefined): void {
    if (timeout === undefined) return;
    clearTimeout(timeout);
    this.#timeouts.delete(timeout);
  }
}
