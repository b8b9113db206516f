/**
 * .github/workflows checked without GitHub: `npm run lint:workflows` validates them against the
 * workflow schema; this checks what they must do for the add-on and the Docker users.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, string | number | boolean>;
}
interface Job {
  needs?: string | string[];
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
const addon = parse(read('kasa2mqtt/config.yaml')) as { arch: string[]; image: string };
const lines = (value: string | number | boolean | undefined) => String(value ?? '').split('\n').map((l) => l.trim()).filter(Boolean);
const buildStep = (job: Job) => job.steps.find((s) => s.uses?.startsWith('docker/build-push-action@'))!;

/** The Supervisor's add-on arch names and the Docker platforms they run. */
const PLATFORM_OF_ARCH: Record<string, string> = { amd64: 'linux/amd64', aarch64: 'linux/arm64', armv7: 'linux/arm/v7' };

describe('.github/workflows/ci.yml', () => {
  it('runs `bash .ci/run` with Node 22 on pushes and pull requests', () => {
    expect(Object.keys(ci.on).sort()).toEqual(['pull_request', 'push']);
    const steps = Object.values(ci.jobs).flatMap((j) => j.steps);
    expect(steps.find((s) => s.uses?.startsWith('actions/setup-node@'))?.with?.['node-version']).toBe(22);
    expect(steps.map((s) => s.run?.trim())).toContain('bash .ci/run');
  });
});

describe('.github/workflows/release.yml', () => {
  it('runs on version tags and may push packages', () => {
    expect(release.on).toEqual({ push: { tags: ['v*.*.*'] } });
    expect(release.permissions).toMatchObject({ packages: 'write' });
  });

  it('refuses a tag that differs from package.json or the add-on version before building', () => {
    const check = release.jobs.version!.steps.map((s) => s.run ?? '').join('\n');
    expect(check).toContain('package.json');
    expect(check).toContain('kasa2mqtt/config.yaml');
    for (const job of ['image', 'addon']) expect(release.jobs[job]?.needs).toBe('version');
  });

  it('builds the Docker image for amd64, arm64 and arm/v7 and pushes :<version> and :latest to GHCR', () => {
    const build = buildStep(release.jobs.image!);
    expect(String(build.with?.platforms).split(',').sort()).toEqual(['linux/amd64', 'linux/arm/v7', 'linux/arm64']);
    expect(build.with?.push).toBe(true);
    expect(release.env?.REGISTRY).toBe('ghcr.io/kasa2mqtt');
    expect(lines(build.with?.tags)).toEqual([
      '${{ env.REGISTRY }}/kasa2mqtt:${{ needs.version.outputs.version }}',
      '${{ env.REGISTRY }}/kasa2mqtt:latest',
    ]);
    expect(lines(build.with?.['build-args'])).toContain('VERSION=${{ needs.version.outputs.version }}');
    expect(release.jobs.image!.steps.map((s) => s.uses?.split('@')[0])).toEqual(
      expect.arrayContaining(['docker/setup-qemu-action', 'docker/setup-buildx-action', 'docker/login-action']),
    );
  });

  it('builds one add-on image per add-on arch, as root, with the io.hass labels, where config.yaml pulls it', () => {
    const job = release.jobs.addon!;
    const matrix = job.strategy!.matrix.include;
    expect(matrix.map((m) => m.arch).sort()).toEqual([...addon.arch].sort());
    for (const { arch, platform } of matrix) expect(platform, arch).toBe(PLATFORM_OF_ARCH[arch!]);
    const build = buildStep(job);
    expect(build.with?.platforms).toBe('${{ matrix.platform }}');
    expect(lines(build.with?.['build-args'])).toEqual(['VERSION=${{ needs.version.outputs.version }}', 'RUN_AS=root']);
    const image = addon.image.replace('ghcr.io/kasa2mqtt', '${{ env.REGISTRY }}').replace('{arch}', '${{ matrix.arch }}');
    expect(lines(build.with?.tags)).toEqual([`${image}:\${{ needs.version.outputs.version }}`, `${image}:latest`]);
    expect(lines(build.with?.labels)).toEqual(
      expect.arrayContaining(['io.hass.type=addon', 'io.hass.version=${{ needs.version.outputs.version }}', 'io.hass.arch=${{ matrix.arch }}']),
    );
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
