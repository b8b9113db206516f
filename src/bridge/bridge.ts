import { topics, type BridgeEvent } from '../api/types.js';
import { CloudScheduler, type PauseReason } from '../scheduler/scheduler.js';
import type { Dispatcher } from 'undici';
import type { Config } from '../config.js';
import { DataDirLock } from '../dataDirLock.js';
import { TopicKeyStore } from '../devices/topicKeys.js';
import { KasaCloudClient, clientOptionsFromConfig } from '../kasa/cloudClient.js';
import { failureClass } from '../kasa/errors.js';
import { SessionStore } from '../kasa/sessionStore.js';
import type { Logger } from '../logger.js';
import { MqttConnection } from '../mqtt/connection.js';
import { persistentClientId } from '../mqtt/clientId.js';
import { StorageStatus } from '../storageStatus.js';
import { AuthManager } from './auth.js';
import { AvailabilitySweep } from './availabilitySweep.js';
import { BridgeApiExtension } from './bridgeApi.js';
import { BridgeRequests } from './bridgeRequests.js';
import { CommandsExtension } from './commands.js';
import { AuthStatus, DEFAULT_TIMING, type BridgeContext, type BridgePart, type BridgeTiming } from './context.js';
import { DeviceListExtension } from './deviceList.js';
import { describeError } from './errors.js';
import { EventBus } from './eventBus.js';
import { HealthCheckExtension } from './healthCheck.js';
import { HomeAssistantExtension } from './homeassistant.js';
import { Poller } from './poller.js';
import { DeviceReadings } from './readings.js';
import { DeviceRegistry } from './registry.js';
import { StatePublisher } from './statePublisher.js';
import { StorageStatePart } from './storageState.js';
import { PartBase } from './partBase.js';

/** Scheduler pause reasons as `rate_limited` events name them. */
const PAUSE_REASONS: Record<PauseReason, Extract<BridgeEvent, { type: 'rate_limited' }>['reason']> = {
  rate_limited: 'throttled',
  blacklisted: 'blacklisted',
  server_error: 'server_errors',
};

/** How much longer than the scheduler's grace one part may take to stop before the next is stopped anyway. */
const STOP_MARGIN_MS = 1_000;

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
 * The composition root: builds the shared context (MQTT, cloud client and scheduler, registry,
 * state cache, event bus) and the parts, starts the parts in one list and stops them in reverse,
 * each stop bounded in time.
 */
export class Bridge {
  readonly #ctx: BridgeContext;
  readonly #parts: readonly BridgePart[];
  #started: BridgePart[] = [];
  #lock: DataDirLock | undefined;
  readonly #log;

  /** Takes the DATA_DIR lock first: throws DataDirBusyError (another kasa2mqtt holds it) before reading anything there. */
  constructor(options: BridgeOptions) {
    const lock = DataDirLock.acquire(options.config.DATA_DIR, 'daemon');
    try {
      const built = Bridge.#build(options);
      this.#ctx = built.ctx;
      this.#parts = built.parts;
      this.#log = options.logger.child({ module: 'bridge' });
    } catch (err) {
      lock.release();
      throw err;
    }
    this.#lock = lock;
  }

