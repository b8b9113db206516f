/**
 * The two Supervisor API calls the add-on needs: the MQTT service (`GET /services/mqtt`, open to an
 * add-on with `services: mqtt:need`) and the system time zone (`GET /info`).
 * Each failure says what the status means for that endpoint.
 */

export const DEFAULT_SUPERVISOR_URL = 'http://supervisor';

/** What `GET /services/mqtt` answers (Mosquitto add-on: host `core-mosquitto`, port 1883). */
export interface MqttService {
  host: string;
  port: number;
  ssl: boolean;
  username?: string;
  password?: string;
}

export class SupervisorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SupervisorError';
  }
}

/** No broker is registered with the Supervisor (the Mosquitto add-on is not installed or not started). */
export class MissingMqttServiceError extends SupervisorError {
  constructor(detail: string) {
    super(
      `the Supervisor has no MQTT service (${detail}): install and start the Mosquitto broker add-on, ` +
        'or set mqtt_url in the add-on options',
    );
    this.name = 'MissingMqttServiceError';
  }
}

interface SupervisorAnswer {
  status: number;
  body: { result?: unknown; message?: unknown; data?: unknown } | undefined;
}

/** What each Supervisor answer means for one endpoint, worded for the add-on log. */
interface Endpoint {
  path: string;
  /** What a refusal (401/403) means here: the permission this endpoint needs. */
  permission: string;
}

const MQTT_SERVICE: Endpoint = { path: '/services/mqtt', permission: '`services: mqtt:need` in its config.yaml' };
const INFO: Endpoint = { path: '/info', permission: 'access to the Supervisor API (`hassio_api`)' };

export class SupervisorClient {
  constructor(
    private readonly token: string,
    private readonly baseUrl: string = DEFAULT_SUPERVISOR_URL,
    private readonly timeoutMs = 10_000,
    private readonly signal?: AbortSignal,
  ) {}

  async mqttService(): Promise<MqttService> {
    const answer = await this.#get(MQTT_SERVICE);
    // The Supervisor answers 400 when no add-on provides the service; 404 where it has no such endpoint.
    if (answer.status === 400 || answer.status === 404) throw new MissingMqttServiceError(describeAnswer(answer));
    const data = this.#ok(MQTT_SERVICE, answer) as Record<string, unknown> | undefined;
    if (!data) throw new MissingMqttServiceError(describeAnswer(answer));
    const host = data.host;
    const port = Number(data.port);
    if (typeof host !== 'string' || host === '' || !Number.isInteger(port) || port < 1 || port > 65535) {
      throw new MissingMqttServiceError('its answer has no usable host and port');
    }
    const service: MqttService = { host, port, ssl: data.ssl === true };
    if (typeof data.username === 'string' && data.username !== '') service.username = data.username;
    if (typeof data.password === 'string' && data.password !== '') service.password = data.password;
    return service;
  }

  /** The time zone set in Home Assistant (Settings → System → General), or undefined when it has none. */
  async timeZone(): Promise<string | undefined> {
    const timezone = (this.#ok(INFO, await this.#get(INFO)) as { timezone?: unknown } | undefined)?.timezone;
    return typeof timezone === 'string' && timezone !== '' ? timezone : undefined;
  }

  /** The `data` of a 200 `{"result":"ok"}` answer; any other answer is a SupervisorError saying what it means. */
  #ok(endpoint: Endpoint, answer: SupervisorAnswer): unknown {
    const request = `GET ${endpoint.path} (${describeAnswer(answer)})`;
    if (answer.status === 401 || answer.status === 403) {
      throw new SupervisorError(
        `the Supervisor refused ${request}: it did not accept the add-on token, or the add-on lacks ${endpoint.permission}`,
      );
    }
    if (answer.status >= 500) {
      throw new SupervisorError(`the Supervisor failed on ${request}: an error of the Supervisor itself, see its log (Settings → System → Logs)`);
    }
    if (answer.status !== 200 || answer.body?.result !== 'ok') {
      throw new SupervisorError(`the Supervisor gave an unexpected answer to ${request}`);
    }
    return answer.body.data;
  }

  async #get(endpoint: Endpoint): Promise<SupervisorAnswer> {
    const url = new URL(endpoint.path, this.baseUrl.endsWith('/') ? this.baseUrl : `${this.baseUrl}/`);
    const timeout = AbortSignal.timeout(this.timeoutMs);
    try {
      const response = await fetch(url, {
        headers: { Authorization: `Bearer ${this.token}`, Accept: 'application/json' },
        signal: this.signal ? AbortSignal.any([timeout, this.signal]) : timeout,
      });
      const text = await response.text();
      let body: SupervisorAnswer['body'];
      try {
        body = JSON.parse(text) as SupervisorAnswer['body'];
      } catch {
        body = undefined;
      }
      return { status: response.status, body };
    } catch (err) {
      if (this.signal?.aborted) throw this.signal.reason;
      if (timeout.aborted) {
        throw new SupervisorError(`the Supervisor at ${this.baseUrl} did not answer GET ${endpoint.path} within ${this.timeoutMs / 1000} s`);
      }
      throw new SupervisorError(`cannot reach the Supervisor at ${this.baseUrl} (${describeFetchError(err)})`);
    }
  }
}

/** `HTTP 400: Service not available` — the Supervisor's own message, never the data (it holds the broker password). */
function describeAnswer(answer: SupervisorAnswer): string {
  const message = typeof answer.body?.message === 'string' ? answer.body.message.replace(/\s+/g, ' ').slice(0, 200) : '';
  return `HTTP ${answer.status}${message ? `: ${message}` : ''}`;
}

function describeFetchError(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
    if (typeof cause?.code === 'string') return cause.code;
    if (typeof cause?.message === 'string') return cause.message;
    return err.message;
  }
  return String(err);
}
