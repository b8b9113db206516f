import { describe, expect, it } from 'vitest';
import type { SetPayload } from '../../src/api/types.js';
import type { DeviceNode } from '../../src/devices/node.js';
import { buildNodes } from '../../src/devices/nodes.js';
import { energyRequests, pollRequest, setRequest } from '../../src/devices/requests.js';
import { appliedData, unconfirmedAttributes } from '../../src/devices/setResult.js';
import { entry, entryByModel, sysinfoFixture } from './fixtures.js';

const NOW = new Date(2021, 2, 14, 12);
const plug = buildNodes(entry({ deviceModel: 'HS103(US)' }))[0]!;
const meterPlug = buildNodes(entry({ deviceModel: 'KP125(US)' }))[0]!;
const dimmer = buildNodes(entry({ deviceModel: 'HS220(US)' }))[0]!;
const bulb = buildNodes(entry({ deviceType: 'IOT.SMARTBULB', deviceModel: 'KL130(US)' }))[0]!;
const lightStrip = buildNodes(entryByModel('KL430'))[0]!;
const hs300 = buildNodes(entryByModel('HS300'), sysinfoFixture('hs300_us_get_sys_info_response.json'));
const kp303 = buildNodes(entryByModel('KP200'), sysinfoFixture('kp200_us_get_sys_info_response.json'));

/** The request as sent on the wire (requestData is JSON text). */
const wire = (request: Record<string, unknown>) => JSON.stringify(request);

/** Every set_* / transition_* appears textually before get_sysinfo, and context (if any) is the last key. */
function expectSetsBeforeRead(request: Record<string, unknown>) {
  const text = wire(request);
  const read = text.indexOf('"get_sysinfo"');
  for (const match of text.matchAll(/"(set_[a-z_]+|transition_light_state)"/g)) {
    if (read >= 0) expect(match.index, `${match[1]} before get_sysinfo in ${text}`).toBeLessThan(read);
  }
  const keys = Object.keys(request);
  if (keys.includes('context')) expect(keys.at(-1)).toBe('context');
}

describe('pollRequest', () => {
  it('asks a plain plug for sysinfo only', () => {
    expect(pollRequest(plug)).toEqual({ system: { get_sysinfo: null }, count_down: { get_rules: null } });
  });

  it('adds the meter with today and this month to a metered plug, in one request', () => {
    expect(pollRequest(meterPlug, NOW)).toEqual({
      system: { get_sysinfo: null },
      count_down: { get_rules: null },
      emeter: { get_realtime: null, get_daystat: { year: 2021, month: 3 }, get_monthstat: { year: 2021 } },
      time: { get_time: null },
    });
  });

  it('asks bulbs for their meter in the bulb meter module, realtime only', () => {
    expect(pollRequest(bulb)).toEqual({
      system: { get_sysinfo: null },
      'smartlife.iot.common.emeter': { get_realtime: null },
    });
  });

  it('polls a strip with one sysinfo for all outlets, never the slot-0 emeter', () => {
    expect(pollRequest(hs300[0]!)).toEqual({ system: { get_sysinfo: null }, time: { get_time: null } });
    expect(pollRequest(hs300[1]!)).toEqual({ system: { get_sysinfo: null } });
  });
});

describe('energyRequests', () => {
  it('reads each HS300 outlet meter with its child id as context', () => {
    const requests = energyRequests(hs300[0]!, hs300.slice(1), NOW);
    expect(requests).toHaveLength(6);
    expect(requests[2]).toEqual({
      childId: '5BFA53B31294DDA5AB4DEBA1B62582E8EC2F789E02',
      requestData: {
        emeter: { get_realtime: null, get_daystat: { year: 2021, month: 3 }, get_monthstat: { year: 2021 } },
        count_down: { get_rules: null },
        context: { child_ids: ['5BFA53B31294DDA5AB4DEBA1B62582E8EC2F789E02'] },
      },
    });
    expect(Object.keys(requests[0]!.requestData).at(-1)).toBe('context');
  });

  it('costs nothing for strips without outlet meters', () => {
    expect(energyRequests(kp303[0]!, kp303.slice(1))).toEqual([]);
    expect(energyRequests(plug, [])).toEqual([]);
  });
});

