/**
 * A stand-in for the Home Assistant Supervisor's REST API on a free local port: the two endpoints
 * the add-on start path calls, answered the way the Supervisor does ({"result","data"} or
 * {"result":"error","message"}), with the bearer token checked.
 */
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeSupervisorAnswer {
  status: number;
  body: unknown;
}

/** Never answered: a Supervisor that hangs. */
export const HANG = 'hang';

export interface FakeSupervisorOptions {
  token: string;
  /** `GET /services/mqtt`; default: no MQTT service (HTTP 400, as without the Mosquitto add-on). */
  mqtt?: Record<string, unknown> | FakeSupervisorAnswer | typeof HANG;
  /** `data.timezone` of `GET /info` (default Europe/Amsterdam). */
  timezone?: string;
  /** `GET /info` answered otherwise than with the time zone. */
  info?: FakeSupervisorAnswer | typeof HANG;
}

export interface FakeSupervisor {
  readonly url: string;
  /** Every request: method, path and whether its token was the add-on's. */
  readonly requests: { method: string; path: string; authorized: boolean }[];
  /** Resolves once a request for `path` has arrived (at once if one has). */
  requested(path: string): Promise<void>;
  close(): Promise<void>;
}

const ok = (data: unknown): FakeSupervisorAnswer => ({ status: 200, body: { result: 'ok', data } });
export const supervisorError = (status: number, message: string): FakeSupervisorAnswer => ({ status, body: { result: 'error', message } });
const isAnswer = (value: object): value is FakeSupervisorAnswer => 'status' in value && 'body' in value;

export async function startFakeSupervisor(options: FakeSupervisorOptions): Promise<FakeSupervisor> {
  const requests: FakeSupervisor['requests'] = [];
  const arrived = new EventEmitter();
  const answer = (req: IncomingMessage): FakeSupervisorAnswer | typeof HANG => {
    if (req.headers.authorization !== `Bearer ${options.token}`) return supervisorError(401, 'Unauthorized');
    switch (req.url ?? '') {
      case '/services/mqtt': {
        const mqtt = options.mqtt;
        if (mqtt === undefined) return supervisorError(400, 'No mqtt service available');
        return mqtt === HANG || isAnswer(mqtt) ? mqtt : ok(mqtt);
      }
      case '/info':
        if (options.info !== undefined) return options.info;
        return ok({ supervisor: '2025.01.0', homeassistant: '2025.1.0', timezone: options.timezone ?? 'Europe/Amsterdam', arch: 'amd64' });
      default:
        return supervisorError(404, 'Not found');
    }
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    requests.push({ method: req.method ?? '', path: req.url ?? '', authorized: req.headers.authorization === `Bearer ${options.token}` });
    arrived.emit(req.url ?? '');
    const reply = answer(req);
    if (reply === HANG) return;
    const { status, body } = reply;
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    requested: (path) =>
      requests.some((r) => r.path === path) ? Promise.resolve() : new Promise((resolve) => arrived.once(path, () => resolve())),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
