import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SET_KEYS } from '../../src/api/types.js';
import type { DeviceNode } from '../../src/devices/node.js';
import { IOT_MODULES } from '../../src/devices/iot/index.js';
import { applicableModules } from '../../src/devices/protocols.js';
import { parseSetPayload } from '../../src/devices/setPayload.js';
import { GENERATED_DOCS, regenerate } from '../../src/docs/generatedDocs.js';
import { everyModelNodes } from '../../src/docs/haEntityTables.js';
import { nodeTypesWithSetKey } from '../../src/docs/mqttApiTables.js';
import { DOCS_COMMAND, endMarker, replaceRegions, startMarker } from '../../src/docs/regions.js';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

/** The text of one generated region of a doc, markers excluded. */
function regionText(text: string, name: string): string {
  const start = text.indexOf(startMarker(name));
  const end = text.indexOf(endMarker(name));
  if (start < 0 || end < start) throw new Error(`no region "${name}"`);
  return text.slice(start + startMarker(name).length, end);
}

describe('generated docs match the code', () => {
  for (const doc of GENERATED_DOCS) {
    it(`${doc.path} holds the tables the code generates`, () => {
      const text = read(doc.path);
      expect(text, `${doc.path} differs from the code: run \`${DOCS_COMMAND}\``).toBe(regenerate(doc, text));
    });
  }

  it("docs/home-assistant.md lists the entities each node type's modules add (LED, Restart, Countdown, …)", () => {
    const entities = regionText(read('docs/home-assistant.md'), 'node-entities');
    const sections = new Map<string, string>();
    for (const part of entities.split(/^(?=\*\*`)/m)) {
      const type = /^\*\*`([a-z]+)`\*\*/.exec(part)?.[1];
      if (type !== undefined) sections.set(type, part);
    }
    let checked = 0;
    for (const { node } of everyModelNodes()) {
      for (const module of IOT_MODULES.filter((m) => node.modules.includes(m.name))) {
        for (const entity of module.entities?.(node) ?? []) {
          if (typeof entity.config['name'] !== 'string') continue;
          expect(sections.get(node.type), `${node.type} has ${entity.id}`).toContain(`| \`${entity.id}\` | \`${entity.platform}\` | ${entity.config['name']} |`);
          checked += 1;
        }
      }
    }
    expect(checked).toBeGreaterThan(20);
  });
});

describe('the documented set keys are the ones a set takes', () => {
  /** A valid value of each documented key; the record type makes a new key need one. */
  const SAMPLE: Record<keyof typeof SET_KEYS, unknown> = {
    state: 'ON',
    brightness: 40,
    color_temp: 3000,
    color: { h: 10, s: 50 },
    transition: 1,
    led: 'OFF',
    restart: true,
    countdown: 60,
    effect: 'off',
    auto_off: { enabled: true, minutes: 30 },
    child_lock: 'ON',
    transaction: 't-1',
  };
  const everything: DeviceNode = {
    id: 'X',
    key: 'x',
    alias: 'x',
    name: 'x',
    model: 'KL430(US)',
    type: 'lightstrip',
    capabilities: ['onoff', 'brightness', 'color_temp', 'color', 'energy', 'rssi'],
    deviceId: 'X',
    online: true,
    protocol: 'iot',
    modules: IOT_MODULES.map((m) => m.name),
  };

  // The keys only SMART modules take: a SMART plug with the components that name them.
  const smartOnly = new Set(['auto_off', 'child_lock']);
  const smartPlug: DeviceNode = { ...everything, type: 'plug', capabilities: ['onoff'], protocol: 'smart', components: { auto_off: 2, button_and_led: 1 }, modules: [] };
  smartPlug.modules = applicableModules('smart', smartPlug);

  it('a node that has every capability and feature accepts each documented key', () => {
    for (const [key, value] of Object.entries(SAMPLE)) {
      const result = parseSetPayload(smartOnly.has(key) ? smartPlug : everything, JSON.stringify({ state: 'ON', [key]: value }));
      expect(result, key).toHaveProperty('ok');
    }
  });

  it('the keys the parser names for an unknown attribute are the documented ones', () => {
    const result = parseSetPayload(everything, '1', 'no_such_key');
    expect(result).toMatchObject({ error: { code: 'invalid_payload' } });
    const named = /use one of (.*)$/.exec('error' in result ? result.error.message : '')?.[1]?.split(', ') ?? [];
    expect(named.sort()).toEqual(Object.keys(SET_KEYS).filter((k) => k !== 'transaction').sort());
  });

  it("a module's set key is accepted by exactly the node types the docs list for it", () => {
    for (const key of IOT_MODULES.flatMap((m) => (m.set?.parse ? m.set.keys : []))) {
      if (!(key in SAMPLE)) throw new Error(`no sample value for set key ${key}`);
      const listed = nodeTypesWithSetKey(key);
      for (const { model, node } of everyModelNodes()) {
        const result = parseSetPayload(node, JSON.stringify({ [key]: SAMPLE[key] }));
        const accepted = !('error' in result && result.error.code === 'unsupported');
        expect(accepted, `${key} on ${model} ${node.type}`).toBe(listed.includes(node.type));
      }
    }
  });
});

describe('generated regions', () => {
  const generators = { one: () => 'ONE', two: () => 'TWO' };
  const doc = (body: string) => `# Title\n\nprose\n${body}\nmore prose\n`;
  const both = `${startMarker('one')}\nstale\n${endMarker('one')}\n\n<!-- generated:two:start -->\n<!-- generated:two:end -->`;

  it('rewrites each region from its generator and leaves the prose alone', () => {
    const out = replaceRegions(doc(both), generators, 'x.md');
    expect(out).toBe(doc(`${startMarker('one')}\nONE\n${endMarker('one')}\n\n${startMarker('two')}\nTWO\n${endMarker('two')}`));
    expect(replaceRegions(out, generators, 'x.md')).toBe(out);
  });

  it.each([
    ['an unknown region', `${both}\n<!-- generated:three:start -->\n<!-- generated:three:end -->`, /x\.md: unknown generated region "three"/],
    ['a start without an end', `${startMarker('one')}\n<!-- generated:two:start -->\n<!-- generated:two:end -->`, /x\.md: region "one" has no end marker/],
    ['an end without a start', `${both}\n${endMarker('one')}`, /x\.md: end marker of "one" without its start marker/],
    ['a region twice', `${both}\n${startMarker('one')}\n${endMarker('one')}`, /x\.md: generated region "one" appears twice/],
    ['a missing region', `${startMarker('one')}\n${endMarker('one')}`, /x\.md: no generated region for two/],
  ])('refuses %s, naming the file and the region', (_what, body, message) => {
    expect(() => replaceRegions(doc(body), generators, 'x.md')).toThrow(message);
  });
});
