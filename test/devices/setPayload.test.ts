import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { DeviceNode } from '../../src/devices/node.js';
import { buildNodes } from '../../src/devices/nodes.js';
import { mergeSets, parseSetPayload, resolveToggle } from '../../src/devices/setPayload.js';
import { entry, entryByModel, sysinfoFixture } from './fixtures.js';

const plug = buildNodes(entry({ deviceModel: 'HS103(US)', alias: 'Desk' }))[0]!;
const dimmer = buildNodes(entry({ deviceModel: 'HS220(US)', alias: 'Hall' }))[0]!;
const colorBulb = buildNodes(entry({ deviceType: 'IOT.SMARTBULB', deviceModel: 'KL130(US)', alias: 'Lamp' }))[0]!;
const whiteBulb = buildNodes(entry({ deviceType: 'IOT.SMARTBULB', deviceModel: 'KL120(US)', alias: 'Hall' }))[0]!;
const [strip, outlet] = buildNodes(entryByModel('HS300'), sysinfoFixture('hs300_us_get_sys_info_response.json'));

const ok = (node: DeviceNode, raw: string | Buffer, attribute?: string) => {
  const result = parseSetPayload(node, raw, attribute);
  if (!('ok' in result)) throw new Error(`expected ok, got ${JSON.stringify(result)}`);
  return result.ok;
};
const errorCode = (node: DeviceNode, raw: string | Buffer, attribute?: string) => {
  const result = parseSetPayload(node, raw, attribute);
  return 'error' in result ? result.error.code : 'ok';
};

describe('plain set payloads', () => {
  it('accepts ON/OFF/TOGGLE in any case, and true/false/1/0', () => {
    for (const [raw, state] of [
      ['ON', 'ON'], ['on', 'ON'], ['On', 'ON'], ['OFF', 'OFF'], ['off', 'OFF'], ['TOGGLE', 'TOGGLE'], ['toggle', 'TOGGLE'],
      ['true', 'ON'], ['false', 'OFF'], ['1', 'ON'], ['0', 'OFF'], [' on\n', 'ON'], ['"ON"', 'ON'],
    ] as const) {
      expect(ok(plug, raw), raw).toEqual({ state });
    }
    expect(ok(plug, Buffer.from('off'))).toEqual({ state: 'OFF' });
  });

  it('accepts a JSON object and carries transaction through', () => {
    expect(ok(plug, '{"state":"on","transaction":"t-1"}')).toEqual({ state: 'ON', transaction: 't-1' });
    expect(ok(plug, '{"state":true}')).toEqual({ state: 'ON' });
    expect(ok(colorBulb, '{"state":"ON","brightness":40,"color":{"h":120.5,"s":80},"transition":1.5}')).toEqual({
      state: 'ON',
      brightness: 40,
      color: { h: 120.5, s: 80 },
      transition: 1.5,
    });
  });

  it('turns a light on when a brightness, colour or colour temperature comes without a state', () => {
    expect(ok(dimmer, '{"brightness":40}')).toEqual({ state: 'ON', brightness: 40 });
    expect(ok(colorBulb, '{"color":{"h":10,"s":20}}')).toEqual({ state: 'ON', color: { h: 10, s: 20 } });
    expect(ok(colorBulb, '{"color_temp":3000}')).toEqual({ state: 'ON', color_temp: 3000 });
    expect(ok(colorBulb, '{"state":"OFF","brightness":5}')).toEqual({ state: 'OFF', brightness: 5 });
  });
});

describe('/set/<attribute> payloads', () => {
  it('reads each attribute as a plain value', () => {
    expect(ok(dimmer, '40', 'brightness')).toEqual({ state: 'ON', brightness: 40 });
    expect(ok(plug, 'on', 'state')).toEqual({ state: 'ON' });
    expect(ok(plug, 'TOGGLE', 'state')).toEqual({ state: 'TOGGLE' });
    expect(ok(plug, '0', 'state')).toEqual({ state: 'OFF' });
    expect(ok(colorBulb, '{"h":300,"s":50}', 'color')).toEqual({ state: 'ON', color: { h: 300, s: 50 } });
    expect(ok(colorBulb, '2700', 'color_temp')).toEqual({ state: 'ON', color_temp: 2700 });
  });

  it('rejects unknown attributes and lone transitions', () => {
    expect(errorCode(plug, '1', 'colour')).toBe('invalid_payload');
    expect(errorCode(dimmer, '2', 'transition')).toBe('invalid_payload');
    expect(errorCode(dimmer, 'bright', 'brightness')).toBe('invalid_payload');
    expect(errorCode(colorBulb, 'Aurora', 'effect')).toBe('unsupported');
  });
});

