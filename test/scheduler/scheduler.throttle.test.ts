import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CloudScheduler, RateLimitedEvent, ResumedEvent, SchedulerOptions } from '../../src/scheduler/scheduler.js';
import { KasaNetworkError } from '../../src/kasa/errors.js';
import {
  FakeHttpError,
  FakeRateLimitError,
  StartLog,
  deferred,
  failWith,
  flush,
  makeScheduler,
  useFakeClock,
} from './helpers.js';

beforeEach(useFakeClock);
afterEach(() => {
  vi.useRealTimers();
});

const BACKOFF = {
  initialMs: 60_000,
  maxMs: 600_000,
  blacklistInitialMs: 600_000,
  blacklistMaxMs: 3_600_000,
  serverErrorThreshold: 3,
  jitter: 0.2,
};

function setup(overrides: Partial<SchedulerOptions> = {}) {
  const scheduler = makeScheduler({ backoff: BACKOFF, commandRateFactorWhenLimited: 0.5, ...overrides });
  const limited: RateLimitedEvent[] = [];
  const resumed: ResumedEvent[] = [];
  scheduler.on('rate_limited', (e) => limited.push(e));
  scheduler.on('resumed', (e) => resumed.push(e));
  return { scheduler, limited, resumed };
}

async function failPoll(scheduler: CloudScheduler, err: unknown = new FakeRateLimitError()): Promise<void> {
  await expect(scheduler.run('poll', failWith(err))).rejects.toBe(err);
}

