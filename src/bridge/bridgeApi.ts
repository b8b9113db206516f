import type { BridgeRequestName, BridgeResponse } from '../api/types.js';
import { structureProblem } from '../devices/setPayload.js';
import type { MqttMessage } from '../mqtt/connection.js';
import type { AuthManager } from './auth.js';
import type { BridgeContext } from './context.js';
import type { DevicesExtension } from './devices.js';
import { UnknownDeviceError } from './devices.js';
import { describeError } from './errors.js';
import type { HomeAssistantExtension } from './homeassistant.js';
import type { Poller } from './poller.js';
import { transactionOf } from './transaction.js';

const MAX_REQUEST_BYTES = 16 * 1024;

class RequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

type Handler = (body: Record<string, unknown>) => Promise<unknown>;

/** `<base>/bridge/request/<cmd>` → `<base>/bridge/response/<cmd>`, with `transaction` echoed. */
export class BridgeApiExtension {
  readonly #handlers: Record<BridgeRequestName, Handler>;
  #unsubscribe: (() => Promise<void>) | undefined;
  readonly #log;

  constructor(
    private readonly ctx: BridgeContext,
    deps: {
      auth: AuthManager;
      devices: DevicesExtension;
      poller: Poller;
      homeassistant: HomeAssistantExtension;
      health: () => object;
    },
  ) {
    this.#log = ctx.logger.child({ module: 'bridge-api' });
    this.#handlers = {
      'devices/refresh': async () => {
        const count = await deps.devices.refresh();
        await deps.poller.pollAll('device_list');
        // Outlets found by those reads are in bridge/devices before the answer goes out.
        deps.devices.publishDevices();
        return { device_count: count };
      },
      'device/rename': async (body) => {
        const from = body.id ?? body.from;
        const to = body.to;
        if (typeof from !== 'string' || from === '' || typeof to !== 'string') {
          throw new RequestError('invalid_payload', 'expected {"id" or "from": "<key or id>", "to": "<new key>"}');
        }
        try {
          return deps.devices.rename(from, to);
        } catch (err) {
          if (err instanceof UnknownDeviceError) throw new RequestError('unknown_device', err.message);
          throw new RequestError('invalid_payload', err instanceof Error ? err.message : String(err));
        }
      },
      'homeassistant/rediscover': async () => {
        if (!deps.homeassistant.enabled) throw new RequestError('unsupported', 'HA_DISCOVERY is off');
        deps.homeassistant.rediscover();
        return {};
      },
      'auth/login': async () => {
        const outcome = deps.auth.requestLogin();
        if (outcome === 'busy') throw new RequestError('busy', `a login is already under way (${deps.auth.state})`);
        return { state: outcome === 'already_authenticated' ? 'authenticated' : 'logging_in' };
      },
      health_check: async () => deps.health(),
    };
  }

  async start(): Promise<void> {
    this.#unsubscribe = await this.ctx.mqtt.subscribe(
      `${this.ctx.config.MQTT_BASE_TOPIC}/bridge/request/#`,
      (m) => this.#onRequest(m),
      { qos: 1 },
    );
  }

  async stop(): Promise<void> {
    await this.#unsubscribe?.();
  }

  async #onRequest(message: MqttMessage): Promise<void> {
    if (message.retain) return;
    const prefix = `${this.ctx.config.MQTT_BASE_TOPIC}/bridge/request/`;
    const command = message.topic.slice(prefix.length);
    const responseTopic = this.ctx.topics.bridgeResponse(command);
    let body: Record<string, unknown> = {};
    let response: BridgeResponse;
    try {
      // The command first: an unknown one is `unknown_request` whatever its payload.
      const handler = Object.hasOwn(this.#handlers, command) ? this.#handlers[command as BridgeRequestName] : undefined;
      if (!handler) throw new RequestError('unknown_request', `unknown bridge request "${command}"`);
      body = parseBody(message.payload);
      const data = await handler(body);
      response = { status: 'ok', data, ...transactionOf(body) };
    } catch (err) {
      const error =
        err instanceof RequestError
          ? { code: err.code, message: err.message }
          : { code: 'cloud_error', message: err instanceof Error ? err.message : String(err) };
      if (!(err instanceof RequestError)) this.#log.warn({ command, err: describeError(err) }, 'bridge request failed');
      response = { status: 'error', error, ...transactionOf(body) };
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
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RequestError('invalid_payload', 'the request must be a JSON object');
  }
  // The `transaction` is echoed: a deeply nested one would make the answer unserialisable (lost).
  const problem = structureProblem(value);
  if (problem) throw new RequestError('invalid_payload', problem);
  return value as Record<string, unknown>;
}
