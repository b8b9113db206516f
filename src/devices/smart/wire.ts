/**
 * The SMART (Tapo protocol) wire shapes, after python-kasa `kasa/protocols/smartprotocol.py`:
 * - a request is `{"method": m, "params"?: p}`; several are one
 *   `{"method":"multipleRequest","params":{"requests":[{"method","params"?}, …]}}`;
 * - an answer is `{"error_code": n, "result"?: r}`; a multipleRequest answer holds
 *   `result.responses: [{"method", "result"?, "error_code"}, …]`. The device stops at the first
 *   method that fails: the methods after it are not in the answer.
 *
 * Modules describe their part as `{"<method>": params | null}`; the answers they read are
 * method → result, where a method the device answered with a non-zero code keeps its place as
 * `{"error_code": n}` (like an iot `{"err_code": n}`, and like python-kasa, which puts the error
 * code in the method's slot). `smartResult` hides those, so a module never reads one as a result.
 */
import { isRecord } from '../../isRecord.js';
import type { RequestData } from '../module.js';

export const MULTIPLE_REQUEST = 'multipleRequest';
/** A request for a child (a P300 outlet, a KS240's fan or dimmer), sent to its parent. */
export const CONTROL_CHILD = 'control_child';

interface MethodCall {
  method: string;
  params: unknown;
}

/** What the device said to one method: `errorCode` 0 and its result (setters: `{}`), or a failure. */
interface MethodAnswer {
  errorCode: number;
  result?: Record<string, unknown>;
  msg?: string;
}

/** Reads are `get_*` and the component negotiation; everything else changes the device. */
export function isRead(method: string): boolean {
  return method.startsWith('get_') || method === 'component_nego' || method === 'qs_component_nego';
}

/**
 * Module parts as one request: setters first (so the reads see their effect), then reads, each in
 * the order the parts gave them; a method given twice keeps its first place, and its params are
 * merged (several modules set their own fields with one `set_device_info`: on/off, brightness,
 * colour), a later module's field winning.
 *
 * Always a multipleRequest, even for one method: the answer to a plain request names no method,
 * and `unwrap` sees only the answer (unwrapSmartAnswer with the request reads a plain one).
 */
export function combineParts(parts: readonly RequestData[]): RequestData {
  const calls = new Map<string, unknown>();
  for (const part of parts) {
    for (const call of callsOf(part)) {
      const earlier = calls.get(call.method);
      calls.set(call.method, isRecord(earlier) && isRecord(call.params) ? { ...earlier, ...call.params } : call.params);
    }
  }
  const ordered = [...calls].sort(([a], [b]) => Number(isRead(a)) - Number(isRead(b)));
  return { method: MULTIPLE_REQUEST, params: { requests: ordered.map(([method, params]) => requestEntry(method, params)) } };
}

/** Params left out when there are none, as python-kasa and the published cloud passthrough send them. */
function requestEntry(method: string, params: unknown): Record<string, unknown> {
  return params === null || params === undefined ? { method } : { method, params };
}

/**
 * The method calls of a request in any of its shapes: a module part `{"<method>": params}`, a plain
 * request `{"method", "params"?}`, or a multipleRequest.
 */
export function callsOf(request: RequestData): MethodCall[] {
  const inner = childRequestOf(request);
  if (inner) return callsOf(inner);
  const method = request['method'];
  if (typeof method !== 'string') return Object.entries(request).map(([m, params]) => ({ method: m, params }));
  if (method !== MULTIPLE_REQUEST) return [{ method, params: request['params'] }];
  const params = request['params'];
  const requests = isRecord(params) && Array.isArray(params['requests']) ? params['requests'] : [];
  return requests.filter((r): r is Record<string, unknown> => isRecord(r) && typeof r['method'] === 'string').map((r) => ({ method: r['method'] as string, params: r['params'] }));
}

/**
 * `request` addressed to a child: `{"method":"control_child","params":{"device_id","requestData"}}`,
 * the child's own request in `requestData` (python-kasa `kasa/protocols/smartprotocol.py`,
 * `_ChildProtocolWrapper`). The parent sends the answer back as
 * `{"error_code":0,"result":{"responseData":<the child's answer>}}`.
 */
export function controlChild(childId: string, request: RequestData): RequestData {
  return { method: CONTROL_CHILD, params: { device_id: childId, requestData: request } };
}

/** The child's own request inside a `control_child` request; undefined for any other request. */
export function childRequestOf(request: RequestData): RequestData | undefined {
  if (request['method'] !== CONTROL_CHILD) return undefined;
  const params = request['params'];
  return isRecord(params) && isRecord(params['requestData']) ? params['requestData'] : undefined;
}

