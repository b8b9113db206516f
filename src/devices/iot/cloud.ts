/**
 * The device's own view of its Kasa cloud connection: the cloud module's `get_info` (`cnCloud` on
 * plug-family firmware, `smartlife.iot.common.cloud` on bulbs and light strips). Its answer carries
 * `binded` (bound to an account), `cld_connection` (connected now), `server`, and `username`,
 * `fwDlPage`, `fwNotifyType`, `illegalType`, `stopConnect`, `tcspInfo`, `tcspStatus` (python-kasa
 * `kasa/iot/modules/cloud.py` and its fixtures, e.g. KP105(UK) 1.0.5 with `cld_connection` 0).
 * The account's user name stays out of the state.
 */
import type { CloudConnectionState, NodeState } from '../../api/types.js';
import type { DeviceModule } from '../module.js';
import type { DeviceNode } from '../node.js';
import { DEVICE_TYPE_BULB, familyOfNodeType } from '../familyTable.js';
import { methodResult, nonEmptyString } from '../reply.js';

const PLUG_CLOUD_MODULE = 'cnCloud';
const BULB_CLOUD_MODULE = 'smartlife.iot.common.cloud';

/** The device's cloud module: the name differs between plug-family and bulb firmware. */
export function cloudModuleOf(node: DeviceNode): string {
  return familyOfNodeType(node.type).deviceType === DEVICE_TYPE_BULB ? BULB_CLOUD_MODULE : PLUG_CLOUD_MODULE;
}

export const cloudConnection: DeviceModule = {
  name: 'cloud',
  family: 'iot',
  appliesTo: (node) => node.protocol === 'iot' && node.parentId === undefined,
  keys: ['cloud'],
  optional: true,
  read: {
    cadence: 'daily',
    request: (node) => ({ [cloudModuleOf(node)]: { get_info: {} } }),
  },
  parse(node, { response }): NodeState | undefined {
    const info = methodResult(response, cloudModuleOf(node), 'get_info');
    if (!info) return undefined;
    const connected = flag(info['cld_connection']);
    const bound = flag(info['binded']);
    const server = nonEmptyString(info['server']);
    const cloud: CloudConnectionState = {
      ...(connected !== undefined ? { connected } : {}),
      ...(bound !== undefined ? { bound } : {}),
      ...(server !== undefined ? { server } : {}),
    };
    return { cloud };
  },
  entities: () => [
    {
      platform: 'binary_sensor',
      id: 'cloud_connection',
      stateKey: 'cloud',
      config: {
        name: 'Cloud connection',
        device_class: 'connectivity',
        entity_category: 'diagnostic',
        enabled_by_default: false,
        // Nothing rendered (ignored by HA) while the device has not said whether it is connected.
        value_template: "{% if value_json.cloud is defined and value_json.cloud.connected is defined %}{{ 'ON' if value_json.cloud.connected else 'OFF' }}{% endif %}",
        payload_on: 'ON',
        payload_off: 'OFF',
      },
    },
  ],
};

/** `1`/`0` as firmware answers it; python-kasa also reads `binded` as a boolean. */
function flag(value: unknown): boolean | undefined {
  if (value === 1 || value === true) return true;
  if (value === 0 || value === false) return false;
  return undefined;
}
