/**
 * Reading a device's passthrough reply `{"<module>": {"<method>": {..., "err_code": 0}}}`
 * (docs/protocol.md, "Passthrough"). An error may sit at module level or at method level; a
 * failed module only hides its own values.
 */

import { isRecord } from '../isRecord.js';

/** The result object of `module.method`, or undefined when absent or answered with a non-zero `err_code`. */
export function methodResult(response: unknown, module: string, method: string): Record<string, unknown> | undefined {
  if (!isRecord(response)) return undefined;
  const mod = response[module];
  if (!isRecord(mod) || hasError(mod)) return undefined;
  const result = mod[method];
  if (!isRecord(result) || hasError(result)) return undefined;
  return result;
}

function hasError(obj: Record<string, unknown>): boolean {
  if (!('err_code' in obj)) return false;
  const code = obj['err_code'];
  return !(code === 0 || code === '0');
}

/** `system.get_sysinfo` of a reply, if it answered. */
export function sysinfoOf(response: unknown): Record<string, unknown> | undefined {
  return methodResult(response, 'system', 'get_sysinfo');
}

export function finiteNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

export function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
