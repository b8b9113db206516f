/**
 * Abuse of the one-shot MFA code topic (docs/mqtt-api.md, "Login and MFA"): hostile payloads during an open round
 * cost no attempt and no cloud request, retained ones are rejected and cleared, only well-formed
 * codes are checked with the cloud (three per round), and codes outside a round do nothing.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BridgeAuthPayload, BridgeResponse } from '../../src/api/types.js';
import { demoAccount } from '../../src/simulator/catalog.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { startHarness, type Harness } from '../helpers/bridgeHarness.js';
import type { ObservedMessage } from '../helpers/mqttObserver.js';
import { anyPayload, withSummary } from './hostile.js';

const PASSWORD = 'Abuse-Mfa-Pa55word-71d2';
// No fixed code: the simulator e-mails a random one per dispatch.
const { mfaCode: _fixed, ...account } = demoAccount({ username: 'abuse-mfa@example.com', password: PASSWORD });
const MFA = 'kasa/bridge/mfa';

const auth = (m: ObservedMessage) => m.json<BridgeAuthPayload>();
const authIs = (state: string, extra: (p: BridgeAuthPayload) => boolean = () => true) => (m: ObservedMessage) =>
  m.text !== '' && auth(m).state === state && extra(auth(m));

/** Conservative: anything that might be taken as a code (a short alphanumeric word, or an object with `code`). */
function mayBeCode(payload: Buffer): boolean {
  const text = payload.toString('utf8').trim();
  if (/^[0-9A-Za-z]{4,12}$/.test(text)) return true;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.hasOwn(value, 'code');
  } catch {
    return false;
  }
}

/** `{"code": …}` with a code of the wrong type or shape, or a challenge of the wrong type. */
const wrongCodeType = fc
  .constantFrom(
    '{"code":null}',
    '{"code":[]}',
    '{"code":{}}',
    '{"code":true}',
    '{"code":12}',
    '{"code":1.5}',
    '{"code":-123456}',
    '{"code":1e21}',
    '{"code":"12"}',
    '{"code":"1234567890123"}',
    '{"code":"12 34"}',
    '{"code":"１２３４５６"}',
    '{"code":"123456\\u0000"}',
    '{"code":"12345!"}',
    '{"code":["123456"]}',
    '{"code":{"code":"123456"}}',
    '{"code":"123456","challenge":5}',
    '{"code":"123456","challenge":null}',
    '{"code":"123456","challenge":["x"]}',
    '[{"code":"123456"}]',
    '"123456"',
    '{"Code":"123456"}',
    `{"code":"${'1'.repeat(2000)}"}`,
  )
  .map((text) => ({ label: 'wrong code type', payload: Buffer.from(text) }));

