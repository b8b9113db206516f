/**
 * Home Assistant device-based discovery for nodes (docs/home-assistant.md): one retained
 * `<prefix>/device/kasa_<id>/config` per node, its entities under `components`.
 */
import { discoveryTopics, topics } from '../api/types.js';
import type { DeviceNode } from '../devices/node.js';
import { DEFAULT_KELVIN } from '../devices/familyTable.js';
import { featuresOf, type FeatureEntity } from '../devices/features.js';
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
export function nodeDiscovery(node: DeviceNode, ctx: DiscoveryContext, seenKeys?: ReadonlySet<string>): DeviceDiscoveryPayload {
  const t = topics(ctx.baseTopic);
  const nodeTopics: NodeTopics = { state: t.nodeState(node.key), availability: t.nodeAvailability(node.key), set: t.nodeSet(node.key) };
  return {
    device: deviceBlock(node, ctx),
    origin: origin(ctx),
    availability: [bridgeStateAvailability(ctx), { topic: nodeTopics.availability, value_template: STATE_TEMPLATE }],
    availability_mode: 'all',
    state_topic: nodeTopics.state,
    qos: 1,
    components: announced(components(node, nodeTopics), seenKeys),
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

function components(node: DeviceNode, nodeTopics: NodeTopics): Record<string, KeyedComponent> {
  const entity = (
    platform: string,
    feature: string,
    main: boolean,
    config: Record<string, unknown>,
    stateKey?: string,
  ): KeyedComponent => ({
    platform,
    unique_id: `${ID_PREFIX}${node.id}_${feature}`,
    default_entity_id: `${platform}.${ID_PREFIX}${node.key}${main ? '' : `_${feature}`}`,
    ...config,
    ...(stateKey !== undefined ? { [STATE_KEY]: stateKey } : {}),
  });
  const out: Record<string, KeyedComponent> = {};

  switch (node.type) {
    case 'plug':
    case 'outlet':
    case 'switch':
      out['switch'] = entity('switch', 'switch', true, {
        name: null,
        device_class: node.type === 'switch' ? 'switch' : 'outlet',
        command_topic: nodeTopics.set,
        value_template: STATE_TEMPLATE,
        payload_on: 'ON',
        payload_off: 'OFF',
      });
      break;
    case 'dimmer':
    case 'bulb':
    case 'lightstrip':
      out['light'] = entity('light', 'light', true, lightConfig(node, nodeTopics));
      break;
    case 'strip':
      out['outlets_on'] = entity('sensor', 'outlets_on', false, {
        name: 'Outlets on',
        icon: 'mdi:power-socket',
        state_class: 'measurement',
        value_template: '{{ value_json.outlets_on }}',
      }, 'outlets_on');
      break;
  }

  const sensor = (feature: string, valueKey: string, config: Record<string, unknown>) => {
    out[feature] = entity('sensor', feature, false, { ...config, value_template: `{{ value_json.${valueKey} }}` }, valueKey);
  };
  const energy = (precision: number) => ({
    device_class: 'energy',
    state_class: 'total_increasing',
    unit_of_measurement: 'kWh',
    suggested_display_precision: precision,
  });
  if (node.capabilities.includes('energy') && node.meter !== undefined) {
    sensor('power', 'power_w', {
      device_class: 'power',
      state_class: 'measurement',
      unit_of_measurement: 'W',
      suggested_display_precision: 1,
    });
    if (node.meter === 'emeter') {
      sensor('voltage', 'voltage_v', {
        device_class: 'voltage',
        state_class: 'measurement',
        unit_of_measurement: 'V',
        suggested_display_precision: 1,
      });
      sensor('current', 'current_a', {
        device_class: 'current',
        state_class: 'measurement',
        unit_of_measurement: 'A',
        suggested_display_precision: 2,
      });
    }
    sensor('energy', 'energy_kwh', energy(3));
    if (node.meter === 'emeter') {
      sensor('energy_today', 'energy_today_kwh', { name: 'Energy today', ...energy(3) });
      sensor('energy_month', 'energy_month_kwh', { name: 'Energy this month', ...energy(2) });
    }
  }
  if (node.capabilities.includes('rssi')) {
    sensor('rssi', 'rssi', {
      device_class: 'signal_strength',
      state_class: 'measurement',
      unit_of_measurement: 'dBm',
      entity_category: 'diagnostic',
      enabled_by_default: false,
    });
  }
  for (const feature of featuresOf(node)) {
    for (const spec of feature.entities ?? []) out[spec.id] = featureEntity(spec, nodeTopics, entity);
  }
  return out;
}

function featureEntity(
  spec: FeatureEntity,
  nodeTopics: NodeTopics,
  entity: (platform: string, feature: string, main: boolean, config: Record<string, unknown>, stateKey?: string) => KeyedComponent,
): KeyedComponent {
  const config: Record<string, unknown> = { ...spec.config };
  if (spec.command) config['command_topic'] = nodeTopics.set;
  if (spec.stateKey !== undefined && config['value_template'] === undefined) {
    config['value_template'] = `{{ value_json.${spec.stateKey} }}`;
  }
  return entity(spec.platform, spec.id, false, config, spec.stateKey);
}

function lightConfig(node: DeviceNode, nodeTopics: NodeTopics): Record<string, unknown> {
  const caps = node.capabilities;
  const modes: string[] = [];
  if (caps.includes('color')) modes.push('hs');
  if (caps.includes('color_temp')) modes.push('color_temp');
  // HA: `brightness` and `onoff` are only valid alone.
  if (modes.length === 0) modes.push(caps.includes('brightness') ? 'brightness' : 'onoff');

  const config: Record<string, unknown> = {
    name: null,
    schema: 'json',
    command_topic: nodeTopics.set,
    supported_color_modes: modes,
    brightness_scale: 100,
    flash: false,
  };
  if (caps.includes('color_temp')) {
    const { min, max } = node.kelvin ?? DEFAULT_KELVIN;
    config['color_temp_kelvin'] = true;
    config['min_kelvin'] = min;
    config['max_kelvin'] = max;
  }
  if (node.type === 'lightstrip' && node.effects && node.effects.length > 0) {
    config['effect'] = true;
    config['effect_list'] = [...node.effects];
  }
  return config;
}
