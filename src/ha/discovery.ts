/**
 * Home Assistant device-based discovery for nodes (docs/home-assistant.md): one retained
 * `<prefix>/device/kasa_<id>/config` per node, its entities under `components`.
 */
import { discoveryTopics, topics } from '../api/types.js';
import type { DeviceNode } from '../devices/node.js';
import type { ModuleEntity } from '../devices/module.js';
import { modulesOf } from '../devices/protocols.js';
import {
  ID_PREFIX,
  STATE_TEMPLATE,
  bridgeIdentifier,
  bridgeStateAvailability,
  origin,
  safeObjectId,
  type ComponentConfig,
  type DeviceDiscoveryPayload,
  type DiscoveryContext,
} from './common.js';

export type { ComponentConfig, DeviceDiscoveryPayload, DiscoveryContext } from './common.js';
export { bridgeDiscovery, bridgeDiscoveryTopic } from './bridgeDiscovery.js';

/** `<prefix>/device/kasa_<id>/config`; takes the prefix or the discovery context. */
export function discoveryTopic(prefix: string | Pick<DiscoveryContext, 'prefix'>, node: DeviceNode): string {
  return discoveryTopics(typeof prefix === 'string' ? prefix : prefix.prefix).device(`${ID_PREFIX}${safeObjectId(node.id)}`);
}

/** Whether `topic` is a device discovery topic this bridge may have published (`kasa_` object id). */
export function isOurDiscoveryTopic(prefix: string, topic: string): boolean {
  const objectId = discoveryTopics(prefix).objectIdOf(topic);
  return objectId !== undefined && /^kasa_[a-zA-Z0-9_-]+$/.test(objectId);
}

/** The node id in one of our node discovery topics; undefined for the bridge's own topic and foreign topics. */
export function discoveryNodeId(prefix: string, topic: string): string | undefined {
  const objectId = discoveryTopics(prefix).objectIdOf(topic);
  const id = objectId?.startsWith(ID_PREFIX) ? objectId.slice(ID_PREFIX.length) : undefined;
  if (id === undefined || id === '' || id.startsWith('bridge_') || !/^[a-zA-Z0-9_-]+$/.test(id)) return undefined;
  return id;
}

/** The state keys shown by those of the node's entities whose component id is in `componentIds` (a retained config's). */
export function stateKeysOfComponents(node: DeviceNode, componentIds: ReadonlySet<string>): string[] {
  const keys = new Set<string>();
  for (const module of modulesOf(node)) {
    for (const entity of module.entities?.(node) ?? []) {
      if (entity.stateKey !== undefined && componentIds.has(entity.id)) keys.add(entity.stateKey);
    }
  }
  return [...keys];
}

/** The topics a node's entities point to. */
interface NodeTopics {
  state: string;
  availability: string;
  set: string;
}

/**
 * The discovery payload of one node. With `seenKeys` (the state keys the node's state has carried),
 * an entity that shows a state key is only announced once that key has been seen, so Home
 * Assistant never renders a template against a key the state lacks; without it, every entity.
 */
export function nodeDiscovery(
  node: DeviceNode,
  ctx: DiscoveryContext,
  seenKeys?: ReadonlySet<string>,
  lackingModules?: ReadonlySet<string>,
): DeviceDiscoveryPayload {
  const t = topics(ctx.baseTopic);
  const nodeTopics: NodeTopics = { state: t.nodeState(node.key), availability: t.nodeAvailability(node.key), set: t.nodeSet(node.key) };
  return {
    device: deviceBlock(node, ctx),
    origin: origin(ctx),
    availability: [bridgeStateAvailability(ctx), { topic: nodeTopics.availability, value_template: STATE_TEMPLATE }],
    availability_mode: 'all',
    state_topic: nodeTopics.state,
    qos: 1,
    components: announced(components(node, nodeTopics, lackingModules), seenKeys),
  };
}

/** A component's state key is the one its `value_template` reads, or the one it declares. */
const STATE_KEY = Symbol('stateKey');
type KeyedComponent = ComponentConfig & { [STATE_KEY]?: string };

function announced(all: Record<string, KeyedComponent>, seenKeys: ReadonlySet<string> | undefined): Record<string, ComponentConfig> {
  const out: Record<string, ComponentConfig> = {};
  for (const [id, component] of Object.entries(all)) {
    const key = component[STATE_KEY];
    if (seenKeys && key !== undefined && !seenKeys.has(key)) continue;
    const { [STATE_KEY]: _key, ...config } = component;
    out[id] = config;
  }
  return out;
}

/** `HS110(US)` → `HS110`: HA shows `model`, and `model_id` carries the region-qualified one. */
export function plainModel(model: string): string {
  return model.replace(/\s*\([^)]*\)\s*$/, '') || model;
}

function deviceBlock(node: DeviceNode, ctx: DiscoveryContext): Record<string, unknown> {
  const device: Record<string, unknown> = {
    identifiers: [`${ID_PREFIX}${node.id}`],
    name: node.name,
    manufacturer: 'TP-Link',
    model: plainModel(node.model),
    model_id: node.model,
  };
  if (node.fw) device['sw_version'] = node.fw;
  if (node.hw) device['hw_version'] = node.hw;
  if (node.parentId === undefined && node.mac) device['connections'] = [['mac', node.mac]];
  device['via_device'] = node.parentId === undefined ? bridgeIdentifier(ctx) : `${ID_PREFIX}${node.parentId}`;
  return device;
}

/**
 * Every entity the node's modules add, in module order. Entities of the same id from several
 * modules are one (a light strip's effect list joins its light).
 */
function components(node: DeviceNode, nodeTopics: NodeTopics, lacking?: ReadonlySet<string>): Record<string, KeyedComponent> {
  const specs = new Map<string, ModuleEntity>();
  for (const module of modulesOf(node)) {
    if (lacking?.has(module.name)) continue;
    for (const spec of module.entities?.(node) ?? []) {
      const earlier = specs.get(spec.id);
      specs.set(spec.id, earlier ? { ...earlier, ...spec, config: { ...earlier.config, ...spec.config }, command: earlier.command === true || spec.command === true } : spec);
    }
  }
  const out: Record<string, KeyedComponent> = {};
  for (const spec of specs.values()) out[spec.id] = component(node, spec, nodeTopics);
  return out;
}

function component(node: DeviceNode, spec: ModuleEntity, nodeTopics: NodeTopics): KeyedComponent {
  const config: Record<string, unknown> = { ...spec.config };
  if (spec.command) config['command_topic'] = nodeTopics.set;
  if (spec.stateKey !== undefined && config['value_template'] === undefined) config['value_template'] = `{{ value_json.${spec.stateKey} }}`;
  return {
    platform: spec.platform,
    unique_id: `${ID_PREFIX}${node.id}_${spec.id}`,
    default_entity_id: `${spec.platform}.${ID_PREFIX}${node.key}${spec.main ? '' : `_${spec.id}`}`,
    ...config,
    ...(spec.stateKey !== undefined ? { [STATE_KEY]: spec.stateKey } : {}),
  };
}
