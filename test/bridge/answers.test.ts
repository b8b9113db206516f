/**
 * What every answer carries and says before the first login: the `transaction` is echoed on every
 * bridge answer, and a command the bridge cannot place yet is `auth_required`, not `unknown_device`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BridgeAuthPayload, BridgeResponse, SetResponse } from '../../src/api/types.js';
import { demoAccount } from '../../src/simulator/catalog.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { startHarness, type Harness } from '../helpers/bridgeHarness.js';
import { since } from '../helpers/mqttObserver.js';

describe('answers while the bridge waits for the MFA code', () => {
  const { mfaCode: _fixed, ...account } = demoAccount({ username: 'answers@example.com', password: 'Answers-Pa55word-77' });
  let broker: TestBroker;
  let h: Harness;

  beforeAll(async () => {
    broker = await startTestBroker();
    h = await startHarness({ broker, account });
    await h.obs.next('kasa/bridge/auth', (m) => m.text !== '' && m.json<BridgeAuthPayload>().state === 'mfa_required', 15_000);
  });
  afterAll(async () => {
    await h?.stop();
    await broker?.stop();
  });

  it('an unknown bridge request echoes its transaction', async () => {
    for (const [command, payload, transaction] of [
      ['no/such/request', '{"transaction":"t-1"}', 't-1'],
      ['devices/explode', '{"transaction":{"id":7,"tags":["a"]},"x":1}', { id: 7, tags: ['a'] }],
      ['nope', ' {"transaction":42} ', 42],
    ] as const) {
      const answer = h.obs.next(`kasa/bridge/response/${command}`, since(h.obs));
      await h.obs.publish(`kasa/bridge/request/${command}`, payload, { qos: 1 });
      expect((await answer).json<BridgeResponse>(), command).toEqual({
        status: 'error',
        error: { code: 'unknown_request', message: expect.any(String) },
        transaction,
      });
    }
  });

  it('a set before the first device list answers auth_required, with its transaction', async () => {
    for (const key of ['bedroom_desk_light', 'anything_at_all']) {
      const answer = h.obs.next(`kasa/${key}/response/set`, since(h.obs));
      await h.obs.publish(`kasa/${key}/set`, '{"state":"ON","transaction":"early"}', { qos: 1 });
      expect((await answer).json<SetResponse>(), key).toMatchObject({ status: 'error', error: { code: 'auth_required' }, transaction: 'early' });
    }
    expect(h.sim.count({ op: 'passthrough' })).toBe(0);
  });
});
