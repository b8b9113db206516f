/**
 * What a cloud request was for, from the simulator's request log: the bridge's requests are told
 * apart by what they ask, not by anything the bridge says about them.
 *
 * - `write`: a passthrough with a `set_*` method (a set, and the read-back that rides with it);
 * - `poll`: any other passthrough asking `system.get_sysinfo` (the one read per device per cycle);
 * - `daily`: a passthrough asking the cloud module (`cnCloud` on plug-family firmware,
 *   `smartlife.iot.common.cloud` on bulbs), i.e. `get_intl_fw_list` and/or `get_info`;
 * - `energy`: a passthrough asking a meter (`emeter`, `smartlife.iot.common.emeter`) without sysinfo
 *   (an HS300 outlet's own meter read);
 * - `other passthrough`: a passthrough none of the above;
 * - anything that is not a passthrough: its op (`login`, `getDeviceList`…).
 */
import type { SimRequestLogEntry } from '../../src/simulator/index.js';

export type RequestKind = 'poll' | 'daily' | 'energy' | 'write' | 'other passthrough' | (string & {});

const CLOUD_MODULES = ['cnCloud', 'smartlife.iot.common.cloud'];
const METER_MODULES = ['emeter', 'smartlife.iot.common.emeter'];

export function requestKind(entry: SimRequestLogEntry): RequestKind {
  if (entry.op !== 'passthrough') return entry.op;
  const data = (typeof entry.requestData === 'object' && entry.requestData !== null ? entry.requestData : {}) as Record<string, unknown>;
  if (methodsAsked(entry).some((m) => m.split('.').at(-1)!.startsWith('set_'))) return 'write';
  const system = data['system'];
  if (typeof system === 'object' && system !== null && 'get_sysinfo' in system) return 'poll';
  if (CLOUD_MODULES.some((m) => m in data)) return 'daily';
  if (METER_MODULES.some((m) => m in data)) return 'energy';
  return 'other passthrough';
}

/** Requests counted by kind, e.g. `{ poll: 3999, daily: 0 }`. */
export function countByKind(entries: readonly SimRequestLogEntry[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const entry of entries) {
    const kind = requestKind(entry);
    out[kind] = (out[kind] ?? 0) + 1;
  }
  return out;
}

/** The methods a passthrough asks, as `module.method` (the daily read's shape, for the details). */
export function methodsAsked(entry: SimRequestLogEntry): string[] {
  const data = (typeof entry.requestData === 'object' && entry.requestData !== null ? entry.requestData : {}) as Record<string, unknown>;
  return Object.entries(data)
    .filter(([module]) => module !== 'context')
    .flatMap(([module, body]) => (typeof body === 'object' && body !== null ? Object.keys(body).map((m) => `${module}.${m}`) : []));
}
