/**
 * A stand-in for the Home Assistant Supervisor's REST API on a free local port: the two endpoints
 * the add-on start path calls, answered the way the Supervisor does ({"result","data"} or
 * {"result":"error","message"}), with the bearer token checked.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeSupervisorAnswer {
  status: number;
  body: unknown;
}

export interface FakeSupervisorOptions {
  token: string;
  /** `GET /services/mqtt`; default: no MQTT service (HTTP 400, as without the Mosquitto add-on). */
  mqtt?: Record<string, unknown> | FakeSupervisorAnswer;
  /** `data.timezone` of `GET /info` (default Europe/Amsterdam). */
  timezone?: string;
}

export interface FakeSupervisor {
  readonly url: string;
  /** Every request: method, path and whether its token was the add-on's. */
  readonly requests: { method: string; path: string; authorized: boolean }[];
  close(): Promise<void>;
}

const ok = (data: unknown): FakeSupervisorAnswer => ({ status: 200, body: { result: 'ok', data } });
const error = (status: number, message: string): FakeSupervisorAnswer => ({ status, body: { result: 'error', message } });

export async function startFakeSupervisor(options: FakeSupervisorOptions): Promise<FakeSupervisor> {
  const requests: FakeSupervisor['requests'] = [];
  const answer = (req: IncomingMessage): FakeSupervisorAnswer => {
    if (req.headers.authorization !== `Bearer ${options.token}`) return error(401, 'Unauthorized');
    switch (req.url ?? '') {
      case '/services/mqtt': {
        const mqtt = options.mqtt;
        if (mqtt === undefined) return error(400, 'No mqtt service available');
        return 'status' in mqtt && 'body' in mqtt ? (mqtt as FakeSupervisorAnswer) : ok(mqtt);
      }
      case '/info':
        return ok({ supervisor: '2025.01.0', homeassistant: '2025.1.0', timezone: options.timezone ?? 'Europe/Amsterdam', arch: 'amd64' });
      default:
        return error(404, 'Not found');
    }
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    requests.push({ method: req.method ?? '', path: req.url ?? '', authorized: req.headers.authorization === `Bearer ${options.token}` });
    const { status, body } = answer(req);
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
