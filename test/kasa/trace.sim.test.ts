/** The redacted protocol trace over a full session: every endpoint is there, no secret is. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { KasaWrongRegionError } from '../../src/kasa/errors.js';
import { accountPath, loginBody } from '../../src/kasa/protocol.js';
import { KasaTransport } from '../../src/kasa/transport.js';
import { createLogger } from '../../src/logger.js';
import { MFA, PLAIN, startEnv, type Env } from './simEnv.js';

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
    expect(lines.join('\n')).toMatch(/"cloudUserName":"<email-\d+>"/);
  });

  it('the terminal UUID, the account id and the e-mail become placeholders, the same in every line', async () => {
    env = await startEnv();
    // The account id as the cloud gives it, read without a trace.
    const terminal = randomUUID();
    const raw = new KasaTransport({ logger: createLogger({ level: 'silent' }) });
    const login = (host: string) =>
      raw.post(host, accountPath('login'), loginBody(PLAIN.username, PLAIN.password, terminal), { op: 'login', terminalUUID: terminal, timeoutMs: 5000 });
    const answer = await login(env.sim.url).catch((err: unknown) => {
      if (err instanceof KasaWrongRegionError && err.appServerUrl) return login(err.appServerUrl);
      throw err;
    });
    await raw.close();
    const accountId = String(answer['accountId']);
    expect(accountId.length).toBeGreaterThan(3);

    const lines: string[] = [];
    const client = env.client({ traceWrite: (line) => lines.push(line) });
    await client.login();
    await client.getDeviceList();
    const { terminalUUID } = JSON.parse(readFileSync(join(env.dataDir, 'session.json'), 'utf8')) as { terminalUUID: string };

    const text = lines.join('\n');
    for (const identity of [terminalUUID, accountId, PLAIN.username]) expect(text).not.toContain(identity);
    const parsed = lines.map((l) => JSON.parse(l) as { op: string; query: Record<string, string>; request: Record<string, unknown>; answer?: Record<string, unknown> });
    const terminals = new Set(parsed.map((l) => l.query.termID));
    expect(terminals.size).toBe(1);
    expect([...terminals][0]).toMatch(/^<terminal-\d+>$/);
    const traced = parsed.find((l) => l.op === 'login')!;
    expect(traced.request.terminalUUID).toBe([...terminals][0]);
    expect(traced.answer).toMatchObject({ result: { accountId: expect.stringMatching(/^<account-\d+>$/), email: traced.request.cloudUserName } });
    expect(traced.request.cloudUserName).toMatch(/^<email-\d+>$/);
  });
});
