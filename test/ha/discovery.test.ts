import { describe, expect, it } from 'vitest';
import { SeenKeys } from '../../src/ha/seenKeys.js';
import { buildNodes } from '../../src/devices/nodes.js';
import type { DeviceNode } from '../../src/devices/node.js';
import { bridgeDiscovery, bridgeDiscoveryTopic } from '../../src/ha/bridgeDiscovery.js';
import {
  discoveryNodeId,
  discoveryTopic,
  isOurDiscoveryTopic,
  nodeDiscovery,
  type ComponentConfig,
} from '../../src/ha/discovery.js';
import { entry, entryByModel, hs220Sysinfo, kl130Sysinfo, sysinfoFixture } from '../devices/fixtures.js';

const ctx = { baseTopic: 'kasa', prefix: 'homeassistant', version: '0.1.0', bridgeId: 'kasa2mqtt_1a2b3c4d' };
const bulbEntry = (model: string) => entry({ deviceType: 'IOT.SMARTBULB', deviceModel: model, alias: 'Lamp' });

const plug = buildNodes(entryByModel('HS103'))[0]!;
const meterPlug = buildNodes(entry({ deviceModel: 'KP125(US)', alias: 'Desk' }))[0]!;
const wallSwitch = buildNodes(entryByModel('HS200'))[0]!;
const dimmer = buildNodes(entry({ deviceModel: 'HS220(US)', alias: 'Hall' }), hs220Sysinfo)[0]!;
const colorBulb = buildNodes(bulbEntry('KL130(US)'), kl130Sysinfo)[0]!;
const whiteBulb = buildNodes(bulbEntry('KL120(EU)'))[0]!;
const dimBulb = buildNodes(bulbEntry('KL110(US)'))[0]!;
const lightStrip = buildNodes(entryByModel('KL430'))[0]!;
const [strip, outlet] = buildNodes(entryByModel('HS300'), sysinfoFixture('hs300_us_get_sys_info_response.json'));

const components = (node: DeviceNode) => nodeDiscovery(node, ctx).components;
const allNodes = [plug, meterPlug, wallSwitch, dimmer, colorBulb, whiteBulb, dimBulb, lightStrip, strip!, outlet!];

