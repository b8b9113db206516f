/**
 * Firmware updates the Kasa cloud offers a device: the cloud module's `get_intl_fw_list`
 * (`cnCloud` on plug-family firmware, `smartlife.iot.common.cloud` on bulbs and light strips).
 * Its answer is `{"fw_list": [...]}`, empty when the device is up to date; each entry carries
 * `fwVer`, `fwUrl`, `fwType`, `fwTitle`, `fwReleaseLog`, `fwReleaseDate`… (python-kasa fixtures
 * KL130(EU) 1.8.8, KL430(US) 2.0 1.0.11, KS200M(US) 1.0.10; docs/protocol.md, "Passthrough").
 * Read-only: installing is left to the Kasa app.
 */
import type { FirmwareUpdateState, NodeState } from '../../api/types.js';
import type { DeviceModule } from '../module.js';
import { isRecord } from '../../isRecord.js';
import { methodResult, nonEmptyString } from '../reply.js';
import { cloudModuleOf } from './cloud.js';

const FW_LIST = 'get_intl_fw_list';

interface OfferedFirmware {
  version: string;
  title?: string;
  releaseNotes?: string;
}

export const firmware: DeviceModule = {
  name: 'firmware',
  family: 'iot',
  appliesTo: (node) => node.protocol === 'iot' && node.parentId === undefined,
  keys: ['update'],
  optional: true,
  read: {
    cadence: 'daily',
    request: (node) => ({ [cloudModuleOf(node)]: { [FW_LIST]: {} } }),
  },
  parse(node, { response, sysinfo }): NodeState | undefined {
    const list = methodResult(response, cloudModuleOf(node), FW_LIST)?.['fw_list'];
    if (!Array.isArray(list)) return undefined;
    // The running version from this reply's sysinfo when it has one: after an update it is newer than the device list's.
    const installed = nonEmptyString(sysinfo?.['sw_ver']) ?? node.fw;
    return { update: updateState(installed, newest(list.flatMap(offered))) };
  },
  entities: () => [
    {
      platform: 'update',
      id: 'firmware',
      stateKey: 'update',
      config: {
        name: 'Firmware',
        device_class: 'firmware',
        entity_category: 'diagnostic',
        // `value_json['update']`, not `.update`: on a dict the attribute form finds the method `update`.
        // HA reads `release_summary` up to 255 characters and ignores an empty rendering. `fwTitle`
        // ("a new firmware is available…") is a notice, not the software's title HA means: not passed.
        value_template:
          "{% set u = value_json['update'] | default(none) %}{% if u %}" +
          "{% set d = {'installed_version': u.installed_version | default(none), 'latest_version': u.latest_version | default(none)} %}" +
          '{% if u.release_notes is defined %}{% set d = dict(d, release_summary=u.release_notes[:255]) %}{% endif %}' +
          '{{ d | to_json }}{% endif %}',
      },
    },
  ],
};

function updateState(installed: string | undefined, offer: OfferedFirmware | undefined): FirmwareUpdateState {
  const newer = offer !== undefined && (installed === undefined || compareFirmware(offer.version, installed) > 0);
  if (!newer) {
    // Up to date (or offered something not newer): HA shows an update whenever the two versions differ.
    return { state: 'idle', ...(installed !== undefined ? { installed_version: installed, latest_version: installed } : {}) };
  }
  return {
    state: 'available',
    ...(installed !== undefined ? { installed_version: installed } : {}),
    latest_version: offer.version,
    ...(offer.title !== undefined ? { title: offer.title } : {}),
    ...(offer.releaseNotes !== undefined ? { release_notes: offer.releaseNotes } : {}),
  };
}

function offered(entry: unknown): OfferedFirmware[] {
  if (!isRecord(entry)) return [];
  const version = nonEmptyString(entry['fwVer']);
  if (version === undefined) return [];
  const title = nonEmptyString(entry['fwTitle']);
  const releaseNotes = nonEmptyString(entry['fwReleaseLog']);
  return [{ version, ...(title !== undefined ? { title } : {}), ...(releaseNotes !== undefined ? { releaseNotes } : {}) }];
}

function newest(offers: readonly OfferedFirmware[]): OfferedFirmware | undefined {
  return offers.reduce<OfferedFirmware | undefined>((best, o) => (best === undefined || compareFirmware(o.version, best.version) > 0 ? o : best), undefined);
}

/**
 * Orders Kasa firmware versions such as `1.0.12 Build 240227 Rel.160022`: the dotted version, then
 * the build date and the release number. Versions of another shape compare by those numbers in order.
 */
export function compareFirmware(a: string, b: string): number {
  const na = numbersOf(a);
  const nb = numbersOf(b);
  for (let i = 0; i < Math.max(na.length, nb.length); i++) {
    const diff = (na[i] ?? 0) - (nb[i] ?? 0);
    if (diff !== 0) return Math.sign(diff);
  }
  return 0;
}

function numbersOf(version: string): number[] {
  return (version.match(/\d+/g) ?? []).map(Number);
}
