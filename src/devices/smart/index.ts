/** The `smart` family (Tapo and the Kasa models on the Tapo protocol): filled by its modules. */
import type { DeviceModule } from '../module.js';
import type { ProtocolSpec } from '../protocols.js';

export const SMART_MODULES: readonly DeviceModule[] = [];

export const SMART_PROTOCOL: ProtocolSpec = {
  family: 'smart',
  modules: SMART_MODULES,
  combine: (parts) => Object.assign({}, ...parts) as Record<string, unknown>,
  address: (_node, request) => request,
  unwrap: (raw) => raw,
  reply: (_node, response, base) => ({ response, ...base }),
  refusedSetters: () => [],
  lacks: () => false,
};
