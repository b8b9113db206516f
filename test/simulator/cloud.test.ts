/**
 * The simulated devices' cloud module, strictly per model: `cnCloud` on plug-family firmware,
 * `smartlife.iot.common.cloud` on bulbs and light strips, the device's "not supported" answers for
 * the other name and for unknown methods, old models without a firmware list, and a firmware on
 * offer that a test sets per device (at creation or at run time).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/simulator/index.js';
import type { SimDeviceSpec, Simulator } from '../../src/simulator/types.js';
import { login, passthrough } from './client.js';

const USER = { username: 'cloud@example.com', password: 'cloud-Pa55' };
const id = (n: number): string => `C10D0000E5F6A1B2C3D4E5F6A1B2C3D4E5F6${String(n).padStart(4, '0')}`;
const OFFER = { version: '1.0.12 Build 240227 Rel.160022', releaseNotes: 'Fixed the colour painting.', releaseDate: '2026-05-04' };
const D = {
  plug: { deviceId: id(1), model: 'HS103(US)', alias: 'Desk' },
  strip: { deviceId: id(2), model: 'KP303(US)', alias: 'Strip' },
  bulb: { deviceId: id(3), model: 'KL130(US)', alias: 'Lamp' },
  lightStrip: { deviceId: id(4), model: 'KL430(US)', alias: 'TV', availableFirmware: OFFER },
  oldPlug: { deviceId: id(5), model: 'HS100(US)', alias: 'Old plug' },
  oldBulb: { deviceId: id(6), model: 'KL50(US)', alias: 'Old bulb' },
} satisfies Record<string, SimDeviceSpec>;

const PLUG_CLOUD = 'cnCloud';
const BULB_CLOUD = 'smartlife.iot.common.cloud';

let sim: Simulator;
let token: string;
beforeAll(async () => {
  sim = await startSimulator({ accounts: [{ ...USER, devices: Object.values(D) }] });
  ({ token } = await login(sim, USER.username, USER.password));
});
afterAll(async () => {
  await sim.stop();
});

const run = (deviceId: string, requestData: unknown) => passthrough(sim, token, deviceId, requestData);
const ask = { get_info: {}, get_intl_fw_list: {} };

describe('cloud module names', () => {
  it.each([
    ['plug', D.plug.deviceId],
    ['strip', D.strip.deviceId],
  ])('a %s answers cnCloud, and -1 for the bulb module', async (_kind, deviceId) => {
    const { reply } = await run(deviceId, { [PLUG_CLOUD]: ask, [BULB_CLOUD]: ask });
    expect(reply[PLUG_CLOUD].get_info).toMatchObject({ err_code: 0, binded: 1, cld_connection: 1, server: expect.any(String) });
    expect(reply[PLUG_CLOUD].get_intl_fw_list).toEqual({ err_code: 0, fw_list: [] });
    expect(reply[BULB_CLOUD]).toEqual({ err_code: -1, err_msg: 'module not support' });
  });

  it('a bulb answers smartlife.iot.common.cloud, and -2001 for cnCloud', async () => {
    const { reply } = await run(D.bulb.deviceId, { [PLUG_CLOUD]: ask, [BULB_CLOUD]: ask });
    expect(reply[BULB_CLOUD].get_info).toMatchObject({ err_code: 0, binded: 1, cld_connection: 1 });
    expect(reply[BULB_CLOUD].get_intl_fw_list).toEqual({ err_code: 0, fw_list: [] });
    // Bulb firmware's answer for any module it lacks (docs/protocol.md, "Passthrough").
    expect(reply[PLUG_CLOUD]).toEqual({ err_code: -2001, err_msg: 'Module not support' });
  });

  it('answers -2 for a method the cloud module does not have', async () => {
    const plug = await run(D.plug.deviceId, { [PLUG_CLOUD]: { get_firmware: {} } });
    expect(plug.reply[PLUG_CLOUD].get_firmware).toEqual({ err_code: -2, err_msg: 'member not support' });
    const bulb = await run(D.bulb.deviceId, { [BULB_CLOUD]: { get_firmware: {} } });
    expect(bulb.reply[BULB_CLOUD].get_firmware).toEqual({ err_code: -2, err_msg: 'member not support' });
  });
});

describe('models without a firmware list', () => {
  it.each([
    ['HS100', D.oldPlug.deviceId, PLUG_CLOUD],
    ['KL50', D.oldBulb.deviceId, BULB_CLOUD],
  ])('%s answers get_info but -2 for get_intl_fw_list', async (_model, deviceId, module) => {
    const { reply } = await run(deviceId, { [module]: ask });
    expect(reply[module].get_info.err_code).toBe(0);
    expect(reply[module].get_intl_fw_list).toEqual({ err_code: -2, err_msg: 'member not support' });
  });

  it('an offered firmware does not make the list appear on such a model', async () => {
    sim.device(D.oldPlug.deviceId).availableFirmware = OFFER;
    const { reply } = await run(D.oldPlug.deviceId, { [PLUG_CLOUD]: { get_intl_fw_list: {} } });
    expect(reply[PLUG_CLOUD].get_intl_fw_list.err_code).toBe(-2);
    sim.device(D.oldPlug.deviceId).availableFirmware = undefined;
  });
});

describe('firmware on offer', () => {
  it('lists the firmware a device was created with, in the published entry shape', async () => {
    const { reply } = await run(D.lightStrip.deviceId, { [BULB_CLOUD]: { get_intl_fw_list: null } });
    const answer = reply[BULB_CLOUD].get_intl_fw_list;
    expect(answer.err_code).toBe(0);
    expect(answer.fw_list).toEqual([
      {
        fwType: expect.any(Number),
        fwVer: OFFER.version,
        fwUrl: expect.stringMatching(/^http:\/\/.+\.bin$/),
        fwLocation: 0,
        fwReleaseDate: OFFER.releaseDate,
        fwReleaseLog: OFFER.releaseNotes,
        fwReleaseLogUrl: expect.any(String),
        fwTitle: expect.any(String),
      },
    ]);
  });

  it('follows the firmware a test sets or clears at run time', async () => {
    const plug = sim.device(D.plug.deviceId);
    plug.availableFirmware = { version: '1.1.4 Build 210901 Rel.102030' };
    const offered = await run(D.plug.deviceId, { [PLUG_CLOUD]: { get_intl_fw_list: {} } });
    expect(offered.reply[PLUG_CLOUD].get_intl_fw_list.fw_list).toEqual([
      expect.objectContaining({ fwVer: '1.1.4 Build 210901 Rel.102030', fwReleaseLog: expect.any(String), fwReleaseDate: expect.stringMatching(/^\d{4}-\d\d-\d\d$/) }),
    ]);
    plug.availableFirmware = undefined;
    const cleared = await run(D.plug.deviceId, { [PLUG_CLOUD]: { get_intl_fw_list: {} } });
    expect(cleared.reply[PLUG_CLOUD].get_intl_fw_list).toEqual({ err_code: 0, fw_list: [] });
  });
});
