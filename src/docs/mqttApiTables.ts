/**
 * The tables of docs/mqtt-api.md, from the lists in src/api/types.ts and, for device features,
 * from the family table (which node types have the feature).
 */
import {
  AUTH_ERRORS,
  AUTH_STATES,
  BRIDGE_EVENT_TYPES,
  BRIDGE_REQUEST_ERROR_CODES,
  BRIDGE_REQUESTS,
  CAPABILITIES,
  COMMAND_ERROR_CODES,
  NODE_STATE_KEYS,
  NODE_TYPES,
  SET_KEYS,
  TOPIC_DOCS,
  topics,
  type NodeType,
} from '../api/types.js';
import { FAMILIES } from '../devices/familyTable.js';
import { FEATURES, type FeatureName } from '../devices/features.js';
import { code, markdownTable } from './markdown.js';
import type { RegionGenerators } from './regions.js';

/** The base topic the docs are written with. */
const DOCS_BASE_TOPIC = 'kasa';

const entries = <T extends object>(record: T) => Object.entries(record) as Array<[keyof T & string, T[keyof T]]>;

/** The node types whose family (or, for `outlet`, whose strip's outlets) has `feature`, in NODE_TYPES order. */
export function nodeTypesWithFeature(feature: FeatureName): NodeType[] {
  const types = new Set<NodeType>();
  for (const spec of FAMILIES) {
    if (spec.features.includes(feature)) types.add(spec.nodeType);
    if (spec.outletFeatures?.includes(feature)) types.add('outlet');
  }
  return (Object.keys(NODE_TYPES) as NodeType[]).filter((t) => types.has(t));
}

function nodeTypesText(types: readonly NodeType[]): string {
  return types.length === Object.keys(NODE_TYPES).length ? 'every node' : types.map(code).join(', ');
}

function isFeatureName(name: string): name is FeatureName {
  return Object.hasOwn(FEATURES, name);
}

/** The feature that takes set key `key`. */
function featureOfSetKey(key: string): FeatureName {
  const feature = Object.values(FEATURES).find((f) => f.set?.key === key);
  if (!feature) throw new Error(`set key "${key}" is marked as a feature's, but no feature in src/devices/features.ts takes it`);
  return feature.name;
}

function topicTable(): string {
  const t = topics(DOCS_BASE_TOPIC);
  const rows = entries(TOPIC_DOCS).map(([name, doc]) => {
    const build = t[name];
    const topic = typeof build === 'string' ? build : build(name.startsWith('bridge') ? '<cmd>' : '<key>', '<attr>');
    const retained = doc.direction === 'in' ? '—' : doc.retained ? 'yes' : 'no';
    return [code(topic), doc.direction, retained, doc.payload];
  });
  return markdownTable(['Topic', 'Direction', 'Retained', 'Payload'], rows);
}

function describedTable(header: readonly [string, string], record: Readonly<Record<string, string>>): string {
  return markdownTable(header, entries(record).map(([name, text]) => [code(name), text]));
}

function stateKeyTable(): string {
  const rows = entries(NODE_STATE_KEYS).map(([key, doc]) => {
    let nodes: string;
    if ('nodes' in doc) nodes = doc.nodes;
    else if (isFeatureName(key)) nodes = nodeTypesText(nodeTypesWithFeature(key));
    else throw new Error(`state key "${key}" has no \`nodes\` in src/api/types.ts and is no feature's key`);
    return [code(key), doc.values, nodes];
  });
  return markdownTable(['Key', 'Unit / values', 'Nodes'], rows);
}

function setKeyTable(): string {
  const rows = entries(SET_KEYS).map(([key, doc]) => {
    const needs: string = doc.needs;
    const accepted =
      needs === 'none'
        ? 'every node'
        : needs === 'feature'
          ? nodeTypesText(nodeTypesWithFeature(featureOfSetKey(key)))
          : `nodes with ${code(needs)}`;
    return [code(key), doc.value, accepted];
  });
  return markdownTable(['Key', 'Value', 'Accepted by'], rows);
}

function commandErrorTable(): string {
  const rows = entries(COMMAND_ERROR_CODES).map(([name, doc]) => [code(name), doc.meaning, doc.cloudRequest]);
  return markdownTable(['`error.code`', 'Meaning', 'Cloud request?'], rows);
}

function bridgeEventTable(): string {
  const rows = entries(BRIDGE_EVENT_TYPES).map(([name, doc]) => [code(name), doc.keys, doc.when]);
  return markdownTable(['`type`', 'Other keys', 'When'], rows);
}

function bridgeRequestTable(): string {
  const rows = entries(BRIDGE_REQUESTS).map(([name, doc]) => [code(name), doc.payload, doc.answer]);
  return markdownTable(['`<cmd>`', 'Payload', 'Answer `data`'], rows);
}

/** docs/mqtt-api.md's generated regions by name. */
export const MQTT_API_REGIONS: RegionGenerators = {
  topics: topicTable,
  'node-types': () => describedTable(['`type`', 'Node'], NODE_TYPES),
  capabilities: () => describedTable(['Capability', 'Meaning'], CAPABILITIES),
  'bridge-events': bridgeEventTable,
  'auth-states': () => describedTable(['`state`', 'Meaning'], AUTH_STATES),
  'auth-errors': () => describedTable(['`last_error`', 'Meaning'], AUTH_ERRORS),
  'state-keys': stateKeyTable,
  'set-keys': setKeyTable,
  'set-errors': commandErrorTable,
  'bridge-requests': bridgeRequestTable,
  'bridge-request-errors': () => describedTable(['`error.code`', 'When'], BRIDGE_REQUEST_ERROR_CODES),
};
