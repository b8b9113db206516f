/**
 * docs/protocol.md's MFA dialect table against the simulator's answers over real sockets and the
 * client's reply to them: a dialect's row must show what the simulator sends and what the client echoes.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { readMfaAnswer } from '../../src/kasa/errors.js';
import { checkMfaBody, mfaDispatchBody } from '../../src/kasa/protocol.js';
import { startSimulator } from '../../src/simulator/index.js';
import { MFA_DIALECTS, type Simulator } from '../../src/simulator/types.js';
import { call, loginBody, TERMINAL } from './client.js';

const MFA = { username: 'mfa@example.com', password: 'mfa-Pa55' };
/** Values that are the same in every answer, so the docs show them; ids and messages only by name. */
const LITERAL = new Set(['supportedMFATypes', 'mfaType', 'errorCode']);

function dialectRow(dialect: string): string {
  const protocol = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');
  const row = protocol.split('\n').find((line) => line.startsWith(`| \`${dialect}\``));
  if (!row) throw new Error(`docs/protocol.md has no MFA table row for "${dialect}"`);
  return row;
}

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

describe('docs/protocol.md, "MFA"', () => {
  it("shows each dialect's answer as the simulator sends it and the client's reply to it", async () => {
    for (const dialect of MFA_DIALECTS) {
      sim = await startSimulator({ accounts: [{ ...MFA, mfa: true }], mfaDialect: dialect });
      const { body } = await call(sim.regionalUrl, '/api/v2/account/login', loginBody(MFA.username, MFA.password));
      await sim.stop();
      sim = undefined;
      const [answer = '', , dispatch = '', extras = ''] = dialectRow(dialect).split(' | ').slice(1);

      expect(answer, `${dialect}: the error_code level`).toContain(`error_code ${String(body.error_code)}`);
      for (const [key, value] of Object.entries(body.result as Record<string, unknown>)) {
        expect(answer, `${dialect}: ${key}`).toContain(LITERAL.has(key) ? `${key}:${JSON.stringify(value)}` : key);
      }

      const { dialect: read } = readMfaAnswer(body.result as Record<string, unknown>);
      const base = mfaDispatchBody(MFA.username, MFA.password, TERMINAL, read);
      const dispatchExtras = Object.keys(base).filter((k) => !['appType', 'cloudUserName', 'cloudPassword', 'terminalUUID'].includes(k));
      if (dispatchExtras.length === 0) expect(dispatch, `${dialect}: dispatch`).toBe('base only');
      for (const key of dispatchExtras) expect(dispatch, `${dialect}: dispatch ${key}`).toContain(key);

      const verify = checkMfaBody(MFA.username, MFA.password, '123456', TERMINAL, read, 'email');
      for (const key of ['MFAProcessId', 'mfaProcessId', 'MFAType', 'mfaType'] as const) {
        if (key in verify) expect(extras, `${dialect}: verify ${key}`).toContain(key === 'mfaType' ? `mfaType: ${JSON.stringify(verify[key])}` : key);
      }
    }
  });
});
