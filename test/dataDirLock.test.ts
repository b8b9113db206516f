/**
 * The DATA_DIR lock against lock files as a crash, a restarted container or a reused pid leave
 * them, and as real processes that hold it and die in every way a process can.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { DataDirBusyError, DataDirLock, LOCK_FILE } from '../src/dataDirLock.js';

const tsx = import.meta.resolve('tsx');
const lockModule = new URL('../src/dataDirLock.ts', import.meta.url).pathname;
const dirs: string[] = [];

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kasa2mqtt-lock-'));
  dirs.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A lock file as another kasa2mqtt wrote it (fresh: the heartbeat does not make it stale). */
function leaveLock(dir: string, holder: Record<string, unknown>): void {
  writeFileSync(join(dir, LOCK_FILE), `${JSON.stringify({ host: hostname(), role: 'daemon', since: new Date().toISOString(), ...holder })}\n`);
}

function startTimeOf(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
}

function bootId(): string {
  return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
}

/** A process that stays alive until the test ends (a stand-in for whatever now has a pid). */
async function liveProcess(): Promise<ChildProcess> {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  onTestFinished(() => void child.kill('SIGKILL'));
  await new Promise<void>((resolve, reject) => child.once('spawn', resolve).once('error', reject));
  return child;
}

describe('DataDirLock: stale locks', () => {
  it('takes over a lock holding our own pid, as a restarted container finds it (same pid, same hostname)', () => {
    const dir = dataDir();
    leaveLock(dir, { pid: process.pid });
    const lock = DataDirLock.acquire(dir, 'daemon');
    try {
      expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: process.pid, startTime: startTimeOf(process.pid) });
    } finally {
      lock.release();
    }
  });

  it('takes over a lock whose pid is alive but names another process (other start time or boot); respects the real holder', async (ctx) => {
    if (!existsSync('/proc/self/stat')) ctx.skip('no procfs: process start times cannot be read');
    const dir = dataDir();
    const other = await liveProcess();
    const pid = other.pid!;
    for (const reused of [{ startTime: '1' }, { startTime: startTimeOf(pid), bootId: '00000000-0000-0000-0000-000000000000' }]) {
      leaveLock(dir, { pid, bootId: bootId(), ...reused });
      DataDirLock.acquire(dir, 'daemon').release();
    }
    leaveLock(dir, { pid, startTime: startTimeOf(pid), bootId: bootId() });
    expect(() => DataDirLock.acquire(dir, 'login')).toThrow(DataDirBusyError);
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'))).toMatchObject({ pid });
  });

  it('refuses a second lock in the same process instead of taking its own lock over', () => {
    const dir = dataDir();
    const lock = DataDirLock.acquire(dir, 'daemon');
    try {
      expect(() => DataDirLock.acquire(dir, 'login')).toThrow(/already in use by this process/);
    } finally {
      lock.release();
    }
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });

  it('removes the temp files a crashed writer left (they may hold tokens), only once the lock is taken', () => {
    const dir = dataDir();
    const leftovers = ['.session.json.4242.0a1b2c3d.tmp', 'topic-keys.json.4242.0a1b2c3d.tmp', 'mqtt-client-id.4242.tmp'];
    for (const name of leftovers) writeFileSync(join(dir, name), '{"token":"left-behind"}');
    writeFileSync(join(dir, 'notes.tmp'), 'not ours');
    const other = DataDirLock.acquire(dir, 'daemon');
    expect(() => DataDirLock.acquire(dir, 'login')).toThrow(DataDirBusyError);
    other.release();
    const lock = DataDirLock.acquire(dir, 'daemon');
    lock.release();
    expect(readdirSync(dir).sort()).toEqual(['notes.tmp']);
  });
});

describe('DataDirLock: released on every way out of the process', () => {
  /** Runs a process that takes the lock, says so, then ends as `ending` says once told to (after the lock was seen). */
  async function holdAndEnd(ending: string, signal?: NodeJS.Signals): Promise<{ dir: string; code: number | null; signal: NodeJS.Signals | null }> {
    const dir = dataDir();
    const script = `import { DataDirLock } from ${JSON.stringify(lockModule)};
DataDirLock.acquire(${JSON.stringify(dir)}, 'daemon');
process.stdout.write('locked\\n');
process.stdin.once('data', () => { ${ending} });
setTimeout(() => {}, 60_000);`;
    const child = spawn(process.execPath, ['--import', tsx, '--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'pipe'] });
    onTestFinished(() => void child.kill('SIGKILL'));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, sig) => resolve({ code, signal: sig })),
    );
    await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => d.toString().includes('locked') && resolve()));
    expect(existsSync(join(dir, LOCK_FILE))).toBe(true);
    if (signal) child.kill(signal);
    else child.stdin.write('end\n');
    return { dir, ...(await exited) };
  }

  it.each([
    ['an uncaught exception', "throw new Error('crash')", undefined],
    ['an unhandled rejection', "void Promise.reject(new Error('start failed'))", undefined],
    ['process.exit', 'process.exit(3)', undefined],
    ['SIGTERM', '', 'SIGTERM'],
    ['SIGINT', '', 'SIGINT'],
  ] as const)('%s', async (_name, ending, signal) => {
    const run = await holdAndEnd(ending, signal);
    expect(run.code === 0).toBe(false);
    if (signal) expect(run.signal).toBe(signal);
    expect(existsSync(join(run.dir, LOCK_FILE))).toBe(false);
  });
});
