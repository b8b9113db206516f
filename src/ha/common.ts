/** Pieces shared by the node and bridge discovery payloads (docs/home-assistant.md). */
import { topics } from '../api/types.js';

export interface DiscoveryContext {
  /** MQTT_BASE_TOPIC, e.g. `kasa`. */
  baseTopic: string;
  /** HA_DISCOVERY_PREFIX, e.g. `homeassistant`. */
  prefix: string;
  /** kasa2mqtt version, for `origin.sw_version` and the bridge device. */
  version: string;
  /** Identifies this bridge instance (HA device `kasa_bridge_<bridgeId>`). */
  bridgeId: string;
  supportUrl?: string;
}

export type ComponentConfig = Record<string, unknown> & { platform: string };

export interface DeviceDiscoveryPayload {
  device: Record<string, unknown>;
  origin: { name: string; sw_version: string; support_url: string };
  availability?: Array<{ topic: string; value_template: string }>;
  availability_mode?: 'all' | 'any' | 'latest';
  state_topic?: string;
  qos: 0 | 1 | 2;
  components: Record<string, ComponentConfig>;
}

/** The project's repository (package.json `homepage`). */
export const DEFAULT_SUPPORT_URL = 'https://github.com/kasa2mqtt/kasa2mqtt';
export const ID_PREFIX = 'kasa_';
export const STATE_TEMPLATE = '{{ value_json.state }}';

export function origin(ctx: DiscoveryContext): DeviceDiscoveryPayload['origin'] {
  return { name: 'kasa2mqtt', sw_version: ctx.version, support_url: ctx.supportUrl ?? DEFAULT_SUPPORT_URL };
}

/** HA object ids allow `[a-zA-Z0-9_-]` only. */
export function safeObjectId(value: string): string {
  return value.replace(/[^a-zA-Z0-9_-]/g, '_');
}

export function bridgeIdentifier(ctx: DiscoveryContext): string {
  return `${ID_PREFIX}bridge_${safeObjectId(ctx.bridgeId)}`;
}

export function bridgeStateAvailability(ctx: DiscoveryContext): { topic: string; value_template: string } {
  return { topic: topics(ctx.baseTopic).bridgeState, value_template: STATE_TEMPLATE };
}
