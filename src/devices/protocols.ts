/**
 * The protocol family table: each family's modules (one line per capability) and how its requests
 * and answers look on the wire. A new capability is a module file and a line in its family's list;
 * a new family is its modules and an entry here.
 */
import type { DeviceModule, ModuleReply, ProtocolFamily, RequestData } from './module.js';
import type { DeviceNode } from './node.js';
import type { RefusedMethod } from './reply.js';
import { IOT_PROTOCOL } from './iot/index.js';
import { SMART_PROTOCOL } from './smart/index.js';

export interface ProtocolSpec {
  family: ProtocolFamily;
  /** The family's modules, in the order their keys appear in a node's state and their entities in discovery. */
  modules: readonly DeviceModule[];
  /** Several modules' request parts as one request, in an order the device executes correctly. */
  combine(parts: readonly RequestData[]): RequestData;
  /** A request made for one child node (a strip's outlet) rather than its device: iot adds the child's context. */
  address(node: DeviceNode, request: RequestData): RequestData;
  /** A raw answer as the modules read it (e.g. a SMART `multipleRequest` answer as method → result). */
  unwrap(raw: Record<string, unknown>): Record<string, unknown>;
  /** The reply as the modules of `node` read it (sysinfo, an outlet's entry, …). */
  reply(node: DeviceNode, response: Record<string, unknown>, base: Pick<ModuleReply, 'targeted' | 'now' | 'utcOffsetMinutes'>): ModuleReply;
  /** The setters of `request` the device refused. */
  refusedSetters(request: RequestData, response: Record<string, unknown>): RefusedMethod[];
  /** Whether `response` says the methods of `read` do not exist on this model. */
  lacks(read: RequestData, response: Record<string, unknown>): boolean;
}

export const PROTOCOLS: Readonly<Record<ProtocolFamily, ProtocolSpec>> = {
  iot: IOT_PROTOCOL,
  smart: SMART_PROTOCOL,
};

/** Resolved module lists by the `modules` array they came from: every poll asks, and node lists rarely change. */
const resolved = new WeakMap<readonly string[], readonly DeviceModule[]>();

/** The modules of `node`, from its `modules` (set when the node was built). */
export function modulesOf(node: DeviceNode): readonly DeviceModule[] {
  let modules = resolved.get(node.modules);
  if (modules === undefined) {
    const all = PROTOCOLS[node.protocol].modules;
    modules = node.modules.flatMap((name) => all.filter((m) => m.name === name));
    resolved.set(node.modules, modules);
  }
  return modules;
}

/** One array per distinct module list: a thousand plugs share one, and with it one resolved list (`modulesOf`). */
const internedLists = new Map<string, string[]>();

/** The names of the modules of `family` that apply to `node`, in table order (shared, not to be changed). */
export function applicableModules(family: ProtocolFamily, node: DeviceNode): string[] {
  const names = PROTOCOLS[family].modules.filter((m) => m.appliesTo(node)).map((m) => m.name);
  const key = `${family}:${names.join(',')}`;
  let shared = internedLists.get(key);
  if (shared === undefined) internedLists.set(key, (shared = names));
  return shared;
}