describe('validation', () => {
  it('checks brightness, colour temperature, colour and transition ranges', () => {
    for (const raw of ['{"brightness":0}', '{"brightness":101}', '{"brightness":40.5}', '{"brightness":"40"}']) {
      expect(errorCode(dimmer, raw), raw).toBe('invalid_payload');
    }
    expect(errorCode(colorBulb, '{"color_temp":2400}')).toBe('invalid_payload');
    expect(errorCode(colorBulb, '{"color_temp":9001}')).toBe('invalid_payload');
    expect(ok(colorBulb, '{"color_temp":9000}').color_temp).toBe(9000);
    // KL120(US) tops out at 5000 K.
    expect(errorCode(whiteBulb, '{"color_temp":6500}')).toBe('invalid_payload');
    const tooWarm = parseSetPayload(whiteBulb, '{"color_temp":2000}');
    expect('error' in tooWarm && tooWarm.error.message).toContain('2700 to 5000');
    for (const raw of ['{"color":{"h":361,"s":5}}', '{"color":{"h":1,"s":-1}}', '{"color":{"h":1}}', '{"color":[1,2]}',
      '{"color":{"h":1,"s":1,"x":0.3}}']) {
      expect(errorCode(colorBulb, raw), raw).toBe('invalid_payload');
    }
    expect(errorCode(dimmer, '{"brightness":5,"transition":-1}')).toBe('invalid_payload');
    expect(errorCode(dimmer, '{"brightness":5,"transition":"1"}')).toBe('invalid_payload');
    expect(errorCode(plug, '{"state":"maybe"}')).toBe('invalid_payload');
  });

  it('answers unsupported for attributes the node lacks', () => {
    expect(errorCode(plug, '{"brightness":40}')).toBe('unsupported');
    expect(errorCode(plug, '{"state":"ON","transition":1}')).toBe('unsupported');
    expect(errorCode(dimmer, '{"color_temp":3000}')).toBe('unsupported');
    expect(errorCode(whiteBulb, '{"color":{"h":1,"s":1}}')).toBe('unsupported');
    expect(errorCode(strip!, '{"brightness":10}')).toBe('unsupported');
    expect(errorCode(colorBulb, '{"effect":"Aurora"}')).toBe('unsupported');
  });

  it('lets a strip and an outlet switch', () => {
    expect(ok(strip!, 'OFF')).toEqual({ state: 'OFF' });
    expect(ok(outlet!, '{"state":"ON"}')).toEqual({ state: 'ON' });
  });

  it('rejects unknown keys and payloads with nothing to do', () => {
    expect(errorCode(plug, '{"state":"ON","foo":1}')).toBe('invalid_payload');
    expect(errorCode(plug, '{}')).toBe('invalid_payload');
    expect(errorCode(plug, '{"transaction":1}')).toBe('invalid_payload');
    expect(errorCode(plug, '')).toBe('invalid_payload');
    expect(errorCode(plug, '   ')).toBe('invalid_payload');
  });

  it('rejects JSON that is not an object', () => {
    for (const raw of ['[1,2]', 'null', '42', '"lamp"', '{"state":', 'ONN']) {
      expect(errorCode(plug, raw), raw).toBe('invalid_payload');
    }
  });
});