describe('hostile messages on the MFA code topic', () => {
  let broker: TestBroker;
  let h: Harness;
  let challenge = '';
  let code = '';
  const wrongCodes: string[] = [];
  const published = { total: 0, retained: 0, megabyte: 0 };
  let sentinel = 0;

  const checks = () => h.sim.count({ op: 'checkMFACodeAndLogin' });
  const logins = () => h.sim.count({ op: 'login' });
  const rejectedRetained = () => h.obs.on('kasa/bridge/auth').filter(authIs('mfa_required', (p) => p.last_error === 'retained_rejected')).length;

  /** Proves the bridge has handled everything published before (one connection, in order), then a barrier. */
  async function handled(): Promise<void> {
    const transaction = `sentinel-${++sentinel}`;
    const answer = h.obs.next('kasa/bridge/response/health_check', (m) => m.json<BridgeResponse>().transaction === transaction, 10_000);
    await h.obs.publish('kasa/bridge/request/health_check', JSON.stringify({ transaction }), { qos: 1 });
    await answer;
    await h.obs.barrier();
  }

  async function publish(m: { payload: Buffer; retain: boolean }): Promise<void> {
    await h.obs.publish(MFA, m.payload, { qos: 1, retain: m.retain });
    published.total += 1;
    if (m.retain) published.retained += 1;
    if (m.payload.length >= 1024 * 1024) published.megabyte += 1;
  }

  beforeAll(async () => {
    broker = await startTestBroker();
    h = await startHarness({ broker, account });
    const round = auth(await h.obs.next('kasa/bridge/auth', authIs('mfa_required'), 15_000));
    expect(round).toMatchObject({ attempts_left: 3 });
    challenge = round.challenge!;
    code = h.sim.lastMfaCode(account.username)!;
    expect(code).toMatch(/^\d{6}$/);
  }, 30_000);

  afterAll(async () => {
    console.info(`abuse (MFA): ${published.total} messages on ${MFA} (${published.retained} retained, ${published.megabyte} of 1 MB)`);
    await h?.stop();
    await broker?.stop();
  });

  it('costs no attempt and no cloud request for hostile payloads during a round', async () => {
    const wrongChallenge = fc
      .tuple(fc.stringMatching(/^\d{6}$/), fc.constantFrom('nope', '', 'ZZZZZZ', 'k3x9', `${challenge}0`, ` ${challenge}`, challenge.toUpperCase()))
      .filter(([, c]) => c !== challenge)
      .map(([digits, c]) => ({ label: 'wrong challenge', payload: Buffer.from(JSON.stringify({ code: digits, challenge: c })) }));
    const notACode = fc.oneof(anyPayload, wrongCodeType).filter((p) => p.payload.length > 0 && !mayBeCode(p.payload));
    // Retained ones (MQTT 5 tells them apart): anything at all, the right code included.
    const retained = fc
      .oneof(
        fc.constant({ label: 'right code', payload: Buffer.from(code) }),
        fc.constant({ label: 'right code, JSON', payload: Buffer.from(JSON.stringify({ code, challenge })) }),
        anyPayload,
      )
      .filter((p) => p.payload.length > 0)
      .map((p) => ({ ...p, retain: true }));
    const hostile = fc.oneof(
      { arbitrary: fc.tuple(notACode, fc.integer({ min: 0, max: 5 })).map(([p, dice]) => ({ ...p, retain: dice === 0 && broker.mqtt5 })), weight: 6 },
      { arbitrary: wrongChallenge.map((p) => ({ ...p, retain: false })), weight: 2 },
      ...(broker.mqtt5 ? [{ arbitrary: retained, weight: 1 }] : []),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(hostile, { minLength: 15, maxLength: 25 }), async (raw) => {
        const batch = raw.map((m) => withSummary({ topic: MFA, ...m, expect: { kind: 'none' } }));
        const retainedCount = batch.filter((m) => m.retain).length;
        const rejectedBefore = rejectedRetained();
        for (const m of batch) await publish(m);
        if (retainedCount > 0) await h.obs.publish(MFA, '', { qos: 1, retain: true });
        await handled();
        expect(checks()).toBe(0);
        expect(rejectedRetained()).toBe(rejectedBefore + retainedCount);
        const now = auth((await h.obs.retained('kasa/bridge/auth'))!);
        expect(now).toMatchObject({ state: 'mfa_required', challenge, attempts_left: 3 });
        expect(await h.obs.retained(MFA)).toBeUndefined();
      }),
      { numRuns: 10, endOnFailure: true },
    );
  }, 60_000);

  it('survives 1 MB payloads on the code topic', async () => {
    const mb = Buffer.alloc(1024 * 1024, `${code}{"code":"${code}"}`);
    await publish({ payload: mb, retain: false });
    await publish({ payload: Buffer.alloc(1024 * 1024, ' '), retain: false });
    await handled();
    expect(checks()).toBe(0);
    expect(auth((await h.obs.retained('kasa/bridge/auth'))!)).toMatchObject({ state: 'mfa_required', attempts_left: 3 });
  });

  it('checks only well-formed codes, counting down, and logs in with the right one', async () => {
    const wrong = (n: number) => String((Number(code) + n) % 1_000_000).padStart(6, '0');
    wrongCodes.push(wrong(1), wrong(2), wrong(3));
    await publish({ payload: Buffer.from(wrongCodes[0]!), retain: false });
    await h.obs.next('kasa/bridge/auth', authIs('mfa_required', (p) => p.attempts_left === 2 && p.last_error === 'code_invalid'));
    await publish({ payload: Buffer.from(JSON.stringify({ code: wrongCodes[1], challenge })), retain: false });
    await h.obs.next('kasa/bridge/auth', authIs('mfa_required', (p) => p.attempts_left === 1 && p.last_error === 'code_invalid'));
    expect(checks()).toBe(2);
    // The right code, chased by another code and junk while it is being checked: one request.
    await publish({ payload: Buffer.from(JSON.stringify({ code, challenge })), retain: false });
    await publish({ payload: Buffer.from(wrongCodes[2]!), retain: false });
    await publish({ payload: Buffer.from([0xff, 0xfe, 0x00]), retain: false });
    await h.obs.next('kasa/bridge/auth', authIs('authenticated'), 10_000);
    await handled();
    expect(checks()).toBe(3);
  });

  it('takes no cloud action for codes once the round is over', async () => {
    const before = { checks: checks(), logins: logins() };
    for (const [payload, retain] of [
      [code, false],
      [wrongCodes[0]!, false],
      [JSON.stringify({ code, challenge }), false],
      [code, true],
    ] as const) {
      await publish({ payload: Buffer.from(payload), retain });
    }
    await h.obs.publish(MFA, '', { qos: 1, retain: true });
    await handled();
    expect({ checks: checks(), logins: logins() }).toEqual(before);
    expect(auth((await h.obs.retained('kasa/bridge/auth'))!)).toMatchObject({ state: 'authenticated' });
    expect(await h.obs.retained(MFA)).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('never logged or published the password, a token, a refresh token or a code', () => {
    const session = JSON.parse(readFileSync(join(h.dataDir, 'session.json'), 'utf8')) as { token: string; refreshToken: string };
    const secrets = [PASSWORD, session.token, session.refreshToken, code, ...wrongCodes];
    for (const s of secrets) expect(s.length).toBeGreaterThanOrEqual(6);
    // What the test itself published on the code topic is not the bridge's doing.
    const texts = h.obs.messages.filter((m) => m.topic !== MFA).map((m) => m.text);
    const logs = h.logs.text;
    for (const secret of secrets) {
      // Codes are digits: do not mistake a 13-digit timestamp that happens to contain them for a leak.
      const pattern = new RegExp(`(?<![0-9A-Za-z])${secret.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![0-9A-Za-z])`);
      expect(pattern.test(logs), 'a log line contains a secret').toBe(false);
      expect(texts.some((t) => pattern.test(t)), 'an MQTT message contains a secret').toBe(false);
    }
  });
});
