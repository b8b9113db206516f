import { createHash, randomInt } from 'node:crypto';
import { discoveryTopics } from '../api/types.js';
import type { DeviceNode } from '../devices/node.js';
import {
  bridgeDiscovery,
  bridgeDiscoveryTopic,
  discoveryNodeId,
  stateKeysOfComponents,
  discoveryTopic,
  isOurDiscoveryTopic,
  nodeDiscovery,
  type DiscoveryContext,
} from '../ha/discovery.js';
import type { MqttMessage } from '../mqtt/connection.js';
import type { NodeState, RediscoverResult } from '../api/types.js';
import { VERSION } from '../version.js';
import { RequestError } from './bridgeRequests.js';
import type { BridgeContext } from './context.js';
import { PartBase } from './partBase.js';
import type { NodesChangedEvent } from './eventBus.js';
import { CoalescedTask } from './requestLimits.js';

/** `homeassistant/rediscover` republishes everything at most once per this time. */
export const REDISCOVER_GAP_MS = 10_000;

/**
 * Home Assistant device-based discovery: one retained config per node and one for the bridge,
 * republished on HA's birth message; orphans of earlier runs cleared at start; never cleared on
 * shutdown.
 */
export class HomeAssistantExtension extends PartBase {
  readonly name = 'homeassistant';
  /** The bridge's own config as last published (each node's is kept on its record). */
  #bridgeJson: string | undefined;
  /** Retained `kasa_…` configs seen at start: topic → node id (undefined for bridge configs). */
  readonly #retainedAtStart = new Map<string, RetainedConfig>();
  #birthTimer: NodeJS.Timeout | undefined;
  #orphanScanDone = false;
  /** Each full republish is every config again: a flood of requests must not multiply it. */
  readonly #requestedRediscover = new CoalescedTask(REDISCOVER_GAP_MS, () => this.#rediscover());
  readonly #discovery: DiscoveryContext;
  readonly #log;