describe('node discovery payload', () => {
  it('is published on the device-based discovery topic', () => {
    expect(discoveryTopic('homeassistant', plug)).toBe('homeassistant/device/kasa_2F50687F0187798768F86EAE340E844A660B2444/config');
    expect(discoveryTopic(ctx, plug)).toBe(discoveryTopic('homeassistant', plug));
  });

  it('has origin, device block, shared availability (mode all) and the state topic', () => {
    const payload = nodeDiscovery(plug, ctx);
    expect(payload.origin).toMatchObject({ name: 'kasa2mqtt', sw_version: '0.1.0' });
    expect(payload.origin.support_url).toBe('https://github.com/kasa2mqtt/kasa2mqtt');
    expect(payload.device).toEqual({
      identifiers: ['kasa_2F50687F0187798768F86EAE340E844A660B2444'],
      name: 'Bedroom Desk Light',
      manufacturer: 'TP-Link',
      model: 'HS103',
      model_id: 'HS103(US)',
      sw_version: '1.1.3 Build 200804 Rel.095135',
      hw_version: '2.1',
      connections: [['mac', '11:ce:6a:e6:94:22']],
      via_device: 'kasa_bridge_kasa2mqtt_1a2b3c4d',
    });
    expect(payload.availability).toEqual([
      { topic: 'kasa/bridge/state', value_template: '{{ value_json.state }}' },
      { topic: 'kasa/bedroom_desk_light/availability', value_template: '{{ value_json.state }}' },
    ]);
    expect(payload.availability_mode).toBe('all');
    expect(payload.state_topic).toBe('kasa/bedroom_desk_light');
  });

  it('gives every entity a platform, unique_id and default_entity_id, never object_id', () => {
    for (const node of allNodes) {
      for (const [feature, config] of Object.entries(components(node))) {
        expect(config.platform, `${node.key} ${feature}`).toBeTruthy();
        expect(config['unique_id']).toBe(`kasa_${node.id}_${feature}`);
        expect(config['default_entity_id']).toMatch(new RegExp(`^${config.platform}\\.kasa_${node.key}(_${feature})?$`));
        expect(config).not.toHaveProperty('object_id');
      }
    }
  });

  it('makes a plug an outlet switch named after the device', () => {
    expect(components(plug)['switch']).toEqual({
      platform: 'switch',
      unique_id: 'kasa_2F50687F0187798768F86EAE340E844A660B2444_switch',
      default_entity_id: 'switch.kasa_bedroom_desk_light',
      name: null,
      device_class: 'outlet',
      command_topic: 'kasa/bedroom_desk_light/set',
      value_template: '{{ value_json.state }}',
      payload_on: 'ON',
      payload_off: 'OFF',
    });
    expect(components(wallSwitch)['switch']?.['device_class']).toBe('switch');
  });

  it('hides RSSI as a disabled diagnostic signal-strength sensor', () => {
    expect(components(plug)['rssi']).toMatchObject({
      platform: 'sensor',
      device_class: 'signal_strength',
      unit_of_measurement: 'dBm',
      entity_category: 'diagnostic',
      enabled_by_default: false,
      value_template: '{{ value_json.rssi }}',
      default_entity_id: 'sensor.kasa_bedroom_desk_light_rssi',
    });
  });

  it('gives metered plugs power, voltage, current and energy sensors HA energy can use', () => {
    const c = components(meterPlug);
    expect(c['power']).toMatchObject({ device_class: 'power', unit_of_measurement: 'W', state_class: 'measurement' });
    expect(c['voltage']).toMatchObject({ device_class: 'voltage', unit_of_measurement: 'V' });
    expect(c['current']).toMatchObject({ device_class: 'current', unit_of_measurement: 'A' });
    for (const [feature, key] of [['energy', 'energy_kwh'], ['energy_today', 'energy_today_kwh'], ['energy_month', 'energy_month_kwh']]) {
      expect(c[feature!], feature).toMatchObject({
        device_class: 'energy',
        state_class: 'total_increasing',
        unit_of_measurement: 'kWh',
        value_template: `{{ value_json.${key} }}`,
      });
      expect(c[feature!]?.['suggested_display_precision']).toBeTypeOf('number');
    }
    expect(components(plug)).not.toHaveProperty('power');
  });

  it('makes a dimmer a JSON light with brightness only, scale 100', () => {
    expect(components(dimmer)['light']).toMatchObject({
      platform: 'light',
      schema: 'json',
      name: null,
      command_topic: 'kasa/hall/set',
      supported_color_modes: ['brightness'],
      brightness_scale: 100,
    });
    expect(components(dimmer)['light']).not.toHaveProperty('min_kelvin');
  });

  it('gives bulbs their colour modes and Kelvin range', () => {
    expect(components(colorBulb)['light']).toMatchObject({
      supported_color_modes: ['hs', 'color_temp'],
      brightness_scale: 100,
      color_temp_kelvin: true,
      min_kelvin: 2500,
      max_kelvin: 9000,
    });
    expect(components(whiteBulb)['light']).toMatchObject({ supported_color_modes: ['color_temp'], min_kelvin: 2700, max_kelvin: 6500 });
    const dim = components(dimBulb)['light'] as ComponentConfig;
    expect(dim['supported_color_modes']).toEqual(['brightness']);
    expect(dim).not.toHaveProperty('color_temp_kelvin');
    expect(components(colorBulb)['power']).toMatchObject({ unit_of_measurement: 'W' });
    expect(components(colorBulb)).not.toHaveProperty('voltage');
  });

  it('lists a light strip\'s built-in effects (and "off") from the effect table', () => {
    const light = components(lightStrip)['light'];
    expect(light).toMatchObject({ effect: true });
    expect(light!['effect_list']).toEqual(expect.arrayContaining(['off', 'Aurora', 'Ocean', 'Valentines']));
    expect(components(colorBulb)['light']).not.toHaveProperty('effect');
  });

  it('gives a strip outlets_on, rssi, LED, restart, last seen and an "All outlets" switch; outlets their own device via the strip', () => {
    expect(Object.keys(components(strip!)).sort()).toEqual(['all_outlets', 'cloud_connection', 'firmware', 'last_seen', 'led', 'outlets_on', 'restart', 'rssi']);
    expect(components(strip!)['all_outlets']).toMatchObject({
      platform: 'switch',
      name: 'All outlets',
      command_topic: `kasa/${strip!.key}/set`,
      payload_on: 'ON',
      payload_off: 'OFF',
    });
    const payload = nodeDiscovery(outlet!, ctx);
    expect(payload.device).toMatchObject({
      name: 'TP-LINK_Power Strip_9704 Plug 1',
      via_device: `kasa_${strip!.id}`,
    });
    expect(payload.device).not.toHaveProperty('connections');
    expect(nodeDiscovery(strip!, ctx).device['connections']).toEqual([['mac', '28:a6:9c:74:ba:90']]);
    expect(Object.keys(payload.components).sort()).toEqual([
      'countdown', 'current', 'energy', 'energy_month', 'energy_today', 'last_seen', 'on_since', 'power', 'switch', 'voltage',
    ]);
    expect(payload.components['switch']).toMatchObject({ device_class: 'outlet', command_topic: `kasa/${outlet!.key}/set` });
    expect(payload.components).not.toHaveProperty('rssi');
  });
});

