/**
 * What the image's runtime stage does, without a Docker engine: a throwaway copy with package.json,
 * package-lock.json, certs/ and a freshly compiled dist/, `npm ci --omit=dev` there, then the built
 * CLI run from it. A runtime import that reaches a dev dependency fails here, not in production.
 *
 * Uses the npm registry (through the npm cache) for the install.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { demoAccount } from '../../src/simulator/catalog.js';
import { startSimulator } from '../../src/simulator/index.js';
import { cleanupDir, freePort, startTestBroker } from '../helpers/broker.js';
import { parseDockerfile, repoFile, runtimeStage } from './dockerfileModel.js';

const root = fileURLToPath(repoFile('./'));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  version: string;
  bin: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { dev?: boolean; devOptional?: boolean }>;
};
const runtime = runtimeStage(parseDockerfile());
/** The image's ENV (NODE_ENV, DATA_DIR, HEALTH_PORT, HEALTH_HOST). */
const imageEnv = Object.fromEntries(runtime.env);
/** The image's CMD: `node dist/cli.js`. */
const imageCmd = runtime.cmd ?? [];

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number }): Promise<Result> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: options.cwd, env: options.env, timeout: options.timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * The environment for npm: ours without what an outer `npm test` injects for its own package
 * (npm_package_*, npm_lifecycle_*, npm_config_local_prefix …), so the inner npm works on the
 * throwaway copy only. User-level npm settings (registry, cache, CA) stay.
 */
function npmEnv(): NodeJS.ProcessEnv {
  const injected = /^npm_(package_|lifecycle_|command$|config_local_prefix$|config_call$|config_omit|config_include|config_production)/i;
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !injected.test(key)));
}

let app = '';
let install: Result;

/** The built CLI as the image runs it: WORKDIR is the app, only the image's environment. */
function cli(args: string[], env: Record<string, string> = {}): Promise<Result> {
  return run(process.execPath, [pkg.bin.kasa2mqtt!, ...args], {
    cwd: app,
    env: { PATH: process.env.PATH ?? '', ...imageEnv, DATA_DIR: join(app, 'data'), ...env },
    timeoutMs: 20_000,
  });
}

beforeAll(async () => {
  app = mkdtempSync(join(tmpdir(), 'kasa2mqtt-prod-'));
  for (const file of ['package.json', 'package-lock.json']) cpSync(join(root, file), join(app, file));
  cpSync(join(root, 'certs'), join(app, 'certs'), { recursive: true });
  // Compile the current tree (not whatever an earlier `npm run build` left in dist/).
  const tsc = await run(process.execPath, [join(root, 'node_modules/.bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', join(app, 'dist')], {
    cwd: root,
    env: process.env,
    timeoutMs: 120_000,
  });
  if (tsc.code !== 0) throw new Error(`tsc failed (${tsc.code}):\n${tsc.stdout}${tsc.stderr}`);
  // The same command as the Dockerfile's deps stage, plus --prefix so npm cannot wander upwards.
  install = await run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefix', app], {
    cwd: app,
    env: npmEnv(),
    timeoutMs: 150_000,
  });
  if (install.code !== 0) throw new Error(`npm ci --omit=dev failed (${install.code}):\n${install.stdout}${install.stderr}`);
}, 300_000);

afterAll(() => {
  if (app) cleanupDir(app);
});

