/**
 * iot nodes built by hand, as buildNodes will build them once it sets `protocol` and `modules`
 * (mid-rewrite it does not yet): the module list comes from the iot table (protocols.ts).
 */
import type { NodeType } from '../../src/api/types.js';
import type { DeviceNode } from '../../src/devices/node.js';
import { IOT_PROTOCOL } from '../../src/devices/iot/index.js';
import { applicableModules } from '../../src/devices/protocols.js';
import type { ModuleReply } from '../../src/devices/module.js';

export function iotNode(type: NodeType, model: string, extra: Partial<DeviceNode> = {}): DeviceNode {
  const id = extra.deviceId ?? 'A0B1C2D3E4F5A0B1C2D3E4F5A0B1C2D3E4F50001';
  const node: DeviceNode = {
    id,
    key: model.toLowerCase().replace(/\W+/g, '_'),
    alias: model,
    name: model,
    model,
    type,
    capabilities: ['onoff'],
    protocol: 'iot',
    modules: [],
    deviceId: id,
    online: true,
    ...extra,
  };
  return { ...node, modules: applicableModules('iot', node) };
}

/** An outlet of `strip`, as the strip's nodes carry them. */
export function outletOf(strip: DeviceNode, index: number): DeviceNode {
  const id = `${strip.id}${String(index).padStart(2, '0')}`;
  return iotNode('outlet', strip.model, { id, deviceId: strip.id, parentId: strip.id, key: `${strip.key}_plug_${index + 1}` });
}

/** A device answer as the iot family hands it to its modules. */
export function iotReply(node: DeviceNode, response: Record<string, unknown>): ModuleReply {
  return IOT_PROTOCOL.reply(node, response, { targeted: false, now: new Date('2026-12-01T12:00:00Z') });
}
