import type { MqttMessage } from '../mqtt/connection.js';
import type { BridgeContext } from './context.js';
import { PartBase } from './partBase.js';

const ONLINE = /"state"\s*:\s*"online"/;

/**
 * Availability retained by an earlier run may say "online" for nodes this run has not read: after
 * a restart into an unusable session (MFA, locked account) or a cloud outage nothing would correct
 * it. For a short while after start, each retained "online" of a node that is not available in
 * this run is replaced by "offline"; the node's first read brings it back.
 */
export class AvailabilitySweep extends PartBase {
  readonly name = 'availability sweep';

  constructor(ctx: BridgeContext) {
    super(ctx);
  }

  override async start(): Promise<void> {
    await this.subscribe(this.ctx.topics.nodeAvailabilityFilter, (m) => this.#onAvailability(m), { qos: 1 });
    // Only retained messages matter, and they arrive at once: the subscription ends after a short while.
    this.later(Math.max(this.ctx.timing.orphanScanMs, 1_000), () => void this.stop());
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
