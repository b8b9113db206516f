/**
 * One kasa2mqtt per DATA_DIR: the daemon and `kasa2mqtt login` take `DATA_DIR/kasa2mqtt.lock`
 * before they read or write anything else there, and hold it while they run. Two of them on one
 * session would log in over each other (and each login may mail an MFA code).
 *
 * A lock is stale when its process is gone (same host), when its pid now names another process
 * (our own pid, or a different start time or boot: a restarted container numbers its processes
 * from 1 again under the same hostname), or when its holder stopped refreshing it: containers
 * sharing a volume see each other's files but not each other's processes, so the holder touches
 * the file every HEARTBEAT_MS and a lock untouched for STALE_MS is taken over.
 */
import { closeSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, utimesSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { removeLeftoverTempFiles } from './durableWrite.js';
import { SessionStoreError } from './kasa/sessionStore.js';
import { storageErrorCode } from './storageStatus.js';

export const LOCK_FILE = 'kasa2mqtt.lock';
const HEARTBEAT_MS = 10_000;
const STALE_MS = 3 * HEARTBEAT_MS;

interface LockOwner {
  pid: number;
  host: string;
  /** `daemon` or `login`. */
  role: string;
  since: string;
  /** Field 22 of /proc/<pid>/stat (clock ticks after boot): with `bootId`, tells a reused pid apart. */
  startTime?: string;
  bootId?: string;
}

/** Signals whose default action ends the process without an `exit` event. */
const FATAL_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];

/** The locks this process holds, by path: a second acquire in the same process is refused, not taken over. */
const heldHere = new Map<string, DataDirLock>();

/** Released on every way out: process.exit, a crash (uncaught exception, unhandled rejection), a signal. */
function releaseAll(): void {
  for (const lock of [...heldHere.values()]) lock.release();
}

function onFatalSignal(signal: NodeJS.Signals): void {
  // Someone else handles the signal (the daemon's shutdown ends in process.exit): leave it to them.
  if (process.listenerCount(signal) > 1) return;
  releaseAll();
  process.kill(process.pid, signal);
}

function track(path: string, lock: DataDirLock): void {
  if (heldHere.size === 0) {
    process.on('exit', releaseAll);
    for (const signal of FATAL_SIGNALS) process.on(signal, onFatalSignal);
  }
  heldHere.set(path, lock);
}

function untrack(path: string): void {
  if (!heldHere.delete(path) || heldHere.size > 0) return;
  process.off('exit', releaseAll);
  for (const signal of FATAL_SIGNALS) process.off(signal, onFatalSignal);
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
    track(path, this);
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

  /**
   * Creates DATA_DIR (0700) when missing, takes the lock, and removes the temp files a crashed
   * writer left. Throws DataDirBusyError naming the holder, SessionStoreError when DATA_DIR is unusable.
   */
  static acquire(dataDir: string, role: 'daemon' | 'login'): DataDirLock {
    const dir = resolve(dataDir);
    const path = join(dir, LOCK_FILE);
    if (heldHere.has(path)) throw new DataDirBusyError(`DATA_DIR ${dataDir} is already in use by this process`);
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw SessionStoreError.unusableDataDir(dir, err);
    }
    const lock = DataDirLock.#take(dataDir, path, role);
    removeLeftoverTempFiles(dir);
    return lock;
  }

  static #take(dataDir: string, path: string, role: 'daemon' | 'login'): DataDirLock {
    const owner: LockOwner = {
      pid: process.pid,
      host: hostname(),
      role,
      since: new Date().toISOString(),
      ...definedIdentity(processStartTime(process.pid), bootId()),
    };
    for (let attempt = 0; attempt < 2; attempt++) {
      let fd: number;
      try {
        fd = openSync(path, 'wx', 0o600);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new SessionStoreError(
            `cannot create the lock file ${path} (${storageErrorCode(err)}); make DATA_DIR writable by this user`,
            path,
            { cause: err },
          );
        }
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
    untrack(this.#path);
    const holder = readHolder(this.#path);
    if (holder?.pid === process.pid && holder.host === hostname()) unlinkSafe(this.#path);
  }
}

function readHolder(path: string): LockOwner | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockOwner>;
    if (typeof parsed.pid !== 'number' || typeof parsed.host !== 'string') return undefined;
    return {
      pid: parsed.pid,
      host: parsed.host,
      role: String(parsed.role ?? 'daemon'),
      since: String(parsed.since ?? ''),
      ...definedIdentity(parsed.startTime, parsed.bootId),
    };
  } catch {
    return undefined;
  }
}

function isStale(path: string, holder: LockOwner): boolean {
  if (holder.host === hostname() && !holderRunning(holder)) return true;
  try {
    return Date.now() - statSync(path).mtimeMs > STALE_MS;
  } catch {
    return true;
  }
}

/** The holder (same host) still runs: its pid is not ours (heldHere was checked), is alive, and names the same process. */
function holderRunning(holder: LockOwner): boolean {
  if (holder.pid === process.pid || !processAlive(holder.pid)) return false;
  const ourBoot = bootId();
  if (holder.bootId !== undefined && ourBoot !== undefined && holder.bootId !== ourBoot) return false;
  const started = processStartTime(holder.pid);
  return holder.startTime === undefined || started === undefined || holder.startTime === started;
}

/** Field 22 (starttime) of /proc/<pid>/stat; undefined without procfs. */
function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (the command name) may hold spaces and parentheses: count from the last `)`.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[22 - 3];
  } catch {
    return undefined;
  }
}

function bootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** `startTime`/`bootId` when they are strings, for a LockOwner under exactOptionalPropertyTypes. */
function definedIdentity(startTime: unknown, boot: unknown): Pick<LockOwner, 'startTime' | 'bootId'> {
  return {
    ...(typeof startTime === 'string' ? { startTime } : {}),
    ...(typeof boot === 'string' ? { bootId: boot } : {}),
  };
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
