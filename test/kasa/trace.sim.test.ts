/** The redacted protocol trace over a full session: every endpoint is there, no secret is. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MFA, startEnv, type Env } from './simEnv.js';

let env: Env | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

describe('protocol trace', () => {
  it('login, MFA, list, passthrough and refresh: one JSON line each, every endpoint named, no secret anywhere', async () => {
    env = await startEnv();
    const lines: string[] = [];
    const client = env.client({ account: MFA, traceWrite: (line) => lines.push(line) });
    const seenTokens: string[] = [];
    const remember = (): void => {
      const session = JSON.parse(readFileSync(join(env!.dataDir, 'session.json'), 'utf8')) as { token?: string; refreshToken?: string };
      for (const t of [session.token, session.refreshToken]) if (t && !seenTokens.includes(t)) seenTokens.push(t);
    };

    await client.login();
    const code = env.sim.lastMfaCode(MFA.username)!;
    await client.completeMfa(code);
    remember();
    const [device] = await client.getDeviceList();
    await client.passthrough(device!, { system: { get_sysinfo: null } });
    env.sim.expireAccessTokens();
    await client.getDeviceList();
    remember();

    const parsed = lines.map((l) => JSON.parse(l) as { op: string; host: string; path: string; method: string; request: unknown });
    const ops = parsed.map((l) => l.op);
    for (const op of ['getAccountStatusAndUrl', 'login', 'getEmailVC4TerminalMFA', 'checkMFACodeAndLogin', 'getDeviceList', 'passthrough', 'refreshToken']) {
      expect(ops).toContain(op);
    }
    expect(parsed.every((l) => l.method === 'POST' && l.host.startsWith('http') && l.path.startsWith('/'))).toBe(true);
    // The -20651 that caused the refresh is there with its code.
    expect(lines.some((l) => l.includes('"error_code":-20651'))).toBe(true);
    // The MFA answer shape is visible (what a bug report needs), the login body's secrets are not.
    expect(lines.find((l) => l.includes('"op":"login"'))).toMatch(/"error_code":-20677/);

    expect(seenTokens.length).toBeGreaterThanOrEqual(3);
    const secrets = [MFA.password, MFA.username, code, ...seenTokens];
    for (const line of lines) for (const secret of secrets) expect(line).not.toContain(secret);
    expect(lines.join('\n')).toContain('<redacted>');
    expect(lines.join('\n')).toMatch(/m\*\*\*@e\*\*\*\.com/);
  });
});
