/**
 * One kasa2mqtt per DATA_DIR: the daemon and `kasa2mqtt login` hold `DATA_DIR/kasa2mqtt.lock`
 * while they run. Two of them on one session would log in over each other (and each login may
 * mail an MFA code).
 *
 * A lock is stale when its process is gone (same host) or when its holder stopped refreshing it:
 * containers sharing a volume see each other's files but not each other's processes, so the
 * holder touches the file every HEARTBEAT_MS and a lock untouched for STALE_MS is taken over.
 */
import { closeSync, openSync, readFileSync, statSync, unlinkSync, utimesSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';

export const LOCK_FILE = 'kasa2mqtt.lock';
const HEARTBEAT_MS = 10_000;
const STALE_MS = 3 * HEARTBEAT_MS;

interface LockOwner {
  pid: number;
  host: string;
  /** `daemon` or `login`. */
  role: string;
  since: string;
}

/** DATA_DIR is held by another running kasa2mqtt. */
export class DataDirBusyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataDirBusyError';
  }
}

export class DataDirLock {
  readonly #path: string;
  readonly #heartbeat: NodeJS.Timeout;
  #released = false;

  private constructor(path: string) {
    this.#path = path;
    this.#heartbeat = setInterval(() => {
      try {
        const now = new Date();
        utimesSync(this.#path, now, now);
      } catch {
        // Removed underneath us (DATA_DIR wiped): nothing to keep fresh.
      }
    }, HEARTBEAT_MS);
    this.#heartbeat.unref();
  }

  /** Takes the lock or throws DataDirBusyError naming the holder. DATA_DIR must exist. */
  static acquire(dataDir: string, role: 'daemon' | 'login'): DataDirLock {
    const path = join(resolve(dataDir), LOCK_FILE);
    const owner: LockOwner = { pid: process.pid, host: hostname(), role, since: new Date().toISOString() };
    for (let attempt = 0; attempt < 2; attempt++) {
      let fd: number;
      try {
        fd = openSync(path, 'wx', 0o600);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const holder = readHolder(path);
        if (holder !== undefined && !isStale(path, holder)) throw new DataDirBusyError(busyMessage(dataDir, holder));
        unlinkSafe(path);
        continue;
      }
      try {
        writeSync(fd, `${JSON.stringify(owner)}\n`);
      } finally {
        closeSync(fd);
      }
      return new DataDirLock(path);
    }
    throw new DataDirBusyError(`DATA_DIR ${dataDir} is being locked by another kasa2mqtt starting at the same time; try again`);
  }

  release(): void {
    if (this.#released) return;
    this.#released = true;
    clearInterval(this.#heartbeat);
    const holder = readHolder(this.#path);
    if (holder?.pid === process.pid && holder.host === hostname()) unlinkSafe(this.#path);
  }
}

function readHolder(path: string): LockOwner | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockOwner>;
    if (typeof parsed.pid !== 'number' || typeof parsed.host !== 'string') return undefined;
    return { pid: parsed.pid, host: parsed.host, role: String(parsed.role ?? 'daemon'), since: String(parsed.since ?? '') };
  } catch {
    return undefined;
  }
}

function isStale(path: string, holder: LockOwner): boolean {
  if (holder.host === hostname() && !processAlive(holder.pid)) return true;
  try {
    return Date.now() - statSync(path).mtimeMs > STALE_MS;
  } catch {
    return true;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function unlinkSafe(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}

function busyMessage(dataDir: string, holder: LockOwner): string {
  const what = holder.role === 'login' ? '`kasa2mqtt login`' : 'the kasa2mqtt daemon';
  return (
    `DATA_DIR ${dataDir} is in use by ${what} (pid ${holder.pid} on ${holder.host}); ` +
    'stop it first (e.g. `docker compose stop kasa2mqtt`), then run this again'
  );
}
