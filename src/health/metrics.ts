import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RequestOutcome } from '../kasa/transport.js';
import { VERSION } from '../version.js';
import { AUTH_STATES, type HealthSource } from './source.js';

export type { HealthSource } from './source.js';

/** The cloud operations the client performs; anything else is counted as `other` to keep labels bounded. */
export const CLOUD_OPERATIONS = [
  'getAccountStatusAndUrl',
  'login',
  'checkMFACodeAndLogin',
  'getEmailVC4TerminalMFA',
  'getPushVC4TerminalMFA',
  'refreshToken',
  'getDeviceList',
  'passthrough',
] as const;

const REQUEST_OUTCOMES = ['ok', 'cloud_error', 'network_error', 'timeout', 'aborted'] as const satisfies readonly RequestOutcome[];

export type CommandStatus = 'ok' | 'error';

/** The part of the transport's `TransportRequestEvent` the metrics use (pass the event as it is). */
export interface CloudRequestSample {
  op: string;
  outcome: RequestOutcome;
  durationMs: number;
}

const PREFIX = 'kasa2mqtt_';
const KNOWN_OPERATIONS: ReadonlySet<string> = new Set(CLOUD_OPERATIONS);

/**
 * The bridge's Prometheus metrics, in a registry of their own (not prom-client's global one),
 * with Node process metrics alongside. Gauges read the `HealthSource` at scrape time.
 */
export class BridgeMetrics {
  readonly registry = new Registry();
  private readonly cloudRequests: Counter<'operation' | 'result'>;
  private readonly cloudRequestDuration: Histogram<'operation'>;
  private readonly commandLatency: Histogram<'status'>;

  constructor(source: HealthSource) {
    const registers = [this.registry];

    this.cloudRequests = new Counter({
      name: `${PREFIX}cloud_requests_total`,
      help: 'HTTP requests to the TP-Link cloud, by operation and result',
      labelNames: ['operation', 'result'],
      registers,
    });
    for (const operation of CLOUD_OPERATIONS) {
      for (const result of REQUEST_OUTCOMES) this.cloudRequests.inc({ operation, result }, 0);
    }
    this.cloudRequestDuration = new Histogram({
      name: `${PREFIX}cloud_request_duration_seconds`,
      help: 'Duration of HTTP requests to the TP-Link cloud, by operation',
      labelNames: ['operation'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30],
      registers,
    });
    this.commandLatency = new Histogram({
      name: `${PREFIX}command_latency_seconds`,
      help: 'Time from an MQTT set to its response, including queueing, by status',
      labelNames: ['status'],
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120],
      registers,
    });
    for (const status of ['ok', 'error'] as const) this.commandLatency.zero({ status });

    new Gauge({
      name: `${PREFIX}queue_depth`,
      help: 'Cloud requests waiting in the scheduler queue',
      registers,
      collect() {
        this.set(source.queueDepth());
      },
    });
    let lastRateLimited = 0;
    new Counter({
      name: `${PREFIX}rate_limited_seconds_total`,
      help: 'Time background cloud traffic has spent paused by rate limiting, seconds',
      registers,
      collect() {
        const total = source.rateLimitedSeconds();
        if (!Number.isFinite(total) || total < 0) return;
        if (total < lastRateLimited) {
          // The source restarted; Prometheus copes with counter resets.
          this.reset();
          lastRateLimited = 0;
        }
        this.inc(total - lastRateLimited);
        lastRateLimited = total;
      },
    });
    new Gauge({
      name: `${PREFIX}rate_limited`,
      help: '1 while background cloud traffic is paused by rate limiting, else 0',
      registers,
      collect() {
        this.set(source.pausedUntil() === undefined ? 0 : 1);
      },
    });
    new Gauge({
      name: `${PREFIX}mqtt_connected`,
      help: '1 while connected to the MQTT broker, else 0',
      registers,
      collect() {
        this.set(source.mqttConnected() ? 1 : 0);
      },
    });
    new Gauge({
      name: `${PREFIX}session_state`,
      help: 'Cloud session state: 1 for the current state, 0 for the others',
      labelNames: ['state'],
      registers,
      collect() {
        const current = source.authState();
        for (const state of AUTH_STATES) this.set({ state }, state === current ? 1 : 0);
      },
    });
    new Gauge({
      name: `${PREFIX}storage_error`,
      help: '1 while a file in DATA_DIR cannot be saved (full disk, read-only volume), else 0',
      registers,
      collect() {
        this.set(source.storageError() === undefined ? 0 : 1);
      },
    });
    new Gauge({
      name: `${PREFIX}devices`,
      help: 'Devices (including outlets) known on the account',
      registers,
      collect() {
        this.set(source.devicesTotal());
      },
    });
    new Gauge({
      name: `${PREFIX}devices_online`,
      help: 'Devices (including outlets) currently online',
      registers,
      collect() {
        this.set(source.devicesOnline());
      },
    });
    new Gauge({
      name: `${PREFIX}build_info`,
      help: 'Always 1; the version label says which kasa2mqtt is running',
      labelNames: ['version'],
      registers,
    }).set({ version: VERSION }, 1);

    collectDefaultMetrics({ register: this.registry });
  }

  /** Feed from the transport's `onRequest` hook: once per HTTP request to the cloud. */
  recordCloudRequest(event: CloudRequestSample): void {
    const operation = KNOWN_OPERATIONS.has(event.op) ? event.op : 'other';
    this.cloudRequests.inc({ operation, result: event.outcome });
    if (Number.isFinite(event.durationMs)) {
      this.cloudRequestDuration.observe({ operation }, Math.max(0, event.durationMs) / 1000);
    }
  }

  /** One finished MQTT set: its end-to-end latency (the `latency_ms` of its response) and result. */
  observeCommand(latencyMs: number, status: CommandStatus): void {
    if (!Number.isFinite(latencyMs)) return;
    this.commandLatency.observe({ status }, Math.max(0, latencyMs) / 1000);
  }

  /** The Prometheus exposition text; runs every gauge's `collect()`. */
  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
