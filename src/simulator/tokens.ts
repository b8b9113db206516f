import { randomBytes } from 'node:crypto';
import type { AppIdentity } from './identity.js';

export interface AccessToken {
  username: string;
  /** The app identity that logged in: Tapo-only endpoints accept only Tapo sessions. */
  app: AppIdentity;
  terminalUUID: string;
  expiresAt: number;
  /** The refresh token issued with it, revoked together on logout. */
  refreshToken?: string;
  /** Revoked by the control API: answers -20675 instead of -20651. */
  revoked?: boolean;
}

export interface RefreshToken {
  username: string;
  app: AppIdentity;
  terminalUUID: string;
  expiresAt: number;
  revoked?: boolean;
}

export type TokenCheck<T> = { ok: true; token: T } | { ok: false; revoked: boolean };

/** Opaque token shaped like the captures (`xxxxxxxx-xxxxxxxxxxxxxxxxxxxx`). */
function newToken(): string {
  const alnum = randomBytes(14).toString('base64url').replace(/[-_]/g, 'x').slice(0, 20);
  return `${randomBytes(4).toString('hex')}-${alnum}`;
}

export class TokenStore {
  private readonly access = new Map<string, AccessToken>();
  private readonly refresh = new Map<string, RefreshToken>();

  constructor(
    private readonly accessTtlMs: number,
    private readonly refreshTtlMs: number,
    private readonly now: () => number,
  ) {}

  issue(username: string, terminalUUID: string, withRefresh: boolean, app: AppIdentity): { token: string; refreshToken?: string } {
    const token = newToken();
    const entry: AccessToken = { username, app, terminalUUID, expiresAt: this.now() + this.accessTtlMs };
    if (!withRefresh) {
      this.access.set(token, entry);
      return { token };
    }
    const refreshToken = this.issueRefresh(username, terminalUUID, app);
    this.access.set(token, { ...entry, refreshToken });
    return { token, refreshToken };
  }

  /** A new access token for a refresh token; does not invalidate earlier access tokens. */
  reissueAccess(refreshToken: string, refresh: RefreshToken): string {
    const token = newToken();
    this.access.set(token, {
      username: refresh.username,
      app: refresh.app,
      terminalUUID: refresh.terminalUUID,
      expiresAt: this.now() + this.accessTtlMs,
      refreshToken,
    });
    return token;
  }

  rotateRefresh(old: string, refresh: RefreshToken): string {
    this.refresh.delete(old);
    return this.issueRefresh(refresh.username, refresh.terminalUUID, refresh.app);
  }

  checkAccess(token: string): TokenCheck<AccessToken> {
    return this.check(this.access.get(token));
  }

  checkRefresh(token: string): TokenCheck<RefreshToken> {
    return this.check(this.refresh.get(token));
  }

  private check<T extends { expiresAt: number; revoked?: boolean }>(entry: T | undefined): TokenCheck<T> {
    if (entry?.revoked === true) return { ok: false, revoked: true };
    if (!entry || entry.expiresAt <= this.now()) return { ok: false, revoked: false };
    return { ok: true, token: entry };
  }

  revokeAll(options: { refresh?: boolean } = {}): void {
    for (const entry of this.access.values()) entry.revoked = true;
    if (options.refresh === true) for (const entry of this.refresh.values()) entry.revoked = true;
  }

  /** Logout: the access token and the refresh token issued with it stop working. */
  revoke(token: string): void {
    const entry = this.access.get(token);
    this.access.delete(token);
    if (entry?.refreshToken) this.refresh.delete(entry.refreshToken);
  }

  expireAllAccess(): void {
    for (const entry of this.access.values()) entry.expiresAt = Number.NEGATIVE_INFINITY;
  }

  expireAllRefresh(): void {
    for (const entry of this.refresh.values()) entry.expiresAt = Number.NEGATIVE_INFINITY;
  }

  private issueRefresh(username: string, terminalUUID: string, app: AppIdentity): string {
    const refreshToken = `RT-${randomBytes(16).toString('hex')}`;
    this.refresh.set(refreshToken, { username, app, terminalUUID, expiresAt: this.now() + this.refreshTtlMs });
    return refreshToken;
  }
}