describe('production install (what the runtime stage ships)', () => {
  it('holds the production dependencies and none of the dev-only ones', () => {
    for (const name of Object.keys(pkg.dependencies)) {
      expect(existsSync(join(app, 'node_modules', name, 'package.json')), name).toBe(true);
    }
    for (const name of Object.keys(pkg.devDependencies)) {
      // A dev dependency may also be a transitive production one; then the lockfile says so.
      const entry = lock.packages[`node_modules/${name}`];
      const devOnly = entry?.dev === true || entry?.devOptional === true;
      if (devOnly) expect(existsSync(join(app, 'node_modules', name)), name).toBe(false);
    }
    expect(existsSync(join(app, 'node_modules/typescript'))).toBe(false);
    expect(existsSync(join(app, 'node_modules/vitest'))).toBe(false);
    // The install did not touch the repository's own node_modules.
    expect(existsSync(join(root, 'node_modules/typescript/package.json'))).toBe(true);
  });

  it('resolves every package the compiled code imports', async () => {
    const specifiers = new Set<string>();
    const files = (readdirSync(join(app, 'dist'), { recursive: true }) as string[]).filter((f) => f.endsWith('.js'));
    expect(files).toContain('cli.js');
    for (const file of files) {
      // TypeScript's own scanner: static imports, re-exports and dynamic import('…') with a literal.
      const { importedFiles } = ts.preProcessFile(readFileSync(join(app, 'dist', file), 'utf8'), true, true);
      for (const { fileName } of importedFiles) {
        if (!fileName.startsWith('.') && !fileName.startsWith('node:')) specifiers.add(fileName);
      }
    }
    expect(specifiers.size).toBeGreaterThan(0);
    // Resolve from the app directory, as the running code would; print what does not resolve.
    const probe = join(app, 'resolve-probe.mjs');
    writeFileSync(
      probe,
      `const missing = [];
for (const s of ${JSON.stringify([...specifiers].sort())}) { try { import.meta.resolve(s); } catch { missing.push(s); } }
process.stdout.write(JSON.stringify(missing));`,
    );
    const result = await run(process.execPath, [probe], { cwd: app, env: { PATH: process.env.PATH ?? '' }, timeoutMs: 20_000 });
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual([]);
  });

  it('loads every compiled module (not only the ones --version and --check-config reach)', async () => {
    const files = (readdirSync(join(app, 'dist'), { recursive: true }) as string[])
      .filter((f) => f.endsWith('.js') && f !== 'cli.js')
      .map((f) => relative(app, join(app, 'dist', f)));
    const probe = join(app, 'import-probe.mjs');
    writeFileSync(
      probe,
      `const failed = [];
for (const f of ${JSON.stringify(files)}) { try { await import(new URL('./' + f, import.meta.url)); } catch (e) { failed.push(f + ': ' + e.message); } }
process.stdout.write(JSON.stringify(failed));
process.exit(0);`,
    );
    const result = await run(process.execPath, [probe], { cwd: app, env: { PATH: process.env.PATH ?? '', ...imageEnv }, timeoutMs: 30_000 });
    expect(JSON.parse(result.stdout)).toEqual([]);
  });

  it('kasa2mqtt --version prints the package version', async () => {
    const { code, stdout } = await cli(['--version']);
    expect(code).toBe(0);
    expect(stdout.trim()).toBe(pkg.version);
  });

  it('kasa2mqtt --check-config accepts the image environment and masks secrets', async () => {
    mkdirSync(join(app, 'data'), { recursive: true });
    const { code, stdout, stderr } = await cli(['--check-config'], {
      KASA_USERNAME: 'me@example.com',
      KASA_PASSWORD: 'pw-very-secret',
      MQTT_URL: 'mqtt://mosquitto:1883',
    });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).not.toContain('very-secret');
    const printed = JSON.parse(stdout) as Record<string, unknown>;
    expect(printed).toMatchObject({
      KASA_USERNAME: 'me@example.com',
      KASA_PASSWORD: '********',
      MQTT_URL: 'mqtt://mosquitto:1883',
      DATA_DIR: join(app, 'data'),
      HEALTH_PORT: Number(imageEnv.HEALTH_PORT),
      HEALTH_HOST: '0.0.0.0',
    });
  });

  it('kasa2mqtt --check-config exits 2 naming each bad variable', async () => {
    const { code, stdout, stderr } = await cli(['--check-config'], { KASA_USERNAME: 'me@example.com', KASA_POLL_INTERVAL: 'soon' });
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('KASA_PASSWORD');
    expect(stderr).toContain('KASA_POLL_INTERVAL');
  });
});

