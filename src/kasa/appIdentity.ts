/**
 * The app identities the cloud client can log in as (docs/protocol.md, "Tapo identity"): the
 * Kasa app and the Tapo app. One account logs in with either; each login is its own session
 * (its own tokens, terminal UUID and trusted terminal), so each identity keeps its own file in
 * DATA_DIR. Everything else (signing, region lookup, login, MFA, refresh, error handling) is the
 * same code for both; only these constants differ.
 */
import { APP_TYPE, APP_VERSION, type AppNames } from './protocol.js';
import { SESSION_FILE } from './sessionStore.js';
import { KASA_ACCESS_KEY, KASA_SECRET_KEY, TAPO_ACCESS_KEY, TAPO_SECRET_KEY } from './signing.js';

export type AppIdentityName = 'kasa' | 'tapo';

export interface AppIdentity extends AppNames {
  readonly name: AppIdentityName;
  /** The app's signing key pair (signing.ts); the same for every user of the app. */
  readonly keys: { readonly accessKey: string; readonly secretKey: string };
  /** The session file in DATA_DIR. */
  readonly sessionFile: string;
  /** Only this identity may call the `/api/v2/common/*` endpoints (the cloud checks their signature with the Tapo secret alone). */
  readonly commonEndpoints: boolean;
}

export const TAPO_SESSION_FILE = 'tapo-session.json';

export const KASA_IDENTITY: AppIdentity = {
  name: 'kasa',
  appType: APP_TYPE,
  appVersion: APP_VERSION,
  keys: { accessKey: KASA_ACCESS_KEY, secretKey: KASA_SECRET_KEY },
  sessionFile: SESSION_FILE,
  commonEndpoints: false,
};

/**
 * The Tapo Android app. Public Tapo clients send versions from 2.12.705 to 3.20.512 and nothing
 * shows the cloud checking it; this one is recent (guess).
 */
export const TAPO_IDENTITY: AppIdentity = {
  name: 'tapo',
  appType: 'TP-Link_Tapo_Android',
  appVersion: '3.20.512',
  keys: { accessKey: TAPO_ACCESS_KEY, secretKey: TAPO_SECRET_KEY },
  sessionFile: TAPO_SESSION_FILE,
  commonEndpoints: true,
};
