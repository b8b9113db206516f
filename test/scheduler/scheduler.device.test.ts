import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SchedulerStoppedError } from '../../src/scheduler/scheduler.js';
import { FakeRateLimitError, StartLog, deferred, failWith, flush, makeScheduler, useFakeClock } from './helpers.js';

beforeEach(useFakeClock);
afterEach(() => {
  vi.useRealTimers();
});

describe('one request at a time per device', () => {
  it('a slow task for device X does not hold up device Y', async () => {
    const scheduler = makeScheduler({ concurrency: 4 });
    const log = new StartLog();
    const slow = deferred();
    const x = scheduler.run('command', log.task('x', 'command', () => slow.promise), { device: 'X' });
    const y = scheduler.run('command', log.task('y', 'command'), { device: 'Y' });
    expect(log.ids()).toEqual(['x', 'y']);
    await expect(y).resolves.toBe('y');
    expect(scheduler.inFlight).toBe(1);
    slow.resolve();
    await expect(x).resolves.toBe('x');
  });

  it('a second task for X waits until the first has finished', async () => {
    const scheduler = makeScheduler({ concurrency: 4 });
    const log = new StartLog();
    const first = deferred();
    const a = scheduler.run('command', log.task('x1', 'command', () => first.promise), { device: 'X' });
    const b = scheduler.run('poll', log.task('x2', 'poll'), { device: 'X' });
    await flush();
    expect(log.ids()).toEqual(['x1']);
    expect(scheduler.queueDepth).toBe(1);
    expect(scheduler.stats().queueDepthByPriority.poll).toBe(1);

    await vi.advanceTimersByTimeAsync(30_000);
    expect(log.ids()).toEqual(['x1']);
    first.resolve();
    await a;
    await expect(b).resolves.toBe('x2');
    expect(log.ids()).toEqual(['x1', 'x2']);
    expect(log.maxActive).toBe(1);
  });

  it('a task waiting for its device holds no concurrency slot and no token', async () => {
    const scheduler = makeScheduler({ ratePerMinute: 60, burst: 2, concurrency: 2 });
    const log = new StartLog();
    const slow = deferred();
    const x1 = scheduler.run('command', log.task('x1', 'command', () => slow.promise), { device: 'X' });
    const waiting = [2, 3, 4].map((i) => scheduler.run('command', log.task(`x${i}`, 'command'), { device: 'X' }));
    const y = scheduler.run('command', log.task('y', 'command'), { device: 'Y' });
    expect(log.ids()).toEqual(['x1', 'y']); // the second slot and the second token went to Y
    expect(scheduler.stats().requestsLastMinute).toBe(2);
    expect(scheduler.queueDepth).toBe(3);
    await y;
    slow.resolve();
    await vi.advanceTimersByTimeAsync(10_000);
    await Promise.all([x1, ...waiting]);
    expect(log.ids()).toEqual(['x1', 'y', 'x2', 'x3', 'x4']);
  });

  it('runs the tasks waiting for a device in priority order, FIFO within a lane', async () => {
    const scheduler = makeScheduler({ ratePerMinute: 600, burst: 50, concurrency: 4 });
    const log = new StartLog();
    const first = deferred();
    const all = [
      scheduler.run('poll', log.task('blocker', 'poll', () => first.promise), { device: 'X' }),
      scheduler.run('energy', log.task('energy', 'energy'), { device: 'X' }),
      scheduler.run('poll', log.task('poll1', 'poll'), { device: 'X' }),
      scheduler.run('readback', log.task('readback', 'readback'), { device: 'X' }),
      scheduler.run('poll', log.task('poll2', 'poll'), { device: 'X' }),
      scheduler.run('command', log.task('command', 'command'), { device: 'X' }),
    ];
    first.resolve();
    await vi.advanceTimersByTimeAsync(1_000);
    await Promise.all(all);
    expect(log.ids()).toEqual(['blocker', 'command', 'readback', 'poll1', 'poll2', 'energy']);
    expect(log.maxActive).toBe(1);
  });

  it('a command for a device overtakes the poll still queued for it during a rate-limit pause', async () => {
    const scheduler = makeScheduler();
    const err = new FakeRateLimitError();
    await expect(scheduler.run('poll', failWith(err))).rejects.toBe(err);
    expect(scheduler.isPaused('poll')).toBe(true);

    const log = new StartLog();
    const poll = scheduler.run('poll', log.task('poll', 'poll'), { device: 'X' });
    const command = scheduler.run('command', log.task('command', 'command'), { device: 'X' });
    expect(log.ids()).toEqual(['command']);
    await command;
    expect(scheduler.queueDepth).toBe(1);
    await vi.advanceTimersByTimeAsync(60_000);
    await poll;
    expect(log.ids()).toEqual(['command', 'poll']);
  });

  it('aborting a task that waits for its device removes it', async () => {
    const scheduler = makeScheduler();
    const slow = deferred();
    const running = scheduler.run('command', () => slow.promise, { device: 'X' });
    const controller = new AbortController();
    const task = vi.fn(async () => 'never');
    const waiting = scheduler.run('poll', task, { device: 'X', signal: controller.signal });
    const reason = new Error('device removed');
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    expect(scheduler.queueDepth).toBe(0);
    slow.resolve();
    await running;
    await flush();
    expect(task).not.toHaveBeenCalled();
  });

  it('stop() rejects tasks waiting for their device as not sent', async () => {
    const scheduler = makeScheduler();
    const slow = deferred();
    const running = scheduler.run('command', () => slow.promise, { device: 'X' });
    const waiting = scheduler.run('poll', async () => 'never', { device: 'X', label: 'poll X' });
    const stopping = scheduler.stop(1_000);
    await expect(waiting).rejects.toBeInstanceOf(SchedulerStoppedError);
    await expect(waiting).rejects.toMatchObject({ priority: 'poll', label: 'poll X' });
    slow.resolve();
    await running;
    await stopping;
    expect(scheduler.queueDepth).toBe(0);
  });
});
