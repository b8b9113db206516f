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

/** A setter the device refused, as it answered (docs/protocol.md, "Passthrough"). */
export interface RefusedMethod {
  module: string;
  method: string;
  errCode: number;
  errMsg?: string;
}

/** Device codes meaning "this model has no such module or method". */
const NOT_SUPPORTED_CODES = new Set([-1, -2, -2001]);

export function isNotSupported(refused: RefusedMethod): boolean {
  return isNotSupportedCode(refused.errCode);
}

export function isNotSupportedCode(code: number): boolean {
  return NOT_SUPPORTED_CODES.has(code);
}

/** The part of `response` answering `module.method` with a non-zero `err_code` (module or method level), if any. */
export function methodFailure(response: Record<string, unknown>, module: string, method: string): Record<string, unknown> | undefined {
  const answer = response[module];
  if (!isRecord(answer)) return undefined;
  if (hasError(answer)) return answer;
  const result = answer[method];
  return isRecord(result) && hasError(result) ? result : undefined;
}

/**
 * The methods of `request` other than reads (`get_*`) that the device answered with a non-zero
 * `err_code`, at module or method level. A set whose setter was refused did not happen, whatever
 * the read-back says.
 */
export function refusedSetters(request: Record<string, unknown>, response: unknown): RefusedMethod[] {
  if (!isRecord(response)) return [];
  const refused: RefusedMethod[] = [];
  for (const [module, body] of Object.entries(request)) {
    if (module === 'context' || !isRecord(body)) continue;
    for (const method of Object.keys(body)) {
      if (method.startsWith('get_')) continue;
      const failure = methodFailure(response, module, method);
      if (!failure) continue;
      const errCode = Number(failure['err_code']);
      const errMsg = typeof failure['err_msg'] === 'string' ? failure['err_msg'] : undefined;
      refused.push({ module, method, errCode, ...(errMsg !== undefined ? { errMsg } : {}) });
    }
  }
  return refused;
}
