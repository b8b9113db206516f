/**
 * The Dockerfile and .dockerignore, checked without a Docker engine: dockerfile-utils' validator
 * (what `npm run lint:docker` runs) plus the shape the image must have.
 */
import { existsSync } from 'node:fs';
import { validate } from 'dockerfile-utils';
import { describe, expect, it } from 'vitest';
import { parseDockerfile, readRepoFile, repoFile, runtimeStage, type Stage } from './dockerfileModel.js';

const pkg = JSON.parse(readRepoFile('package.json')) as { bin: Record<string, string>; files: string[]; scripts: Record<string, string> };
const dockerfile = parseDockerfile();
const runtime = runtimeStage(dockerfile);

/** The stage that produced `path` (absolute in that stage) for a `COPY --from` into the runtime. */
function copiedFrom(dest: string): { stage: Stage; source: string } {
  const step = runtime.copies.find((c) => c.from !== null && normalise(c.dest) === dest);
  if (!step?.from) throw new Error(`runtime stage does not COPY --from=<stage> into ${dest}`);
  const stage = dockerfile.stages.find((s) => s.name === step.from);
  if (!stage) throw new Error(`COPY --from=${step.from}: no such stage`);
  return { stage, source: step.sources[0] ?? '' };
}

/** What a COPY puts in WORKDIR: the sources' names when the destination is a directory (`./`). */
function installed(step: { sources: string[]; dest: string }): string[] {
  if (step.dest.endsWith('/') || step.dest === '.') return step.sources.map((s) => normalise(s).split('/').at(-1) ?? '');
  return [normalise(step.dest)];
}