describe('feature entities', () => {
  it('adds LED (config switch), Restart (button), Countdown (number), On since and Last seen to a plug', () => {
    const c = components(plug);
    expect(c['led']).toMatchObject({
      platform: 'switch',
      name: 'LED',
      entity_category: 'config',
      command_topic: 'kasa/bedroom_desk_light/set',
      payload_on: '{"led":"ON"}',
      payload_off: '{"led":"OFF"}',
      value_template: '{{ value_json.led }}',
      unique_id: `kasa_${plug.id}_led`,
    });
    expect(c['restart']).toMatchObject({ platform: 'button', device_class: 'restart', entity_category: 'config', payload_press: '{"restart":true}' });
    expect(c['countdown']).toMatchObject({ platform: 'number', name: 'Countdown', unit_of_measurement: 'min', min: 0 });
    for (const key of ['on_since', 'last_seen']) {
      expect(c[key]).toMatchObject({ platform: 'sensor', device_class: 'timestamp', entity_category: 'diagnostic', enabled_by_default: false });
    }
  });

  it('gives bulbs restart but no LED or countdown', () => {
    const c = components(colorBulb);
    expect(c).toHaveProperty('restart');
    expect(c).not.toHaveProperty('led');
    expect(c).not.toHaveProperty('countdown');
  });

  it('announces an entity with a state key only once that key has been seen', () => {
    const none = nodeDiscovery(meterPlug, ctx, new Set()).components;
    // Countdown's template has a default (an outlet's rules are not polled with its strip).
    expect(Object.keys(none).sort()).toEqual(['countdown', 'restart', 'switch']);
    const some = nodeDiscovery(meterPlug, ctx, new Set(['state', 'power_w', 'led', 'last_seen'])).components;
    expect(Object.keys(some).sort()).toEqual(['countdown', 'last_seen', 'led', 'power', 'restart', 'switch']);
  });
});

