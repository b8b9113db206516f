import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../logger.js';
import type { BridgeMetrics } from './metrics.js';
import type { HealthSource } from './source.js';
import { evaluateLiveness, evaluateReadiness } from './status.js';

export interface HealthServerOptions {
  source: HealthSource;
  metrics: BridgeMetrics;
  /** HEALTH_HOST. */
  host: string;
  /** HEALTH_PORT; 0 picks a free port (tests). */
  port: number;
  logger: Logger;
  /** MQTT_BASE_TOPIC, named in the MFA reason (default `kasa`). */
  baseTopic?: string;
  /** How long `stop()` lets in-flight requests finish before cutting their connections (default 1000 ms). */
  closeGraceMs?: number;
}

const ALLOWED_METHODS = 'GET, HEAD';

/** `GET /healthz` (liveness), `GET /readyz` (readiness) and `GET /metrics` on HEALTH_HOST:HEALTH_PORT. */
export class HealthServer {
  private server: Server | undefined;

  constructor(private readonly options: HealthServerOptions) {}

  async start(): Promise<void> {
    if (this.server) throw new Error('health server already started');
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => this.fail(res, err));
    });
    server.headersTimeout = 5_000;
    server.requestTimeout = 10_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.options.host, port: this.options.port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.options.logger.error({ err }, 'health server error'));
    this.server = server;
  }

  /** The port actually listened on (useful with port 0). */
  get port(): number {
    const address = this.server?.address();
    if (!address || typeof address === 'string') throw new Error('health server is not listening');
    return address.port;
  }

  /** Stops listening, closes idle keep-alive connections now and busy ones after the grace time. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const cutoff = setTimeout(() => server.closeAllConnections(), this.options.closeGraceMs ?? 1000);
    cutoff.unref();
    try {
      await closed;
    } finally {
      clearTimeout(cutoff);
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path !== '/healthz' && path !== '/readyz' && path !== '/metrics') {
      sendJson(res, 404, { status: 'error', error: 'not_found' });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', ALLOWED_METHODS);
      sendJson(res, 405, { status: 'error', error: 'method_not_allowed' });
      return;
    }
    if (path === '/healthz' || path === '/readyz') {
      const { source, baseTopic = 'kasa' } = this.options;
      const report = path === '/healthz' ? evaluateLiveness(source) : evaluateReadiness(source, baseTopic);
      sendJson(res, report.status === 'ok' ? 200 : 503, report);
      return;
    }
    const text = await this.options.metrics.text();
    send(res, 200, this.options.metrics.contentType, text);
  }

  private fail(res: ServerResponse, err: unknown): void {
    this.options.logger.error({ err }, 'health endpoint failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendJson(res, 500, { status: 'error', error: 'internal_error' });
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, 'application/json', JSON.stringify(body));
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  });
  res.end(body);
}
