/**
 * A full MFA login, a refresh and a relogin at debug level: neither the log output nor any
 * thrown error may contain the password, a token, a refresh token or an MFA code.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KasaMfaCodeError } from '../../src/kasa/errors.js';
import { captureLogs, MFA, startEnv, thrown, type Env } from './simEnv.js';

let env: Env | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

function errorText(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e instanceof Error && depth < 5; depth++) {
    parts.push(e.message, String(e.stack), JSON.stringify(e));
    e = e.cause;
  }
  return parts.join('\n');
}

describe('secrets', () => {
  it('never appear in debug logs or error messages', async () => {
    const logs = captureLogs('debug');
    env = await startEnv({ accounts: [{ ...MFA, mfa: true, devices: [{ model: 'HS103(US)', alias: 'x', deviceId: '0000000000000000000000000000000000000B01' }] }] }, logs);
    const client = env.client({ account: MFA });
    const errors: unknown[] = [];

    await client.login();
    const code = env.sim.lastMfaCode(MFA.username)!;
    const wrong = code === '000000' ? '111111' : '000000';
    const wrongErr = await thrown(() => client.completeMfa(wrong));
    expect(wrongErr).toBeInstanceOf(KasaMfaCodeError);
    errors.push(wrongErr);
    await client.completeMfa(code);

    const session = JSON.parse(readFileSync(join(env.dataDir, 'session.json'), 'utf8')) as { token: string; refreshToken: string; terminalUUID: string };
    // The terminal UUID too: with the password it skips two-step verification.
    const secrets = [MFA.password, code, wrong, session.token, session.refreshToken, session.terminalUUID];

    // refresh, then refresh-token expiry → relogin → MFA (untrusted) with a new code
    env.sim.expireAccessTokens();
    await client.getDeviceList();
    const refreshed = JSON.parse(readFileSync(join(env.dataDir, 'session.json'), 'utf8')) as { token: string; refreshToken: string };
    secrets.push(refreshed.token, refreshed.refreshToken);
    env.sim.expireAccessTokens();
    env.sim.expireRefreshTokens();
    env.sim.untrustTerminals(MFA.username);
    errors.push(await thrown(() => client.getDeviceList()));
    const code2 = env.sim.lastMfaCode(MFA.username)!;
    secrets.push(code2);
    await client.completeMfa(code2);
    const last = JSON.parse(readFileSync(join(env.dataDir, 'session.json'), 'utf8')) as { token: string; refreshToken: string };
    secrets.push(last.token, last.refreshToken);

    // a few failure shapes too
    env.sim.faults.http500 = 1;
    errors.push(await thrown(() => client.getDeviceList()));
    env.sim.resetFaults();
    env.sim.faults.throttle = true;
    errors.push(await thrown(() => client.getDeviceList()));
    env.sim.resetFaults();

    const output = logs.text();
    expect(output).toContain('"module":"cloud"');
    expect(output).toContain('"level":20'); // debug lines were written
    expect(output).toContain('checkMFACodeAndLogin');
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(3);
      expect(output).not.toContain(secret);
      for (const err of errors) expect(errorText(err)).not.toContain(secret);
    }
    for (const event of env.events) {
      for (const secret of secrets) expect(JSON.stringify(event)).not.toContain(secret);
    }
  });
});