describe('rate limited (-20004)', () => {
  it('pauses background lanes, keeps commands flowing at the reduced rate, emits once, resumes by itself', async () => {
    const { scheduler, limited, resumed } = setup();
    const inFlight = [deferred(), deferred()];
    const early = inFlight.map((gate) => scheduler.run('poll', () => gate.promise));
    expect(scheduler.inFlight).toBe(2);

    const err = new FakeRateLimitError();
    inFlight[0]!.reject(err);
    await expect(early[0]).rejects.toBe(err); // the failure still reaches the caller
    expect(limited).toEqual([{ until: 60_000, reason: 'rate_limited', delayMs: 60_000, attempt: 1 }]);
    expect(scheduler.pausedUntil).toBe(60_000);
    expect(scheduler.isPaused('poll')).toBe(true);
    expect(scheduler.isPaused('energy')).toBe(true);
    expect(scheduler.isPaused('device_list')).toBe(true);
    expect(scheduler.isPaused('command')).toBe(false);
    expect(scheduler.isPaused('readback')).toBe(false);

    // The other poll was already in flight when the pause began: same overload, no escalation.
    inFlight[1]!.reject(new FakeRateLimitError());
    await expect(early[1]).rejects.toBeInstanceOf(FakeRateLimitError);
    expect(limited).toHaveLength(1);
    expect(scheduler.pausedUntil).toBe(60_000);
    expect(scheduler.stats().backoffAttempt).toBe(1);

    const log = new StartLog();
    const background = [
      scheduler.run('poll', log.task('poll', 'poll')),
      scheduler.run('energy', log.task('energy', 'energy')),
      scheduler.run('device_list', log.task('list', 'device_list')),
    ];
    const commands = Array.from({ length: 8 }, (_, i) =>
      scheduler.run(i % 2 ? 'readback' : 'command', log.task(`cmd${i}`, 'command')),
    );
    // 3 tokens left of 5, then 30/min (60 × 0.5): one every 2 s.
    expect(log.times()).toEqual([0, 0, 0]);
    await vi.advanceTimersByTimeAsync(59_999);
    expect(log.ids().every((id) => id.startsWith('cmd'))).toBe(true);
    expect(log.times()).toEqual([0, 0, 0, 2_000, 4_000, 6_000, 8_000, 10_000]);
    expect(resumed).toHaveLength(0);

    await vi.advanceTimersByTimeAsync(1);
    expect(resumed).toEqual([{ at: 60_000, pausedMs: 60_000 }]);
    expect(scheduler.isPaused('poll')).toBe(false);
    expect(scheduler.pausedUntil).toBeUndefined();
    await Promise.all([...commands, ...background]);
    expect(log.ids().slice(8)).toEqual(['list', 'poll', 'energy']);
    expect(log.times().slice(8)).toEqual([60_000, 60_000, 60_000]);

    const stats = scheduler.stats();
    expect(stats.rateLimitedMs).toBe(60_000);
    expect(stats.pauses).toBe(1);
    expect(stats.outcomes.rate_limited).toBe(2);
    expect(limited).toHaveLength(1);
  });

  it('still sends the first command after a rate-limit answer at once, using the token polls left', async () => {
    const { scheduler } = setup({ concurrency: 10 });
    const gates = [deferred(), deferred(), deferred(), deferred(), deferred()];
    const polls = gates.map((gate) => scheduler.run('poll', () => gate.promise).catch((e: unknown) => e));
    expect(scheduler.inFlight).toBe(4); // burst 5: one token is kept for commands
    gates[0]!.reject(new FakeRateLimitError());
    await polls[0];
    expect(scheduler.isPaused('poll')).toBe(true);

    const log = new StartLog();
    const commands = [0, 1, 2].map((i) => scheduler.run('command', log.task(`cmd${i}`, 'command')));
    expect(log.times()).toEqual([0]);
    await vi.advanceTimersByTimeAsync(4_000);
    expect(log.times()).toEqual([0, 2_000, 4_000]);
    await Promise.all(commands);
    for (const gate of gates.slice(1)) gate.resolve();
    await vi.advanceTimersByTimeAsync(60_000);
    await Promise.all(polls);
  });

  it('doubles the backoff while the cloud keeps refusing, caps it, and a later success resets it', async () => {
    const { scheduler, limited } = setup();
    const expected = [60_000, 120_000, 240_000, 480_000, 600_000, 600_000];
    for (const delay of expected) {
      await failPoll(scheduler);
      expect(limited.at(-1)!.delayMs).toBe(delay);
      await vi.advanceTimersByTimeAsync(delay);
      expect(scheduler.isPaused('poll')).toBe(false);
    }
    expect(limited.map((e) => e.attempt)).toEqual([1, 2, 3, 4, 5, 6]);

    await scheduler.run('poll', async () => 'ok');
    expect(scheduler.stats().backoffAttempt).toBe(0);
    await failPoll(scheduler);
    expect(limited.at(-1)!.delayMs).toBe(60_000);
  });

  it('does not reset the backoff on a command that succeeds at the reduced rate during the pause', async () => {
    const { scheduler, limited } = setup();
    await failPoll(scheduler);
    await vi.advanceTimersByTimeAsync(10_000);
    await scheduler.run('command', async () => 'ok');
    await vi.advanceTimersByTimeAsync(50_000);
    expect(scheduler.isPaused('poll')).toBe(false);
    await failPoll(scheduler);
    expect(limited.at(-1)!.delayMs).toBe(120_000);
  });

  it('jitters each delay within ±20 %', async () => {
    const randoms = [0, 0.999_999, 0.25];
    const { scheduler, limited } = setup({ random: () => randoms.shift() ?? 0.5 });
    for (let i = 0; i < 3; i++) {
      await failPoll(scheduler);
      await vi.advanceTimersByTimeAsync(limited.at(-1)!.delayMs);
    }
    expect(limited.map((e) => e.delayMs)).toEqual([48_000, 144_000, 216_000]);
    for (const [i, e] of limited.entries()) {
      const base = 60_000 * 2 ** i;
      expect(e.delayMs).toBeGreaterThanOrEqual(base * 0.8);
      expect(e.delayMs).toBeLessThanOrEqual(base * 1.2);
    }
  });

  it('extends the pause (one event) when commands are refused during it', async () => {
    const { scheduler, limited } = setup();
    await failPoll(scheduler);
    await vi.advanceTimersByTimeAsync(10_000);
    const err = new FakeRateLimitError();
    await expect(scheduler.run('command', failWith(err))).rejects.toBe(err);
    expect(scheduler.pausedUntil).toBe(10_000 + 120_000);
    expect(scheduler.stats().pauseReason).toBe('rate_limited');
    expect(limited).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(119_999);
    expect(scheduler.isPaused('poll')).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    expect(scheduler.isPaused('poll')).toBe(false);
    expect(scheduler.stats().rateLimitedMs).toBe(130_000);
  });
});