  static #build(options: BridgeOptions): { ctx: BridgeContext; parts: readonly BridgePart[] } {
    const { config, logger } = options;
    const storage = new StorageStatus();
    const store = new SessionStore({ dataDir: config.DATA_DIR, logger, storage });
    // Fail fast, before anything connects, when DATA_DIR cannot hold the session.
    store.load(config.KASA_USERNAME);
    const keys = new TopicKeyStore({ dataDir: config.DATA_DIR, logger, storage });
    const bridgeId = config.MQTT_CLIENT_ID ?? persistentClientId(config.DATA_DIR);
    const mqtt = new MqttConnection({
      url: config.MQTT_URL,
      clientId: bridgeId,
      rejectUnauthorized: config.MQTT_REJECT_UNAUTHORIZED,
      commandConnection: config.MQTT_COMMAND_CONNECTION,
      baseTopic: config.MQTT_BASE_TOPIC,
      discoveryPrefix: config.HA_DISCOVERY_PREFIX,
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
    const events = new EventBus(logger);
    const client = new KasaCloudClient({
      ...clientOptionsFromConfig(config),
      store,
      traceWrite: config.KASA_TRACE ? (line: string) => process.stderr.write(`${line}\n`) : undefined,
      extraCa: options.extraCa,
      dispatcher: options.cloudDispatcher,
      logger,
      onRequest: (event) => events.emit('cloudRequest', event),
      onSessionChange: (state, detail) => {
        // Changes caused by the bridge's own login()/completeMfa() are handled where they are called.
        if (state === 'authenticated' || !detail.automatic) return;
        events.emit('sessionLost', detail.error, state === 'mfa_required' && detail.mfaType ? { mfaType: detail.mfaType } : undefined);
      },
    });
    const t = topics(config.MQTT_BASE_TOPIC);
    const shared = {
      config,
      logger,
      mqtt,
      client,
      scheduler,
      topics: t,
      events,
      auth: new AuthStatus(),
      registry: new DeviceRegistry(keys),
      requests: new BridgeRequests(),
      bridgeId,
      storage,
      publishEvent: (event: BridgeEvent) => void mqtt.publish(t.bridgeEvent, event, { retain: false }),
      timing,
    };
    const publisher = new StatePublisher(shared);
    const readings = new DeviceReadings({ ...shared, publisher });
    const ctx: BridgeContext = { ...shared, publisher, readings };
    // Started in this order, stopped in reverse: the cloud client closes last, MQTT goes offline
    // after the queue drained, and the session (auth) starts once everything listens.
    const parts = [
      { name: 'cloud client', start: async () => {}, stop: () => client.close() },
      { name: 'topic keys', start: async () => {}, stop: async () => keys.flush() },
      { name: 'mqtt', start: () => mqtt.start(), stop: () => mqtt.stop() },
      new StorageStatePart(ctx),
      new SchedulerPart(ctx),
      new AvailabilitySweep(ctx),
      new BridgeApiExtension(ctx),
      new CommandsExtension(ctx),
      new HomeAssistantExtension(ctx),
      new DeviceListExtension(ctx),
      new Poller(ctx),
      new HealthCheckExtension(ctx),
      new AuthManager(ctx),
    ];
    return { ctx, parts };
  }

  /**
   * The one window onto the inside, for tests and the soak's leak accounting: the event bus, and
   * the MQTT connection, scheduler and cloud client to count listeners and queued requests, and
   * the registry to see what is kept of each device. Not for control: parts stay private.
   */
  diagnostics(): Pick<BridgeContext, 'events' | 'mqtt' | 'scheduler' | 'client' | 'registry'> {
    const { events, mqtt, scheduler, client, registry } = this.#ctx;
    return { events, mqtt, scheduler, client, registry };
  }

  /** Throws DataDirBusyError when another kasa2mqtt holds DATA_DIR. */
  async start(): Promise<void> {
    this.#lock ??= DataDirLock.acquire(this.#ctx.config.DATA_DIR, 'daemon');
    for (const part of this.#parts) {
      if (this.#started.includes(part)) continue;
      await part.start();
      this.#started.push(part);
    }
  }

  /** Stops the started parts in reverse order; a part that overruns its bound is left behind. */
  async stop(): Promise<void> {
    const boundMs = this.#ctx.timing.shutdownGraceMs + STOP_MARGIN_MS;
    for (const part of this.#started.splice(0).reverse()) {
      let timer: NodeJS.Timeout | undefined;
      const overran = new Promise<'overran'>((resolve) => {
        timer = setTimeout(() => resolve('overran'), boundMs);
      });
      try {
        const outcome = await Promise.race([part.stop(), overran]);
        if (outcome === 'overran') this.#log.warn({ part: part.name, boundMs }, 'a part took too long to stop; going on');
      } catch (err) {
        this.#log.warn({ part: part.name, err: describeError(err) }, 'a part failed to stop');
      } finally {
        clearTimeout(timer);
      }
    }
    this.#lock?.release();
    this.#lock = undefined;
  }
}

/** The cloud scheduler as a part: a rate-limit pause is told to MQTT users; stop drains with a grace. */
class SchedulerPart extends PartBase {
  readonly name = 'scheduler';

  constructor(ctx: BridgeContext) {
    super(ctx);
  }

  override async start(): Promise<void> {
    this.ctx.scheduler.start();
    this.onStop(
      this.ctx.scheduler.on('rate_limited', (event) => {
        this.ctx.publishEvent({ type: 'rate_limited', until: new Date(event.until).toISOString(), reason: PAUSE_REASONS[event.reason] });
      }),
    );
  }

  override async stop(): Promise<void> {
    await super.stop();
    await this.ctx.scheduler.stop(this.ctx.timing.shutdownGraceMs);
  }
}

/** Drops undefined values, for option objects under exactOptionalPropertyTypes. */
function defined<T extends Record<string, unknown>>(values: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}
