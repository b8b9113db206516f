import type { BridgeResponse } from '../api/types.js';
import { isRecord } from '../isRecord.js';
import { structureProblem } from '../devices/setPayload.js';
import type { MqttMessage } from '../mqtt/connection.js';
import { RequestError } from './bridgeRequests.js';
import type { BridgeContext } from './context.js';
import { PartBase } from './partBase.js';
import { describeError } from './errors.js';
import { transactionOf, transactionOfPayload } from './transaction.js';

const MAX_REQUEST_BYTES = 16 * 1024;

/**
 * `<base>/bridge/request/<cmd>` → `<base>/bridge/response/<cmd>`, with `transaction` echoed. Routes
 * to the handler the owning part registered in `ctx.requests`.
 */
export class BridgeApiExtension extends PartBase {
  readonly name = 'bridge api';
  readonly #log;

  constructor(ctx: BridgeContext) {
    super(ctx);
    this.#log = ctx.logger.child({ module: 'bridge-api' });
  }

  override async start(): Promise<void> {
    await this.subscribe(this.ctx.topics.bridgeRequestFilter, (m) => void this.#onRequest(m), { qos: 1 });
  }

  async #onRequest(message: MqttMessage): Promise<void> {
    if (message.retain) return;
    // `<base>/bridge/request/<cmd…>`
    const command = (this.ctx.topics.levels(message.topic) ?? []).slice(2).join('/');
    const responseTopic = this.ctx.topics.bridgeResponse(command);
    let response: BridgeResponse;
    try {
      // The command first: an unknown one is `unknown_request` whatever its payload.
      const handler = this.ctx.requests.handler(command);
      if (!handler) throw new RequestError('unknown_request', `unknown bridge request "${command}"`);
      const body = parseBody(message.payload);
      const data = await handler(body);
      response = { status: 'ok', data, ...transactionOf(body) };
    } catch (err) {
      const error =
        err instanceof RequestError
          ? { code: err.code, message: err.message }
          : { code: 'cloud_error', message: err instanceof Error ? err.message : String(err) };
      if (!(err instanceof RequestError)) this.#log.warn({ command, err: describeError(err) }, 'bridge request failed');
      const retryAfter = err instanceof RequestError && err.retryAfter ? { retry_after: err.retryAfter.toISOString() } : {};
      // Whatever was refused, and why, the asker can still match the answer to the request.
      response = { status: 'error', error, ...retryAfter, ...transactionOfPayload(message.payload, MAX_REQUEST_BYTES) };
    }
    void this.ctx.mqtt.respond(message, responseTopic, response);
  }
}

function parseBody(payload: Buffer): Record<string, unknown> {
  if (payload.length > MAX_REQUEST_BYTES) throw new RequestError('invalid_payload', `request larger than ${MAX_REQUEST_BYTES} bytes`);
  const text = payload.toString('utf8').trim();
  if (text === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // A plain word is allowed for requests without parameters (e.g. a HA button's PRESS).
    return {};
  }
  if (!isRecord(value)) {
    throw new RequestError('invalid_payload', 'the request must be a JSON object');
  }
  // The `transaction` is echoed: a deeply nested one would make the answer unserialisable (lost).
  const problem = structureProblem(value);
  if (problem) throw new RequestError('invalid_payload', problem);
  return value;
}
