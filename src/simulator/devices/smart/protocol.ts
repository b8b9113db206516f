/**
 * The SMART (Tapo) request/answer envelope a device speaks inside a cloud passthrough, after
 * python-kasa `kasa/protocols/smartprotocol.py` and `kasa/exceptions.py` (`SmartErrorCode`):
 * - a request is `{"method", "params"?}`; an answer `{"error_code", "result"?}`, where a setter
 *   answered alone carries no `result`;
 * - `multipleRequest` `{"requests":[{"method","params"?}…]}` answers
 *   `{"responses":[{"method","result"?,"error_code"}…]}` and stops at the first method that fails
 *   (that method's entry is the last one).
 */
import { isRecord } from '../../../isRecord.js';
import type { JsonObject } from '../../util.js';

export const SmartCode = {
  /** UNKNOWN_METHOD_ERROR: a method the firmware does not have. */
  unknownMethod: -1002,
  /** PARAMS_ERROR: parameters missing, of the wrong type or out of range. */
  params: -1008,
} as const;

export const MULTIPLE_REQUEST = 'multipleRequest';

/** A failure a method answers with its code instead of a result. */
export class SmartError extends Error {
  constructor(readonly code: number) {
    super(`SMART error ${code}`);
  }
}

export const paramsError = (): SmartError => new SmartError(SmartCode.params);

/** What a method returns: a result, or `undefined` for a setter (answered without `result`). */
export type SmartMethod = (params: JsonObject | undefined) => JsonObject | undefined;

/** The plain answer to one `{method, params?}`. */
export function answerOne(methods: Record<string, SmartMethod>, request: unknown): JsonObject {
  if (!isRecord(request) || typeof request.method !== 'string') return { error_code: SmartCode.params };
  const method = Object.hasOwn(methods, request.method) ? methods[request.method] : undefined;
  if (!method) return { error_code: SmartCode.unknownMethod };
  const params = request.params;
  if (params !== undefined && params !== null && !isRecord(params)) return { error_code: SmartCode.params };
  try {
    const result = method(params ?? undefined);
    return result === undefined ? { error_code: 0 } : { error_code: 0, result };
  } catch (err) {
    if (err instanceof SmartError) return { error_code: err.code };
    throw err;
  }
}

/** `multipleRequest` over `methods` (not itself among them: a nested batch is an unknown method). */
export function multipleRequest(methods: Record<string, SmartMethod>): SmartMethod {
  return (params) => {
    const requests = params?.requests;
    if (!Array.isArray(requests) || requests.length === 0) throw paramsError();
    const responses: JsonObject[] = [];
    for (const request of requests) {
      const answer = answerOne(methods, request);
      const method = isRecord(request) && typeof request.method === 'string' ? request.method : '';
      responses.push({ method, ...answer });
      if (answer.error_code !== 0) break;
    }
    return { responses };
  };
}

/** A device's method table with `multipleRequest` on top. */
export function withMultipleRequest(methods: Record<string, SmartMethod>): Record<string, SmartMethod> {
  return { ...methods, [MULTIPLE_REQUEST]: multipleRequest(methods) };
}
