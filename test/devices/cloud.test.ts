/**
 * The iot `cloud` module (src/devices/iot/cloud.ts): the cloud module's `get_info` under the
 * family's module name, once a day, as the `cloud` key and a diagnostic connectivity sensor.
 * Answers in the published shape (python-kasa `cloud.py` and fixtures), values our own.
 */
import { describe, expect, it } from 'vitest';
import { readOf } from '../../src/devices/requests.js';
import type { NodeState } from '../../src/api/types.js';
import { IOT_PROTOCOL } from '../../src/devices/iot/index.js';
import { cloudConnection } from '../../src/devices/iot/cloud.js';
import type { DeviceNode } from '../../src/devices/node.js';
import { jinjaAvailable, renderHaTemplate } from '../helpers/haTemplate.js';
import { iotNode, iotReply, outletOf } from './iotNodes.js';

const plug = iotNode('plug', 'KP105(UK)');
const strip = iotNode('strip', 'HS300(US)');
const bulb = iotNode('bulb', 'LB130(US)');
const lightStrip = iotNode('lightstrip', 'KL400L10(US)');

/** A `get_info` answer in the shape firmware gives it. */
function info(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    username: 'someone@example.com',
    server: 'n-devs.tplinkcloud.com',
    binded: 1,
    cld_connection: 1,
    illegalType: 0,
    stopConnect: 0,
    tcspStatus: 1,
    fwDlPage: '',
    tcspInfo: '',
    fwNotifyType: -1,
    err_code: 0,
    ...extra,
  };
}

const parse = (node: DeviceNode, response: Record<string, unknown>): NodeState | undefined => cloudConnection.parse!(node, iotReply(node, response));

describe('which nodes have it', () => {
  it('physical iot devices, not strip outlets', () => {
    for (const node of [plug, strip, bulb, lightStrip]) expect(node.modules, node.type).toContain('cloud');
    expect(outletOf(strip, 2).modules).not.toContain('cloud');
  });
});

describe('the read', () => {
  it('asks get_info under cnCloud (plug family) or smartlife.iot.common.cloud (bulbs, light strips), daily and optional', () => {
    const ctx = { now: new Date() };
    expect(readOf(cloudConnection, plug)!.request(plug, ctx)).toEqual({ cnCloud: { get_info: {} } });
    expect(readOf(cloudConnection, strip)!.request(strip, ctx)).toEqual({ cnCloud: { get_info: {} } });
    expect(readOf(cloudConnection, bulb)!.request(bulb, ctx)).toEqual({ 'smartlife.iot.common.cloud': { get_info: {} } });
    expect(readOf(cloudConnection, lightStrip)!.request(lightStrip, ctx)).toEqual({ 'smartlife.iot.common.cloud': { get_info: {} } });
    expect(readOf(cloudConnection, plug)!.cadence).toBe('daily');
    expect(cloudConnection.optional).toBe(true);
    const request = readOf(cloudConnection, bulb)!.request(bulb, ctx)!;
    expect(IOT_PROTOCOL.lacks(request, { 'smartlife.iot.common.cloud': { err_code: -2001, err_msg: 'Module not support' } })).toBe(true);
  });
});

describe('the answer', () => {
  it('becomes connected, bound and server; the account name stays out', () => {
    const state = parse(plug, { cnCloud: { get_info: info({ cld_connection: 0 }) } });
    expect(state).toEqual({ cloud: { connected: false, bound: true, server: 'n-devs.tplinkcloud.com' } });
    expect(JSON.stringify(state)).not.toContain('someone@example.com');
  });

  it('reads a bulb answer under its own module name', () => {
    expect(parse(bulb, { 'smartlife.iot.common.cloud': { get_info: info() } })).toEqual({
      cloud: { connected: true, bound: true, server: 'n-devs.tplinkcloud.com' },
    });
  });

  it('carries only the fields the device answered', () => {
    expect(parse(plug, { cnCloud: { get_info: { binded: true, server: '', err_code: 0 } } })).toEqual({ cloud: { bound: true } });
  });

  it.each([
    ['a module-level -1', { cnCloud: { err_code: -1, err_msg: 'module not support' } }],
    ['a method-level -2', { cnCloud: { get_info: { err_code: -2, err_msg: 'member not support' } } }],
    ['no cloud answer', { system: { get_sysinfo: { err_code: 0 } } }],
    ['only the other family’s module', { 'smartlife.iot.common.cloud': { get_info: info() } }],
  ])('says nothing (undefined) for %s', (_what, response) => {
    expect(parse(plug, response)).toBeUndefined();
  });
});

describe('the Home Assistant entity', () => {
  const [entity] = cloudConnection.entities!(plug);

  it('is a diagnostic connectivity binary sensor, off by default, shown once the state has `cloud`', () => {
    expect(entity).toMatchObject({
      platform: 'binary_sensor',
      id: 'cloud_connection',
      stateKey: 'cloud',
      config: { device_class: 'connectivity', entity_category: 'diagnostic', enabled_by_default: false, payload_on: 'ON', payload_off: 'OFF' },
    });
    expect(entity!.command).toBeFalsy();
  });

  it('shows connected as ON/OFF, and nothing (HA keeps its state) before the device said', (ctx) => {
    if (!jinjaAvailable()) return ctx.skip('python3 with jinja2 is not installed: HA templates cannot be rendered here');
    const connected = parse(plug, { cnCloud: { get_info: info() } })!;
    const lost = parse(plug, { cnCloud: { get_info: info({ cld_connection: 0 }) } })!;
    const rendered = renderHaTemplate(entity!.config['value_template'] as string, [{ state: 'ON' }, { cloud: { bound: true } }, connected, lost]);
    expect(rendered).toEqual(['', '', 'ON', 'OFF']);
  });
});
