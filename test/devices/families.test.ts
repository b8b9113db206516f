import { describe, expect, it } from 'vitest';
import { FAMILIES, findModel } from '../../src/devices/familyTable.js';
import {
  bridgeDeviceEntry,
  buildNodes,
  formatMac,
  normaliseChildId,
  unsupportedBridgeEntry,
  unsupportedDevice,
} from '../../src/devices/nodes.js';
import { classify, refineFromSysinfo } from '../../src/devices/profile.js';
import { TopicKeyStore } from '../../src/devices/topicKeys.js';
import {
  deviceList,
  entry,
  entryByModel,
  hs220Sysinfo,
  kl130Sysinfo,
  kp125Sysinfo,
  sysinfoFixture,
  tapoList,
} from './fixtures.js';

const bulb = (model: string) => entry({ deviceType: 'IOT.SMARTBULB', deviceModel: model });

describe('family table', () => {
  it('has no prefix listed twice', () => {
    const prefixes = FAMILIES.flatMap((f) => f.models.map((m) => `${f.deviceType}/${m.prefix}`));
    expect(new Set(prefixes).size).toBe(prefixes.length);
  });

  it('matches every model of the interface table to its family', () => {
    const expected: Record<string, string> = {
      'HS100(US)': 'plug', 'HS103(US)': 'plug', 'HS105(US)': 'plug', 'HS110(EU)': 'plug', 'KP100(UK)': 'plug',
      'KP105(UK)': 'plug', 'KP115(US)': 'plug', 'KP125(US)': 'plug', 'KP401(US)': 'plug', 'EP10(US)': 'plug',
      'EP25(US)': 'plug', 'HS200(US)': 'switch', 'HS210(US)': 'switch', 'KS200(US)': 'switch', 'KS205(US)': 'switch',
      'HS220(US)': 'dimmer', 'KS220M(US)': 'dimmer', 'KS230(US)': 'dimmer', 'ES20M(US)': 'dimmer', 'KP405(US)': 'dimmer',
      'HS300(US)': 'strip', 'HS107(US)': 'strip', 'KP200(US)': 'strip', 'KP303(UK)': 'strip', 'KP400(US)': 'strip',
      'EP40(US)': 'strip',
    };
    for (const [model, family] of Object.entries(expected)) {
      expect(classify(entry({ deviceModel: model }))?.family, model).toBe(family);
    }
    const bulbs: Record<string, string> = {
      'KL50(US)': 'bulb', 'KL60(US)': 'bulb', 'KL110(US)': 'bulb', 'KL120(US)': 'bulb', 'KL125(US)': 'bulb',
      'KL130(EU)': 'bulb', 'KL135(US)': 'bulb', 'LB100(US)': 'bulb', 'LB230(US)': 'bulb', 'KB100(US)': 'bulb',
      'KB130(US)': 'bulb', 'KL400L5(US)': 'lightstrip', 'KL400L10(US)': 'lightstrip', 'KL420L5(US)': 'lightstrip',
      'KL430(UN)': 'lightstrip',
    };
    for (const [model, family] of Object.entries(bulbs)) {
      expect(classify(bulb(model))?.family, model).toBe(family);
    }
  });

  it('picks the longest prefix first', () => {
    expect(findModel('IOT.SMARTBULB', 'KL420L5(US)')?.row.prefix).toBe('KL420');
    expect(findModel('IOT.SMARTPLUGSWITCH', 'KS220M(US)')?.row.prefix).toBe('KS220');
  });

  it('gives each colour-temperature model its Kelvin range', () => {
    const range = (model: string) => classify(bulb(model))?.kelvin;
    for (const m of ['KL130(US)', 'LB130(US)', 'KB130(US)', 'LB230(US)', 'KL400L5(US)', 'KL430(US)']) {
      expect(range(m), m).toEqual({ min: 2500, max: 9000 });
    }
    expect(range('KL125(US)')).toEqual({ min: 2500, max: 6500 });
    expect(range('KL135(US)')).toEqual({ min: 2500, max: 6500 });
    expect(range('KL120(US)')).toEqual({ min: 2700, max: 5000 });
    expect(range('KL120(EU)')).toEqual({ min: 2700, max: 6500 });
    for (const m of ['KL110(US)', 'LB100(US)', 'LB110(US)']) {
      expect(range(m), m).toBeUndefined();
      expect(classify(bulb(m))?.light).toEqual({ dimmable: true, color: false, colorTemp: false });
    }
  });

  it('knows single-socket and per-outlet meters', () => {
    for (const m of ['HS110(US)', 'KP115(US)', 'KP125(US)', 'EP25(US)']) {
      expect(classify(entry({ deviceModel: m }))?.meter, m).toBe('emeter');
    }
    expect(classify(entry({ deviceModel: 'HS103(US)' }))?.meter).toBeUndefined();
    expect(classify(entry({ deviceModel: 'HS300(US)' }))?.meter).toBe('outlets');
    expect(classify(entry({ deviceModel: 'KP303(US)' }))?.meter).toBeUndefined();
  });
});

