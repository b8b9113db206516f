import type { Account, MfaProcess } from '../accounts.js';
import {
  ok,
  optionalString,
  requireAppType,
  requireSameTerminal,
  requireString,
  type Answer,
  type ApiRequest,
  type Cloud,
} from '../cloud.js';
import { CloudError, fail, Msg } from '../errors.js';
import type { JsonObject } from '../util.js';

export type Handler = (cloud: Cloud, req: ApiRequest) => Answer | Promise<Answer>;

const MFA_PUSH = 1;
const MFA_EMAIL = 2;

/** `/api/v2/account/<name>` endpoints the simulator implements; other names answer -20103. */
export const ACCOUNT_ENDPOINTS: Record<string, Handler> = {
  getAccountStatusAndUrl,
  login,
  getEmailVC4TerminalMFA: (cloud, req) => dispatchMfaCode(cloud, req, MFA_EMAIL),
  getPushVC4TerminalMFA: (cloud, req) => dispatchMfaCode(cloud, req, MFA_PUSH),
  checkMFACodeAndLogin,
  refreshToken: (cloud, req) => refreshToken(cloud, req, req.body),
  logout,
  getAccountInfo,
};

function getAccountStatusAndUrl(cloud: Cloud, req: ApiRequest): Answer {
  requireAppType(cloud, req.body);
  const username = requireString(req.body, 'cloudUserName');
  req.log.username = username;
  cloud.requireHost(req.role, ['global', 'regional']);
  const account = cloud.accounts.find(username);
  if (!account) fail(CloudError.accountNotFound, Msg.accountNotFound);
  cloud.throttle(account.username);
  const regional = cloud.urls.regional;
  return ok({
    accountApiUrl: regional,
    serviceRegion: 'us-east-1',
    appServerUrl: regional,
    appServerUrlV2: regional,
    status: 1,
  });
}

function login(cloud: Cloud, req: ApiRequest): Answer {
  const { body } = req;
  requireAppType(cloud, body);
  const username = requireString(body, 'cloudUserName');
  req.log.username = username;
  const password = requireString(body, 'cloudPassword');
  const terminalUUID = requireString(body, 'terminalUUID');
  requireSameTerminal(cloud, req, terminalUUID);
  // Strict: the global host knows the account lives elsewhere and says where (as the Tapo gateway does).
  cloud.requireHost(req.role, ['regional']);
  const account = cloud.accounts.find(username);
  if (!account) fail(CloudError.accountNotFound, Msg.accountNotFound);
  cloud.throttle(account.username);

  const outcome = cloud.accounts.checkPassword(account, password);
  if (outcome.kind === 'locked') fail(CloudError.accountLocked, Msg.accountLocked, { lockedMinutes: outcome.lockedMinutes });
  if (outcome.kind === 'wrong') {
    const { kind: _kind, ...counters } = outcome;
    fail(CloudError.wrongPassword, Msg.wrongPassword, counters);
  }
  const refreshTokenNeeded = body.refreshTokenNeeded === true;
  if (cloud.accounts.needsMfa(account, terminalUUID)) {
    const process = cloud.accounts.openMfaProcess(account, terminalUUID, refreshTokenNeeded);
    return mfaRequired(cloud, account, process);
  }
  return loginSuccess(cloud, account, terminalUUID, refreshTokenNeeded);
}

function mfaRequired(cloud: Cloud, account: Account, process: MfaProcess): Answer {
  const result = { MFAProcessId: process.id, supportedMFATypes: [...account.mfaTypes] };
  const nested = cloud.faults.nestedMfa;
  if (nested === false) fail(CloudError.mfaRequired, Msg.mfaRequired, result);
  const errorCode = nested === 'string' ? String(CloudError.mfaRequired) : CloudError.mfaRequired;
  return {
    envelope: { error_code: 0, result: { errorCode, errorMsg: Msg.mfaRequired, ...result } },
    logCode: CloudError.mfaRequired,
  };
}

/** The union of the success shapes seen (docs/protocol.md, "Login"); clients should read only token/refreshToken. */
function loginSuccess(cloud: Cloud, account: Account, terminalUUID: string, withRefresh: boolean): Answer {
  const issued = cloud.tokens.issue(account.username, terminalUUID, withRefresh);
  const result: JsonObject = {
    accountId: account.accountId,
    regTime: account.regTime,
    countryCode: 'US',
    regionCode: 'US',
    email: account.username,
    nickname: account.username.split('@')[0] ?? account.username,
    token: issued.token,
    ...(issued.refreshToken !== undefined ? { refreshToken: issued.refreshToken } : {}),
    appServerUrl: cloud.urls.regional,
    appServerUrlV2: cloud.urls.regional,
    riskDetected: false,
    errorCode: '0',
  };
  return ok(result);
}