  constructor(ctx: BridgeContext) {
    super(ctx);
    this.#log = ctx.logger.child({ module: 'homeassistant' });
    this.#discovery = {
      baseTopic: ctx.config.MQTT_BASE_TOPIC,
      prefix: ctx.config.HA_DISCOVERY_PREFIX,
      version: VERSION,
      bridgeId: ctx.bridgeId,
    };
  }

  get #enabled(): boolean {
    return this.ctx.config.HA_DISCOVERY;
  }

  override async start(): Promise<void> {
    this.handle('homeassistant/rediscover', async () => {
      if (!this.#enabled) throw new RequestError('unsupported', 'HA_DISCOVERY is off');
      const { at } = this.#requestedRediscover.trigger();
      const result: RediscoverResult = at === undefined ? { coalesced: false } : { coalesced: true, republish_at: new Date(at).toISOString() };
      return result;
    });
    this.onStop(() => this.#requestedRediscover.cancel());
    if (!this.#enabled) return;
    const { config } = this.ctx;
    this.listen('nodesChanged', this.#onNodesChanged);
    this.listen('nodeRenamed', this.#onNodeRenamed);
    this.listen('nodeRead', this.#onNodeRead);
    this.listen('devicesSynced', () => void this.#clearOrphans());
    await this.subscribe(config.HA_STATUS_TOPIC, (m) => this.#onStatus(m), { qos: 1 });
    await this.subscribe(discoveryTopics(config.HA_DISCOVERY_PREFIX).deviceFilter, (m) => this.#collect(m), { qos: 1 });
    this.#publishBridge(true);
  }


  /** Clears retained `kasa_` configs of ours that match no current node (after the first device list). */
  async #clearOrphans(): Promise<number> {
    if (this.#orphanScanDone) return 0;
    this.#orphanScanDone = true;
    await new Promise<void>((resolve) => this.later(this.ctx.timing.orphanScanMs, resolve));
    const current = new Set(this.ctx.registry.nodes().map((n) => discoveryTopic(this.#discovery, n)));
    current.add(bridgeDiscoveryTopic(this.#discovery));
    let cleared = 0;
    for (const [topic, { id }] of this.#retainedAtStart) {
      if (current.has(topic) || this.#mayBeUnreadOutlet(id)) continue;
      this.#log.info({ topic }, 'clearing discovery of a device that is no longer in the account');
      void this.ctx.mqtt.publish(topic, '', { retain: true });
      cleared += 1;
    }
    this.#retainedAtStart.clear();
    return cleared;
  }

  /**
   * An outlet is only known once its strip has answered; a strip that is offline at start must
   * not lose its outlets' entities. `id` looks like `<known device id><2 digits>` whose device's
   * outlets are not known yet.
   */
  #mayBeUnreadOutlet(id: string | undefined): boolean {
    if (id === undefined || !/\d{2}$/.test(id)) return false;
    const parent = this.ctx.registry.node(id.slice(0, -2));
    return parent !== undefined && parent.parentId === undefined && parent.childIds === undefined;
  }

  /** Publishes every config again (homeassistant/rediscover, HA birth). */
  #rediscover(): void {
    if (!this.#enabled) return;
    this.#publishBridge(true);
    for (const node of this.ctx.registry.nodes()) this.#publishNode(node, true);
  }

  #publishBridge(force: boolean): void {
    const json = JSON.stringify(bridgeDiscovery(this.#discovery));
    if (!force && this.#bridgeJson === json) return;
    this.#bridgeJson = json;
    void this.ctx.mqtt.publish(bridgeDiscoveryTopic(this.#discovery), json, { retain: true });
  }

  /** Announces the entities of the node's modules (less those it lacks) whose state keys it has carried. */
  #publishNode(node: DeviceNode, force = false): void {
    const record = this.ctx.registry.record(node.id);
    if (!record) return;
    const json = JSON.stringify(nodeDiscovery(node, this.#discovery, record.seenKeys.keys(), record.lacking));
    const digest = createHash('sha1').update(json).digest('base64');
    if (!force && record.discoveryDigest === digest) return;
    record.discoveryDigest = digest;
    void this.ctx.mqtt.publish(discoveryTopic(this.#discovery, node), json, { retain: true });
  }

  #collect(message: MqttMessage): void {
    if (this.#orphanScanDone || !message.retain || message.payload.length === 0) return;
    // Node configs and bridge configs (an earlier run under another client id) alike.
    if (!isOurDiscoveryTopic(this.ctx.config.HA_DISCOVERY_PREFIX, message.topic)) return;
    if (!isOurs(message.payload, this.ctx.config.MQTT_BASE_TOPIC)) return;
    const id = discoveryNodeId(this.ctx.config.HA_DISCOVERY_PREFIX, message.topic);
    const retained: RetainedConfig = { id, components: componentIds(message.payload) };
    this.#retainedAtStart.set(message.topic, retained);
    const node = id === undefined ? undefined : this.ctx.registry.node(id);
    if (node && this.#takeOver(node)) this.#publishNode(node);
  }

  /**
   * The entities the previous run announced for `node` stay announced until its readings say
   * otherwise: a restart does not withdraw and re-add them (a key read once a day comes back late).
   * Returns true when that added keys.
   */
  #takeOver(node: DeviceNode): boolean {
    const retained = this.#retainedAtStart.get(discoveryTopic(this.#discovery, node));
    const record = this.ctx.registry.record(node.id);
    if (!retained || !record) return false;
    return record.seenKeys.seed(stateKeysOfComponents(node, retained.components));
  }

  #onStatus(message: MqttMessage): void {
    if (message.payload.toString('utf8').trim().toLowerCase() !== 'online') return;
    this.cancel(this.#birthTimer);
    const [min, max] = this.ctx.timing.haBirthDelayMs;
    const delay = max > min ? randomInt(min, max) : min;
    this.#log.info({ delayMs: delay }, 'Home Assistant came online; republishing discovery, availability and state');
    this.#birthTimer = this.later(delay, () => {
      this.#rediscover();
      for (const node of this.ctx.registry.nodes()) this.ctx.publisher.republish(node);
      this.ctx.events.emit('homeAssistantOnline');
    });
  }

  readonly #onNodesChanged = ({ added, removed, changed }: NodesChangedEvent) => {
    for (const node of removed) void this.ctx.mqtt.publish(discoveryTopic(this.#discovery, node), '', { retain: true });
    for (const node of added) this.#takeOver(node);
    for (const node of [...added, ...changed]) this.#publishNode(node);
    // A strip's outlets name it in via_device and their names: refresh them with it.
    for (const node of changed) for (const child of this.ctx.registry.children(node)) this.#publishNode(child);
  };

  readonly #onNodeRead = (node: DeviceNode, state: NodeState) => {
    const record = this.ctx.registry.record(node.id);
    if (record?.seenKeys.observe(Object.keys(state))) this.#publishNode(node);
  };

  readonly #onNodeRenamed = (node: DeviceNode) => {
    this.#publishNode(node);
  };
}

/** A node's discovery config retained by an earlier run: its node id and the ids of its components. */
interface RetainedConfig {
  id: string | undefined;
  components: ReadonlySet<string>;
}

function componentIds(payload: Buffer): ReadonlySet<string> {
  try {
    const config = JSON.parse(payload.toString('utf8')) as { components?: unknown };
    return new Set(typeof config.components === 'object' && config.components !== null ? Object.keys(config.components) : []);
  } catch {
    return new Set();
  }
}

/** A retained config is ours when its topics point below our base topic. */
function isOurs(payload: Buffer, baseTopic: string): boolean {
  try {
    const config = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
    const topics = JSON.stringify(config.state_topic ?? config.availability ?? config.components ?? '');
    return topics.includes(`"${baseTopic}/`);
  } catch {
    return false;
  }
}
