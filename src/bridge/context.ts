import type { BridgeEvent, Topics } from '../api/types.js';
import type { BackoffOptions } from '../scheduler/scheduler.js';
import type { CloudScheduler } from '../scheduler/scheduler.js';
import type { Config } from '../config.js';
import type { KasaCloudClient } from '../kasa/cloudClient.js';
import type { Logger } from '../logger.js';
import type { BridgeMetrics } from '../health/metrics.js';
import type { MqttConnection } from '../mqtt/connection.js';
import type { EventBus } from './eventBus.js';

/** What every part of the bridge is built from; the controller makes one and hands it out. */
export interface BridgeContext {
  config: Config;
  logger: Logger;
  mqtt: MqttConnection;
  client: KasaCloudClient;
  scheduler: CloudScheduler;
  topics: Topics;
  events: EventBus;
  metrics: BridgeMetrics;
  /** Publishes on `<base>/bridge/event` (not retained). */
  publishEvent(event: BridgeEvent): void;
  /** Timing knobs tests shorten; production uses the defaults. */
  timing: BridgeTiming;
}

export interface BridgeTiming {
  /** Random delay range before republishing after Home Assistant's birth message, ms. */
  haBirthDelayMs: [min: number, max: number];
  /** How long to collect retained discovery configs at start before clearing orphans, ms. */
  orphanScanMs: number;
  /** Grace for in-flight cloud requests at shutdown, ms. */
  shutdownGraceMs: number;
  /** Overrides of the scheduler's rate-limit backoff (tests shorten the 60 s default pause). */
  schedulerBackoff?: Partial<BackoffOptions>;
  /** Backoff of login retries after a transient failure: first delay and cap, ms. */
  loginRetryMs: [min: number, max: number];
}

export const DEFAULT_TIMING: BridgeTiming = {
  loginRetryMs: [30_000, 15 * 60_000],
  haBirthDelayMs: [2_000, 8_000],
  orphanScanMs: 2_000,
  shutdownGraceMs: 2_000,
};
