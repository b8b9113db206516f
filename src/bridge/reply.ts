import type { MqttMessage } from '../mqtt/connection.js';
import type { BridgeContext } from './context.js';

/**
 * Answers a request on its documented response topic and, when the request carried an MQTT 5
 * response topic, there too with the same correlation data.
 */
export function reply(ctx: BridgeContext, request: MqttMessage, topic: string, payload: object): void {
  void ctx.mqtt.respond(request, topic, payload);
}

/** The optional `transaction` of a JSON request, echoed in its response. */
export function transactionOf(value: unknown): { transaction?: unknown } {
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.hasOwn(value, 'transaction')) {
    const transaction = (value as Record<string, unknown>).transaction;
    if (transaction !== undefined) return { transaction };
  }
  return {};
}
