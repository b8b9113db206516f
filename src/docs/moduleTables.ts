/**
 * The module tables of docs/devices.md, from the protocol family tables themselves: for each
 * family, each module's read cadence, state keys, set keys, Home Assistant entities and the node
 * types it applies to (built from every model of the family table, as a first poll builds them).
 */
import { NODE_TYPES, type NodeType } from '../api/types.js';
import type { DeviceModule, ProtocolFamily } from '../devices/module.js';
import { PROTOCOLS } from '../devices/protocols.js';
import { readOf } from '../devices/requests.js';
import { everyModelNodes } from './haEntityTables.js';
import { code, markdownTable } from './markdown.js';
import type { RegionGenerators } from './regions.js';

function list(values: readonly string[]): string {
  return values.length === 0 ? '—' : values.map(code).join(', ');
}

function nodeTypesOf(module: DeviceModule): NodeType[] {
  const types = new Set(everyModelNodes().filter(({ node }) => module.appliesTo(node)).map(({ node }) => node.type));
  return (Object.keys(NODE_TYPES) as NodeType[]).filter((t) => types.has(t));
}

/** How a module reads; a device and a strip's outlet may differ (an outlet's countdown rides with its meter reads). */
function cadences(module: DeviceModule): string {
  const describe = (outlets: boolean): string | undefined => {
    const node = everyModelNodes().map(({ node }) => node).find((n) => (n.parentId !== undefined) === outlets && module.appliesTo(n));
    const read = node && readOf(module, node);
    return read ? `${read.cadence}${read.targeted ? ', own request' : ''}${read.ridesAlong ? ', rides along' : ''}` : undefined;
  };
  const device = describe(false);
  const outlet = describe(true);
  if (device === undefined && outlet === undefined) return '—';
  if (device === undefined || outlet === undefined || device === outlet) return (device ?? outlet)!;
  return `${device}; outlets: ${outlet}`;
}

function entities(module: DeviceModule): string[] {
  const ids = new Set<string>();
  for (const { node } of everyModelNodes()) {
    if (!module.appliesTo(node)) continue;
    for (const entity of module.entities?.(node) ?? []) ids.add(`${entity.id} (${entity.platform})`);
  }
  return [...ids];
}

function familyTable(family: ProtocolFamily): string {
  const rows = PROTOCOLS[family].modules.map((module) => [
    code(module.name),
    cadences(module),
    list(module.keys.map(String)),
    list(module.set?.keys ?? []),
    list(entities(module)),
    family === 'iot' ? list(nodeTypesOf(module)) : 'none yet (SMART devices are not built into nodes yet)',
    module.optional ? 'yes' : '',
  ]);
  return markdownTable(['Module', 'Read', 'State keys', 'Set keys', 'HA entities', 'Node types', 'Optional'], rows);
}

/** docs/devices.md's generated regions by name. */
export const DEVICE_MODULE_REGIONS: RegionGenerators = {
  'iot-modules': () => familyTable('iot'),
  'smart-modules': () => familyTable('smart'),
};
