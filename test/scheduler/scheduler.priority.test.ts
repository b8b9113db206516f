import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StartLog, deferred, flush, makeScheduler, useFakeClock } from './helpers.js';

beforeEach(useFakeClock);
afterEach(() => {
  vi.useRealTimers();
});

describe('priorities', () => {
  it('serves lanes in order command > readback > device_list > poll > energy > daily, FIFO within a lane', async () => {
    const scheduler = makeScheduler({ ratePerMinute: 600, burst: 50, concurrency: 1 });
    const log = new StartLog();
    const blocker = deferred();
    const first = scheduler.run('command', log.task('blocker', 'command', () => blocker.promise));

    const queued = [
      scheduler.run('daily', log.task('daily1', 'daily')),
      scheduler.run('poll', log.task('poll1', 'poll')),
      scheduler.run('energy', log.task('energy1', 'energy')),
      scheduler.run('poll', log.task('poll2', 'poll')),
      scheduler.run('device_list', log.task('list1', 'device_list')),
      scheduler.run('readback', log.task('readback1', 'readback')),
      scheduler.run('command', log.task('command1', 'command')),
      scheduler.run('poll', log.task('poll3', 'poll')),
      scheduler.run('command', log.task('command2', 'command')),
    ];
    expect(scheduler.queueDepth).toBe(9);
    expect(scheduler.stats().queueDepthByPriority).toEqual({ command: 2, readback: 1, device_list: 1, poll: 3, energy: 1, daily: 1 });

    blocker.resolve();
    await vi.advanceTimersByTimeAsync(10_000);
    await Promise.all([first, ...queued]);
    expect(log.ids()).toEqual([
      'blocker',
      'command1',
      'command2',
      'readback1',
      'list1',
      'poll1',
      'poll2',
      'poll3',
      'energy1',
      'daily1',
    ]);
  });

  it('lets a command overtake polls that are queued behind the rate limit', async () => {
    const scheduler = makeScheduler({ ratePerMinute: 60, burst: 2, concurrency: 4 });
    const log = new StartLog();
    const polls = Array.from({ length: 5 }, (_, i) => scheduler.run('poll', log.task(`poll${i}`, 'poll')));
    await flush();
    expect(log.ids()).toEqual(['poll0']); // burst 2, one token kept for commands

    const command = scheduler.run('command', log.task('cmd', 'command'));
    expect(log.ids()).toEqual(['poll0', 'cmd']); // took the reserved token at once

    await vi.advanceTimersByTimeAsync(30_000);
    await Promise.all([...polls, command]);
    expect(log.ids()).toEqual(['poll0', 'cmd', 'poll1', 'poll2', 'poll3', 'poll4']);
  });

  it('gives the next token to a queued command before polls queued earlier', async () => {
    const scheduler = makeScheduler({ ratePerMinute: 60, burst: 1, concurrency: 4 });
    const log = new StartLog();
    const polls = Array.from({ length: 3 }, (_, i) => scheduler.run('poll', log.task(`poll${i}`, 'poll')));
    expect(log.ids()).toEqual(['poll0']); // burst 1: nothing to reserve, the first poll takes it
    const first = scheduler.run('command', log.task('cmd0', 'command'));
    const second = scheduler.run('command', log.task('cmd1', 'command'));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(log.ids()).toEqual(['poll0', 'cmd0']);
    await vi.advanceTimersByTimeAsync(10_000);
    await Promise.all([...polls, first, second]);
    expect(log.ids()).toEqual(['poll0', 'cmd0', 'cmd1', 'poll1', 'poll2']);
    expect(log.times()).toEqual([0, 1_000, 2_000, 3_000, 4_000]);
  });
});

describe('an isolated command is never delayed', () => {
  it('is called synchronously, before run() returns', () => {
    const scheduler = makeScheduler();
    let called = false;
    const result = scheduler.run('command', async () => {
      called = true;
      return 'done';
    });
    expect(called).toBe(true);
    return expect(result).resolves.toBe('done');
  });

  it('starts at once even while polls hold every background slot and token', async () => {
    const scheduler = makeScheduler({ ratePerMinute: 60, burst: 5, concurrency: 4 });
    const gate = deferred();
    const log = new StartLog();
    const polls = Array.from({ length: 20 }, (_, i) => scheduler.run('poll', log.task(`poll${i}`, 'poll', () => gate.promise)));
    expect(scheduler.inFlight).toBe(3);

    let called = false;
    const command = scheduler.run('command', async () => {
      called = true;
    });
    expect(called).toBe(true);
    await command;

    gate.resolve();
    await vi.runAllTimersAsync();
    await Promise.all(polls);
  });

  it('is passed through unchanged when the task throws synchronously', async () => {
    const scheduler = makeScheduler();
    const boom = new Error('boom');
    const result = scheduler.run('command', () => {
      throw boom;
    });
    await expect(result).rejects.toBe(boom);
    expect(scheduler.inFlight).toBe(0);
  });
});
