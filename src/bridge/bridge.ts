import { topics, type BridgeEvent } from '../api/types.js';
import { CloudScheduler, type PauseReason, type RateLimitedEvent } from '../scheduler/scheduler.js';
import type { Dispatcher } from 'undici';
import type { Config } from '../config.js';
import { DataDirLock } from '../dataDirLock.js';
import { TopicKeyStore } from '../devices/topicKeys.js';
import { KasaCloudClient } from '../kasa/cloudClient.js';
import { failureClass } from '../kasa/errors.js';
import { SessionStore } from '../kasa/sessionStore.js';
import type { Logger } from '../logger.js';
import { BridgeMetrics } from '../health/metrics.js';
import { HealthServer } from '../health/server.js';
import type { HealthSource } from '../health/source.js';
import { evaluateHealth, type HealthReport } from '../health/status.js';
import { MqttConnection } from '../mqtt/connection.js';
import { persistentClientId } from '../mqtt/clientId.js';
import { AuthManager } from './auth.js';
import { BridgeApiExtension } from './bridgeApi.js';
import { CommandsExtension } from './commands.js';
import { DEFAULT_TIMING, type BridgeContext, type BridgeTiming } from './context.js';
import { DevicesExtension } from './devices.js';
import { describeError } from './errors.js';
import { EventBus } from './eventBus.js';
import { HomeAssistantExtension } from './homeassistant.js';
import { NodeStates } from './nodeStates.js';
import { Poller } from './poller.js';
import { DeviceRegistry } from './registry.js';
import { StatePublisher } from './statePublisher.js';

const SYNC_RETRY_MIN_MS = 5_000;

/** Scheduler pause reasons as `rate_limited` events name them (docs/mqtt-api.md). */
const PAUSE_REASONS: Record<PauseReason, Extract<BridgeEvent, { type: 'rate_limited' }>['reason']> = {
  rate_limited: 'throttled',
  blacklisted: 'blacklisted',
  server_error: 'server_errors',
};

export interface BridgeOptions {
  config: Config;
  logger: Logger;
  /** Extra PEM roots for the cloud client (tests). */
  extraCa?: readonly string[];
  /** Tests only: the undici dispatcher the cloud client sends through (fault injection). */
  cloudDispatcher?: Dispatcher;
  timing?: Partial<BridgeTiming>;
}

/**
 * The composition root: builds the MQTT layer, the cloud client and scheduler, the state cache
 * and one extension per concern, starts them in order and stops them in reverse, bounded.
 */
export class Bridge {
  readonly ctx: BridgeContext;
  readonly auth: AuthManager;
  readonly registry: DeviceRegistry;
  readonly devices: DevicesExtension;
  readonly poller: Poller;
  readonly #commands: CommandsExtension;
  readonly #homeassistant: HomeAssistantExtension;
  readonly #bridgeApi: BridgeApiExtension;
  readonly #publisher: StatePublisher;
  #started = false;
  #lock: DataDirLock | undefined;
  #syncRetry: NodeJS.Timeout | undefined;
  #offRateLimited: (() => void) | undefined;
  #sweepTimer: NodeJS.Timeout | undefined;
  readonly #healthServer: HealthServer | undefined;
  /** Read at scrape time; the parts it reads are built in the constructor. */
  readonly #health: HealthSource = {
    mqttConnected: () => this.ctx.mqtt.connected,
    authState: () => this.auth.state,
    authLastError: () => this.auth.payload.last_error,
    devicesTotal: () => this.registry.size,
    devicesOnline: () => this.registry.nodes().filter((n) => this.#publisher.isAvailable(n)).length,
    queueDepth: () => this.ctx.scheduler.queueDepth,
    rateLimitedSeconds: () => this.ctx.scheduler.stats().rateLimitedMs / 1000,
    pausedUntil: () => this.ctx.scheduler.pausedUntil,
  };
  readonly #log;

