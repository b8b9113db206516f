/**
 * .github/workflows checked without GitHub: `npm run lint:workflows` validates them against the
 * workflow schema; this checks what they must do for the add-on, the Docker and the npm users,
 * and runs the release's own shell steps on copies of the files they change.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { parse } from 'yaml';
import { cleanupDir } from '../helpers/broker.js';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

interface Step {
  id?: string;
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, string | number | boolean>;
  env?: Record<string, string>;
}
interface Job {
  needs?: string | string[];
  if?: string;
  uses?: string;
  permissions?: Record<string, string>;
  env?: Record<string, string>;
  strategy?: { matrix: { include: Record<string, string>[] } };
  steps: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  env?: Record<string, string>;
  jobs: Record<string, Job>;
}

const ci = parse(read('.github/workflows/ci.yml')) as Workflow;
const release = parse(read('.github/workflows/release.yml')) as Workflow;
const addon = parse(read('kasa2mqtt/config.yaml')) as { arch: string[]; image: string; version: string };
const lines = (value: string | number | boolean | undefined) => String(value ?? '').split('\n').map((l) => l.trim()).filter(Boolean);
const buildStep = (job: Job) => job.steps.find((s) => s.uses?.startsWith('docker/build-push-action@'))!;
const step = (job: string, name: string) => release.jobs[job]!.steps.find((s) => s.name === name)!;
const needs = (job: Job) => (job.needs === undefined ? [] : ([] as string[]).concat(job.needs));

/** The Supervisor's add-on arch names and the Docker platforms they run. */
const PLATFORM_OF_ARCH: Record<string, string> = { amd64: 'linux/amd64', aarch64: 'linux/arm64' };

/** Runs a workflow step's shell script in `cwd` the way the runner does (bash -e), with GITHUB_OUTPUT. */
function runStep(script: string, cwd: string, env: Record<string, string>): { status: number | null; output: Record<string, string>; log: string } {
  const outputFile = join(cwd, 'github-output');
  writeFileSync(outputFile, '');
  const run = spawnSync('bash', ['-e', '-c', script], {
    cwd,
    env: { PATH: process.env.PATH ?? '', GITHUB_OUTPUT: outputFile, ...env },
    encoding: 'utf8',
  });
  const output = Object.fromEntries(
    readFileSync(outputFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]),
  );
  return { status: run.status, output, log: run.stdout + run.stderr };
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kasa2mqtt-workflow-'));
  onTestFinished(() => cleanupDir(dir));
  return dir;
}

/** The image tags docker/metadata-action is asked for; `enable=` is the release's `latest` output. */
function requestedTags(job: Job): string[] {
  const meta = job.steps.find((s) => s.uses?.startsWith('docker/metadata-action@'));
  expect(meta?.with?.flavor).toBe('latest=false');
  expect(buildStep(job).with?.tags).toBe(`\${{ steps.${meta!.id}.outputs.tags }}`);
  return lines(meta!.with?.tags);
}

describe('.github/workflows/ci.yml', () => {
  it('runs `bash .ci/run` with Node 22 on branch pushes and pull requests, and when release.yml calls it', () => {
    expect(Object.keys(ci.on).sort()).toEqual(['pull_request', 'push', 'workflow_call']);
    const steps = Object.values(ci.jobs).flatMap((j) => j.steps);
    expect(steps.find((s) => s.uses?.startsWith('actions/setup-node@'))?.with?.['node-version']).toBe(22);
    expect(steps.map((s) => s.run?.trim())).toContain('bash .ci/run');
  });

  it('builds the image for linux/amd64 without pushing it', () => {
    const builds = Object.values(ci.jobs).filter((j) => j.steps.some((s) => s.uses?.startsWith('docker/build-push-action@')));
    expect(builds).toHaveLength(1);
    const build = buildStep(builds[0]!);
    expect(build.with).toMatchObject({ context: '.', platforms: 'linux/amd64', push: false });
    expect(ci.permissions).toEqual({ contents: 'read' });
  });
});

