/**
 * The two app identities the simulated account service knows (docs/protocol.md, "Simulator"):
 * the Kasa app and the Tapo app, each with its own `appName`/`appType` and key pair. One account
 * logs in with either; the Tapo-only endpoints (`/api/v2/common/*`) want the Tapo identity.
 */
import { KASA_ACCESS_KEY, TAPO_ACCESS_KEY } from '../kasa/signing.js';

export type AppIdentity = 'kasa' | 'tapo';

export const KASA_APP_TYPE = 'Kasa_Android_Mix';
/** The Android name and the iOS name TA2k/ioBroker.tapo sends; both are the Tapo app. */
export const TAPO_APP_TYPES: readonly string[] = ['TP-Link_Tapo_Android', 'TP-Link_Tapo_iOS'];

/** The identity an `appName`/`appType` names, or undefined for anything else. */
export function identityOf(appName: string | null | undefined): AppIdentity | undefined {
  if (appName === KASA_APP_TYPE) return 'kasa';
  return appName !== null && appName !== undefined && TAPO_APP_TYPES.includes(appName) ? 'tapo' : undefined;
}

/** Which app a signing AccessKey belongs to. */
export function keyOwner(accessKey: string): AppIdentity | undefined {
  if (accessKey === KASA_ACCESS_KEY) return 'kasa';
  return accessKey === TAPO_ACCESS_KEY ? 'tapo' : undefined;
}
