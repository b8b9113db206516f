/**
 * The two Supervisor API calls the add-on needs: the MQTT service (`GET /services/mqtt`) and the
 * system time zone (`GET /info`). Both are open to every add-on with its SUPERVISOR_TOKEN.
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

export class SupervisorClient {
  constructor(
    private readonly token: string,
    private readonly baseUrl: string = DEFAULT_SUPERVISOR_URL,
    private readonly timeoutMs = 10_000,
  ) {}

  async mqttService(): Promise<MqttService> {
    const answer = await this.#get('/services/mqtt');
    if (answer.status === 401 || answer.status === 403) throw this.#refused(answer);
    const data = answer.body?.data as Record<string, unknown> | undefined;
    if (answer.status !== 200 || answer.body?.result !== 'ok' || !data) {
      throw new MissingMqttServiceError(describeAnswer(answer));
    }
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
    const answer = await this.#get('/info');
    if (answer.status === 401 || answer.status === 403) throw this.#refused(answer);
    if (answer.status !== 200 || answer.body?.result !== 'ok') {
      throw new SupervisorError(`the Supervisor did not answer GET /info (${describeAnswer(answer)})`);
    }
    const timezone = (answer.body.data as { timezone?: unknown } | undefined)?.timezone;
    return typeof timezone === 'string' && timezone !== '' ? timezone : undefined;
  }

  async #get(path: string): Promise<SupervisorAnswer> {
    const url = new URL(path, this.baseUrl.endsWith('/') ? this.baseUrl : `${this.baseUrl}/`);
    let response: Response;
    try {
      response = await fetch(url, {
        headers: { Authorization: `Bearer ${this.token}`, Accept: 'application/json' },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new SupervisorError(`cannot reach the Supervisor at ${this.baseUrl} (${describeFetchError(err)})`);
    }
    const text = await response.text().catch(() => '');
    let body: SupervisorAnswer['body'];
    try {
      body = JSON.parse(text) as SupervisorAnswer['body'];
    } catch {
      body = undefined;
    }
    return { status: response.status, body };
  }

  #refused(answer: SupervisorAnswer): SupervisorError {
    return new SupervisorError(`the Supervisor refused the add-on token (${describeAnswer(answer)})`);
  }
}

/** `HTTP 400: Service not available` — the Supervisor's own message, never the data (it holds the broker password). */
function describeAnswer(answer: SupervisorAnswer): string {
  const message = typeof answer.body?.message === 'string' ? answer.body.message.replace(/\s+/g, ' ').slice(0, 200) : '';
  return `HTTP ${answer.status}${message ? `: ${message}` : ''}`;
}

function describeFetchError(err: unknown): string {
  if (err instanceof Error) {
    if (err.name === 'TimeoutError' || err.name === 'AbortError') return 'no answer in time';
    const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
    if (typeof cause?.code === 'string') return cause.code;
    if (typeof cause?.message === 'string') return cause.message;
    return err.message;
  }
  return String(err);
}
