/**
 * The Tapo-only endpoints `/api/v2/common/<name>` (docs/protocol.md, "Simulator"): the paged
 * device list and the V2 passthrough that carries SMART requests. The server has already checked
 * that the request is signed with the Tapo key and names the Tapo app.
 */
import { ok, type Answer, type ApiRequest, type Cloud } from '../cloud.js';
import { SmartDevice } from '../devices/index.js';
import { CloudError, fail, Msg } from '../errors.js';
import { isRecord } from '../../isRecord.js';
import { delay, type JsonObject } from '../util.js';
import type { Handler } from './account.js';
import { listEntry, messageFor, parseObject } from './methods.js';

export const COMMON_ENDPOINTS: Record<string, Handler> = {
  getDeviceListByPage,
  passthrough,
};

const MAX_PAGE = 100;

function intField(body: JsonObject, name: string, min: number, max: number): number {
  const value = body[name];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) fail(CloudError.parameterMissing, Msg.parameter);
  return value;
}

/** `{index, limit, deviceTypeList}` → `{totalNum, deviceList}`: the account's SMART devices of those types. */
function getDeviceListByPage(cloud: Cloud, req: ApiRequest): Answer {
  const { account } = cloud.authenticate(req.query, 'tapo');
  req.log.username = account.username;
  cloud.throttle(account.username);
  cloud.requireHost(req.role, ['regional']);
  const index = intField(req.body, 'index', 0, Number.MAX_SAFE_INTEGER);
  const limit = intField(req.body, 'limit', 1, MAX_PAGE);
  const types = req.body.deviceTypeList;
  if (!Array.isArray(types) || types.length === 0 || !types.every((t): t is string => typeof t === 'string')) {
    fail(CloudError.parameterMissing, Msg.parameter);
  }
  const matching = cloud.devices(account.username).filter((d) => d instanceof SmartDevice && types.includes(d.info.deviceType));
  return ok({ totalNum: matching.length, deviceList: matching.slice(index, index + limit).map((d) => listEntry(cloud, d)) });
}

/**
 * `{deviceId, requestData}`: requestData is the SMART request as a JSON object or as its JSON
 * text; `responseData` comes back in the same form. Answers -20571 for a device the grant switch
 * keeps this path from, a device that is not SMART, offline or rebooting.
 */
async function passthrough(cloud: Cloud, req: ApiRequest): Promise<Answer> {
  const { account } = cloud.authenticate(req.query, 'tapo');
  req.log.username = account.username;
  cloud.throttle(account.username);
  cloud.requireHost(req.role, ['regional']);

  const deviceId = req.body.deviceId;
  if (typeof deviceId !== 'string' || deviceId === '') fail(CloudError.parameterMissing, Msg.parameter);
  req.log.deviceId = deviceId;
  const device = cloud.ownedDevice(account.username, deviceId);
  if (!device) fail(cloud.codes.deviceNotOwned, messageFor(cloud.codes.deviceNotOwned));

  const raw = req.body.requestData;
  if (raw === undefined || raw === null) fail(CloudError.requestDataMissing, Msg.requestDataMissing);
  req.log.requestData = raw;
  const asText = typeof raw === 'string';
  const request = asText ? parseObject(raw) : isRecord(raw) ? raw : undefined;
  if (!request) fail(cloud.codes.badRequestData, messageFor(cloud.codes.badRequestData));
  req.log.requestData = request;

  if (!(device instanceof SmartDevice) || !cloud.grants('passthrough') || !device.online) {
    fail(CloudError.deviceOffline, Msg.deviceOffline);
  }
  await device.untilAnswering('passthrough', cloud.stopped);
  await delay(device.latencyMs + cloud.faults.holdPassthroughMs, cloud.timers);
  if (!device.reachable) fail(CloudError.deviceOffline, Msg.deviceOffline);
  const reply = device.smartRequest(request);
  return ok({ responseData: asText ? JSON.stringify(reply) : reply });
}
