import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { AuthError } from '../api/types.js';
import { writeFileDurably } from '../durableWrite.js';
import { isRecord } from '../isRecord.js';
import type { Logger } from '../logger.js';
import { SlidingWindowLimit } from './requestLimits.js';

/** At most one requested login per this time. */
export const REQUESTED_LOGIN_GAP_MS = 5 * 60_000;
/** After the cloud refused the credentials, no requested login for this long (unless they change). */
export const REFUSED_CREDENTIALS_HOLD_MS = 30 * 60_000;
export const LOGIN_REFUSAL_FILE = 'login-refusal.json';

/** The failures after which repeating the same login can only lock the account. */
export type CredentialsRefusal = Extract<AuthError, 'credentials_invalid' | 'account_locked'>;

export type LoginRequestVerdict = { allowed: true } | { allowed: false; retryAt: number; message: string };

export interface LoginRequestRulesOptions {
  dataDir: string;
  username: string;
  password: string;
  logger: Logger;
}

interface StoredRefusal {
  version: 1;
  reason: CredentialsRefusal;
  refused_at: string;
  /** scrypt of username and password with `salt`: tells a changed configuration apart, reveals neither. */
  salt: string;
  credentials: string;
}

/**
 * When a person may ask for a login (`bridge/request/auth/login`, the HA "Log in" button, the web
 * page): each one is a password login that may e-mail a code, and the cloud locks the account
 * after a few wrong passwords. One place, so every way in obeys the same rules.
 *
 * The configuration of a running process cannot change: a changed password means a restart. The
 * refusal is therefore kept in DATA_DIR with a fingerprint of the credentials it was given for; a
 * restart with the same credentials keeps waiting, one with other credentials starts afresh.
 */
export class LoginRequestRules {
  readonly #requested = new SlidingWindowLimit(1, REQUESTED_LOGIN_GAP_MS);
  readonly #file: string;
  readonly #username: string;
  readonly #password: string;
  readonly #log;
  #refusal: { reason: CredentialsRefusal; at: number } | undefined;

  constructor(options: LoginRequestRulesOptions) {
    this.#file = join(options.dataDir, LOGIN_REFUSAL_FILE);
    this.#username = options.username;
    this.#password = options.password;
    this.#log = options.logger.child({ module: 'login-requests' });
    this.#refusal = this.#load();
  }

  /** The refusal of these credentials that still holds (a start must not log in either), if any. */
  activeRefusal(now = Date.now()): { reason: CredentialsRefusal; until: number } | undefined {
    const refusal = this.#refusal;
    if (!refusal || refusal.at + REFUSED_CREDENTIALS_HOLD_MS <= now) return undefined;
    return { reason: refusal.reason, until: refusal.at + REFUSED_CREDENTIALS_HOLD_MS };
  }

  /** May a requested login start now? `mfaRoundEndsAt`: the open MFA round's expiry, if one is open. */
  check(mfaRoundEndsAt: number | undefined, now = Date.now()): LoginRequestVerdict {
    if (mfaRoundEndsAt !== undefined && mfaRoundEndsAt > now) {
      return { allowed: false, retryAt: mfaRoundEndsAt, message: 'a code was already sent: submit it on bridge/mfa, or ask again once the round expires' };
    }
    const refusal = this.activeRefusal(now);
    if (refusal) {
      return {
        allowed: false,
        retryAt: refusal.until,
        message: `the cloud refused these credentials (${refusal.reason}); change them and restart, or wait, since every wrong login brings the account closer to a lock`,
      };
    }
    const gapEnds = this.#requested.blockedUntil(now);
    if (gapEnds !== undefined) return { allowed: false, retryAt: gapEnds, message: 'at most one requested login per 5 minutes' };
    return { allowed: true };
  }

  /** A requested login starts now. */
  recordRequested(now = Date.now()): void {
    this.#requested.record(now);
  }

  /** The cloud refused the credentials: hold requested logins back, across restarts too. */
  recordRefusal(reason: CredentialsRefusal, now = Date.now()): void {
    this.#refusal = { reason, at: now };
    const salt = randomBytes(16);
    const stored: StoredRefusal = {
      version: 1,
      reason,
      refused_at: new Date(now).toISOString(),
      salt: salt.toString('hex'),
      credentials: this.#fingerprint(salt).toString('hex'),
    };
    try {
      writeFileDurably(this.#file, `${JSON.stringify(stored)}\n`);
    } catch (err) {
      this.#log.warn({ err: (err as Error).message }, 'cannot keep the login refusal in DATA_DIR; a restart will allow a login at once');
    }
  }

  /** A login succeeded: the credentials are good. */
  clearRefusal(): void {
    if (!this.#refusal) return;
    this.#refusal = undefined;
    rmSync(this.#file, { force: true });
  }

  #fingerprint(salt: Buffer): Buffer {
    return scryptSync(`${this.#username}\u0000${this.#password}`, salt, 32);
  }

  #load(): { reason: CredentialsRefusal; at: number } | undefined {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(this.#file, 'utf8'));
    } catch {
      return undefined; // none, or unreadable: no refusal to honour
    }
    if (!isRecord(parsed) || parsed.version !== 1) return undefined;
    const { reason, refused_at: refusedAt, salt, credentials } = parsed;
    if (reason !== 'credentials_invalid' && reason !== 'account_locked') return undefined;
    if (typeof refusedAt !== 'string' || typeof salt !== 'string' || typeof credentials !== 'string') return undefined;
    const at = Date.parse(refusedAt);
    const expected = Buffer.from(credentials, 'hex');
    if (Number.isNaN(at) || expected.length !== 32) return undefined;
    if (!timingSafeEqual(this.#fingerprint(Buffer.from(salt, 'hex')), expected)) {
      this.#log.info('the credentials changed since the cloud refused them; logging in is allowed again');
      rmSync(this.#file, { force: true });
      return undefined;
    }
    return { reason, at };
  }
}
