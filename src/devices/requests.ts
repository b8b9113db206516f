/**
 * The requests a device is read and set with, built from its modules (module.ts): one poll per
 * physical device per cycle, reads of the other cadences (outlet meters, daily reads), and one
 * set-and-read-back per set. The family's `combine` orders the parts for the device (iot: every
 * setter before the reads, `context` last).
 */
import type { NodeState, SetPayload } from '../api/types.js';
import type { DeviceModule, ModuleRead, ReadCadence, RequestContext, RequestData, SetKey } from './module.js';
import type { DeviceNode } from './node.js';
import { modulesOf, PROTOCOLS } from './protocols.js';
import { resolveToggle } from './setPayload.js';

export type { RequestData } from './module.js';
export { mergeRequests } from './iot/merge.js';

export interface RequestOptions {
  /**
   * The device's offset from UTC in minutes, learned from an earlier `get_time` answer
   * (`deviceUtcOffsetMinutes`): energy statistics are asked for the device's own month.
   */
  utcOffsetMinutes?: number;
}

/** A module's read for `node`, if it has one. */
export function readOf(module: DeviceModule, node: DeviceNode): ModuleRead | undefined {
  return typeof module.read === 'function' ? module.read(node) : module.read;
}

function context(now: Date, options: RequestOptions): RequestContext {
  return options.utcOffsetMinutes === undefined ? { now } : { now, utcOffsetMinutes: options.utcOffsetMinutes };
}

/** The read parts of `node`'s modules that match `pick`, skipping modules in `disabled`. */
function reads(
  node: DeviceNode,
  ctx: RequestContext,
  pick: (read: ModuleRead, module: DeviceModule) => boolean,
  disabled?: ReadonlySet<string>,
): { parts: RequestData[]; reasons: number } {
  const parts: RequestData[] = [];
  let reasons = 0;
  for (const module of modulesOf(node)) {
    if (disabled?.has(module.name)) continue;
    const read = readOf(module, node);
    if (!read || !pick(read, module)) continue;
    const part = read.request(node, ctx);
    if (!part) continue;
    parts.push(part);
    if (!read.ridesAlong) reasons += 1;
  }
  return { parts, reasons };
}

/**
 * The one request a device is polled with: what every module of the device and of its outlets
 * reads with each poll (sysinfo, countdown rules, the meter, the clock). An outlet alone asks what
 * it reads through its strip's poll.
 */
export function pollRequest(node: DeviceNode, now: Date = new Date(), options: RequestOptions = {}, children: readonly DeviceNode[] = [], disabled?: ReadonlySet<string>): RequestData {
  const ctx = context(now, options);
  const isPoll = (read: ModuleRead) => read.cadence === 'poll' && !read.targeted;
  const parts = [node, ...children].flatMap((n) => reads(n, ctx, isPoll, n === node ? disabled : undefined).parts);
  return PROTOCOLS[node.protocol].combine(parts);
}

export interface NodeRequest {
  /** The node the request is made for (the device, or one outlet with its context). */
  node: DeviceNode;
  requestData: RequestData;
}

/**
 * The reads of `cadence` (other than `poll`) due for a device: one request for the device's own
 * reads, and one per outlet whose reads need its context. Reads that only ride along make no
 * request of their own. `disabled`: modules the device turned out to lack, by node id.
 */
export function cadenceRequests(
  device: DeviceNode,
  children: readonly DeviceNode[],
  cadence: Exclude<ReadCadence, 'poll' | 'after_set'>,
  now: Date = new Date(),
  options: RequestOptions = {},
  disabled?: (nodeId: string) => ReadonlySet<string> | undefined,
): NodeRequest[] {
  const ctx = context(now, options);
  const spec = PROTOCOLS[device.protocol];
  const out: NodeRequest[] = [];
  const own = reads(device, ctx, (read) => read.cadence === cadence, disabled?.(device.id));
  if (own.reasons > 0) out.push({ node: device, requestData: spec.combine(own.parts) });
  for (const child of children) {
    const found = reads(child, ctx, (read) => read.cadence === cadence && read.targeted === true, disabled?.(child.id));
    if (found.reasons > 0) out.push({ node: child, requestData: spec.address(child, spec.combine(found.parts)) });
  }
  return out;
}

export interface OutletEnergyRequest {
  childId: string;
  requestData: RequestData;
}

/**
 * Per-outlet meter reads of a strip with outlet meters (HS300): one request per outlet with its
 * context, asking realtime plus the device's today's and this month's totals (and the outlet's
 * countdown, which rides along). [] for strips without meters.
 */
export function energyRequests(strip: DeviceNode, children: readonly DeviceNode[], now: Date = new Date(), options: RequestOptions = {}): OutletEnergyRequest[] {
  return cadenceRequests(strip, children, 'energy', now, options)
    .filter((r) => r.node.id !== strip.id)
    .map((r) => ({ childId: r.node.id, requestData: r.requestData }));
}

/** The module of `node` that takes set key `key` (the first in table order), if any. */
export function moduleForKey(node: DeviceNode, key: SetKey): DeviceModule | undefined {
  return modulesOf(node).find((m) => m.set?.keys.includes(key));
}

/** Each module of `node` that takes keys of `set`, once, in table order. */
export function settingModules(node: DeviceNode, set: SetPayload): DeviceModule[] {
  const out: DeviceModule[] = [];
  for (const key of Object.keys(set) as (keyof SetPayload)[]) {
    if (key === 'transaction' || set[key] === undefined) continue;
    const module = moduleForKey(node, key);
    if (module && !out.includes(module)) out.push(module);
  }
  return modulesOf(node).filter((m) => out.includes(m));
}

/**
 * The one request that applies `set` to `node` and reads the result back. TOGGLE is resolved
 * against `current`. A set with nothing left to change (two TOGGLEs merged) is a plain read. The
 * read-back reads what a poll reads (an outlet: its own reads, with its context), so a state
 * published from a set carries the same keys as one published from a poll.
 */
export function setRequest(
  node: DeviceNode,
  set: SetPayload,
  current?: NodeState,
  options: RequestOptions & { now?: Date } = {},
  children: readonly DeviceNode[] = [],
): RequestData {
  const resolved = resolveToggle(set, current, node);
  const spec = PROTOCOLS[node.protocol];
  const ctx = context(options.now ?? new Date(), options);
  const setting = settingModules(node, resolved);
  const setters = setting.map((m) => m.set!.request(node, resolved, current));
  const took = new Set(setting.map((m) => m.name));
  const readBack = (read: ModuleRead, module: DeviceModule) =>
    read.cadence === 'poll' || (read.cadence === 'after_set' && took.has(module.name)) || (node.parentId !== undefined && read.cadence === 'energy');
  const parts = [node, ...children].flatMap((n) => reads(n, ctx, n === node ? readBack : (read) => read.cadence === 'poll' && !read.targeted).parts);
  const request = spec.combine([...setters, ...parts]);
  return node.parentId === undefined ? request : spec.address(node, request);
}
