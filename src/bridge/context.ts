import type { AuthState, BridgeAuthPayload, BridgeEvent, Topics } from '../api/types.js';
import type { BackoffOptions } from '../scheduler/scheduler.js';
import type { CloudScheduler } from '../scheduler/scheduler.js';
import type { Config } from '../config.js';
import type { KasaCloudClient } from '../kasa/cloudClient.js';
import type { Logger } from '../logger.js';
import type { MqttConnection } from '../mqtt/connection.js';
import type { StorageStatus } from '../storageStatus.js';
import type { BridgeRequests } from './bridgeRequests.js';
import type { EventBus } from './eventBus.js';
import type { DeviceReadings } from './readings.js';
import type { DeviceRegistry } from './registry.js';
import type { StatePublisher } from './statePublisher.js';

/**
 * What every part of the bridge is built from: the bridge makes one and hands it to each part.
 * Parts share state through it and talk through `events`, not through references to each other.
 */
export interface BridgeContext {
  readonly config: Config;
  readonly logger: Logger;
  readonly mqtt: MqttConnection;
  readonly client: KasaCloudClient;
  readonly scheduler: CloudScheduler;
  readonly topics: Topics;
  readonly events: EventBus;
  /** The cloud session as the auth part last published it. */
  readonly auth: AuthStatus;
  /** Every device the bridge knows, each owning its nodes' state (device.ts). */
  readonly registry: DeviceRegistry;
  /** Publishes node state and availability. */
  readonly publisher: StatePublisher;
  /** Reads devices and applies what they answer. */
  readonly readings: DeviceReadings;
  /** The MQTT client id, which also names this bridge instance in Home Assistant. */
  readonly bridgeId: string;
  /** Whether the DATA_DIR files are being saved (`storage_error`). */
  readonly storage: StorageStatus;
  /** The `bridge/request/<cmd>` handlers parts register. */
  readonly requests: BridgeRequests;
  /** Publishes on `<base>/bridge/event` (not retained). */
  publishEvent(event: BridgeEvent): void;
  /** Timing knobs tests shorten; production uses the defaults. */
  readonly timing: BridgeTiming;
}

/** The one shape of every bridge part: built from the context, started and stopped by the bridge. */
export interface BridgePart {
  /** Short name for logs (e.g. a stop that overran its bound). */
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** The cloud session state: written by the auth part, read by everyone else. */
export class AuthStatus {
  #payload: BridgeAuthPayload = { state: 'logging_in', since: new Date().toISOString() };

  get payload(): BridgeAuthPayload {
    return this.#payload;
  }

  get state(): AuthState {
    return this.#payload.state;
  }

  /** Cloud requests can be made: the bridge is logged in. */
  get usable(): boolean {
    return this.#payload.state === 'authenticated';
  }

  set(payload: BridgeAuthPayload): void {
    this.#payload = payload;
  }
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
  /** Backoff of login retries after a transient failure: first delay and cap, ms. */
  loginRetryMs: [min: number, max: number];
}

export const DEFAULT_TIMING: BridgeTiming = {
  loginRetryMs: [30_000, 15 * 60_000],
  haBirthDelayMs: [2_000, 8_000],
  orphanScanMs: 2_000,
  shutdownGraceMs: 2_000,
  restartGraceMs: 90_000,
};
