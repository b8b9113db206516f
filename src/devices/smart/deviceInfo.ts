/**
 * The device info a SMART node's modules read: `get_device_info` of the device itself, and for a
 * child (a P300 outlet, a KS240's fan or dimmer) either its entry in the parent's
 * `get_child_device_list` (what a poll of the parent reads) or its own `get_device_info` (a
 * request made for it through `control_child`, such as a set's read-back).
 */
import type { ModuleRead, ModuleReply } from '../module.js';
import type { DeviceNode } from '../node.js';
import { isRecord } from '../../isRecord.js';
import { decodeBase64Alias } from '../nodes.js';
import { smartResult } from './wire.js';

export const DEVICE_INFO_READ = { get_device_info: null } as const;
/** python-kasa asks from index 0 and pages on; one page holds the children of a strip or a KS240. */
export const CHILD_LIST_READ = { get_child_device_list: { start_index: 0 } } as const;

const DEVICE_READ: ModuleRead = { cadence: 'poll', request: () => DEVICE_INFO_READ };
/** A child's info comes with its parent's poll; its own `get_device_info` only in a request made for it. */
const CHILD_READ: ModuleRead = { cadence: 'poll', targeted: true, request: () => DEVICE_INFO_READ };

/** The device-info read of a node: the device's poll, or (children) a request made for the child. */
export function deviceInfoRead(node: DeviceNode): ModuleRead {
  return node.parentId === undefined ? DEVICE_READ : CHILD_READ;
}

/** A child's entry in its parent's `get_child_device_list` answer. */
export function childEntryOf(response: Record<string, unknown>, childId: string): Record<string, unknown> | undefined {
  const list = smartResult(response, 'get_child_device_list')?.['child_device_list'];
  if (!Array.isArray(list)) return undefined;
  return list.find((c): c is Record<string, unknown> => isRecord(c) && typeof c['device_id'] === 'string' && c['device_id'].toLowerCase() === childId.toLowerCase());
}

/**
 * The node's device info in `reply`, or undefined when the reply has none of it. Only an answer
 * made for the node itself (or, for a child, its parent's poll) speaks for it: an answer made for a
 * child through `control_child` is handed to its parent's nodes too, and its info is the child's.
 */
export function deviceInfoOf(node: DeviceNode, reply: Pick<ModuleReply, 'response' | 'child' | 'targeted'>): Record<string, unknown> | undefined {
  if (node.parentId !== undefined) return reply.targeted ? smartResult(reply.response, 'get_device_info') : reply.child;
  return reply.targeted ? smartResult(reply.response, 'get_device_info') : undefined;
}

/**
 * A SMART `nickname` (and `ssid`) as text for display: the device sends it base64-encoded UTF-8,
 * as the cloud's device list does for Tapo entries (the same decoder). Undefined when it is not
 * canonical base64 of printable UTF-8 text.
 */
export function decodeNickname(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const text = decodeBase64Alias(value);
  return text === value ? undefined : text;
}
