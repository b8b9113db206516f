import type { HealthSource } from '../health/source.js';
import { evaluateReadiness } from '../health/status.js';
import type { BridgeContext } from './context.js';
import { PartBase } from './partBase.js';

/**
 * `bridge/request/health_check` (readiness), and with HEALTH_PORT `GET /healthz`, `GET /readyz` and `GET /metrics`. The
 * metrics (prom-client) and the HTTP server are only loaded when HEALTH_PORT is set: they cost
 * several MB that a bridge without the endpoint does not need.
 */
export class HealthCheckExtension extends PartBase {
  readonly name = 'health check';
  readonly #source: HealthSource;

  constructor(ctx: BridgeContext) {
    super(ctx);
    const { mqtt, auth, registry, publisher, scheduler, storage } = ctx;
    // Read at request/scrape time.
    this.#source = {
      mqttConnected: () => mqtt.connected,
      mqttCommandsConnected: () => mqtt.commandsConnected,
      authState: () => auth.state,
      authLastError: () => auth.payload.last_error,
      devicesTotal: () => registry.size,
      devicesOnline: () => registry.nodes().filter((n) => publisher.isAvailable(n)).length,
      queueDepth: () => scheduler.queueDepth,
      rateLimitedSeconds: () => scheduler.stats().rateLimitedMs / 1000,
      pausedUntil: () => scheduler.pausedUntil,
      storageError: () => storage.error,
    };
  }

  override async start(): Promise<void> {
    const { config, logger } = this.ctx;
    this.handle('health_check', async () => {
      const report = evaluateReadiness(this.#source, config.MQTT_BASE_TOPIC);
      return { healthy: report.status === 'ok', ...report };
    });
    if (config.HEALTH_PORT === 0) return;
    const [{ BridgeMetrics }, { HealthServer }] = await Promise.all([import('../health/metrics.js'), import('../health/server.js')]);
    const metrics = new BridgeMetrics(this.#source);
    this.listen('cloudRequest', (event) => metrics.recordCloudRequest(event));
    this.listen('commandAnswered', (latencyMs, status) => metrics.observeCommand(latencyMs, status));
    const server = new HealthServer({
      source: this.#source,
      metrics,
      host: config.HEALTH_HOST,
      port: config.HEALTH_PORT,
      logger,
      baseTopic: config.MQTT_BASE_TOPIC,
    });
    await server.start();
    this.onStop(() => server.stop());
  }
}
