/**
 * A cloud session on disk: `DATA_DIR/session.json` for the Kasa identity, another file for each
 * other app identity (appIdentity.ts); 0600, directory 0700, written atomically.
 * The terminal UUID is made once and kept forever, so a terminal trusted by one MFA round skips MFA
 * on later logins; tokens are dropped when the user name changes.
 *
 * Synchronous on purpose: the file is tiny, writes are rare (login, refresh), and a sync API has
 * no interleaving between concurrent saves.
 */
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { writeFileDurably } from '../durableWrite.js';
import type { Logger } from '../logger.js';
import { storageErrorCode as errCode, type StorageStatus } from '../storageStatus.js';

export interface StoredSession {
  terminalUUID: string;
  username: string;
  token?: string;
  refreshToken?: string;
  /** The regional app server the tokens belong to. */
  regionalUrl?: string;
}

/** Fields to change; an `undefined` value removes the field. */
export interface SessionUpdate {
  token?: string | undefined;
  refreshToken?: string | undefined;
  regionalUrl?: string | undefined;
}

export const SESSION_FILE = 'session.json';

/** DATA_DIR or the session file cannot be created, written or replaced. */
export class SessionStoreError extends Error {
  readonly path: string;

  constructor(message: string, path: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SessionStoreError';
    this.path = path;
  }

  /** DATA_DIR itself cannot be created or used (not a directory, no permission, read-only). */
  static unusableDataDir(dir: string, err: unknown): SessionStoreError {
    return new SessionStoreError(
      `DATA_DIR ${dir} cannot be created or used (${errCode(err)}); point DATA_DIR at a writable directory owned by this user`,
      dir,
      { cause: err },
    );
  }
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface SessionStoreOptions {
  dataDir: string;
  logger: Logger;
  /**
   * Where a failed `save()` is reported. With it the new tokens are kept in memory and used (a
   * full disk must not turn every request into a token refresh); without it `save()` throws.
   */
  storage?: StorageStatus;
  /** The file in DATA_DIR; default `session.json` (the Kasa identity's). */
  fileName?: string | undefined;
}

export class SessionStore {
  readonly dataDir: string;
  readonly fileName: string;
  readonly path: string;
  private readonly log: Logger;
  private readonly storage: StorageStatus | undefined;
  private session: StoredSession | undefined;

  constructor(options: SessionStoreOptions) {
    this.dataDir = resolve(options.dataDir);
    this.fileName = options.fileName ?? SESSION_FILE;
    if (this.fileName === '' || basename(this.fileName) !== this.fileName) throw new Error(`session file name must be a plain file name: ${this.fileName}`);
    this.path = join(this.dataDir, this.fileName);
    this.log = options.logger.child({ module: 'session' });
    this.storage = options.storage;
  }

  /**
   * Creates/tightens DATA_DIR, reads the session (replacing a corrupt one), keeps the terminal
   * UUID, drops tokens stored for another user, and writes the file back (which proves at start
   * that DATA_DIR is writable). Throws `SessionStoreError` when it is not.
   */
  load(username: string): StoredSession {
    this.prepareDir();
    const stored = this.read();
    let session: StoredSession;
    if (stored === undefined) {
      session = { terminalUUID: randomUUID(), username };
      this.log.info({ path: this.path }, 'new cloud session file with a fresh terminal UUID');
    } else if (stored.username !== username) {
      session = { terminalUUID: stored.terminalUUID, username };
      this.log.info({ path: this.path }, 'user name changed: stored tokens dropped, terminal UUID kept');
    } else {
      session = stored;
    }
    this.write(session);
    this.session = session;
    return { ...session };
  }

  /** The user name the session was loaded for; undefined before `load()`. */
  get loadedUsername(): string | undefined {
    return this.session?.username;
  }

  /** The loaded session (a copy); `load()` must have run. */
  get(): StoredSession {
    return { ...this.current() };
  }

  /**
   * Merges `update` (an `undefined` value removes the field) and persists atomically. The merged
   * session is current even when the write fails (reported to `storage`, or thrown without it).
   */
  save(update: SessionUpdate): StoredSession {
    const next: StoredSession = { ...this.current() };
    for (const key of ['token', 'refreshToken', 'regionalUrl'] as const) {
      if (!(key in update)) continue;
      const value = update[key];
      if (value === undefined) delete next[key];
      else next[key] = value;
    }
    this.session = next;
    try {
      this.write(next);
      this.storage?.saved(this.fileName);
    } catch (err) {
      if (this.storage === undefined || !(err instanceof SessionStoreError)) throw err;
      this.log.warn({ path: this.path, error: errCode(err.cause) }, 'cannot save the session; the new tokens are kept in memory until a save succeeds');
      this.storage.failed(this.fileName, `not saved (${errCode(err.cause)})`);
    }
    return { ...next };
  }

  /** Drops token and refresh token; the terminal UUID (and regional host) stay. */
  clearTokens(): void {
    this.save({ token: undefined, refreshToken: undefined });
  }

  private current(): StoredSession {
    if (this.session === undefined) throw new Error('SessionStore.load() has not been called');
    return this.session;
  }

  private prepareDir(): void {
    try {
      mkdirSync(this.dataDir, { recursive: true, mode: 0o700 });
      const st = statSync(this.dataDir);
      if (!st.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
      const loose = st.mode & 0o077;
      if (loose !== 0) {
        if (st.mode & 0o1000) {
          // A shared sticky directory such as /tmp: never chmod that.
          this.log.warn({ path: this.dataDir }, 'DATA_DIR is a shared sticky directory; use a private directory for the session');
        } else {
          chmodSync(this.dataDir, 0o700);
          this.log.info({ path: this.dataDir, was: (st.mode & 0o777).toString(8) }, 'DATA_DIR permissions tightened to 0700');
        }
      }
    } catch (err) {
      throw SessionStoreError.unusableDataDir(this.dataDir, err);
    }
  }

  /** The stored session, or undefined when absent; a corrupt or unreadable file is logged and ignored. */
  private read(): StoredSession | undefined {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if (errCode(err) === 'ENOENT') return undefined;
      this.log.warn({ path: this.path, error: errCode(err) }, 'session file unreadable; it will be replaced (a new login is needed)');
      return undefined;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      this.log.warn({ path: this.path, bytes: text.length }, 'session file is not valid JSON; it will be replaced (a new login is needed)');
      return undefined;
    }
    const session = validate(parsed);
    if (session === undefined) {
      this.log.warn({ path: this.path }, 'session file has an unexpected shape; it will be replaced (a new login is needed)');
    }
    return session;
  }

  private write(session: StoredSession): void {
    try {
      writeFileDurably(this.path, `${JSON.stringify(session, null, 2)}\n`);
    } catch (err) {
      throw new SessionStoreError(
        `cannot write the session file ${this.path} (${errCode(err)}); make DATA_DIR writable by this user`,
        this.path,
        { cause: err },
      );
    }
  }
}

function validate(value: unknown): StoredSession | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const v = value as Record<string, unknown>;
  const terminalUUID = v['terminalUUID'];
  const username = v['username'];
  if (typeof terminalUUID !== 'string' || !UUID_PATTERN.test(terminalUUID)) return undefined;
  if (typeof username !== 'string') return undefined;
  const session: StoredSession = { terminalUUID, username };
  for (const key of ['token', 'refreshToken', 'regionalUrl'] as const) {
    const field = v[key];
    if (typeof field === 'string' && field !== '') session[key] = field;
  }
  return session;
}
