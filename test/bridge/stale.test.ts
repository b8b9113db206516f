import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoAccount } from '../../src/simulator/catalog.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { startHarness, type Harness } from '../helpers/bridgeHarness.js';

describe('a long cloud outage', () => {
  let broker: TestBroker;
  let h: Harness;

  beforeAll(async () => {
    broker = await startTestBroker();
    h = await startHarness({
      broker,
      account: demoAccount({ username: 'stale@example.com', mfa: false }),
      // Fast polls; a short scheduler backoff so polling resumes soon after the outage.
      env: { KASA_POLL_INTERVAL: '0.3' },
      timing: { schedulerBackoff: { initialMs: 200, maxMs: 400 } },
    });
    await h.obs.next('kasa/bedroom_desk_light/availability', (m) => m.text === '{"state":"online"}', 15_000);
  });
  afterAll(async () => {
    await h?.stop();
    await broker?.stop();
  });

  it('shows devices offline instead of an old state, and brings them back when the cloud answers', async () => {
    const since = h.obs.messages.length;
    h.sim.faults.http500 = Number.POSITIVE_INFINITY;
    const offline = await h.obs.next(
      'kasa/bedroom_desk_light/availability',
      (m) => h.obs.messages.indexOf(m) >= since && m.text === '{"state":"offline"}',
      10_000,
    );
    expect(offline.retain).toBe(false);
    expect((await h.obs.retained('kasa/bedroom_desk_light/availability'))?.text).toBe('{"state":"offline"}');
    // The last known state stays retained for reference; availability says it is not current.
    expect((await h.obs.retained('kasa/bedroom_desk_light'))?.json()).toHaveProperty('state');

    h.sim.resetFaults();
    await h.obs.next('kasa/bedroom_desk_light/availability', (m) => h.obs.messages.indexOf(m) > h.obs.messages.indexOf(offline) && m.text === '{"state":"online"}', 15_000);
  });
});