describe('the runtime command (CMD node dist/cli.js) and the HEALTHCHECK', () => {
  it('healthcheck exits 1 with a reason when no daemon answers', async () => {
    const port = await freePort();
    const { code, stderr } = await cli(['healthcheck'], { HEALTH_PORT: String(port) });
    expect(code).toBe(1);
    expect(stderr).toContain(`127.0.0.1:${port}/healthz unreachable`);
  });

  it('the daemon runs from the production install, turns healthy, and exits 0 on SIGTERM', async () => {
    const [command, ...args] = imageCmd;
    expect(command).toBe('node');
    const daemon = await startDaemon(args);
    // The image's own HEALTHCHECK command, as Docker runs it in the container (busybox wget there).
    const [shell, ...probeArgs] = runtimeStage(parseDockerfile()).healthcheck!.command!;
    const probe = (port: string) =>
      new Promise<number | null>((resolve) => {
        spawn(shell!, probeArgs, { env: { PATH: process.env.PATH ?? '', ...imageEnv, HEALTH_PORT: port }, stdio: 'ignore' }).once('exit', resolve);
      });
    expect(await probe(daemon.healthPort)).toBe(0);
    expect(await probe(String(await freePort()))).not.toBe(0);
    daemon.process.kill('SIGTERM');
    expect(await daemon.exited, daemon.output()).toBe(0);
  }, 60_000);

  it('started without node flags, the daemon keeps V8\'s young generation at two 1 MB semi-spaces', async () => {
    // Without the flags cli.js sets, start-up allocation grows the semi-spaces to 2 × 8 MB (Node 20)
    // or 2 × 16 MB and V8 keeps them: ~15 MB of RSS at every size (bench/README.md, "Memory").
    // `node dist/cli.js`, as the npm bin (`kasa2mqtt`, `npx`) and `npm start` run it.
    const daemon = await startDaemon([pkg.bin.kasa2mqtt!]);
    const metrics = await (await fetch(`http://127.0.0.1:${daemon.healthPort}/metrics`)).text();
    const newSpace = /^nodejs_heap_space_size_total_bytes\{space="new"\} (\d+)$/m.exec(metrics)?.[1];
    expect(newSpace, metrics).toBeDefined();
    expect(Number(newSpace)).toBeLessThanOrEqual(2 * 1024 * 1024);
  }, 60_000);
});

/**
 * `node <nodeArgs>` in WORKDIR with the image's ENV, against a simulated cloud and a test broker,
 * once the HEALTHCHECK command passes. Stopped when the test ends.
 */
async function startDaemon(nodeArgs: string[]): Promise<{ process: ChildProcess; healthPort: string; exited: Promise<number | null>; output: () => string }> {
  const account = demoAccount({ username: 'docker@example.com', mfa: false });
  // Cleanups are registered as things start, so they also run when the test fails or times out.
  const broker = await startTestBroker();
  onTestFinished(() => broker.stop());
  const sim = await startSimulator({ accounts: [account] });
  onTestFinished(() => sim.stop());
  const healthPort = String(await freePort());
  const dataDir = mkdtempSync(join(tmpdir(), 'kasa2mqtt-prod-data-'));
  onTestFinished(() => cleanupDir(dataDir));
  const daemon: ChildProcess = spawn(process.execPath, nodeArgs, {
    cwd: app,
    env: {
      PATH: process.env.PATH ?? '',
      ...imageEnv,
      HEALTH_PORT: healthPort,
      DATA_DIR: dataDir,
      KASA_USERNAME: account.username,
      KASA_PASSWORD: account.password,
      KASA_CLOUD_URL: sim.url,
      MQTT_URL: broker.url,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  daemon.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  daemon.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => daemon.once('exit', (code) => resolve(code)));
  onTestFinished(() => {
    daemon.kill('SIGKILL');
  });
  // What Docker does: run the HEALTHCHECK command until it passes (here: at most 30 s).
  const deadline = Date.now() + 30_000;
  let last: Result = { code: null, stdout: '', stderr: '' };
  while (Date.now() < deadline && daemon.exitCode === null) {
    last = await cli(['healthcheck'], { HEALTH_PORT: healthPort });
    if (last.code === 0) break;
    await delay(100); // poll interval, as Docker's --interval; the loop ends on the outcome
  }
  expect(last.code, `healthcheck: ${last.stderr}\ndaemon output:\n${output}`).toBe(0);
  return { process: daemon, healthPort, exited, output: () => output };
}
