/**
 * What TZ does, run in a real Node process the way the image runs kasa2mqtt, and what
 * docker-compose.yml says it does: log lines stay UTC; TZ only moves the bridge's local date.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { readRepoFile } from './dockerfileModel.js';

const tsx = import.meta.resolve('tsx');
const logger = new URL('../../src/logger.ts', import.meta.url).href;
const energy = new URL('../../src/devices/iot/meter.ts', import.meta.url).href;

/** One log line of the bridge's logger and the month its energy request asks for at 2026-01-31 12:00 UTC, under `tz`. */
function runUnder(tz: string): { time: string; month: unknown } {
  const script = `
    const { createLogger } = await import(${JSON.stringify(logger)});
    const { meterQuery } = await import(${JSON.stringify(energy)});
    const query = meterQuery('emeter', new Date(Date.UTC(2026, 0, 31, 12)));
    createLogger().info({ month: query.get_daystat.month }, 'tz');
  `;
  const run = spawnSync(process.execPath, ['--import', tsx, '--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH ?? '', TZ: tz },
    encoding: 'utf8',
  });
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout.trim()) as { time: string; month: unknown };
}

describe('TZ in the image and docker-compose.yml', () => {
  it('leaves log lines in UTC and only moves the local date, as the comment above TZ in docker-compose.yml says', () => {
    const before = Date.now();
    const kiritimati = runUnder('Pacific/Kiritimati'); // UTC+14: already 1 February
    const utc = runUnder('Etc/UTC');
    for (const { time } of [kiritimati, utc]) {
      expect(time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(Date.parse(time)).toBeGreaterThanOrEqual(before - 1000);
    }
    expect(kiritimati.month).toBe(2);
    expect(utc.month).toBe(1);

    const compose = readRepoFile('docker-compose.yml').split('\n');
    const tzLine = compose.findIndex((line) => /^\s+TZ:/.test(line));
    const comment: string[] = [];
    for (let i = tzLine - 1; /^\s+#/.test(compose[i] ?? ''); i--) comment.unshift(compose[i]!.trim().replace(/^# ?/, ''));
    const said = comment.join(' ');
    expect(said).toContain('Log lines are always UTC');
    expect(said).toContain('local date');
    expect(said).not.toMatch(/time zone of the log/i);
  });
});