describe('seen keys', () => {
  it('reports a new key at once and forgets a key only after it has been missing for good', () => {
    const seen = new SeenKeys(3);
    expect(seen.observe(['state', 'power_w'])).toBe(true);
    expect(seen.observe(['state', 'power_w'])).toBe(false);
    expect(seen.observe(['state'])).toBe(false);
    expect(seen.observe(['state'])).toBe(false);
    expect(seen.keys().has('power_w')).toBe(true);
    expect(seen.observe(['state'])).toBe(true);
    expect([...seen.keys()]).toEqual(['state']);
  });
});

describe('bridge discovery payload', () => {
  const payload = bridgeDiscovery(ctx);
  const c = payload.components;

  it('is the bridge as an HA device', () => {
    expect(bridgeDiscoveryTopic(ctx)).toBe('homeassistant/device/kasa_bridge_kasa2mqtt_1a2b3c4d/config');
    expect(payload.device['identifiers']).toEqual(['kasa_bridge_kasa2mqtt_1a2b3c4d']);
    expect(payload.origin.name).toBe('kasa2mqtt');
    for (const config of Object.values(c)) {
      expect(config['unique_id']).toMatch(/^kasa_bridge_kasa2mqtt_1a2b3c4d_/);
      expect(config['default_entity_id']).toMatch(new RegExp(`^${config.platform}\\.kasa_bridge_`));
      expect(config).not.toHaveProperty('object_id');
    }
  });

  it('has a connectivity sensor whose availability does not depend on the bridge being online', () => {
    expect(c['connection_state']).toMatchObject({
      platform: 'binary_sensor',
      device_class: 'connectivity',
      state_topic: 'kasa/bridge/state',
    });
    expect(c['connection_state']).not.toHaveProperty('availability');
    expect(payload).not.toHaveProperty('availability');
  });

  it('shows when the cloud login is required', () => {
    expect(c['login_required']).toMatchObject({
      platform: 'binary_sensor',
      name: 'Cloud login required',
      device_class: 'problem',
      state_topic: 'kasa/bridge/auth',
      value_template: "{{ 'OFF' if value_json.state == 'authenticated' else 'ON' }}",
    });
  });

  it('has a password-mode MFA text that only commands the MFA topic', () => {
    expect(c['mfa_code']).toMatchObject({
      platform: 'text',
      name: 'MFA code',
      mode: 'password',
      command_topic: 'kasa/bridge/mfa',
      pattern: '^\\d{6}$',
      retain: false,
    });
    expect(c['mfa_code']).not.toHaveProperty('state_topic');
    expect(new RegExp(c['mfa_code']!['pattern'] as string).test('123456')).toBe(true);
  });

  it('has Log in and Refresh devices buttons on the bridge request topics', () => {
    expect(c['login']).toMatchObject({ platform: 'button', name: 'Log in', command_topic: 'kasa/bridge/request/auth/login' });
    expect(c['refresh_devices']).toMatchObject({
      platform: 'button',
      name: 'Refresh devices',
      command_topic: 'kasa/bridge/request/devices/refresh',
    });
    expect(JSON.parse(c['login']!['payload_press'] as string)).toEqual({});
  });
});

describe('discovery topic helpers', () => {
  it('recognise our node topics for orphan clean-up, but not the bridge or foreign ones', () => {
    const topic = discoveryTopic('homeassistant', outlet!);
    expect(isOurDiscoveryTopic('homeassistant', topic)).toBe(true);
    expect(discoveryNodeId('homeassistant', topic)).toBe(outlet!.id);
    expect(isOurDiscoveryTopic('homeassistant', 'homeassistant/device/zigbee2mqtt_0x1234/config')).toBe(false);
    expect(isOurDiscoveryTopic('homeassistant', 'homeassistant/switch/kasa_x/config')).toBe(false);
    expect(isOurDiscoveryTopic('other', topic)).toBe(false);
    expect(discoveryNodeId('homeassistant', bridgeDiscoveryTopic(ctx))).toBeUndefined();
    expect(discoveryNodeId('homeassistant', 'homeassistant/device/zigbee2mqtt_0x1234/config')).toBeUndefined();
  });
});
