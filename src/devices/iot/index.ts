/**
 * The `iot` family (the classic Kasa passthrough, docs/protocol.md "Passthrough"): its module
 * table and its wire shape `{"<module>": {"<method>": args}, "context": {"child_ids": [...]}}`.
 */
import type { DeviceModule } from '../module.js';
import type { ProtocolSpec } from '../protocols.js';
import { isRecord } from '../../isRecord.js';
import { isNotSupportedCode, methodFailure, refusedSetters, sysinfoOf } from '../reply.js';
import { mergeRequests } from './merge.js';
import { normaliseChildId } from '../childId.js';
import { allOutlets } from './allOutlets.js';
import { clock } from './clock.js';
import { cloudConnection } from './cloud.js';
import { countdown } from './countdown.js';
import { dimmer } from './dimmer.js';
import { effect } from './effect.js';
import { energy, outletEnergy } from './energy.js';
import { firmware } from './firmware.js';
import { lastSeen } from './lastSeen.js';
import { led } from './led.js';
import { light } from './light.js';
import { onSince } from './onSince.js';
import { outlets } from './outlets.js';
import { relay } from './relay.js';
import { restart } from './restart.js';
import { rssi } from './rssi.js';

/** The iot module table: one line per capability. Order: state keys and entities appear in it. */
export const IOT_MODULES: readonly DeviceModule[] = [
  relay,
  dimmer,
  light,
  outlets,
  energy,
  outletEnergy,
  clock,
  rssi,
  led,
  restart,
  countdown,
  allOutlets,
  effect,
  onSince,
  lastSeen,
  firmware,
  cloudConnection,
];

export const IOT_PROTOCOL: ProtocolSpec = {
  family: 'iot',
  modules: IOT_MODULES,
  combine: (parts) => mergeRequests(...parts),
  address: (node, request) => {
    const { context: _context, ...rest } = request;
    return { ...rest, context: { child_ids: [node.id] } };
  },
  unwrap: (raw) => raw,
  reply(node, response, base) {
    const sysinfo = sysinfoOf(response);
    const reply = { response, ...base, ...(sysinfo ? { sysinfo } : {}) };
    if (node.parentId === undefined || !sysinfo) return reply;
    const children = Array.isArray(sysinfo['children']) ? sysinfo['children'] : [];
    const child = children.find(
      (c): c is Record<string, unknown> =>
        isRecord(c) && (typeof c['id'] === 'string' || typeof c['id'] === 'number') && normaliseChildId(node.parentId!, String(c['id'])) === node.id,
    );
    return child ? { ...reply, child } : reply;
  },
  refusedSetters: (request, response) => refusedSetters(request, response),
  lacks(read, response) {
    for (const [module, body] of Object.entries(read)) {
      if (module === 'context' || !isRecord(body)) continue;
      for (const method of Object.keys(body)) {
        const failure = methodFailure(response, module, method);
        if (!failure || !isNotSupportedCode(Number(failure['err_code']))) return false;
      }
    }
    return true;
  },
};
