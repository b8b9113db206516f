import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { runHealthcheck } from '../../src/health/healthcheck.js';
import { BridgeMetrics } from '../../src/health/metrics.js';
import { HealthServer } from '../../src/health/server.js';
import { createLogger } from '../../src/logger.js';
import { FakeHealthSource } from './fakeSource.js';

const logger = createLogger({ level: 'silent' });
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

async function startHealth(host: string, source = new FakeHealthSource()) {
  const server = new HealthServer({ source, metrics: new BridgeMetrics(source), host, port: 0, logger });
  await server.start();
  cleanups.push(() => server.stop());
  return { server, source };
}

async function check(env: NodeJS.ProcessEnv, timeoutMs?: number) {
  const lines: string[] = [];
  const code = await runHealthcheck(env, { writeError: (line) => lines.push(line), ...(timeoutMs === undefined ? {} : { timeoutMs }) });
  return { code, lines };
}

function listen(server: Server | TcpServer, host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });
}

const hasIPv6Loopback = Object.values(networkInterfaces())
  .flat()
  .some((i) => i?.address === '::1');

describe('runHealthcheck', () => {
  it('returns 0 and prints nothing when /healthz answers 200', async () => {
    const { server } = await startHealth('127.0.0.1');
    expect(await check({ HEALTH_PORT: String(server.port), HEALTH_HOST: '127.0.0.1' })).toEqual({ code: 0, lines: [] });
  });

  it('returns 1 with the reasons from a 503', async () => {
    const { server, source } = await startHealth('127.0.0.1');
    Object.assign(source, { mqtt: false, auth: 'mfa_required' });
    const { code, lines } = await check({ HEALTH_PORT: String(server.port) });
    expect(code).toBe(1);
    expect(lines).toEqual([
      `healthcheck: 127.0.0.1:${server.port}/healthz answered 503: mqtt_disconnected`,
    ]);
  });

  it('asks 127.0.0.1 when the server listens on 0.0.0.0', async () => {
    const { server } = await startHealth('0.0.0.0');
    expect((await check({ HEALTH_PORT: String(server.port), HEALTH_HOST: '0.0.0.0' })).code).toBe(0);
  });

  it.skipIf(!hasIPv6Loopback)('asks ::1 when the server listens on ::', async () => {
    const { server } = await startHealth('::1');
    const { code } = await check({ HEALTH_PORT: String(server.port), HEALTH_HOST: '::' });
    expect(code).toBe(0);
  });

  it('returns 1 when nothing listens', async () => {
    const probe = createServer();
    const port = await listen(probe);
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const { code, lines } = await check({ HEALTH_PORT: String(port), HEALTH_HOST: '127.0.0.1' });
    expect(code).toBe(1);
    expect(lines).toEqual([`healthcheck: 127.0.0.1:${port}/healthz unreachable: ECONNREFUSED`]);
  });

  it('returns 1 when the server does not answer in time', async () => {
    const sockets: Socket[] = [];
    const silent = createTcpServer((socket) => sockets.push(socket));
    const port = await listen(silent);
    cleanups.push(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    });
    const { code, lines } = await check({ HEALTH_PORT: String(port) }, 100);
    expect(code).toBe(1);
    expect(lines).toEqual([`healthcheck: 127.0.0.1:${port}/healthz unreachable: no answer in time`]);
  });

  it('returns 1 with the status when something else answers', async () => {
    const other = createServer((_req, res) => res.writeHead(500).end('<html>oops</html>'));
    const port = await listen(other);
    cleanups.push(() => new Promise<void>((resolve) => other.close(() => resolve())));
    const { code, lines } = await check({ HEALTH_PORT: String(port) });
    expect(code).toBe(1);
    expect(lines).toEqual([`healthcheck: 127.0.0.1:${port}/healthz answered 500`]);
  });

  it.each([
    [{}, 'healthcheck: HEALTH_PORT is not set (the health server is off)'],
    [{ HEALTH_PORT: '' }, 'healthcheck: HEALTH_PORT is not set (the health server is off)'],
    [{ HEALTH_PORT: '0' }, 'healthcheck: HEALTH_PORT is not set (the health server is off)'],
    [{ HEALTH_PORT: 'abc' }, 'healthcheck: HEALTH_PORT is not a valid port: "abc"'],
    [{ HEALTH_PORT: '70000' }, 'healthcheck: HEALTH_PORT is not a valid port: "70000"'],
  ])('returns 1 without a usable HEALTH_PORT (%o)', async (env, message) => {
    expect(await check(env)).toEqual({ code: 1, lines: [message] });
  });
});