describe('.github/workflows/release.yml', () => {
  it('runs on version tags, and runs the CI workflow before anything else', () => {
    expect(release.on).toEqual({ push: { tags: ['v*.*.*'] } });
    expect(release.jobs.ci?.uses).toBe('./.github/workflows/ci.yml');
    // Every other job waits for CI, directly or through the jobs it needs.
    const reachesCi = (name: string): boolean => name === 'ci' || needs(release.jobs[name]!).some(reachesCi);
    for (const name of Object.keys(release.jobs)) expect(reachesCi(name), name).toBe(true);
    expect(needs(release.jobs.version!)).toEqual(['ci']);
    for (const job of ['image', 'addon']) expect(release.jobs[job]?.needs).toBe('version');
  });

  it('grants each job only what it needs: packages to the image jobs, id-token to npm, contents: write to the add-on version', () => {
    expect(release.permissions).toEqual({ contents: 'read' });
    expect(release.jobs.image?.permissions).toEqual({ contents: 'read', packages: 'write' });
    expect(release.jobs.addon?.permissions).toEqual({ contents: 'read', packages: 'write' });
    expect(release.jobs.npm?.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
    expect(release.jobs['addon-version']?.permissions).toEqual({ contents: 'write' });
  });

  it.each([
    ['a release', '0.1.0', { version: '0.1.0', latest: 'true' }],
    ['a pre-release', '0.2.0-rc.1', { version: '0.2.0-rc.1', latest: 'false' }],
  ])('the version step takes %s tag that matches package.json and says whether it is `latest`', (_case, version, outputs) => {
    const dir = tempDir();
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ version }));
    const run = runStep(step('version', 'Compare versions').run!, dir, { GITHUB_REF_NAME: `v${version}` });
    expect(run.status, run.log).toBe(0);
    expect(run.output).toEqual(outputs);
  });

  it('the version step refuses a tag that differs from package.json', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ version: '0.1.0' }));
    const run = runStep(step('version', 'Compare versions').run!, dir, { GITHUB_REF_NAME: 'v0.1.1' });
    expect(run.status).toBe(1);
    expect(run.log).toContain('::error::tag 0.1.1 and package.json 0.1.0 must be one version');
    expect(run.output).toEqual({});
  });

  it('builds the Docker image for amd64, arm64 and arm/v7 and pushes :<version>, and :latest only for a release', () => {
    const job = release.jobs.image!;
    const build = buildStep(job);
    expect(String(build.with?.platforms).split(',').sort()).toEqual(['linux/amd64', 'linux/arm/v7', 'linux/arm64']);
    expect(build.with?.push).toBe(true);
    expect(release.env?.REGISTRY).toBe('ghcr.io/kasa2mqtt');
    expect(job.steps.find((s) => s.uses?.startsWith('docker/metadata-action@'))?.with?.images).toBe('${{ env.REGISTRY }}/kasa2mqtt');
    expect(requestedTags(job)).toEqual([
      'type=raw,value=${{ needs.version.outputs.version }}',
      'type=raw,value=latest,enable=${{ needs.version.outputs.latest }}',
    ]);
    expect(lines(build.with?.['build-args'])).toContain('VERSION=${{ needs.version.outputs.version }}');
    expect(job.steps.map((s) => s.uses?.split('@')[0])).toEqual(
      expect.arrayContaining(['docker/setup-qemu-action', 'docker/setup-buildx-action', 'docker/login-action']),
    );
  });

  it('builds one add-on image per add-on arch (no armv7), as root, with the io.hass labels, where config.yaml pulls it', () => {
    const job = release.jobs.addon!;
    const matrix = job.strategy!.matrix.include;
    expect(matrix.map((m) => m.arch).sort()).toEqual([...addon.arch].sort());
    expect(matrix.map((m) => m.arch)).not.toContain('armv7');
    for (const { arch, platform } of matrix) expect(platform, arch).toBe(PLATFORM_OF_ARCH[arch!]);
    const build = buildStep(job);
    expect(build.with?.platforms).toBe('${{ matrix.platform }}');
    expect(lines(build.with?.['build-args'])).toEqual(['VERSION=${{ needs.version.outputs.version }}', 'RUN_AS=root']);
    const image = addon.image.replace('ghcr.io/kasa2mqtt', '${{ env.REGISTRY }}').replace('{arch}', '${{ matrix.arch }}');
    expect(job.steps.find((s) => s.uses?.startsWith('docker/metadata-action@'))?.with?.images).toBe(image);
    expect(requestedTags(job)).toEqual([
      'type=raw,value=${{ needs.version.outputs.version }}',
      'type=raw,value=latest,enable=${{ needs.version.outputs.latest }}',
    ]);
    expect(lines(build.with?.labels)).toEqual(
      expect.arrayContaining(['io.hass.type=addon', 'io.hass.version=${{ needs.version.outputs.version }}', 'io.hass.arch=${{ matrix.arch }}']),
    );
  });

  it('publishes to npm with provenance after the images, a pre-release under the dist-tag next', () => {
    const job = release.jobs.npm!;
    expect(needs(job).sort()).toEqual(['addon', 'image', 'version']);
    expect(job.steps.find((s) => s.uses?.startsWith('actions/setup-node@'))?.with?.['registry-url']).toBe('https://registry.npmjs.org');
    const runs = job.steps.map((s) => s.run?.trim() ?? '');
    const publish = job.steps.find((s) => s.run?.includes('npm publish'))!;
    expect(runs.findIndex((r) => r === 'npm run build')).toBeLessThan(runs.findIndex((r) => r.startsWith('npm publish')));
    expect(publish.run).toMatch(/^npm publish --provenance --access public --tag "\$\{\{ needs\.version\.outputs\.latest == 'true' && 'latest' \|\| 'next' \}\}"$/);
    expect(publish.env).toEqual({ NODE_AUTH_TOKEN: '${{ secrets.NPM_TOKEN }}' });
    const pkg = JSON.parse(read('package.json')) as { files: string[]; bin: Record<string, string> };
    expect(pkg.files).toContain('dist');
    expect(pkg.bin.kasa2mqtt).toMatch(/^dist\//);
  });

  it('raises the add-on version on the default branch only for a release, once its images are pushed and public', () => {
    const job = release.jobs['addon-version']!;
    expect(needs(job).sort()).toEqual(['addon', 'image', 'version']);
    expect(job.if).toBe("needs.version.outputs.latest == 'true'");
    expect(job.steps[0]).toMatchObject({ uses: 'actions/checkout@v4', with: { ref: '${{ github.event.repository.default_branch }}' } });
    const names = job.steps.map((s) => s.name);
    const order = ['The add-on images can be pulled without logging in', 'Set the add-on version', 'Push the add-on version'];
    expect(order.map((n) => names.indexOf(n))).toEqual([1, 2, 3]);
    // The public check pulls anonymously, every arch config.yaml lists.
    const check = step('addon-version', order[0]!).run!;
    expect(check).toContain('DOCKER_CONFIG="$(mktemp -d)"');
    expect(check).toContain("yq '.arch[]' kasa2mqtt/config.yaml");
    expect(check).toContain('${REGISTRY}/${arch}-kasa2mqtt:${VERSION}');
  });

  it('the add-on version step changes only the version of config.yaml', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'kasa2mqtt'));
    const file = join(dir, 'kasa2mqtt', 'config.yaml');
    copyFileSync(new URL('../../kasa2mqtt/config.yaml', import.meta.url), file);
    const run = runStep(step('addon-version', 'Set the add-on version').run!, dir, { VERSION: '12.3.4' });
    expect(run.status, run.log).toBe(0);
    const before = read('kasa2mqtt/config.yaml').split('\n');
    const after = readFileSync(file, 'utf8').split('\n');
    expect(after.filter((line, i) => line !== before[i])).toEqual(['version: "12.3.4"']);
    expect((parse(after.join('\n')) as { version: unknown }).version).toBe('12.3.4');
  });

  it('no longer requires the add-on version to be the tag: the add-on store must not see it before the images', () => {
    expect(step('version', 'Compare versions').run).not.toContain('kasa2mqtt/config.yaml');
  });
});

describe('README.md, Releases', () => {
  it('tells maintainers to make every package the release pushes public, and how', () => {
    const readme = read('README.md');
    const releases = readme.slice(readme.indexOf('### Releases'));
    expect(readme).toContain('### Releases');
    expect(releases).toMatch(/Change visibility\*\* → \*\*Public/);
    for (const name of ['kasa2mqtt', ...addon.arch.map((arch) => addon.image.replace('ghcr.io/kasa2mqtt/', '').replace('{arch}', arch))]) {
      expect(releases, name).toContain(`\`${name}\``);
    }
    expect(releases).toContain('NPM_TOKEN');
  });
});

describe('npm run lint', () => {
  it('validates both workflows', () => {
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string>; devDependencies: Record<string, string> };
    expect(pkg.scripts.lint).toContain('npm run lint:workflows');
    for (const file of ['ci.yml', 'release.yml']) expect(pkg.scripts['lint:workflows']).toContain(`action-validator .github/workflows/${file}`);
    expect(pkg.devDependencies).toHaveProperty('@action-validator/cli');
  });
});
