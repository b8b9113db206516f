import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CloudScheduler, SchedulerStoppedError } from '../../src/scheduler/scheduler.js';
import { KasaRateLimitError } from '../../src/kasa/errors.js';
import { StartLog, deferred, flush, makeScheduler, silentLogger, useFakeClock } from './helpers.js';

beforeEach(useFakeClock);
afterEach(() => {
  vi.useRealTimers();
});

/** A task that settles only when its signal is aborted, rejecting with the abort reason. */
function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => {
    signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
  });
}

describe('abort', () => {
  it('removes a queued task and rejects it with the signal reason', async () => {
    const scheduler = makeScheduler({ concurrency: 1 });
    const blocker = deferred();
    const first = scheduler.run('command', () => blocker.promise);
    const controller = new AbortController();
    const task = vi.fn(async () => 'never');
    const queued = scheduler.run('poll', task, { signal: controller.signal });
    expect(scheduler.queueDepth).toBe(1);

    const reason = new Error('device removed');
    controller.abort(reason);
    await expect(queued).rejects.toBe(reason);
    expect(scheduler.queueDepth).toBe(0);

    blocker.resolve();
    await first;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(task).not.toHaveBeenCalled();
  });

  it('rejects at once for an already-aborted signal', async () => {
    const scheduler = makeScheduler();
    const task = vi.fn(async () => 'never');
    const reason = new Error('too late');
    await expect(scheduler.run('command', task, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(task).not.toHaveBeenCalled();
    expect(scheduler.stats().requests).toBe(0);
  });

  it('forwards an abort to a running task through its own signal', async () => {
    const done: string[] = [];
    const scheduler = makeScheduler({ onTaskDone: (_p, _d, outcome) => done.push(outcome) });
    const controller = new AbortController();
    const running = scheduler.run('readback', untilAborted, { signal: controller.signal });
    expect(scheduler.inFlight).toBe(1);
    const reason = new Error('caller gave up');
    controller.abort(reason);
    await expect(running).rejects.toBe(reason);
    expect(scheduler.inFlight).toBe(0);
    expect(done).toEqual(['aborted']);
  });
});

describe('start and stop', () => {
  it('holds tasks submitted before start()', async () => {
    const scheduler = new CloudScheduler({ ratePerMinute: 60, burst: 5, concurrency: 4, logger: silentLogger });
    const log = new StartLog();
    const result = scheduler.run('command', log.task('early', 'command'));
    await flush();
    expect(log.starts).toHaveLength(0);
    scheduler.start();
    expect(log.ids()).toEqual(['early']);
    await expect(result).resolves.toBe('early');
  });

  it('rejects queued tasks, lets in-flight ones finish within the grace, aborts the rest, and resolves', async () => {
    const scheduler = makeScheduler({ concurrency: 3, abandonAfterAbortMs: 1_000 });
    const quick = deferred<string>();
    const finishing = scheduler.run('command', () => quick.promise);
    const cooperative = scheduler.run('poll', untilAborted).catch((e: unknown) => e);
    const stubborn = scheduler.run('command', () => new Promise<never>(() => {}));
    const queuedTask = vi.fn(async () => 'never');
    const queued = [scheduler.run('poll', queuedTask, { label: 'plug-2' }), scheduler.run('command', queuedTask)];
    expect(scheduler.inFlight).toBe(3);
    expect(scheduler.queueDepth).toBe(2);

    let stopped = false;
    const stopping = scheduler.stop(5_000).then(() => {
      stopped = true;
    });
    const rejection = await queued[0]!.catch((e: unknown) => e);
    expect(rejection).toBeInstanceOf(SchedulerStoppedError);
    expect(rejection).toMatchObject({ priority: 'poll', label: 'plug-2' });
    await expect(queued[1]).rejects.toBeInstanceOf(SchedulerStoppedError);
    expect(scheduler.queueDepth).toBe(0);
    await expect(scheduler.run('command', queuedTask)).rejects.toBeInstanceOf(SchedulerStoppedError);

    await vi.advanceTimersByTimeAsync(2_000);
    quick.resolve('made it');
    await expect(finishing).resolves.toBe('made it');

    await vi.advanceTimersByTimeAsync(2_999);
    expect(scheduler.inFlight).toBe(2);
    await vi.advanceTimersByTimeAsync(1); // grace over: signals aborted
    expect(await cooperative).toBeInstanceOf(SchedulerStoppedError);
    expect(stopped).toBe(false); // the stubborn one ignores its signal

    await vi.advanceTimersByTimeAsync(999);
    expect(stopped).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await stopping;
    expect(stopped).toBe(true);
    expect(Date.now()).toBe(6_000);
    expect(queuedTask).not.toHaveBeenCalled();
    void stubborn; // abandoned: never settles
  });

  it('resolves at once when nothing is in flight, and is idempotent', async () => {
    const scheduler = makeScheduler();
    const first = scheduler.stop();
    expect(scheduler.stop()).toBe(first);
    await first;
    expect(vi.getTimerCount()).toBe(0);
  });

  it('resolves as soon as in-flight work settles, before the grace ends', async () => {
    const scheduler = makeScheduler();
    const gate = deferred();
    const running = scheduler.run('energy', () => gate.promise);
    const stopping = scheduler.stop(10_000);
    await vi.advanceTimersByTimeAsync(500);
    gate.resolve();
    await running;
    await stopping;
    expect(Date.now()).toBe(500);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('clears a pause and its timer when stopped', async () => {
    const scheduler = makeScheduler();
    const err = new KasaRateLimitError('API rate limit exceeded', { code: -20004 });
    await expect(scheduler.run('poll', () => Promise.reject(err))).rejects.toBe(err);
    expect(scheduler.isPaused('poll')).toBe(true);
    await vi.advanceTimersByTimeAsync(1_000);
    await scheduler.stop();
    expect(vi.getTimerCount()).toBe(0);
    expect(scheduler.stats().rateLimitedMs).toBe(1_000);
  });
});

describe('options', () => {
  it.each([
    { ratePerMinute: 0 },
    { burst: 0 },
    { burst: 1.5 },
    { concurrency: 0 },
    { commandRateFactorWhenLimited: 0 },
    { commandRateFactorWhenLimited: 2 },
  ])('rejects %o', (bad) => {
    expect(() => new CloudScheduler({ ratePerMinute: 60, burst: 5, concurrency: 4, logger: silentLogger, ...bad })).toThrow(
      RangeError,
    );
  });
});
