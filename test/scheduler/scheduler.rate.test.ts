import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Priority } from '../../src/scheduler/scheduler.js';
import { StartLog, deferred, makeScheduler, maxInAnyWindow, useFakeClock } from './helpers.js';

beforeEach(useFakeClock);
afterEach(() => {
  vi.useRealTimers();
});

describe('token bucket shaping', () => {
  it('starts the first `burst` commands at once and the rest at the refill rate', async () => {
    const scheduler = makeScheduler({ ratePerMinute: 60, burst: 5, concurrency: 100 });
    const log = new StartLog();
    const done = Array.from({ length: 10 }, (_, i) => scheduler.run('command', log.task(`c${i}`, 'command')));

    expect(log.times()).toEqual([0, 0, 0, 0, 0]);
    expect(scheduler.queueDepth).toBe(5);

    await vi.advanceTimersByTimeAsync(5_000);
    expect(log.times()).toEqual([0, 0, 0, 0, 0, 1_000, 2_000, 3_000, 4_000, 5_000]);
    await expect(Promise.all(done)).resolves.toHaveLength(10);
    expect(scheduler.stats().requestsByPriority.command).toBe(10);
  });

  it('lets background lanes use all but one token, keeping one for a command', async () => {
    const scheduler = makeScheduler({ ratePerMinute: 60, burst: 5, concurrency: 100 });
    const log = new StartLog();
    const polls = Array.from({ length: 6 }, (_, i) => scheduler.run('poll', log.task(`p${i}`, 'poll')));
    expect(log.times()).toEqual([0, 0, 0, 0]);

    const command = scheduler.run('command', log.task('cmd', 'command'));
    expect(log.ids().at(-1)).toBe('cmd');
    expect(log.times()).toEqual([0, 0, 0, 0, 0]);

    await vi.advanceTimersByTimeAsync(60_000);
    await Promise.all([...polls, command]);
    expect(log.starts).toHaveLength(7);
  });

  it('spreads a queue of polls at the refill rate instead of firing them together', async () => {
    const scheduler = makeScheduler({ ratePerMinute: 30, burst: 3, concurrency: 4 });
    const log = new StartLog();
    const polls = Array.from({ length: 8 }, (_, i) => scheduler.run('poll', log.task(`p${i}`, 'poll')));
    await vi.advanceTimersByTimeAsync(60_000);
    await Promise.all(polls);
    // 2 at once (burst 3 minus the command reserve), then one every 2 s.
    expect(log.times()).toEqual([0, 0, 2_000, 4_000, 6_000, 8_000, 10_000, 12_000]);
  });
});

describe('sliding-window guarantee: never more than KASA_RATE_LIMIT starts in any 60 s window', () => {
  it.each([
    { rate: 60, burst: 5 },
    { rate: 60, burst: 30 },
    { rate: 10, burst: 20 },
    { rate: 7, burst: 3 },
  ])('holds for a burst of 500 (rate $rate/min, burst $burst)', async ({ rate, burst }) => {
    const scheduler = makeScheduler({ ratePerMinute: rate, burst, concurrency: 8 });
    const log = new StartLog();
    const lanes: Priority[] = ['command', 'readback', 'device_list', 'poll', 'energy'];
    const all = Array.from({ length: 500 }, (_, i) => {
      const lane = lanes[i % lanes.length]!;
      return scheduler.run(lane, log.task(`t${i}`, lane));
    });

    await vi.runAllTimersAsync();
    await expect(Promise.all(all)).resolves.toHaveLength(500);

    expect(log.starts).toHaveLength(500);
    const max = maxInAnyWindow(log.times(), 60_000);
    expect(max).toBeLessThanOrEqual(rate);
    // The limit is used, not just respected (a bare token bucket would reach rate + burst - 1).
    expect(max).toBe(rate);
  });

  it('caps the first minute at the limit although bucket and refill together would allow more', async () => {
    const scheduler = makeScheduler({ ratePerMinute: 60, burst: 5, concurrency: 8 });
    const log = new StartLog();
    const all = Array.from({ length: 80 }, (_, i) => scheduler.run('command', log.task(`c${i}`, 'command')));
    await vi.advanceTimersByTimeAsync(60_999);
    expect(log.starts).toHaveLength(60); // token bucket alone: 5 + 60 = 65
    await vi.advanceTimersByTimeAsync(1);
    expect(log.starts).toHaveLength(65); // the 5 from t=0 left the window (60 s + 1 s margin)
    await vi.advanceTimersByTimeAsync(60_000);
    await Promise.all(all);
  });
});

describe('slow rates', () => {
  it('works below one request per minute', async () => {
    const scheduler = makeScheduler({ ratePerMinute: 0.5, burst: 1, concurrency: 1 });
    const log = new StartLog();
    const all = [0, 1, 2].map((i) => scheduler.run('poll', log.task(`p${i}`, 'poll')));
    await vi.runAllTimersAsync();
    await Promise.all(all);
    expect(log.times()).toEqual([0, 120_000, 240_000]);
  });
});

describe('concurrency', () => {
  it('never has more than KASA_CONCURRENCY requests in flight', async () => {
    const scheduler = makeScheduler({ ratePerMinute: 1_000, burst: 50, concurrency: 3 });
    const log = new StartLog();
    const hold = (ms: number) => () => new Promise<void>((resolve) => setTimeout(resolve, ms));
    const all = Array.from({ length: 30 }, (_, i) =>
      scheduler.run('command', log.task(`c${i}`, 'command', hold(((i * 7) % 5) * 300 + 100))),
    );
    expect(scheduler.inFlight).toBe(3);
    await vi.advanceTimersByTimeAsync(60_000);
    await Promise.all(all);
    expect(log.starts).toHaveLength(30);
    expect(log.maxActive).toBe(3);
  });

  it('keeps one slot free of background work for commands', async () => {
    const scheduler = makeScheduler({ ratePerMinute: 1_000, burst: 50, concurrency: 4 });
    const log = new StartLog();
    const gate = deferred();
    const polls = Array.from({ length: 10 }, (_, i) => scheduler.run('poll', log.task(`p${i}`, 'poll', () => gate.promise)));
    expect(scheduler.inFlight).toBe(3);

    const command = scheduler.run('command', log.task('cmd', 'command', () => gate.promise));
    expect(scheduler.inFlight).toBe(4);
    expect(log.ids().at(-1)).toBe('cmd');

    gate.resolve();
    await vi.advanceTimersByTimeAsync(10_000);
    await Promise.all([...polls, command]);
    expect(log.maxActive).toBe(4);
  });
});

describe('tasks that make several HTTP requests', () => {
  it('counts a login-like task at its cost in the bucket and the window', async () => {
    const scheduler = makeScheduler({ ratePerMinute: 4, burst: 4, concurrency: 4 });
    const log = new StartLog();
    const login = scheduler.run('command', log.task('login', 'command'), { cost: 3 });
    const next = [0, 1].map((i) => scheduler.run('command', log.task(`c${i}`, 'command')));
    await vi.advanceTimersByTimeAsync(0);
    // 3 of the 4 requests a minute went to the login: one more may start now, the last must wait.
    expect(log.starts.map((s) => s.id)).toEqual(['login', 'c0']);
    expect(scheduler.stats().requestsLastMinute).toBe(4);
    await vi.advanceTimersByTimeAsync(61_000);
    expect(log.starts.map((s) => s.id)).toEqual(['login', 'c0', 'c1']);
    await Promise.all([login, ...next]);
  });
});