  constructor(options: BridgeOptions) {
    const { config, logger } = options;
    this.#log = logger.child({ module: 'bridge' });
    const store = new SessionStore({ dataDir: config.DATA_DIR, logger });
    // Fail fast, before anything connects, when DATA_DIR cannot hold the session.
    store.load(config.KASA_USERNAME);
    const keys = new TopicKeyStore({ dataDir: config.DATA_DIR, logger });
    const clientId = config.MQTT_CLIENT_ID ?? persistentClientId(config.DATA_DIR);
    const mqtt = new MqttConnection({
      url: config.MQTT_URL,
      clientId,
      rejectUnauthorized: config.MQTT_REJECT_UNAUTHORIZED,
      baseTopic: config.MQTT_BASE_TOPIC,
      logger,
      ...defined({
        username: config.MQTT_USERNAME,
        password: config.MQTT_PASSWORD,
        caFile: config.MQTT_CA_FILE,
        certFile: config.MQTT_CERT_FILE,
        keyFile: config.MQTT_KEY_FILE,
      }),
    });
    const timing: BridgeTiming = { ...DEFAULT_TIMING, ...options.timing };
    const scheduler = new CloudScheduler({
      ratePerMinute: config.KASA_RATE_LIMIT,
      burst: config.KASA_RATE_BURST,
      concurrency: config.KASA_CONCURRENCY,
      logger,
      classifyFailure: failureClass,
      ...(timing.schedulerBackoff ? { backoff: timing.schedulerBackoff } : {}),
    });
    const events = new EventBus();
    const t = topics(config.MQTT_BASE_TOPIC);
    let auth: AuthManager | undefined;
    const metrics = new BridgeMetrics(this.#health);
    const client = new KasaCloudClient({
      cloudUrl: config.KASA_CLOUD_URL,
      username: config.KASA_USERNAME,
      password: config.KASA_PASSWORD,
      store,
      requestTimeoutMs: config.KASA_REQUEST_TIMEOUT * 1000,
      passthroughTimeoutMs: config.KASA_PASSTHROUGH_TIMEOUT * 1000,
      traceWrite: config.KASA_TRACE ? (line: string) => process.stderr.write(`${line}\n`) : undefined,
      caFile: config.KASA_CA_FILE,
      extraCa: options.extraCa,
      dispatcher: options.cloudDispatcher,
      logger,
      onRequest: (event) => metrics.recordCloudRequest(event),
      onSessionChange: (state, detail) => {
        // Changes caused by the bridge's own login()/completeMfa() are handled where they are called.
        if (state === 'authenticated' || !detail.automatic) return;
        auth?.onSessionLost(detail.error, state === 'mfa_required' && detail.mfaType ? { mfaType: detail.mfaType } : undefined);
      },
    });
    this.ctx = {
      config,
      logger,
      mqtt,
      client,
      scheduler,
      topics: t,
      events,
      metrics,
      publishEvent: (event: BridgeEvent) => void mqtt.publish(t.bridgeEvent, event, { retain: false }),
      timing,
    };
    this.auth = auth = new AuthManager(this.ctx);
    const usable = () => this.auth.usable;
    const states = new NodeStates();
    this.registry = new DeviceRegistry(keys);
    this.#publisher = new StatePublisher(this.ctx, states, usable);
    this.devices = new DevicesExtension(this.ctx, this.registry, this.#publisher);
    this.poller = new Poller(this.ctx, this.registry, this.devices, this.#publisher, usable);
    this.#commands = new CommandsExtension(this.ctx, this.registry, states, this.#publisher, this.poller, this.devices, usable);
    this.#homeassistant = new HomeAssistantExtension(this.ctx, this.registry, this.#publisher, clientId);
    this.#bridgeApi = new BridgeApiExtension(this.ctx, {
      auth: this.auth,
      devices: this.devices,
      poller: this.poller,
      homeassistant: this.#homeassistant,
      health: () => this.health(),
    });
    if (config.HEALTH_PORT !== 0) {
      this.#healthServer = new HealthServer({
        source: this.#health,
        metrics,
        host: config.HEALTH_HOST,
        port: config.HEALTH_PORT,
        logger,
        baseTopic: config.MQTT_BASE_TOPIC,
      });
    }
  }

  /** Throws DataDirBusyError when another kasa2mqtt holds DATA_DIR. */
  async start(): Promise<void> {
    this.#lock = DataDirLock.acquire(this.ctx.config.DATA_DIR, 'daemon');
    this.#started = true;
    const { mqtt, scheduler, events } = this.ctx;
    await mqtt.start();
    scheduler.start();
    this.#offRateLimited = scheduler.on('rate_limited', this.#onRateLimited);
    events.on('sessionUsable', this.#onSessionUsable);
    await this.#sweepStaleAvailability();
    await this.#bridgeApi.start();
    await this.#commands.start();
    await this.#homeassistant.start();
    this.devices.start();
    this.poller.start();
    await this.#healthServer?.start();
    await this.auth.start();
  }

  /** Ordered and bounded: polling off, queue drained with a grace, extensions, then MQTT (offline). */
  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    const { mqtt, scheduler, client, events } = this.ctx;
    events.off('sessionUsable', this.#onSessionUsable);
    this.#offRateLimited?.();
    this.#offRateLimited = undefined;
    clearTimeout(this.#syncRetry);
    clearTimeout(this.#sweepTimer);
    this.poller.stop();
    this.devices.stop();
    await scheduler.stop(this.ctx.timing.shutdownGraceMs);
    await Promise.allSettled([this.auth.stop(), this.#commands.stop(), this.#homeassistant.stop(), this.#bridgeApi.stop()]);
    await mqtt.stop();
    await Promise.allSettled([client.close(), this.#healthServer?.stop()]);
    this.#lock?.release();
  }

  /** The same verdict as GET /healthz, for `bridge/request/health_check`. */
  health(): HealthReport & { healthy: boolean } {
    const report = evaluateHealth(this.#health, this.ctx.config.MQTT_BASE_TOPIC);
    return { healthy: report.status === 'ok', ...report };
  }



  /**
   * Availability retained by an earlier run may say "online" for nodes this run has not read: after
   * a restart into an unusable session (MFA, locked account) or a cloud outage nothing would correct
   * it, against docs/mqtt-api.md, "Availability". For a short while after start, each retained "online" of a node
   * that is not available in this run is replaced by "offline"; the node's first read brings it back.
   */
  async #sweepStaleAvailability(): Promise<void> {
    const { mqtt, config, timing } = this.ctx;
    const prefix = `${config.MQTT_BASE_TOPIC}/`;
    const suffix = '/availability';
    const unsubscribe = await mqtt.subscribe(
      `${prefix}+${suffix}`,
      (message) => {
        if (!message.retain || !/"state"\s*:\s*"online"/.test(message.payload.toString('utf8'))) return;
        const key = message.topic.slice(prefix.length, -suffix.length);
        const node = this.registry.resolve(key);
        if (key === 'bridge' || (node && this.#publisher.isAvailable(node))) return;
        void mqtt.publish(message.topic, { state: 'offline' }, { retain: true });
      },
      { qos: 1 },
    );
    this.#sweepTimer = setTimeout(() => void unsubscribe(), Math.max(timing.orphanScanMs, 1_000));
    this.#sweepTimer.unref();
  }

  /** The scheduler paused background traffic: tell MQTT users why and until when. */
  readonly #onRateLimited = (event: RateLimitedEvent): void => {
    this.ctx.publishEvent({ type: 'rate_limited', until: new Date(event.until).toISOString(), reason: PAUSE_REASONS[event.reason] });
  };

  readonly #onSessionUsable = (usable: boolean): void => {
    for (const node of this.registry.nodes()) this.#publisher.refreshAvailability(node);
    if (usable) void this.#syncDevices();
  };

  /**
   * After login: read the device list, every device once, then clear discovery orphans. A failed
   * list read is retried with backoff (5 s doubling, at most the device-list interval).
   */
  async #syncDevices(delayMs = SYNC_RETRY_MIN_MS): Promise<void> {
    clearTimeout(this.#syncRetry);
    try {
      await this.devices.refresh();
    } catch (err) {
      if (!this.#started || !this.auth.usable) return;
      const next = Math.min(delayMs * 2, this.ctx.config.KASA_DEVICE_LIST_INTERVAL * 1000);
      this.#log.warn({ err: describeError(err), retryInMs: delayMs }, 'device list read failed; retrying');
      this.#syncRetry = setTimeout(() => void this.#syncDevices(next), delayMs);
      this.#syncRetry.unref();
      return;
    }
    await this.poller.pollAll();
    this.devices.publishDevices();
    await this.#homeassistant.clearOrphans();
  }
}

/** Drops undefined values, for option objects under exactOptionalPropertyTypes. */
function defined<T extends Record<string, unknown>>(values: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}
