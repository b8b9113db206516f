import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BridgeMetrics } from '../../src/health/metrics.js';
import { HealthServer, type HealthServerOptions } from '../../src/health/server.js';
import { createLogger } from '../../src/logger.js';
import { FakeHealthSource, sample } from './fakeSource.js';

const logger = createLogger({ level: 'silent' });
const servers: HealthServer[] = [];

async function startServer(source = new FakeHealthSource(), extra: Partial<HealthServerOptions> = {}) {
  const server = new HealthServer({ source, metrics: new BridgeMetrics(source), host: '127.0.0.1', port: 0, logger, ...extra });
  servers.push(server);
  await server.start();
  return { server, source, url: (path: string) => `http://127.0.0.1:${server.port}${path}` };
}

async function getJson(url: string) {
  const res = await fetch(url);
  return { status: res.status, contentType: res.headers.get('content-type'), body: (await res.json()) as Record<string, unknown> };
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

describe('HealthServer /healthz (liveness)', () => {
  it('answers 200 with JSON when MQTT is connected and the session is authenticated', async () => {
    const { url } = await startServer();
    const res = await getJson(url('/healthz'));
    expect(res.status).toBe(200);
    expect(res.contentType).toBe('application/json');
    expect(res.body).toMatchObject({ status: 'ok', reasons: [], mqtt: 'connected', auth: 'authenticated', devices: 3, devices_online: 2 });
  });

  it('answers 503 with mqtt_disconnected when the broker is down', async () => {
    const { url, source } = await startServer();
    source.mqtt = false;
    const res = await getJson(url('/healthz'));
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ status: 'unhealthy', reasons: ['mqtt_disconnected'], mqtt: 'disconnected' });
  });

  it('answers 503 when the broker is up but the connection that receives commands is down', async () => {
    const { url, source } = await startServer();
    source.commands = false;
    const res = await getJson(url('/healthz'));
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ status: 'unhealthy', mqtt: 'connected' });
    expect(res.body.reasons).toEqual([expect.stringMatching(/^mqtt_commands_disconnected: /)]);
  });

  it('stays 200 whatever the cloud session is doing: a restart cures no login problem', async () => {
    const { url, source } = await startServer();
    const situations: Array<Partial<FakeHealthSource>> = [
      { auth: 'mfa_required' },
      { auth: 'error', lastError: 'credentials_invalid' },
      { auth: 'logging_in' },
      { auth: 'verifying' },
      { auth: 'authenticated', until: Date.UTC(2030, 0, 1) },
      { storage: 'session.json: not saved (ENOSPC)' },
    ];
    for (const situation of situations) {
      Object.assign(source, situation);
      const res = await getJson(url('/healthz'));
      expect(res.status, JSON.stringify(situation)).toBe(200);
      expect(res.body, JSON.stringify(situation)).toMatchObject({ status: 'ok', reasons: [] });
    }
  });

  it('says until when while rate limited', async () => {
    const { url, source } = await startServer();
    source.until = Date.UTC(2030, 0, 1);
    const res = await getJson(url('/healthz?verbose=1'));
    expect(res.status).toBe(200);
    expect(res.body.rate_limited_until).toBe('2030-01-01T00:00:00.000Z');
  });

  it('answers HEAD with the status and no body', async () => {
    const { url, source } = await startServer();
    source.mqtt = false;
    const res = await fetch(url('/healthz'), { method: 'HEAD' });
    expect(res.status).toBe(503);
    expect(await res.text()).toBe('');
  });
});

