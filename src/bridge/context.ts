import type { BridgeEvent, Topics } from '../api/types.js';
import type { BackoffOptions } from '../cloud/backoff.js';
import type { CloudScheduler } from '../cloud/scheduler.js';
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
  /** After a restart command, how long the device's absence (-20571) is expected rather than a failure, ms. */
  restartGraceMs: number;
  /** Overrides of the scheduler's rate-limit backoff (tests shorten the 60 s default pause). */
  schedulerBackoff?: Partial<BackoffOptions>;
}

export const DEFAULT_TIMING: BridgeTiming = {
  haBirthDelayMs: [2_000, 8_000],
  orphanScanMs: 2_000,
  shutdownGraceMs: 2_000,
  restartGraceMs: 90_000,
};