describe('classify and refineFromSysinfo', () => {
  it('treats unknown plug-switch models as plugs and unknown bulbs as bulbs', () => {
    expect(classify(entry({ deviceModel: 'XX999(US)' }))?.nodeType).toBe('plug');
    expect(classify(bulb('KL999(US)'))?.nodeType).toBe('bulb');
  });

  it('leaves Tapo, cameras and routers unsupported', () => {
    for (const e of tapoList) expect(classify(e)).toBeUndefined();
    for (const t of ['IOT.IPCAMERA', 'IOT.ROUTER', 'IOT.RANGEEXTENDER.SMARTPLUG', undefined]) {
      expect(classify(entry({ deviceType: t as string, deviceModel: 'HS100(US)' }))).toBeUndefined();
    }
  });

  it('refines an unknown plug from its sysinfo: children → strip, brightness → dimmer, ENE → meter', () => {
    const unknown = classify(entry({ deviceModel: 'XX1(US)' }))!;
    expect(refineFromSysinfo(unknown, sysinfoFixture('kp200_us_get_sys_info_response.json')).nodeType).toBe('strip');
    const hs300like = { ...sysinfoFixture('hs300_us_get_sys_info_response.json'), model: 'XX1(US)' };
    expect(refineFromSysinfo(unknown, hs300like)).toMatchObject({ nodeType: 'strip', meter: 'outlets' });
    expect(refineFromSysinfo(unknown, hs220Sysinfo).nodeType).toBe('dimmer');
    expect(refineFromSysinfo(unknown, kp125Sysinfo)).toMatchObject({ nodeType: 'plug', meter: 'emeter' });
  });

  it('refines an unknown bulb: light strip from length/effects, abilities from is_color/is_variable_color_temp', () => {
    const unknown = classify(bulb('KL999(US)'))!;
    const strip = refineFromSysinfo(unknown, { length: 16, is_color: 1, is_variable_color_temp: 0 });
    expect(strip).toMatchObject({ nodeType: 'lightstrip', light: { color: true, colorTemp: false } });
    expect(strip.kelvin).toBeUndefined();
    const white = refineFromSysinfo(unknown, { is_dimmable: 1, is_color: 0, is_variable_color_temp: 1 });
    expect(white).toMatchObject({ nodeType: 'bulb', kelvin: { min: 2700, max: 5000 } });
  });
});

