/**
 * The bridge itself as a Home Assistant device (docs/home-assistant.md, "The bridge device"): connectivity, whether the cloud
 * needs a login, the cloud session state, the MFA code entry and the Log in / Refresh buttons.
 */
import { discoveryTopics, topics, type AuthState } from '../api/types.js';
import {
  ID_PREFIX,
  STATE_TEMPLATE,
  bridgeIdentifier,
  bridgeStateAvailability,
  origin,
  type ComponentConfig,
  type DeviceDiscoveryPayload,
  type DiscoveryContext,
} from './common.js';

const AUTH_STATES: readonly AuthState[] = ['logging_in', 'mfa_required', 'verifying', 'authenticated', 'error'];

export function bridgeDiscoveryTopic(ctx: DiscoveryContext): string {
  return discoveryTopics(ctx.prefix).device(bridgeIdentifier(ctx));
}

/**
 * No availability at the root: the connectivity sensor must show the bridge going offline, so it
 * has none; every other entity is available while `bridge/state` is online.
 */
export function bridgeDiscovery(ctx: DiscoveryContext): DeviceDiscoveryPayload {
  const t = topics(ctx.baseTopic);
  const available = { availability: [bridgeStateAvailability(ctx)] };
  const entity = (platform: string, feature: string, config: Record<string, unknown>): ComponentConfig => ({
    platform,
    unique_id: `${bridgeIdentifier(ctx)}_${feature}`,
    default_entity_id: `${platform}.${ID_PREFIX}bridge_${feature}`,
    ...config,
  });

  return {
    device: {
      identifiers: [bridgeIdentifier(ctx)],
      name: 'Kasa2MQTT Bridge',
      manufacturer: 'kasa2mqtt',
      model: 'Kasa cloud bridge',
      sw_version: ctx.version,
    },
    origin: origin(ctx),
    qos: 1,
    components: {
      connection_state: entity('binary_sensor', 'connection_state', {
        name: 'Connection state',
        device_class: 'connectivity',
        entity_category: 'diagnostic',
        state_topic: t.bridgeState,
        value_template: "{{ 'ON' if value_json.state == 'online' else 'OFF' }}",
      }),
      login_required: entity('binary_sensor', 'login_required', {
        name: 'Cloud login required',
        device_class: 'problem',
        state_topic: t.bridgeAuth,
        value_template: "{{ 'OFF' if value_json.state == 'authenticated' else 'ON' }}",
        json_attributes_topic: t.bridgeAuth,
        ...available,
      }),
      cloud_session: entity('sensor', 'cloud_session', {
        name: 'Cloud session',
        device_class: 'enum',
        options: [...AUTH_STATES],
        entity_category: 'diagnostic',
        state_topic: t.bridgeAuth,
        value_template: STATE_TEMPLATE,
        ...available,
      }),
      mfa_code: entity('text', 'mfa_code', {
        name: 'MFA code',
        icon: 'mdi:two-factor-authentication',
        mode: 'password',
        command_topic: t.bridgeMfa,
        pattern: '^\\d{6}$',
        min: 6,
        max: 6,
        retain: false,
        ...available,
      }),
      login: entity('button', 'login', {
        name: 'Log in',
        icon: 'mdi:login',
        command_topic: t.bridgeRequest('auth/login'),
        payload_press: '{}',
        retain: false,
        ...available,
      }),
      refresh_devices: entity('button', 'refresh_devices', {
        name: 'Refresh devices',
        icon: 'mdi:refresh',
        entity_category: 'config',
        command_topic: t.bridgeRequest('devices/refresh'),
        payload_press: '{}',
        retain: false,
        ...available,
      }),
    },
  };
}
