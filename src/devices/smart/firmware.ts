/**
 * Firmware the cloud offers a SMART device (component `firmware`): `get_latest_fw`, read daily
 * (python-kasa checks it at most once a day too). Its answer carries `type` (0: nothing newer),
 * `need_to_upgrade`, `fw_ver` (the offered version; the running one when up to date),
 * `release_note`, `release_date`, `fw_size` (python-kasa `kasa/smart/modules/firmware.py`,
 * `UpdateInfo`). The same `update` key and entity as the iot firmware module; installing is left
 * to the app.
 */
import type { FirmwareUpdateState, NodeState } from '../../api/types.js';
import type { DeviceModule } from '../module.js';
import { compareFirmware, firmware as iotFirmware } from '../iot/firmware.js';
import { finiteNumber, nonEmptyString } from '../reply.js';
import { hasComponent } from './components.js';
import { smartResult } from './wire.js';

export const smartFirmware: DeviceModule = {
  name: 'firmware',
  family: 'smart',
  appliesTo: (node) => node.parentId === undefined && hasComponent(node, 'firmware'),
  keys: ['update'],
  optional: true,
  read: { cadence: 'daily', request: () => ({ get_latest_fw: null }) },
  parse(node, { response }): NodeState | undefined {
    const latest = smartResult(response, 'get_latest_fw');
    if (!latest) return undefined;
    // The running version from this reply's device info when it has one: after an update it is newer than the node's.
    const installed = nonEmptyString(smartResult(response, 'get_device_info')?.['fw_ver']) ?? node.fw;
    const offered = nonEmptyString(latest['fw_ver']);
    const flagged = latest['need_to_upgrade'] === true || (finiteNumber(latest['type']) ?? 0) !== 0;
    const newer = offered !== undefined && flagged && (installed === undefined || compareFirmware(offered, installed) > 0);
    return { update: newer ? available(installed, offered, nonEmptyString(latest['release_note'])) : idle(installed) };
  },
  entities: (node) => iotFirmware.entities?.(node) ?? [],
};

function idle(installed: string | undefined): FirmwareUpdateState {
  return { state: 'idle', ...(installed !== undefined ? { installed_version: installed, latest_version: installed } : {}) };
}

function available(installed: string | undefined, latest: string, notes: string | undefined): FirmwareUpdateState {
  return {
    state: 'available',
    ...(installed !== undefined ? { installed_version: installed } : {}),
    latest_version: latest,
    ...(notes !== undefined ? { release_notes: notes } : {}),
  };
}
