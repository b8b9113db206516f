/**
 * The entity tables of docs/home-assistant.md, from what discovery really produces: every model
 * row of the family table is built into nodes the way a device list and first poll build them,
 * and each node's discovery payload is listed component by component.
 */
import { NODE_TYPES, type NodeType } from '../api/types.js';
import { FAMILIES, type FamilySpec, type ModelRow } from '../devices/familyTable.js';
import type { DeviceNode } from '../devices/node.js';
import { buildNodes } from '../devices/nodes.js';
import { bridgeDiscovery, nodeDiscovery, type ComponentConfig, type DiscoveryContext } from '../ha/discovery.js';
import { code, markdownTable } from './markdown.js';
import type { RegionGenerators } from './regions.js';

const DOCS_CONTEXT: DiscoveryContext = { baseTopic: '<base>', prefix: '<prefix>', version: '<version>', bridgeId: '<client id>' };

/** A device of `row`'s model as the bridge sees it after its first read: a strip with one outlet. */
function modelNodes(spec: FamilySpec, row: ModelRow): DeviceNode[] {
  const sysinfo = spec.family === 'strip' ? { children: [{ id: '00', alias: 'Plug 1', state: 0 }] } : undefined;
  const entry = { deviceId: 'DOCS', deviceType: spec.deviceType, deviceModel: row.prefix, alias: row.prefix, status: 1, deviceMac: '000000000000' };
  return buildNodes(entry, sysinfo);
}

/** The nodes of one device of every model in the family table, with the model's prefix. */
export function everyModelNodes(): Array<{ model: string; node: DeviceNode }> {
  return FAMILIES.flatMap((spec) => spec.models.flatMap((row) => modelNodes(spec, row).map((node) => ({ model: row.prefix, node }))));
}

interface EntityRow {
  config: ComponentConfig;
  models: string[];
}

/** Per node type: each discovery component (first config seen) and the models that get it. */
function entitiesByNodeType(): Map<NodeType, { models: string[]; entities: Map<string, EntityRow> }> {
  const out = new Map<NodeType, { models: string[]; entities: Map<string, EntityRow> }>();
  for (const { model, node } of everyModelNodes()) {
    const entry = out.get(node.type) ?? { models: [], entities: new Map<string, EntityRow>() };
    out.set(node.type, entry);
    entry.models.push(model);
    for (const [id, config] of Object.entries(nodeDiscovery(node, DOCS_CONTEXT).components)) {
      const seen = entry.entities.get(id);
      if (seen) seen.models.push(model);
      else entry.entities.set(id, { config, models: [model] });
    }
  }
  return out;
}

function text(config: ComponentConfig, field: string): string {
  const value = config[field];
  return typeof value === 'string' ? code(value) : '—';
}

/** `name: null` takes the device's name; without `name` Home Assistant names the entity after its device class. */
function entityName(config: ComponentConfig): string {
  const name = config['name'];
  if (name === null) return "(the device's name)";
  if (typeof name === 'string') return name;
  return typeof config['device_class'] === 'string' ? '(its device class)' : '—';
}

function nodeEntityTables(): string {
  const byType = entitiesByNodeType();
  const sections: string[] = [];
  for (const type of Object.keys(NODE_TYPES) as NodeType[]) {
    const found = byType.get(type);
    if (!found) throw new Error(`no model in src/devices/familyTable.ts builds a "${type}" node`);
    const rows = [...found.entities].map(([id, { config, models }]) => [
      code(id),
      code(config.platform),
      entityName(config),
      text(config, 'device_class'),
      text(config, 'entity_category'),
      config['enabled_by_default'] === false ? 'no' : 'yes',
      models.length === found.models.length ? 'all' : models.join(', '),
    ]);
    sections.push(
      `**${code(type)}** (${found.models.join(', ')})`,
      '',
      markdownTable(['Component', 'Platform', 'Name', '`device_class`', '`entity_category`', 'Enabled by default', 'Models'], rows),
      '',
    );
  }
  return sections.join('\n').trimEnd();
}

function bridgeEntityTable(): string {
  const rows = Object.entries(bridgeDiscovery(DOCS_CONTEXT).components).map(([id, config]) => [
    code(id),
    code(config.platform),
    entityName(config),
    text(config, 'device_class'),
    text(config, 'entity_category'),
    text(config, 'state_topic'),
    text(config, 'command_topic'),
  ]);
  return markdownTable(['Component', 'Platform', 'Name', '`device_class`', '`entity_category`', 'Reads', 'Publishes to'], rows);
}

/** docs/home-assistant.md's generated regions by name. */
export const HOME_ASSISTANT_REGIONS: RegionGenerators = {
  'node-entities': nodeEntityTables,
  'bridge-entities': bridgeEntityTable,
};
