/** What the log keeps and what it hides: codes a reader needs stay, the MFA code and identities go. */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseCodeSubmission } from '../../src/bridge/auth.js';
import { classifyCloudError, type MfaDialect } from '../../src/kasa/errors.js';
import { checkMfaBody } from '../../src/kasa/protocol.js';
import { createLogger } from '../../src/logger.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  return { logger: createLogger({ level: 'debug', destination }), lines };
}

describe('log redaction', () => {
  it('keeps cloud error codes and MQTT reason codes readable, hides the MFA code and the terminal UUID', () => {
    const { logger, lines } = capture();
    const MFA_CODE = '482913';
    const TERMINAL = '2a1f7c1e-4d3b-4a57-9b7e-0c6f5d3e8a11';

    logger.warn({ err: classifyCloudError(-20651, 'Token expired', undefined, { op: 'getDeviceList' }) }, 'cloud request failed');
    // As src/mqtt/connection.ts logs a subscription the broker refused.
    logger.error({ filter: 'kasa/+/set', code: 135 }, 'MQTT broker refused subscription');
    const submission = parseCodeSubmission(Buffer.from(JSON.stringify({ code: MFA_CODE })))!;
    logger.debug({ submission }, 'MFA code received');
    const dialect: MfaDialect = { typeEncoding: 'none' };
    logger.debug({ op: 'checkMFACodeAndLogin', body: checkMfaBody('me@example.com', 'pw-secret', MFA_CODE, TERMINAL, dialect, 'email') }, 'request');

    const [cloud, mqtt, ...mfa] = lines.map((l) => JSON.parse(l) as Record<string, { code?: unknown } & Record<string, unknown>>);
    expect(cloud!.err!.code).toBe(-20651);
    expect(mqtt!.code).toBe(135);
    const text = mfa.map((l) => JSON.stringify(l)).join('\n');
    expect(text).toContain('[redacted]');
    for (const secret of [MFA_CODE, TERMINAL, 'pw-secret']) expect(text).not.toContain(secret);
  });
});