describe('setRequest', () => {
  const cases: Array<[string, DeviceNode, SetPayload, string]> = [
    ['plug on', plug, { state: 'ON' }, '{"system":{"set_relay_state":{"state":1},"get_sysinfo":null},"count_down":{"get_rules":null}}'],
    ['plug off', plug, { state: 'OFF' }, '{"system":{"set_relay_state":{"state":0},"get_sysinfo":null},"count_down":{"get_rules":null}}'],
    [
      'metered plug',
      meterPlug,
      { state: 'ON' },
      // The read-back reads what a poll reads (reads in module-table order), so the published state keeps every key.
      '{"system":{"set_relay_state":{"state":1},"get_sysinfo":null},' +
        '"emeter":{"get_realtime":null,"get_daystat":{"year":2021,"month":3},"get_monthstat":{"year":2021}},' +
        '"time":{"get_time":null},"count_down":{"get_rules":null}}',
    ],
    [
      'outlet',
      hs300[4]!,
      { state: 'OFF' },
      // An outlet's read-back reads what its own meter read reads, with its context.
      '{"system":{"set_relay_state":{"state":0},"get_sysinfo":null},' +
        '"emeter":{"get_realtime":null,"get_daystat":{"year":2021,"month":3},"get_monthstat":{"year":2021}},"count_down":{"get_rules":null},' +
        '"context":{"child_ids":["5BFA53B31294DDA5AB4DEBA1B62582E8EC2F789E03"]}}',
    ],
    [
      'strip (every outlet)',
      kp303[0]!,
      { state: 'ON' },
      '{"system":{"set_relay_state":{"state":1},"get_sysinfo":null},' +
        '"context":{"child_ids":["B2C3D4E5F6A1B2C3D4E5F6A1B2C3D4E5B2C3000200","B2C3D4E5F6A1B2C3D4E5F6A1B2C3D4E5B2C3000201"]}}',
    ],
    [
      'dimmer brightness',
      dimmer,
      { state: 'ON', brightness: 40 },
      '{"smartlife.iot.dimmer":{"set_brightness":{"brightness":40}},"system":{"set_relay_state":{"state":1},"get_sysinfo":null},"count_down":{"get_rules":null}}',
    ],
    [
      'dimmer fade',
      dimmer,
      { state: 'ON', brightness: 40, transition: 1.5 },
      '{"smartlife.iot.dimmer":{"set_dimmer_transition":{"brightness":40,"duration":1500}},"system":{"get_sysinfo":null},"count_down":{"get_rules":null}}',
    ],
    [
      'dimmer fade off',
      dimmer,
      { state: 'OFF', transition: 2 },
      '{"smartlife.iot.dimmer":{"set_dimmer_transition":{"brightness":0,"duration":2000}},"system":{"get_sysinfo":null},"count_down":{"get_rules":null}}',
    ],
    [
      'bulb colour',
      bulb,
      { state: 'ON', brightness: 50, color: { h: 120.4, s: 99.6 }, transition: 0.5 },
      '{"smartlife.iot.smartbulb.lightingservice":{"transition_light_state":' +
        '{"on_off":1,"brightness":50,"hue":120,"saturation":100,"color_temp":0,"ignore_default":1,"transition_period":500}},' +
        '"system":{"get_sysinfo":null},"smartlife.iot.common.emeter":{"get_realtime":null}}',
    ],
    [
      'bulb colour temperature',
      bulb,
      { state: 'ON', color_temp: 3000 },
      '{"smartlife.iot.smartbulb.lightingservice":{"transition_light_state":{"on_off":1,"color_temp":3000,"ignore_default":1}},' +
        '"system":{"get_sysinfo":null},"smartlife.iot.common.emeter":{"get_realtime":null}}',
    ],
    [
      'bulb off ignores values',
      bulb,
      { state: 'OFF', brightness: 20 },
      '{"smartlife.iot.smartbulb.lightingservice":{"transition_light_state":{"on_off":0}},' +
        '"system":{"get_sysinfo":null},"smartlife.iot.common.emeter":{"get_realtime":null}}',
    ],
    [
      'light strip',
      lightStrip,
      { state: 'ON', brightness: 75, color: { h: 240, s: 100 } },
      '{"smartlife.iot.lightStrip":{"set_light_state":' +
        '{"on_off":1,"brightness":75,"hue":240,"saturation":100,"color_temp":0,"ignore_default":1}},"system":{"get_sysinfo":null},' +
        '"smartlife.iot.common.emeter":{"get_realtime":null}}',
    ],
  ];

  for (const [name, node, set, expected] of cases) {
    it(`builds one set-and-read request: ${name}`, () => {
      const request = setRequest(node, set, undefined, { now: NOW });
      expect(wire(request)).toBe(expected);
      expectSetsBeforeRead(request);
    });
  }

  it('resolves TOGGLE against the current state', () => {
    expect(wire(setRequest(plug, { state: 'TOGGLE' }, { state: 'ON' }))).toContain('"set_relay_state":{"state":0}');
    expect(wire(setRequest(plug, { state: 'TOGGLE' }, { state: 'OFF' }))).toContain('"set_relay_state":{"state":1}');
  });

  it('turns a set with nothing left to change into a read', () => {
    expect(setRequest(plug, {})).toEqual(pollRequest(plug));
    expect(setRequest(bulb, {})).toEqual(pollRequest(bulb));
  });

  it('fades a dimmer on to its last brightness when none is given', () => {
    expect(wire(setRequest(dimmer, { state: 'ON', transition: 1 }, { state: 'OFF', brightness: 60 }))).toContain(
      '"set_dimmer_transition":{"brightness":60,"duration":1000}',
    );
  });
});

describe('set results', () => {
  it('reports applied values, with the device read-back where there is one', () => {
    expect(appliedData(plug, { state: 'TOGGLE' }, { state: 'OFF', rssi: -40 })).toEqual({ state: 'OFF' });
    expect(appliedData(bulb, { state: 'ON', brightness: 40, transition: 1, transaction: 'x' })).toEqual({
      state: 'ON',
      brightness: 40,
    });
    expect(appliedData(kp303[0]!, { state: 'OFF' }, { outlets_on: 0 })).toEqual({ state: 'OFF' });
  });

  it('lists attributes the read-back does not confirm', () => {
    expect(unconfirmedAttributes(plug, { state: 'ON' }, { state: 'ON' })).toEqual([]);
    expect(unconfirmedAttributes(plug, { state: 'ON' }, { state: 'OFF' })).toEqual(['state']);
    expect(unconfirmedAttributes(bulb, { state: 'ON', brightness: 40, color: { h: 120.4, s: 50 } }, {
      state: 'ON',
      brightness: 40,
      color: { h: 120, s: 50 },
    })).toEqual([]);
    expect(unconfirmedAttributes(bulb, { state: 'ON', color_temp: 3000 }, { state: 'ON' })).toEqual(['color_temp']);
    expect(unconfirmedAttributes(kp303[0]!, { state: 'ON' }, { outlets_on: 1 })).toEqual(['state']);
    expect(unconfirmedAttributes(kp303[0]!, { state: 'ON' }, { outlets_on: 2 })).toEqual([]);
  });
});
