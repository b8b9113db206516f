import type { MqttMessage } from '../mqtt/connection.js';
import type { BridgeContext, BridgePart } from './context.js';

const ONLINE = /"state"\s*:\s*"online"/;

/**
 * Availability retained by an earlier run may say "online" for nodes this run has not read: after
 * a restart into an unusable session (MFA, locked account) or a cloud outage nothing would correct
 * it. For a short while after start, each retained "online" of a node that is not available in
 * this run is replaced by "offline"; the node's first read brings it back.
 */
export class AvailabilitySweep implements BridgePart {
  readonly name = 'availability sweep';
  #unsubscribe: (() => Promise<void>) | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly ctx: BridgeContext) {}

  async start(): Promise<void> {
    this.#unsubscribe = await this.ctx.mqtt.subscribe(this.ctx.topics.nodeAvailabilityFilter, (m) => this.#onAvailability(m), { qos: 1 });
    this.#timer = setTimeout(() => void this.stop(), Math.max(this.ctx.timing.orphanScanMs, 1_000));
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    const unsubscribe = this.#unsubscribe;
    this.#unsubscribe = undefined;
    await unsubscribe?.();
  }

  #onAvailability(message: MqttMessage): void {
    if (!message.retain || !ONLINE.test(message.payload.toString('utf8'))) return;
    const [key] = this.ctx.topics.levels(message.topic) ?? [];
    if (key === undefined || key === 'bridge') return;
    const node = this.ctx.registry.resolve(key);
    if (node && this.ctx.publisher.isAvailable(node)) return;
    void this.ctx.mqtt.publish(message.topic, { state: 'offline' }, { retain: true });
  }
}
