import { ok, paramsObject, requireAppType, type Answer, type ApiRequest, type Cloud } from '../cloud.js';
import { CloudError, fail, Msg } from '../errors.js';
import { isRecord } from '../../isRecord.js';
import { delay, type JsonObject } from '../util.js';
import { refreshToken, type Handler } from './account.js';
import type { SimDevice } from '../devices/index.js';

/** `method` values the `/` endpoint implements; others answer -20103. */
export const METHODS: Record<string, Handler> = {
  getDeviceList,
  passthrough,
  refreshToken: (cloud, req) => refreshToken(cloud, req, paramsObject(req.body)),
};

/** V2 clients send no appType in params; one that is present must still be the Kasa app. */
function checkParams(cloud: Cloud, req: ApiRequest): JsonObject {
  const params = paramsObject(req.body);
  requireAppType(cloud, req, params, false);
  return params;
}

function getDeviceList(cloud: Cloud, req: ApiRequest): Answer {
  checkParams(cloud, req);
  const { account } = cloud.authenticate(req.query);
  req.log.username = account.username;
  cloud.throttle(account.username);
  cloud.requireHost(req.role, ['regional']);
  if (cloud.faults.emptyDeviceList) return ok({ deviceList: [] });
  const deviceList = cloud.devices(account.username).map((device) => {
    const entry = listEntry(cloud, device);
    return cloud.faults.smartListedOffline && device.family === 'smart' ? { ...entry, status: 0 } : entry;
  });
  return ok({ deviceList });
}

/** One device-list entry (docs/protocol.md, "Device list"); the Tapo list uses the same fields. */
export function listEntry(cloud: Cloud, device: SimDevice): JsonObject {
  return {
    ...device.listFields(),
    appServerUrl: cloud.deviceUrl(device),
    deviceRegion: device.host === 1 ? 'eu-west-1' : 'us-east-1',
    isSameRegion: device.host !== 1,
    status: device.online ? 1 : 0,
  };
}

async function passthrough(cloud: Cloud, req: ApiRequest): Promise<Answer> {
  const params = checkParams(cloud, req);
  const { account } = cloud.authenticate(req.query);
  req.log.username = account.username;
  cloud.throttle(account.username);

  const deviceId = params.deviceId;
  if (typeof deviceId !== 'string' || deviceId === '') fail(CloudError.parameterMissing, Msg.parameter);
  req.log.deviceId = deviceId;
  const device = cloud.ownedDevice(account.username, deviceId);
  if (!device) fail(cloud.codes.deviceNotOwned, messageFor(cloud.codes.deviceNotOwned));

  const raw = params.requestData;
  if (raw === undefined || raw === null) fail(CloudError.requestDataMissing, Msg.requestDataMissing);
  req.log.requestData = raw;
  if (typeof raw !== 'string') fail(cloud.codes.badRequestData, messageFor(cloud.codes.badRequestData));
  const request = parseObject(raw);
  if (!request) fail(cloud.codes.badRequestData, messageFor(cloud.codes.badRequestData));
  req.log.requestData = request;

  // Strict: a device is reachable only through its own appServerUrl (possibly another region).
  if (cloud.strict && req.role !== cloud.roleOfDevice(device)) {
    fail(cloud.codes.wrongDeviceHost, messageFor(cloud.codes.wrongDeviceHost));
  }
  // SMART devices are listed but the Kasa passthrough cannot reach them (docs/protocol.md, "Passthrough").
  if (!device.online || device.family === 'smart') fail(CloudError.deviceOffline, Msg.deviceOffline);

  await delay(device.latencyMs + cloud.faults.holdPassthroughMs, cloud.timers);
  if (!device.online) fail(CloudError.deviceOffline, Msg.deviceOffline);
  // A rebooting device is listed online but cannot be reached for a few seconds.
  if (!device.reachable) fail(CloudError.deviceOffline, Msg.deviceOffline);
  const reply = device.execute(request);
  return ok({ responseData: cloud.faults.responseDataAsObject ? reply : JSON.stringify(reply) });
}

export function parseObject(text: string): JsonObject | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

export function messageFor(code: number): string {
  return code === CloudError.deviceOffline ? Msg.deviceOffline : Msg.parameter;
}
