/**
 * The tables of docs/mqtt-api.md, from the lists in src/api/types.ts and, for keys a module
 * writes or takes, from the modules (which node types have them).
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
import type { DeviceNode } from '../devices/node.js';
import { modulesOf } from '../devices/protocols.js';
import { everyModelNodes } from './haEntityTables.js';
import { code, markdownTable } from './markdown.js';
import type { RegionGenerators } from './regions.js';

/** The base topic the docs are written with. */
const DOCS_BASE_TOPIC = 'kasa';

const entries = <T extends object>(record: T) => Object.entries(record) as Array<[keyof T & string, T[keyof T]]>;

/** The node types of the family table's models (built as a device list and first poll build them) where `test` holds, in NODE_TYPES order. */
function nodeTypesWhere(test: (node: DeviceNode) => boolean): NodeType[] {
  const types = new Set(everyModelNodes().filter(({ node }) => test(node)).map(({ node }) => node.type));
  return (Object.keys(NODE_TYPES) as NodeType[]).filter((t) => types.has(t));
}

/** The node types with a module that writes state key `key`. */
export function nodeTypesWithStateKey(key: string): NodeType[] {
  return nodeTypesWhere((node) => modulesOf(node).some((m) => (m.keys as readonly string[]).includes(key)));
}

/** The node types with a module that takes (and validates) set key `key`. */
export function nodeTypesWithSetKey(key: string): NodeType[] {
  return nodeTypesWhere((node) => modulesOf(node).some((m) => m.set?.parse !== undefined && (m.set.keys as readonly string[]).includes(key)));
}

function nodeTypesText(types: readonly NodeType[]): string {
  return types.length === Object.keys(NODE_TYPES).length ? 'every node' : types.map(code).join(', ');
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
    else {
      const types = nodeTypesWithStateKey(key);
      if (types.length === 0) throw new Error(`state key "${key}" has no \`nodes\` in src/api/types.ts and no module writes it`);
      nodes = nodeTypesText(types);
    }
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
          ? nodeTypesText(nodeTypesWithSetKey(key))
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