/** `./dist`, `dist/`, `/app/dist` → `dist` (relative to WORKDIR /app). */
function normalise(path: string): string {
  return path.replace(/^\/app\//, '').replace(/^\.\//, '').replace(/\/$/, '');
}

describe('Dockerfile', () => {
  it('passes dockerfile-utils validation with no errors and no warnings', () => {
    const problems = validate(dockerfile.text).map(
      (d) => `line ${d.range.start.line + 1}: ${typeof d.message === 'string' ? d.message : d.message.value}`,
    );
    expect(problems).toEqual([]);
  });

  it('declares the BuildKit syntax and builds on node:22-alpine by default (Node 20 is end-of-life)', () => {
    const directive = dockerfile.ast.getDirective();
    expect(directive?.getName()).toBe('syntax');
    expect(directive?.getValue()).toBe('docker/dockerfile:1');
    expect(dockerfile.globalArgs.get('NODE_VERSION')).toBe('22');
    expect(runtime.image).toBe('node:22-alpine');
    for (const stage of dockerfile.stages) expect(stage.image, `stage ${stage.name ?? '?'}`).toBe('node:22-alpine');
  });

  it('is multi-stage: TypeScript is compiled in a build stage, not in the runtime image', () => {
    expect(dockerfile.stages.length).toBeGreaterThanOrEqual(2);
    const { stage: build, source } = copiedFrom('dist');
    expect(build).not.toBe(runtime);
    expect(normalise(source)).toBe('dist');
    expect(build.runs).toContainEqual(expect.stringMatching(/^npm ci\b/));
    expect(build.runs).toContainEqual(expect.stringMatching(/\bnpm run build\b/));
    // The build stage has what `npm run build` (tsc -p tsconfig.build.json) reads.
    const tsconfigBuild = JSON.parse(readRepoFile('tsconfig.build.json')) as { extends?: string; include: string[] };
    const sent = build.copies.filter((c) => c.from === null).flatMap((c) => c.sources.map(normalise));
    const needed = ['package.json', 'package-lock.json', 'tsconfig.build.json', ...tsconfigBuild.include];
    if (tsconfigBuild.extends) needed.push(normalise(tsconfigBuild.extends));
    expect(sent).toEqual(expect.arrayContaining(needed));
    expect(runtime.runs.join('\n')).not.toMatch(/\bnpm (ci|install|i)\b|\btsc\b/);
  });

  it('ships production dependencies only', () => {
    const { stage: deps, source } = copiedFrom('node_modules');
    expect(normalise(source)).toBe('node_modules');
    const installs = deps.runs.filter((r) => /\bnpm (ci|install|i|prune)\b/.test(r));
    // The last npm step of that stage leaves only production dependencies.
    expect(installs.at(-1)).toMatch(/--omit=dev\b/);
    expect(installs.at(-1)).toMatch(/--ignore-scripts\b/);
  });

  it('has every file the package publishes (package.json `files`) and package.json itself', () => {
    const present = runtime.copies.flatMap(installed);
    expect(present).toEqual(expect.arrayContaining([...pkg.files.map(normalise), 'package.json']));
    // The bundled TP-Link CA chain is read at runtime from <package root>/certs/.
    expect(existsSync(repoFile('certs/tplink-ca-chain.pem'))).toBe(true);
    const certs = runtime.copies.find((c) => normalise(c.dest) === 'certs');
    expect(certs?.from).toBeNull();
    expect(certs?.sources.map(normalise)).toEqual(['certs']);
  });

  it('builds with the legacy builder as well as BuildKit: no BuildKit-only flags or heredocs', () => {
    // docker-compose 1.29 (Debian 12) builds with the legacy builder, which rejects `RUN --mount`,
    // `COPY --chmod`/`--link` and heredocs; the `# syntax` directive is only a comment there.
    for (const stage of dockerfile.stages) {
      const where = `stage ${stage.name ?? '?'}`;
      expect(stage.runFlags.flat(), where).toEqual([]);
    }
    const copyFlags = dockerfile.stages.flatMap((s) =>
      s.instructions.filter((i) => i.getKeyword() === 'COPY').flatMap((i) => (i as unknown as { getFlags(): { getName(): string }[] }).getFlags().map((f) => f.getName())),
    );
    expect(copyFlags.filter((f) => f !== 'from' && f !== 'chown')).toEqual([]);
    expect(dockerfile.text).not.toMatch(/^\s*RUN\s+--/m);
    expect(dockerfile.text).not.toMatch(/<<-?\s*['"]?[A-Z]+['"]?\s*$/m);
  });

  it('runs as `node` unless built with RUN_AS (root only for the Home Assistant add-on images)', () => {
    expect(runtime.userAsWritten).toBe('${RUN_AS}');
    expect(runtime.args.get('RUN_AS')).toBe('node');
  });

  it('runs as the non-root `node` user with /data as a volume it owns', () => {
    expect(runtime.user).toBe('node');
    expect(runtime.volumes).toEqual(['/data']);
    expect(runtime.env.get('DATA_DIR')).toBe('/data');
    expect(runtime.runs.join('\n')).toMatch(/chown node:node \/data\b/);
    // USER comes after every RUN, so nothing at runtime runs as root.
    const keywords = runtime.instructions.map((i) => i.getKeyword());
    expect(keywords.lastIndexOf('USER')).toBeGreaterThan(keywords.lastIndexOf('RUN'));
  });

  it('sets the runtime environment: production, health server on all interfaces', () => {
    expect(runtime.env.get('NODE_ENV')).toBe('production');
    const port = Number(runtime.env.get('HEALTH_PORT'));
    expect(Number.isInteger(port) && port > 0 && port < 65536).toBe(true);
    expect(runtime.env.get('HEALTH_HOST')).toBe('0.0.0.0');
    expect(runtime.exposes).toEqual([String(port)]);
  });

  it('has a HEALTHCHECK that asks the liveness endpoint /healthz with busybox wget, not a second node process', () => {
    const command = runtime.healthcheck?.command ?? [];
    expect(command.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(command[2]).toMatch(/\bwget -q -T \d+ -O \/dev\/null http:\/\/\$host:\$HEALTH_PORT\/healthz$/);
    expect(command.join(' ')).not.toMatch(/\bnode\b/);
    const flags = runtime.healthcheck?.flags;
    for (const flag of ['interval', 'timeout', 'start-period', 'retries']) expect(flags?.has(flag), flag).toBe(true);
  });

  it('runs the daemon under tini so SIGTERM reaches node', () => {
    expect(runtime.runs).toContainEqual(expect.stringMatching(/^apk add --no-cache .*\btini\b/));
    expect(runtime.entrypoint).toEqual(['/sbin/tini', '--']);
  });

  it('runs the daemon as `kasa2mqtt` and `npm start` do, without node flags (cli.js sets its own)', () => {
    expect(runtime.cmd).toEqual(['node', pkg.bin.kasa2mqtt]);
    expect(pkg.scripts.start).toBe(`node ${pkg.bin.kasa2mqtt}`);
  });

  it('carries OCI labels', () => {
    expect(runtime.labels.get('org.opencontainers.image.title')).toBe('kasa2mqtt');
    expect(runtime.labels.get('org.opencontainers.image.licenses')).toBe('MIT');
    expect(runtime.labels.has('org.opencontainers.image.version')).toBe(true);
  });
});

describe('.dockerignore', () => {
  const lines = readRepoFile('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const reincluded = lines.filter((l) => l.startsWith('!')).map((l) => normalise(l.slice(1)));

  it('is an allow-list: everything is excluded unless re-included', () => {
    expect(lines[0]).toBe('*');
  });

  it('re-includes exactly what the Dockerfile copies from the build context', () => {
    const sources = dockerfile.stages.flatMap((s) => s.copies.filter((c) => c.from === null).flatMap((c) => c.sources));
    expect(new Set(reincluded)).toEqual(new Set(sources.map(normalise)));
  });

  it('never lets secrets, local state or build output into the build context', () => {
    for (const kept of ['.env', 'node_modules', 'dist', 'data', 'coverage', '.git', 'test', '.vitest-report.json']) {
      expect(reincluded, kept).not.toContain(kept);
    }
    expect(lines).toContain('**/.env');
    expect(lines).toContain('**/node_modules');
  });
});
