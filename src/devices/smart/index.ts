/**
 * The `smart` family (Tapo and the Kasa models on the Tapo protocol): its module table and its wire
 * shape (wire.ts). Requests always go as one `multipleRequest`, setters first; answers are read as
 * method → result, a failed method keeping its place as `{"error_code": n}`.
 */
import type { DeviceModule } from '../module.js';
import type { ProtocolSpec } from '../protocols.js';
import type { RefusedMethod } from '../reply.js';
import { smartOnOff } from './onOff.js';
import { answersOf, callsOf, combineParts, isRead, requestFailure, unwrapSmartAnswer } from './wire.js';

/** The smart module table: one line per capability. Order: state keys and entities appear in it. */
export const SMART_MODULES: readonly DeviceModule[] = [smartOnOff];

/**
 * Codes meaning "this model has no such method" (python-kasa `SmartErrorCode`): -1002
 * UNKNOWN_METHOD_ERROR, and -1008 PARAMS_ERROR, which python-kasa's energy module also takes as
 * "method missing" (a KS240 answers it for a method its parent lacks).
 */
const LACKS_CODES = new Set([-1002, -1008]);

export const SMART_PROTOCOL: ProtocolSpec = {
  family: 'smart',
  modules: SMART_MODULES,
  combine: combineParts,
  // Children (`control_child`) come with the SMART devices themselves (issue 19).
  address: (_node, request) => request,
  unwrap: (raw) => unwrapSmartAnswer(raw),
  reply: (_node, response, base) => ({ response, ...base }),
  refusedSetters(request, response) {
    const answers = answersOf(response, request);
    const whole = requestFailure(response);
    const refused: RefusedMethod[] = [];
    for (const { method } of callsOf(request)) {
      if (isRead(method)) continue;
      const answer = answers.get(method) ?? whole;
      if (answer === undefined || answer.errorCode === 0) continue;
      refused.push({ module: 'smart', method, errCode: answer.errorCode, ...(answer.msg !== undefined ? { errMsg: answer.msg } : {}) });
    }
    return refused;
  },
  lacks(read, response) {
    const answers = answersOf(response, read);
    const calls = callsOf(read);
    return calls.length > 0 && calls.every(({ method }) => LACKS_CODES.has(answers.get(method)?.errorCode ?? 0));
  },
};
