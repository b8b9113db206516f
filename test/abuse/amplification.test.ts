/**
 * Bridge requests that cost far more than they take to send: a full discovery republish, a
 * rename (topics cleared and republished, the key file rewritten and fsynced). A flood of them
 * must not multiply that cost.
 */
import { watch, readFileSync, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BridgeDeviceEntry } from '../../src/api/types.js';
import { demoAccount } from '../../src/simulator/catalog.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { startHarness, type Harness } from '../helpers/bridgeHarness.js';
import { since, waitFor, type ObservedMessage } from '../helpers/mqttObserver.js';
import { floodRequests } from '../helpers/requestFlood.js';

const account = demoAccount({ username: 'amplification@example.com', mfa: false });
const DESK_LIGHT = account.devices!.find((d) => d.alias === 'Bedroom Desk Light')!.deviceId!;
const nonEmpty = (m: ObservedMessage) => m.text !== '';

describe('costly bridge requests under a flood', () => {
  let broker: TestBroker;
  let h: Harness;

  beforeAll(async () => {
    broker = await startTestBroker();
    h = await startHarness({ broker, account });
    await h.obs.next('kasa/bridge/devices', (m) => nonEmpty(m) && m.json<BridgeDeviceEntry[]>().some((d) => d.id === DESK_LIGHT), 15_000);
    await h.obs.next('kasa/bedroom_desk_light', nonEmpty, 10_000);
  }, 30_000);
  afterAll(async () => {
    await h?.stop();
    await broker?.stop();
  });

  /** The bridge's own discovery config: published once per full republish, never changed by devices. */
  const bridgeConfigs = (after: (m: ObservedMessage) => boolean) =>
    h.obs.on('homeassistant/device/+/config').filter((m) => m.topic.includes('/kasa_bridge_') && nonEmpty(m) && after(m));

  it('homeassistant/rediscover: a flood makes one republish now and one joined republish after 10 s', async () => {
    const after = since(h.obs);
    const answers = await floodRequests(h, 'homeassistant/rediscover', 30);
    expect(answers[0]).toMatchObject({ status: 'ok', data: { coalesced: false } });
    const joined = answers.slice(1);
    const republishAt = (joined[0]!.data as { republish_at: string }).republish_at;
    for (const answer of joined) expect(answer).toMatchObject({ status: 'ok', data: { coalesced: true, republish_at: republishAt } });
    expect(Date.parse(republishAt) - Date.now()).toBeGreaterThan(5_000);

    await waitFor(() => bridgeConfigs(after).length >= 2, 15_000, 'the joined republish');
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(republishAt) - 50);
    await h.obs.barrier();
    expect(bridgeConfigs(after)).toHaveLength(2);
  }, 30_000);

  it('device/rename: at most 10 per minute, then rate_limited with retry_after; one key-file save for the burst', async () => {
    const keyFile = join(h.dataDir, 'topic-keys.json');
    const saves: string[] = [];
    const watcher: FSWatcher = watch(h.dataDir, (event, file) => {
      if (event === 'rename' && file === 'topic-keys.json') saves.push(file);
    });
    try {
      const startedAt = Date.now();
      const answers = await floodRequests(h, 'device/rename', 15, (i) => ({ id: DESK_LIGHT, to: `amp_${i}` }));
      answers.slice(0, 10).forEach((answer, i) => expect(answer).toMatchObject({ status: 'ok', data: { id: DESK_LIGHT, to: `amp_${i}` } }));
      for (const answer of answers.slice(10)) {
        expect(answer).toMatchObject({ status: 'error', error: { code: 'rate_limited' } });
        const retryAt = Date.parse(answer.retry_after!);
        expect(retryAt).toBeGreaterThanOrEqual(startedAt + 60_000);
        expect(retryAt).toBeLessThanOrEqual(Date.now() + 60_000);
      }
      const stored = () => (JSON.parse(readFileSync(keyFile, 'utf8')) as { keys: Record<string, string> }).keys[DESK_LIGHT];
      await waitFor(() => stored() === 'amp_9', 5_000, 'the renamed key on disk');
      // A shutdown writes whatever still waits; a restart reads the file back.
      await h.restartBridge();
      await h.obs.next('kasa/amp_9/availability', (m) => m.text === '{"state":"online"}', 10_000);
      expect(stored()).toBe('amp_9');
      expect(saves).toHaveLength(1);
    } finally {
      watcher.close();
    }
  }, 30_000);
});
