import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeRateLimitError, StartLog, deferred, flush, makeScheduler, useFakeClock } from './helpers.js';

beforeEach(useFakeClock);
afterEach(() => {
  vi.useRealTimers();
});

/**
 * Three commands held in flight (background may then use three slots, so it waits for one) and
 * behind them poll1, energy, poll2 waiting for a slot.
 */
function threeCommandsHeldAndPollsWaiting() {
  const scheduler = makeScheduler({ ratePerMinute: 600, burst: 50, concurrency: 4 });
  const log = new StartLog();
  const held = [deferred(), deferred(), deferred()];
  const commands = held.map((gate, i) => scheduler.run('command', log.task(`cmd${i}`, 'command', () => gate.promise)));
  const background = [
    scheduler.run('poll', log.task('poll1', 'poll')),
    scheduler.run('energy', log.task('energy', 'energy')),
    scheduler.run('poll', log.task('poll2', 'poll')),
  ];
  return { scheduler, log, held, commands, background };
}

describe('tasks handed out by their queue but not started yet', () => {
  it('a device list submitted while polls wait for a slot starts before them, even when a slot frees at once', async () => {
    const { scheduler, log, held, commands, background } = threeCommandsHeldAndPollsWaiting();
    const list = scheduler.run('device_list', log.task('list', 'device_list'));
    expect(log.ids()).toEqual(['cmd0', 'cmd1', 'cmd2']);
    held[0]!.resolve();
    await flush();
    expect(log.ids()).toEqual(['cmd0', 'cmd1', 'cmd2', 'list', 'poll1', 'poll2', 'energy']);
    for (const gate of held) gate.resolve();
    await Promise.all([...commands, ...background, list]);
  });

  it.each([0, 1, 2, 3, 4, 5, 6, 7, 8])(
    'a device list starts before the polls waiting when it is submitted, whenever a slot frees (%i microtasks before)',
    async (ticks) => {
      const { scheduler, log, held, commands, background } = threeCommandsHeldAndPollsWaiting();
      held[0]!.resolve();
      for (let i = 0; i < ticks; i++) await Promise.resolve();
      const list = scheduler.run('device_list', log.task('list', 'device_list'));
      const startedBefore = log.ids().filter((id) => !id.startsWith('cmd'));
      await flush();
      for (const gate of held) gate.resolve();
      await Promise.all([...commands, ...background, list]);
      // A poll may have taken the slot before the list was submitted; none takes one after.
      const startedAfter = log.ids().filter((id) => !id.startsWith('cmd')).slice(startedBefore.length);
      expect(startedAfter[0]).toBe('list');
      expect([...startedBefore, ...startedAfter].filter((id) => id !== 'list')).toEqual(['poll1', 'poll2', 'energy']);
    },
  );

  it('a device list overtakes polls that wait for tokens, polls keep their order', async () => {
    const scheduler = makeScheduler({ ratePerMinute: 60, burst: 2, concurrency: 4 });
    const log = new StartLog();
    const polls = Array.from({ length: 4 }, (_, i) => scheduler.run('poll', log.task(`poll${i}`, 'poll')));
    const list = scheduler.run('device_list', log.task('list', 'device_list'));
    await vi.advanceTimersByTimeAsync(30_000);
    await Promise.all([...polls, list]);
    expect(log.ids()).toEqual(['poll0', 'list', 'poll1', 'poll2', 'poll3']);
  });

  it('background tasks that wait for a slot when the cloud throttles wait out the pause, then run in order', async () => {
    const scheduler = makeScheduler({ ratePerMinute: 600, burst: 50, concurrency: 4 });
    const log = new StartLog();
    const held = [deferred(), deferred()];
    const commands = held.map((gate, i) => scheduler.run('command', log.task(`cmd${i}`, 'command', () => gate.promise)));
    const first = deferred();
    const failing = scheduler.run('poll', () => first.promise);
    const waiting = [
      scheduler.run('energy', log.task('energy', 'energy')),
      scheduler.run('poll', log.task('poll', 'poll')),
      scheduler.run('device_list', log.task('list', 'device_list')),
    ];
    await flush();
    expect(log.ids()).toEqual(['cmd0', 'cmd1']); // three in flight: background waits for a slot
    const err = new FakeRateLimitError();
    first.reject(err);
    await expect(failing).rejects.toBe(err);
    expect(scheduler.isPaused('poll')).toBe(true);
    held[0]!.resolve();
    held[1]!.resolve();
    await Promise.all(commands);
    expect(scheduler.queueDepth).toBe(3);

    await vi.advanceTimersByTimeAsync(59_999);
    expect(log.ids()).toEqual(['cmd0', 'cmd1']);
    const command = scheduler.run('command', log.task('cmd', 'command'));
    expect(log.ids()).toEqual(['cmd0', 'cmd1', 'cmd']);
    await vi.advanceTimersByTimeAsync(1);
    await Promise.all([...waiting, command]);
    expect(log.ids().slice(3)).toEqual(['list', 'poll', 'energy']);
    expect(log.times().slice(3)).toEqual([60_000, 60_000, 60_000]);
  });
});
