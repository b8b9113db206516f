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
  requireAppType(cloud, req, req.body);
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
  requireAppType(cloud, req, body);
  const username = requireString(body, 'cloudUserName');
  req.log.username = username;
  if (cloud.faults.unknownLoginAnswer) fail(-29999, 'Service temporarily changed');
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
  const tapoMfa = req.app === 'tapo' && cloud.faults.tapoMfa && !account.tapoTrustedTerminals.has(terminalUUID);
  if (cloud.accounts.needsMfa(account, terminalUUID) || tapoMfa) {
    const process = cloud.accounts.openMfaProcess(account, terminalUUID);
    return mfaRequired(cloud, account, process);
  }
  return loginSuccess(cloud, req, account, terminalUUID, refreshTokenNeeded);
}

const MFA_TYPE_NAMES: Record<number, string> = { [MFA_PUSH]: 'push', [MFA_EMAIL]: 'email' };

/** The MFA-required answer in the simulator's dialect (types.ts `MfaDialect`). */
function mfaRequired(cloud: Cloud, account: Account, process: MfaProcess): Answer {
  const dialect = cloud.mfaDialect;
  if (dialect === 'kasa') fail(CloudError.mfaRequired, Msg.mfaRequired, { mfaType: 'verifyCodeLogin' });
  if (dialect === 'wiki') {
    fail(CloudError.mfaRequired, Msg.mfaRequired, {
      mfaProcessId: process.id,
      supportedMFATypes: account.mfaTypes.map((t) => MFA_TYPE_NAMES[t] ?? String(t)),
      accountId: account.accountId,
    });
  }
  const result = { MFAProcessId: process.id, supportedMFATypes: [...account.mfaTypes] };
  const nested = dialect === 'nested' ? (cloud.faults.nestedMfa || 'string') : cloud.faults.nestedMfa;
  if (nested === false) fail(CloudError.mfaRequired, Msg.mfaRequired, result);
  const errorCode = nested === 'string' ? String(CloudError.mfaRequired) : CloudError.mfaRequired;
  return {
    envelope: { error_code: 0, result: { errorCode, errorMsg: Msg.mfaRequired, ...result } },
    logCode: CloudError.mfaRequired,
  };
}

/** The union of the success shapes seen (docs/protocol.md, "Login"); clients should read only token/refreshToken. */
function loginSuccess(cloud: Cloud, req: ApiRequest, account: Account, terminalUUID: string, withRefresh: boolean): Answer {
  const issued = cloud.tokens.issue(account.username, terminalUUID, withRefresh, req.app);
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
  // The Kasa-app shape names no process: the cloud cannot have handed one out to echo.
  if (cloud.strict && cloud.mfaDialect === 'kasa' && processId !== undefined) fail(cloud.codes.mfaNoProcess, Msg.mfaNoProcess);
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
  requireAppType(cloud, req, req.body);
  cloud.requireHost(req.role, ['regional']);
  const process = mfaProcessFor(cloud, req);
  const account = cloud.accounts.get(process.username);
  cloud.throttle(account.username);
  checkMfaPassword(cloud, req.body, account);
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
  requireAppType(cloud, req, body);
  cloud.requireHost(req.role, ['regional']);
  const code = requireString(body, 'code');
  const type = mfaTypeOf(body);
  const process = mfaProcessFor(cloud, req);
  const account = cloud.accounts.get(process.username);
  cloud.throttle(account.username);
  if (type !== undefined && !account.mfaTypes.includes(type)) fail(CloudError.parameterMissing, Msg.parameter);

  checkMfaPassword(cloud, body, account);
  const outcome = cloud.accounts.checkCode(process, code);
  if (outcome.kind === 'wrong') {
    fail(cloud.codes.mfaWrongCode, Msg.mfaWrongCode, { remainAttempts: outcome.remainAttempts });
  }
  if (body.terminalBindEnabled === true) cloud.accounts.trust(account.username, process.terminalUUID, req.app === 'tapo');
  // Answered literally: a refresh token only when this body asks for one, whatever the login asked.
  return loginSuccess(cloud, req, account, process.terminalUUID, body.refreshTokenNeeded === true);
}

/**
 * Without a process id the password is what ties the call to the login (the Kasa-app shape
 * requires it); in the other dialects a password that is sent must be right.
 */
function checkMfaPassword(cloud: Cloud, body: JsonObject, account: Account): void {
  const password = optionalString(body, 'cloudPassword');
  if (password === undefined && cloud.strict && cloud.mfaDialect === 'kasa') fail(CloudError.parameterMissing, Msg.parameter);
  if (password !== undefined && password !== account.password) fail(CloudError.wrongPassword, Msg.wrongPassword);
}

/** Shared by `/api/v2/account/refreshToken` and the V1 `refreshToken` method (params as body). */
export function refreshToken(cloud: Cloud, req: ApiRequest, fields: JsonObject): Answer {
  requireAppType(cloud, req, fields);
  cloud.requireHost(req.role, ['regional']);
  const presented = requireString(fields, 'refreshToken');
  const terminalUUID = requireString(fields, 'terminalUUID');
  requireSameTerminal(cloud, req, terminalUUID);
  const check = cloud.tokens.checkRefresh(presented);
  if (!check.ok && check.revoked) fail(CloudError.tokenInvalid, Msg.tokenInvalid);
  if (!check.ok) fail(CloudError.refreshTokenExpired, Msg.refreshTokenExpired);
  req.log.username = check.token.username;
  // Strict: the same terminal, and the same app (each app keeps its own session).
  if (cloud.strict && (check.token.terminalUUID !== terminalUUID || check.token.app !== req.app)) {
    fail(CloudError.refreshTokenExpired, Msg.refreshTokenExpired);
  }
  cloud.throttle(check.token.username);
  const next = cloud.rotateRefreshTokens ? cloud.tokens.rotateRefresh(presented, check.token) : presented;
  const token = cloud.tokens.reissueAccess(next, check.token);
  return ok({ token, refreshToken: next });
}

function logout(cloud: Cloud, req: ApiRequest): Answer {
  requireAppType(cloud, req, req.body, false);
  cloud.requireHost(req.role, ['regional']);
  const { account, token } = cloud.authenticate(req.query);
  req.log.username = account.username;
  cloud.throttle(account.username);
  cloud.tokens.revoke(token);
  return ok();
}

function getAccountInfo(cloud: Cloud, req: ApiRequest): Answer {
  requireAppType(cloud, req, req.body, false);
  cloud.requireHost(req.role, ['regional']);
  const { account } = cloud.authenticate(req.query);
  req.log.username = account.username;
  cloud.throttle(account.username);
  return ok({ accountId: account.accountId, email: account.username, regionCode: 'US', countryCode: 'US' });
}