describe('blacklisted', () => {
  it('pauses far longer than a rate limit', async () => {
    const { scheduler, limited } = setup();
    await failPoll(scheduler, new FakeRateLimitError(true));
    expect(limited).toEqual([{ until: 600_000, reason: 'blacklisted', delayMs: 600_000, attempt: 1 }]);
    await vi.advanceTimersByTimeAsync(599_999);
    expect(scheduler.isPaused('poll')).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    expect(scheduler.isPaused('poll')).toBe(false);
  });

  it('upgrades a running rate-limit pause to blacklisted', async () => {
    const { scheduler, limited } = setup();
    await failPoll(scheduler);
    const err = new FakeRateLimitError(true);
    await expect(scheduler.run('command', failWith(err))).rejects.toBe(err);
    expect(scheduler.stats().pauseReason).toBe('blacklisted');
    expect(scheduler.pausedUntil).toBe(1_200_000); // attempt 2: 600 000 × 2
    expect(limited).toHaveLength(1);
  });
});

describe('server errors', () => {
  it('pauses after serverErrorThreshold consecutive 5xx; a success in between resets the count', async () => {
    const { scheduler, limited } = setup({ burst: 20 });
    await failPoll(scheduler, new FakeHttpError(503));
    await failPoll(scheduler, new FakeHttpError(502));
    await scheduler.run('poll', async () => 'ok');
    await failPoll(scheduler, new FakeHttpError(500));
    await failPoll(scheduler, new FakeHttpError(503));
    expect(scheduler.isPaused('poll')).toBe(false);
    await failPoll(scheduler, new FakeHttpError(504));
    expect(scheduler.isPaused('poll')).toBe(true);
    expect(limited).toEqual([{ until: 60_000, reason: 'server_error', delayMs: 60_000, attempt: 1 }]);
  });

  it('ignores 4xx, timeouts and other failures', async () => {
    const { scheduler, limited } = setup({ burst: 20 });
    const timeout = new KasaNetworkError('timed out', { timeout: true });
    for (const err of [new FakeHttpError(404), new FakeHttpError(400), timeout, new Error('device offline')]) {
      await failPoll(scheduler, err);
      await failPoll(scheduler, err);
      await failPoll(scheduler, err);
    }
    expect(scheduler.isPaused('poll')).toBe(false);
    expect(limited).toHaveLength(0);
    expect(scheduler.stats().outcomes.other).toBe(12);
  });

  it('uses a custom classifier when given one', async () => {
    const { scheduler, limited } = setup({ classifyFailure: (e) => (e === 'slow down' ? 'rate_limited' : 'other') });
    await expect(scheduler.run('energy', () => Promise.reject(new Error('x')))).rejects.toThrow('x');
    expect(limited).toHaveLength(0);
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
    await expect(scheduler.run('energy', () => Promise.reject('slow down'))).rejects.toBe('slow down');
    expect(limited).toHaveLength(1);
  });
});

describe('observability', () => {
  it('reports every settled task to onTaskDone with its duration and outcome', async () => {
    const done: unknown[] = [];
    const { scheduler } = setup({ onTaskDone: (...args) => done.push(args) });
    const gate = deferred<string>();
    const slow = scheduler.run('readback', () => gate.promise, { label: 'plug-1' });
    await vi.advanceTimersByTimeAsync(1_500);
    gate.resolve('x');
    await slow;
    await failPoll(scheduler);
    expect(done).toEqual([
      ['readback', 1_500, 'ok', { queuedMs: 0, label: 'plug-1' }],
      ['poll', 0, 'rate_limited', { queuedMs: 0 }],
    ]);
    expect(scheduler.stats()).toMatchObject({
      requests: 2,
      requestsByPriority: { command: 0, readback: 1, device_list: 0, poll: 1, energy: 0 },
      requestsLastMinute: 2,
      paused: true,
      pausedUntil: 61_500,
      pauseReason: 'rate_limited',
    });
  });

  it('survives an event listener that throws', async () => {
    const { scheduler, limited } = setup();
    scheduler.on('rate_limited', () => {
      throw new Error('listener bug');
    });
    await failPoll(scheduler);
    await flush();
    expect(limited).toHaveLength(1);
    expect(scheduler.isPaused('poll')).toBe(true);
  });
});