/** The child's answer inside a parent's answer to `control_child`; undefined for any other answer. */
function childAnswerOf(response: Record<string, unknown>): Record<string, unknown> | undefined {
  const result = response['result'];
  if (codeOf(response['error_code']) !== 0 || !isRecord(result)) return undefined;
  const inner = result['responseData'];
  return isRecord(inner) && 'error_code' in inner ? inner : undefined;
}

/** A device's code as a number (some answers carry it as a string); NaN when it is not one. */
function codeOf(value: unknown): number {
  if (typeof value === 'number') return value;
  return typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
}

/** Whether `response` is a device answer (with its top-level `error_code`) rather than method → result. */
function isRawAnswer(response: Record<string, unknown>): boolean {
  return 'error_code' in response;
}

/**
 * The answer of each method, from a raw answer or from an already unwrapped method → result.
 * `request`, when it is a plain `{"method", "params"?}`, names the method of its answer; without it
 * such an answer says nothing a module can use.
 */
export function answersOf(response: Record<string, unknown>, request?: RequestData): Map<string, MethodAnswer> {
  const answers = new Map<string, MethodAnswer>();
  const child = isRawAnswer(response) ? childAnswerOf(response) : undefined;
  if (child) return answersOf(child, request && (childRequestOf(request) ?? request));
  if (!isRawAnswer(response)) {
    for (const [method, value] of Object.entries(response)) {
      if (!isRecord(value)) continue;
      const code = 'error_code' in value ? codeOf(value['error_code']) : 0;
      answers.set(method, code === 0 || Number.isNaN(code) ? { errorCode: 0, result: value } : failure(value, code));
    }
    return answers;
  }
  const code = codeOf(response['error_code']);
  const result = response['result'];
  if (code === 0 && isRecord(result) && Array.isArray(result['responses'])) {
    for (const entry of result['responses'] as unknown[]) {
      // Entries without a method (seen on cameras) or without a code cannot be attributed.
      if (!isRecord(entry) || typeof entry['method'] !== 'string') continue;
      const answer = methodAnswer(entry);
      if (answer) answers.set(entry['method'], answer);
    }
    return answers;
  }
  // Only a plain request's answer is that method's answer; a failed multipleRequest names none.
  // A failed control_child names its child request's method when that was a plain one.
  const method = request && (childRequestOf(request) ?? request)['method'];
  const answer = methodAnswer(response);
  if (answer && typeof method === 'string' && method !== MULTIPLE_REQUEST) answers.set(method, answer);
  return answers;
}

function methodAnswer(entry: Record<string, unknown>): MethodAnswer | undefined {
  const code = codeOf(entry['error_code']);
  if (Number.isNaN(code)) return undefined;
  if (code !== 0) return failure(entry, code);
  return { errorCode: 0, result: isRecord(entry['result']) ? entry['result'] : {} };
}

function failure(entry: Record<string, unknown>, code: number): MethodAnswer {
  const msg = entry['msg'];
  return { errorCode: code, ...(typeof msg === 'string' ? { msg } : {}) };
}

/**
 * A raw answer as method → result; a failed method as `{"error_code": n, "msg"?}`. A plain answer
 * is named only with its `request`; an answer failed as a whole (non-zero top-level code to a
 * multipleRequest) names no method and gives `{}`. A parent's answer to `control_child` reads as the
 * child's own answer. Already unwrapped input comes back the same.
 */
export function unwrapSmartAnswer(raw: Record<string, unknown>, request?: RequestData): Record<string, unknown> {
  if (!isRawAnswer(raw)) return raw;
  const out: Record<string, unknown> = {};
  for (const [method, answer] of answersOf(raw, request)) {
    out[method] = answer.errorCode === 0 ? answer.result : { error_code: answer.errorCode, ...(answer.msg !== undefined ? { msg: answer.msg } : {}) };
  }
  return out;
}

/** The result of `method`, or undefined when it was not answered or answered with an error. */
export function smartResult(response: Record<string, unknown>, method: string): Record<string, unknown> | undefined {
  const answer = answersOf(response).get(method);
  return answer?.errorCode === 0 ? answer.result : undefined;
}

/** The whole request failed (a non-zero top-level code): none of its methods ran. */
export function requestFailure(response: Record<string, unknown>): MethodAnswer | undefined {
  if (!isRawAnswer(response)) return undefined;
  const child = childAnswerOf(response);
  if (child) return requestFailure(child);
  const code = codeOf(response['error_code']);
  return code === 0 || Number.isNaN(code) ? undefined : failure(response, code);
}
