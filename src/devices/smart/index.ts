/**
 * The `smart` family (Tapo and the Kasa models on the Tapo protocol): its module table and its wire
 * shape (wire.ts). Requests always go as one `multipleRequest`, setters first; answers are read as
 * method → result, a failed method keeping its place as `{"error_code": n}`.
 */
import type { DeviceModule } from '../module.js';
import type { ProtocolSpec } from '../protocols.js';
import type { RefusedMethod } from '../reply.js';
import { smartAutoOff } from './autoOff.js';
import { smartBrightness } from './brightness.js';
import { smartChildLock } from './childLock.js';
import { smartChildren } from './children.js';
import { smartColor } from './color.js';
import { smartColorTemperature } from './colorTemperature.js';
import { childEntryOf } from './deviceInfo.js';
import { smartEmeter } from './emeter.js';
import { smartEnergy } from './energy.js';
import { smartFirmware } from './firmware.js';
import { smartLastSeen } from './lastSeen.js';
import { smartLed } from './led.js';
import { smartOnOff } from './onOff.js';
import { smartOnSince } from './onSince.js';
import { smartOvercurrent, smartOverheat, smartOverload } from './protection.js';
import { smartRestart } from './restart.js';
import { smartRssi } from './rssi.js';
import { answersOf, callsOf, combineParts, controlChild, isRead, requestFailure, unwrapSmartAnswer } from './wire.js';

/**
 * The smart module table: one line per capability. Order: state keys and entities appear in it,
 * and reads are asked in it. Colour follows colour temperature (a set giving both shows the
 * colour); reads some models lack come last, as a device skips the methods after a failed one.
 */
export const SMART_MODULES: readonly DeviceModule[] = [
  smartOnOff,
  smartBrightness,
  smartColorTemperature,
  smartColor,
  smartChildren,
  smartEnergy,
  smartRssi,
  smartLed,
  smartRestart,
  smartOnSince,
  smartAutoOff,
  smartOverheat,
  smartOvercurrent,
  smartOverload,
  smartLastSeen,
  smartFirmware,
  smartChildLock,
  smartEmeter,
];

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
  // A child's request goes to its parent inside `control_child` (wire.ts).
  address: (node, request) => (node.parentId === undefined ? request : controlChild(node.id, request)),
  unwrap: (raw) => unwrapSmartAnswer(raw),
  reply(node, response, base) {
    const child = node.parentId === undefined ? undefined : childEntryOf(response, node.id);
    return { response, ...base, ...(child ? { child } : {}) };
  },
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