describe('HealthServer /readyz (readiness)', () => {
  it('answers 200 when MQTT is connected, the session usable and the cloud not rate limiting', async () => {
    const { url } = await startServer();
    const res = await getJson(url('/readyz'));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ok', reasons: [], mqtt: 'connected', auth: 'authenticated' });
  });

  it('answers 503 naming the MFA topic while waiting for a code', async () => {
    const { url, source } = await startServer(undefined, { baseTopic: 'home/kasa' });
    source.auth = 'mfa_required';
    const res = await getJson(url('/readyz'));
    expect(res.status).toBe(503);
    expect(res.body.reasons).toEqual(['mfa_required: waiting for the code on home/kasa/bridge/mfa']);
  });

  it('reports an auth error by its code, alongside other reasons', async () => {
    const { url, source } = await startServer();
    Object.assign(source, { mqtt: false, auth: 'error', lastError: 'credentials_invalid' });
    const res = await getJson(url('/readyz'));
    expect(res.status).toBe(503);
    expect(res.body.reasons).toEqual(['mqtt_disconnected', 'credentials_invalid']);
  });

  it('never echoes an auth error that is not a plain code', async () => {
    const { url, source } = await startServer();
    Object.assign(source, { auth: 'error', lastError: 'login failed for me@example.com password=hunter2' });
    const res = await fetch(url('/readyz'));
    const text = await res.text();
    expect(JSON.parse(text).reasons).toEqual(['auth_error']);
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('example.com');
  });

  it('treats logging in and verifying as not yet usable', async () => {
    const { url, source } = await startServer();
    source.auth = 'logging_in';
    expect((await getJson(url('/readyz'))).body.reasons).toEqual(['logging_in: signing in to the TP-Link cloud']);
    source.auth = 'verifying';
    expect((await getJson(url('/readyz'))).body.reasons).toEqual(['verifying: checking the MFA code']);
  });

  it('answers 503 with rate_limited and until when while the cloud is rate limiting', async () => {
    const { url, source } = await startServer();
    source.until = Date.UTC(2030, 0, 1);
    const res = await getJson(url('/readyz'));
    expect(res.status).toBe(503);
    expect(res.body.reasons).toEqual(['rate_limited: background polling resumes at 2030-01-01T00:00:00.000Z']);
    expect(res.body.rate_limited_until).toBe('2030-01-01T00:00:00.000Z');
  });

  it('answers 503 with storage_error while DATA_DIR cannot be saved', async () => {
    const { url, source } = await startServer();
    source.storage = 'session.json: not saved (ENOSPC)';
    const res = await getJson(url('/readyz'));
    expect(res.status).toBe(503);
    expect(res.body.reasons).toEqual(['storage_error: session.json: not saved (ENOSPC)']);
    expect(res.body.storage_error).toBe('session.json: not saved (ENOSPC)');
  });
});

describe('HealthServer /metrics', () => {
  it('serves the registry in Prometheus text format', async () => {
    const { url, source } = await startServer();
    source.depth = 4;
    const res = await fetch(url('/metrics'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(sample(text, 'kasa2mqtt_queue_depth')).toBe(4);
    expect(sample(text, 'kasa2mqtt_mqtt_connected')).toBe(1);
  });

  it('answers 500 without details when the source throws', async () => {
    const source = new FakeHealthSource();
    source.queueDepth = () => {
      throw new Error('secret internals');
    };
    const { url } = await startServer(source);
    const res = await fetch(url('/metrics'));
    expect(res.status).toBe(500);
    expect(await res.text()).not.toContain('secret internals');
  });
});

describe('HealthServer routing and lifecycle', () => {
  it('answers 404 for other paths and 405 for other methods', async () => {
    const { url } = await startServer();
    expect((await fetch(url('/'))).status).toBe(404);
    expect((await fetch(url('/healthz/extra'))).status).toBe(404);
    const post = await fetch(url('/healthz'), { method: 'POST', body: '{}' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect((await fetch(url('/metrics'), { method: 'DELETE' })).status).toBe(405);
  });

  it('rejects start() when the port is taken', async () => {
    const { server } = await startServer();
    const second = new HealthServer({
      source: new FakeHealthSource(),
      metrics: new BridgeMetrics(new FakeHealthSource()),
      host: '127.0.0.1',
      port: server.port,
      logger,
    });
    await expect(second.start()).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });

  it('stop() closes idle keep-alive connections at once and may be called twice', async () => {
    const { server } = await startServer(undefined, { closeGraceMs: 60_000 });
    const port = server.port;
    const agent = new Agent({ keepAlive: true });
    // Wrapped in an object: resolving with a bare promise would wait for it.
    const { socketClosed } = await new Promise<{ socketClosed: Promise<void> }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/healthz', agent }, (res) => {
        res.resume();
        res.on('end', () => resolve({ socketClosed: new Promise<void>((done) => req.socket!.once('close', () => done())) }));
      });
      req.on('error', reject);
      req.end();
    });
    const started = Date.now();
    await server.stop();
    await socketClosed;
    // Neither the (long) grace nor the server's 5 s keep-alive timeout: closed because idle.
    expect(Date.now() - started).toBeLessThan(2500);
    await server.stop();
    expect(() => server.port).toThrow(/not listening/);
    agent.destroy();
  });

  it('cuts a connection still busy after the grace time', async () => {
    const { server } = await startServer(undefined, { closeGraceMs: 50 });
    const port = server.port;
    // A request whose headers never finish keeps its connection active, not idle.
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const started = Date.now();
    await server.stop();
    await closed;
    // Well under the server's own 5 s headers timeout: the grace cutoff closed it.
    expect(Date.now() - started).toBeLessThan(2500);
  });
});
