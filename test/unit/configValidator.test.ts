/**
 * The design card names env-schema for the configuration check: this proves the daemon's check runs
 * through it (not a hand-written validator), in a fresh process that records what it requires.
 */
import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const tsx = import.meta.resolve('tsx');
const config = new URL('../../src/config.ts', import.meta.url).href;

/** Loads the configuration from `env` in a new node process; returns the CommonJS packages it required. */
function requiredWhileLoading(env: Record<string, string>): Promise<{ required: string[]; problems: string[] }> {
  const script = `
    import Module from 'node:module';
    const required = new Set();
    const load = Module._load;
    Module._load = function (request, ...rest) { required.add(request); return load.call(this, request, ...rest); };
    const { loadConfig, ConfigError } = await import(${JSON.stringify(config)});
    let problems = [];
    try { loadConfig({ env: JSON.parse(process.env.CONFIG_ENV), dotenv: false }); }
    catch (err) { if (err instanceof ConfigError) problems = err.problems; else throw err; }
    process.stdout.write(JSON.stringify({ required: [...required], problems }));
  `;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', tsx, '--input-type=module', '-e', script],
      { env: { PATH: process.env.PATH ?? '', CONFIG_ENV: JSON.stringify(env) } },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout) as { required: string[]; problems: string[] })),
    );
  });
}

describe('the configuration check', () => {
  it('runs through env-schema (and its ajv), for a good configuration and for a bad one', async () => {
    const good = await requiredWhileLoading({ KASA_USERNAME: 'me@example.com', KASA_PASSWORD: 'pw' });
    expect(good.problems).toEqual([]);
    expect(good.required).toContain('env-schema');
    expect(good.required.some((name) => name === 'ajv' || name.startsWith('ajv/'))).toBe(true);

    const bad = await requiredWhileLoading({ KASA_USERNAME: 'me@example.com', KASA_PASSWORD: 'pw', KASA_POLL_INTERVAL: 'often' });
    expect(bad.problems.join('\n')).toMatch(/KASA_POLL_INTERVAL/);
    expect(bad.required).toContain('env-schema');
  }, 30_000);
});