describe('hostile payloads', () => {
  it('never throws on random bytes', () => {
    for (let i = 0; i < 500; i++) {
      const bytes = randomBytes(1 + (i % 64));
      for (const node of [plug, dimmer, colorBulb, strip!, outlet!]) {
        const result = parseSetPayload(node, bytes);
        expect('ok' in result || 'error' in result).toBe(true);
      }
    }
  });

  it('rejects invalid UTF-8, 1 MB and deeply nested payloads cleanly', () => {
    expect(parseSetPayload(plug, Buffer.from([0x7b, 0xff, 0xfe, 0x7d]))).toEqual({
      error: { code: 'invalid_payload', message: 'payload is not valid UTF-8' },
    });
    const huge = Buffer.alloc(1024 * 1024, 'a');
    expect(errorCode(plug, huge)).toBe('invalid_payload');
    expect(errorCode(plug, `{"state":"ON","transaction":"${'x'.repeat(1024 * 1024)}"}`)).toBe('invalid_payload');
    const deep = `{"state":"ON","transaction":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    expect(errorCode(plug, deep)).toBe('invalid_payload');
    expect(errorCode(colorBulb, `{"color":${'{"h":'.repeat(3000)}1${'}'.repeat(3000)}}`)).toBe('invalid_payload');
  });

  it('rejects __proto__ and constructor keys without polluting prototypes', () => {
    for (const raw of [
      '{"__proto__":{"polluted":true},"state":"ON"}',
      '{"state":"ON","transaction":{"__proto__":{"polluted":true}}}',
      '{"color":{"h":1,"s":1,"__proto__":{"polluted":true}}}',
      '{"constructor":{"prototype":{"polluted":true}},"state":"ON"}',
    ]) {
      expect(errorCode(colorBulb, raw), raw).toBe('invalid_payload');
    }
    expect(errorCode(colorBulb, '{}', '__proto__')).toBe('invalid_payload');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('keeps error messages short when keys are huge', () => {
    const result = parseSetPayload(plug, `{"${'k'.repeat(10000)}":1}`);
    expect('error' in result && result.error.message.length).toBeLessThan(200);
  });
});

describe('mergeSets and resolveToggle', () => {
  it('lets later values win per attribute', () => {
    expect(mergeSets({ state: 'ON', brightness: 10, transaction: 'a' }, { brightness: 80, transaction: 'b' })).toEqual({
      state: 'ON',
      brightness: 80,
      transaction: 'b',
    });
    expect(mergeSets({ state: 'ON', brightness: 10 }, { state: 'OFF' })).toEqual({ state: 'OFF', brightness: 10 });
  });

  it('drops the earlier colour model when the later set picks the other', () => {
    expect(mergeSets({ state: 'ON', color_temp: 2700 }, { state: 'ON', color: { h: 1, s: 2 } })).toEqual({
      state: 'ON',
      color: { h: 1, s: 2 },
    });
    expect(mergeSets({ state: 'ON', color: { h: 1, s: 2 } }, { state: 'ON', color_temp: 3000 })).toEqual({
      state: 'ON',
      color_temp: 3000,
    });
  });

  it('applies a later TOGGLE to the earlier target, and cancels two TOGGLEs', () => {
    expect(mergeSets({ state: 'ON' }, { state: 'TOGGLE' })).toEqual({ state: 'OFF' });
    expect(mergeSets({ state: 'OFF' }, { state: 'TOGGLE' })).toEqual({ state: 'ON' });
    expect(mergeSets({ brightness: 5 }, { state: 'TOGGLE' })).toEqual({ brightness: 5, state: 'TOGGLE' });
    expect(mergeSets({ state: 'TOGGLE' }, { state: 'TOGGLE' })).toEqual({});
    expect(mergeSets({ state: 'TOGGLE' }, { state: 'ON' })).toEqual({ state: 'ON' });
  });

  it('resolves TOGGLE against the current state', () => {
    expect(resolveToggle({ state: 'TOGGLE' }, { state: 'ON' })).toEqual({ state: 'OFF' });
    expect(resolveToggle({ state: 'TOGGLE' }, { state: 'OFF' })).toEqual({ state: 'ON' });
    expect(resolveToggle({ state: 'TOGGLE' }, undefined)).toEqual({ state: 'ON' });
    // A strip is on while any outlet is: its outlets module says so.
    const strip = buildNodes(entryByModel('KP200'))[0]!;
    expect(resolveToggle({ state: 'TOGGLE' }, { outlets_on: 2 }, strip)).toEqual({ state: 'OFF' });
    expect(resolveToggle({ state: 'TOGGLE' }, { outlets_on: 0 }, strip)).toEqual({ state: 'ON' });
    const set = { state: 'ON' as const };
    expect(resolveToggle(set, { state: 'ON' })).toBe(set);
  });
});