describe('buildNodes', () => {
  it('builds a plug node with MAC, firmware, capabilities', () => {
    const [node, ...rest] = buildNodes(entryByModel('HS103'));
    expect(rest).toEqual([]);
    expect(node).toMatchObject({
      id: '2F50687F0187798768F86EAE340E844A660B2444',
      key: 'bedroom_desk_light',
      alias: 'Bedroom Desk Light',
      name: 'Bedroom Desk Light',
      model: 'HS103(US)',
      type: 'plug',
      capabilities: ['onoff', 'rssi'],
      deviceId: '2F50687F0187798768F86EAE340E844A660B2444',
      appServerUrl: 'http://127.0.0.1:8080',
      online: true,
      fw: '1.1.3 Build 200804 Rel.095135',
      hw: '2.1',
      mac: '11:ce:6a:e6:94:22',
    });
  });

  it('gives a wall switch type switch and an HS110 the energy capability', () => {
    expect(buildNodes(entryByModel('HS200'))[0]?.type).toBe('switch');
    expect(buildNodes(entryByModel('HS110'))[0]).toMatchObject({ capabilities: ['onoff', 'energy', 'rssi'], meter: 'emeter' });
  });

  it('builds a strip and one node per outlet from sysinfo children', () => {
    const nodes = buildNodes(entryByModel('HS300'), sysinfoFixture('hs300_us_get_sys_info_response.json'));
    expect(nodes).toHaveLength(7);
    const [strip, first] = nodes;
    expect(strip).toMatchObject({ type: 'strip', capabilities: ['onoff', 'rssi'], meter: 'outlets' });
    expect(strip!.childIds).toHaveLength(6);
    expect(first).toMatchObject({
      id: '5BFA53B31294DDA5AB4DEBA1B62582E8EC2F789E00',
      alias: 'Plug 1',
      name: 'TP-LINK_Power Strip_9704 Plug 1',
      key: 'tp_link_power_strip_9704_plug_1',
      type: 'outlet',
      parentId: '5BFA53B31294DDA5AB4DEBA1B62582E8EC2F789E',
      deviceId: '5BFA53B31294DDA5AB4DEBA1B62582E8EC2F789E',
      capabilities: ['onoff', 'energy'],
      meter: 'emeter',
    });
    expect(first!.mac).toBeUndefined();
  });

  it('builds only the strip until its sysinfo is known', () => {
    const nodes = buildNodes(entryByModel('KP200'));
    expect(nodes.map((n) => n.type)).toEqual(['strip']);
  });

  it('prefixes two-digit child ids with the parent id', () => {
    const sysinfo = { children: [{ id: '01', state: 1, alias: 'Fan' }, { id: 2, state: 0, alias: '' }] };
    const nodes = buildNodes(entry({ deviceId: 'AB', deviceModel: 'KP303(US)', alias: 'Strip' }), sysinfo);
    expect(nodes.slice(1).map((n) => [n.id, n.name])).toEqual([
      ['AB01', 'Strip Fan'],
      ['AB02', 'Strip Outlet 2'],
    ]);
    expect(normaliseChildId('AB', 'AB05')).toBe('AB05');
  });

  it('gives outlets of two strips with default names distinct keys', () => {
    const store = TopicKeyStore.inMemory();
    const assign = (id: string, name: string) => store.keyFor(id, name);
    const kp200 = buildNodes(entryByModel('KP200'), sysinfoFixture('kp200_us_get_sys_info_response.json'), assign);
    const kp400 = buildNodes(entryByModel('KP400'), sysinfoFixture('kp400_us_get_sys_info_response.json'), assign);
    const keys = [...kp200, ...kp400].map((n) => n.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).toContain('front_porch_plug_porch_light');
  });

  it('builds bulbs and light strips with colour abilities and Kelvin ranges', () => {
    const [kl130] = buildNodes(bulb('KL130(US)'), kl130Sysinfo);
    expect(kl130).toMatchObject({
      type: 'bulb',
      capabilities: ['onoff', 'brightness', 'color_temp', 'color', 'energy', 'rssi'],
      kelvin: { min: 2500, max: 9000 },
      meter: 'light',
    });
    const [kl430] = buildNodes(entryByModel('KL430'), sysinfoFixture('kl430_us_get_sys_info_response.json'));
    expect(kl430).toMatchObject({ type: 'lightstrip', kelvin: { min: 2500, max: 9000 } });
    const [kl110] = buildNodes(bulb('KL110(US)'));
    expect(kl110!.capabilities).toEqual(['onoff', 'brightness', 'energy', 'rssi']);
    expect(kl110!.kelvin).toBeUndefined();
    expect(buildNodes(entry({ deviceModel: 'HS220(US)' }), hs220Sysinfo)[0]!.capabilities).toEqual([
      'onoff',
      'brightness',
      'rssi',
    ]);
  });

  it('returns no nodes for unsupported devices and lists them as unsupported', () => {
    const tapo = tapoList[0]!;
    expect(buildNodes(tapo)).toEqual([]);
    expect(unsupportedBridgeEntry(unsupportedDevice(tapo))).toMatchObject({
      id: tapo.deviceId,
      type: 'unsupported',
      supported: false,
      capabilities: [],
    });
  });

  it('marks nodes offline from the device-list status', () => {
    expect(buildNodes(entry({ status: 0 }))[0]?.online).toBe(false);
  });

  it('formats MACs from every source format', () => {
    expect(formatMac('11CE6AE69422')).toBe('11:ce:6a:e6:94:22');
    expect(formatMac('11:CE:6A:E6:94:22')).toBe('11:ce:6a:e6:94:22');
    expect(formatMac('11-ce-6a-e6-94-22')).toBe('11:ce:6a:e6:94:22');
    expect(formatMac('TAPO11223344')).toBeUndefined();
    expect(formatMac(42)).toBeUndefined();
  });
});

describe('bridge/devices entries', () => {
  it('describes a strip and its outlets with parent and children', () => {
    const nodes = buildNodes(entryByModel('HS300'), sysinfoFixture('hs300_us_get_sys_info_response.json'));
    const [strip, outlet] = nodes.map(bridgeDeviceEntry);
    expect(strip).toMatchObject({
      id: '5BFA53B31294DDA5AB4DEBA1B62582E8EC2F789E',
      type: 'strip',
      online: true,
      mac: '28:a6:9c:74:ba:90',
      supported: true,
      capabilities: ['onoff', 'rssi'],
    });
    expect(strip!.children).toHaveLength(6);
    expect(outlet).toMatchObject({ type: 'outlet', parent_id: strip!.id, capabilities: ['onoff', 'energy'] });
    expect(outlet).not.toHaveProperty('mac');
  });

  it('covers every entry of the fixture device list', () => {
    const types = deviceList.map((e) => buildNodes(e)[0]?.type);
    expect(types).toEqual(['plug', 'plug', 'plug', 'strip', 'lightstrip', 'switch', 'strip', 'strip', 'lightstrip']);
  });
});