/** Finds the live MFA process an MFA call refers to: by id (either spelling) or by user + terminal. */
function mfaProcessFor(cloud: Cloud, req: ApiRequest): MfaProcess {
  const { body } = req;
  const processId = optionalString(body, 'MFAProcessId') ?? optionalString(body, 'mfaProcessId');
  const username = optionalString(body, 'cloudUserName');
  if (username !== undefined) req.log.username = username;
  const bodyTerminal = optionalString(body, 'terminalUUID');
  if (bodyTerminal !== undefined) requireSameTerminal(cloud, req, bodyTerminal);
  const terminalUUID = bodyTerminal ?? req.query.get('termID') ?? undefined;
  if (processId === undefined && username === undefined) fail(CloudError.parameterMissing, Msg.parameter);

  const process =
    processId !== undefined
      ? cloud.accounts.findProcess({ id: processId })
      : cloud.accounts.findProcess({ ...(username !== undefined ? { username } : {}), ...(terminalUUID !== undefined ? { terminalUUID } : {}) });
  if (!process) fail(cloud.codes.mfaNoProcess, Msg.mfaNoProcess);
  req.log.username = process.username;
  const sameUser = username === undefined || username.toLowerCase() === process.username.toLowerCase();
  // The code is bound to the terminal that logged in (docs/protocol.md, "MFA").
  if (!sameUser || terminalUUID !== process.terminalUUID) fail(cloud.codes.mfaNoProcess, Msg.mfaNoProcess);
  return process;
}

function dispatchMfaCode(cloud: Cloud, req: ApiRequest, type: number): Answer {
  requireAppType(cloud, req.body);
  cloud.requireHost(req.role, ['regional']);
  const process = mfaProcessFor(cloud, req);
  const account = cloud.accounts.get(process.username);
  cloud.throttle(account.username);
  const password = optionalString(req.body, 'cloudPassword');
  if (password !== undefined && password !== account.password) fail(CloudError.wrongPassword, Msg.wrongPassword);
  if (!account.mfaTypes.includes(type)) fail(CloudError.parameterMissing, Msg.parameter);
  cloud.accounts.dispatchCode(process);
  return ok({ errorCode: 0 });
}

/** Accepts `MFAType` as an int (1 push, 2 e-mail) or `mfaType` as "push"/"email". */
function mfaTypeOf(body: JsonObject): number | undefined {
  const raw = body.MFAType ?? body.mfaType;
  if (raw === undefined) return undefined;
  if (raw === 1 || raw === 'push' || raw === '1') return MFA_PUSH;
  if (raw === 2 || raw === 'email' || raw === '2') return MFA_EMAIL;
  return fail(CloudError.parameterMissing, Msg.parameter);
}

function checkMFACodeAndLogin(cloud: Cloud, req: ApiRequest): Answer {
  const { body } = req;
  requireAppType(cloud, body);
  cloud.requireHost(req.role, ['regional']);
  const code = requireString(body, 'code');
  const type = mfaTypeOf(body);
  const process = mfaProcessFor(cloud, req);
  const account = cloud.accounts.get(process.username);
  cloud.throttle(account.username);
  if (type !== undefined && !account.mfaTypes.includes(type)) fail(CloudError.parameterMissing, Msg.parameter);

  const outcome = cloud.accounts.checkCode(process, code);
  if (outcome.kind === 'wrong') {
    fail(cloud.codes.mfaWrongCode, Msg.mfaWrongCode, { remainAttempts: outcome.remainAttempts });
  }
  if (body.terminalBindEnabled === true) cloud.accounts.trust(account.username, process.terminalUUID);
  const withRefresh = process.refreshTokenNeeded || body.refreshTokenNeeded === true;
  return loginSuccess(cloud, account, process.terminalUUID, withRefresh);
}

/** Shared by `/api/v2/account/refreshToken` and the V1 `refreshToken` method (params as body). */
export function refreshToken(cloud: Cloud, req: ApiRequest, fields: JsonObject): Answer {
  requireAppType(cloud, fields);
  cloud.requireHost(req.role, ['regional']);
  const presented = requireString(fields, 'refreshToken');
  const terminalUUID = requireString(fields, 'terminalUUID');
  requireSameTerminal(cloud, req, terminalUUID);
  const check = cloud.tokens.checkRefresh(presented);
  if (!check.ok) fail(CloudError.refreshTokenExpired, Msg.refreshTokenExpired);
  req.log.username = check.token.username;
  if (cloud.strict && check.token.terminalUUID !== terminalUUID) {
    fail(CloudError.refreshTokenExpired, Msg.refreshTokenExpired);
  }
  cloud.throttle(check.token.username);
  const next = cloud.rotateRefreshTokens ? cloud.tokens.rotateRefresh(presented, check.token) : presented;
  const token = cloud.tokens.reissueAccess(next, check.token);
  return ok({ token, refreshToken: next });
}

function logout(cloud: Cloud, req: ApiRequest): Answer {
  requireAppType(cloud, req.body, false);
  cloud.requireHost(req.role, ['regional']);
  const { account, token } = cloud.authenticate(req.query);
  req.log.username = account.username;
  cloud.throttle(account.username);
  cloud.tokens.revoke(token);
  return ok();
}

function getAccountInfo(cloud: Cloud, req: ApiRequest): Answer {
  requireAppType(cloud, req.body, false);
  cloud.requireHost(req.role, ['regional']);
  const { account } = cloud.authenticate(req.query);
  req.log.username = account.username;
  cloud.throttle(account.username);
  return ok({ accountId: account.accountId, email: account.username, regionCode: 'US', countryCode: 'US' });
}
