/**
 * The real bridge as a child process: the built `dist/cli.js` (run `npm run build` first), in a
 * fresh working and data directory (so no stray `.env` is read), with only the environment given
 * here plus PATH/HOME. Its output goes to a log file kept for a failed run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuMs, memory, RssSampler, type MemorySample } from './proc.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The bridge under test; BENCH_CLI measures another build (say, an older commit's) with this harness. */
export const CLI = process.env.BENCH_CLI ?? join(ROOT, 'dist', 'cli.js');

export interface BridgeChild {
  readonly pid: number;
  readonly child: ChildProcess;
  /** performance.now() just before spawn(). */
  readonly spawnedAt: number;
  readonly dir: string;
  readonly logPath: string;
  readonly rss: RssSampler;
  cpuMs(): number;
  memory(): MemorySample;
  /** The bridge's log (pino JSON lines). */
  log(): string;
  /** SIGTERM, wait (SIGKILL after 8 s); resolves to the exit code. Removes the directory unless keep. */
  stop(keep?: boolean): Promise<number | null>;
}

/**
 * The node flags the bridge runs with: none, as users start it (`kasa2mqtt`, `npm start`, the
 * image's CMD); the bridge sets its V8 memory flags itself (src/v8HeapFlags.ts). BENCH_NODE_ARGS
 * adds some (experiments, or an older build that needs them on the command line).
 */
export function benchNodeArgs(): string[] {
  return (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
}

export function spawnBridge(env: Record<string, string>): BridgeChild {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm run bench does)`);
  const dir = mkdtempSync(join(tmpdir(), 'kasa2mqtt-bench-bridge-'));
  const logPath = join(dir, 'bridge.log');
  const fd = openSync(logPath, 'a');
  const spawnedAt = performance.now();
  const nodeArgs = benchNodeArgs();
  const child = spawn(process.execPath, [...nodeArgs, CLI], {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? dir,
      DATA_DIR: join(dir, 'data'),
      // BENCH_HEALTH_PORT: run with the health endpoint and metrics on, as the image does.
      ...(process.env.BENCH_HEALTH_PORT ? { HEALTH_PORT: process.env.BENCH_HEALTH_PORT } : {}),
      ...env,
    },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not spawn the bridge');
  const rss = new RssSampler(pid);
  let exited: Promise<number | null> | undefined;
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    pid,
    child,
    spawnedAt,
    dir,
    logPath,
    rss,
    cpuMs: () => cpuMs(pid),
    memory: () => memory(pid),
    log: () => readFileSync(logPath, 'utf8'),
    stop(keep = false) {
      exited ??= (async () => {
        rss.stop();
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const killer = setTimeout(() => child.kill('SIGKILL'), 8000);
          const code = await exit;
          clearTimeout(killer);
          if (!keep) rmSync(dir, { recursive: true, force: true });
          return code;
        }
        if (!keep) rmSync(dir, { recursive: true, force: true });
        return child.exitCode;
      })();
      return exited;
    },
  };
}

/** The environment every scenario starts from; scenarios override what they measure. */
export function bridgeEnv(opts: {
  simUrl: string;
  brokerUrl: string;
  username: string;
  password: string;
  overrides?: Record<string, string>;
}): Record<string, string> {
  return {
    KASA_USERNAME: opts.username,
    KASA_PASSWORD: opts.password,
    KASA_CLOUD_URL: opts.simUrl,
    MQTT_URL: opts.brokerUrl,
    MQTT_CLIENT_ID: 'kasa2mqtt_bench',
    LOG_LEVEL: 'info',
    KASA_REQUEST_TIMEOUT: '20',
    // BENCH_COMMAND_CONNECTION=false: the one-connection bridge, for the "Command path" comparison.
    ...(process.env.BENCH_COMMAND_CONNECTION ? { MQTT_COMMAND_CONNECTION: process.env.BENCH_COMMAND_CONNECTION } : {}),
    ...opts.overrides,
  };
}
