import type PQueue from 'p-queue';
import type { Logger } from '../logger.js';
import { failureClass, type FailureClass } from '../kasa/errors.js';

export type { FailureClass };
export type FailureClassifier = (err: unknown) => FailureClass;
import { DeviceTurns } from './deviceTurns.js';
import { AdmissionGate } from './gate.js';
import { GateLine } from './gateLine.js';
import { PRIORITY_ORDER, isInteractive, isPriority, laneQueues, queuePriority, runsBefore, type Priority } from './lanes.js';
import { DEFAULT_BACKOFF, Throttle, type BackoffOptions, type PauseChange, type PauseReason, type TaskOutcome } from './throttle.js';

export type { BackoffOptions, PauseReason, TaskOutcome } from './throttle.js';
export type { Priority } from './lanes.js';

/** Time source of the scheduler; injectable so tests never sleep. */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * Wall-clock time (`until` in events is a Unix epoch in ms). The globals are looked up on every
 * call, so test fake timers installed after import are honoured.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout> | undefined),
};

/** The scheduler is stopping or stopped: a queued request was never sent, or an in-flight one was cut off. */
export class SchedulerStoppedError extends Error {
  readonly priority?: Priority;
  readonly label?: string;

  constructor(message: string, details: { priority?: Priority; label?: string | undefined } = {}) {
    super(message);
    this.name = 'SchedulerStoppedError';
    if (details.priority !== undefined) this.priority = details.priority;
    if (details.label !== undefined) this.label = details.label;
  }
}

export interface SchedulerOptions {
  /** KASA_RATE_LIMIT: most requests started in any 60 s window, and the token refill rate per minute. */
  ratePerMinute: number;
  /** KASA_RATE_BURST: token bucket capacity. */
  burst: number;
  /** KASA_CONCURRENCY: requests in flight at once. */
  concurrency: number;
  logger: Logger;
  /** Maps a task's rejection to a throttling signal; defaults to the cloud client's `failureClass` (read from `KasaError.action`). */
  classifyFailure?: FailureClassifier;
  backoff?: Partial<BackoffOptions>;
  /** Rate multiplier for commands and read-backs while background traffic is paused (default 0.5). */
  commandRateFactorWhenLimited?: number;
  /**
   * Headroom kept for commands and read-backs: background lanes leave this many tokens (and the
   * same share of the 60 s window) and this many concurrency slots unused. Clamped so background
   * work can always run (at most burst - 1 tokens, concurrency - 1 slots). Default 1 each.
   */
  interactiveReserve?: { tokens?: number; slots?: number };
  /** After `stop()` has aborted in-flight tasks, how long to wait for them before giving up (default 1000 ms). */
  abandonAfterAbortMs?: number;
  /** Called once per settled task, for metrics. Must not throw (a throw is logged and ignored). */
  onTaskDone?: (priority: Priority, durationMs: number, outcome: TaskOutcome, info: TaskInfo) => void;
  clock?: Clock;
  /** [0, 1) random source for backoff jitter (default Math.random). */
  random?: () => number;
}

export interface TaskInfo {
  /** Time spent queued before the task started, ms. */
  queuedMs: number;
  label?: string;
}

export interface RunOptions {
  /** Aborting removes a queued task (rejecting with the signal's reason) or aborts a running one's signal. */
  signal?: AbortSignal;
  /** Short description for logs (no secrets). */
  label?: string;
  /**
   * HTTP requests the task makes (default 1): a login is a region lookup plus the login, and both
   * count against the rate limit. The task starts when the bucket and the window have room for all.
   */
  cost?: number;
  /**
   * The physical device the task talks to (an outlet's strip for an outlet). At most one task per
   * device runs at a time; the others wait — holding no concurrency slot and no token — and then
   * run in priority order. A task for a device that is queued (not running) gives way to a
   * higher-priority task for the same device.
   */
  device?: string;
}

export interface RateLimitedEvent {
  /** Epoch ms when background traffic resumes (may be extended later; see `pausedUntil`). */
  until: number;
  reason: PauseReason;
  delayMs: number;
  attempt: number;
}

export interface ResumedEvent {
  at: number;
  pausedMs: number;
}

export interface SchedulerEvents {
  rate_limited: RateLimitedEvent;
  resumed: ResumedEvent;
}

export interface SchedulerStats {
  /** Requests started, in total and per lane. */
  requests: number;
  requestsByPriority: Record<Priority, number>;
  outcomes: Record<TaskOutcome, number>;
  /** Tasks waiting, including those waiting for their device. */
  queueDepth: number;
  queueDepthByPriority: Record<Priority, number>;
  inFlight: number;
  /** Requests started in the last 60 s. */
  requestsLastMinute: number;
  paused: boolean;
  pausedUntil: number | undefined;
  pauseReason: PauseReason | undefined;
  /** Pauses started since creation. */
  pauses: number;
  /** Total time spent paused, including the current pause, ms. */
  rateLimitedMs: number;
  /** Consecutive throttling signals (drives the backoff doubling). */
  backoffAttempt: number;
}

interface Task {
  readonly priority: Priority;
  readonly label: string | undefined;
  readonly device: string | undefined;
  readonly cost: number;
  /** Submission order: ties between tasks waiting for the same device. */
  readonly order: number;
  readonly work: (signal: AbortSignal) => Promise<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (reason: unknown) => void;
  /** The signal the task's work gets. */
  readonly controller: AbortController;
  readonly enqueuedAt: number;
  /** waiting: for its device (see DeviceTurns); queued: in its p-queue; gate: handed out by it, waiting for the gate. */
  place: 'waiting' | 'queued' | 'gate' | 'running' | 'done';
  /** Aborting it takes the task out of its p-queue, queued or waiting for the gate. */
  entry: AbortController | undefined;
  /** Ends the task's p-queue job (it started and settled, or it left the gate): frees its slot. */
  endJob: () => void;
  detachCallerSignal: () => void;
  seq: number;
  startedAt: number;
  startedWhilePaused: boolean;
}

type State = 'created' | 'running' | 'stopping' | 'stopped';
type Listener<T> = (payload: T) => void;

/**
 * The one scheduler every TP-Link cloud call goes through, on p-queue's documented API. Two
 * p-queues hold the waiting tasks in priority order (`add(fn, {priority})`): interactive
 * (commands, read-backs) and background (device list, polls, energy). Each hands tasks out within
 * its `concurrency` (background: all slots but the command reserve); a task handed out waits in
 * the gate line until the admission gate (token bucket and 60 s window, see gate.ts) has room for
 * the first task in that line, and only then starts — so the gate sees the real start time, and a
 * task that waits there holds no token. While throttled (after -20004, "blackList" or repeated
 * 5xx) the background queue is paused (`pause()`, then `start()` to resume) and commands go on at
 * a reduced refill rate; see throttle.ts. A device's next task enters its queue only when the
 * device's last one has ended (deviceTurns.ts).
 */
export class CloudScheduler {
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #classify: FailureClassifier;
  readonly #limitedFactor: number;
  readonly #abandonAfterAbortMs: number;
  readonly #onTaskDone: SchedulerOptions['onTaskDone'];

  readonly #gate: AdmissionGate;
  readonly #throttle: Throttle;
  readonly #interactive: PQueue;
  readonly #background: PQueue;
  readonly #line = new GateLine<Task>();
  /** In a p-queue or in the gate line. */
  readonly #queued = new Set<Task>();
  /**
   * Queued tasks that run before a task already in the gate line: the line's head waits for them
   * (see #makeRoomFor).
   */
  readonly #overtaking = new Set<Task>();
  readonly #running = new Set<Task>();
  readonly #turns = new DeviceTurns<Task>();
  readonly #listeners: { [K in keyof SchedulerEvents]: Set<Listener<SchedulerEvents[K]>> } = {
    rate_limited: new Set(),
    resumed: new Set(),
  };

  #state: State = 'created';
  #nextOrder = 0;
  #nextSeq = 0;
  #pumping = false;
  #pumpAgain = false;
  #wakeTimer: unknown;
  #resumeTimer: unknown;
  #stopTimer: unknown;
  #stopPromise: Promise<void> | undefined;

  #requests = 0;
  readonly #requestsByPriority = zeroed(PRIORITY_ORDER);
  readonly #outcomes = zeroed(['ok', 'aborted', 'rate_limited', 'blacklisted', 'server_error', 'other'] as const);
  #pauses = 0;
  #rateLimitedMsDone = 0;

  constructor(options: SchedulerOptions) {
    const { ratePerMinute, burst, concurrency } = options;
    if (!(ratePerMinute > 0)) throw new RangeError('ratePerMinute must be > 0');
    if (!Number.isInteger(burst) || burst < 1) throw new RangeError('burst must be an integer ≥ 1');
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError('concurrency must be an integer ≥ 1');
    this.#limitedFactor = options.commandRateFactorWhenLimited ?? 0.5;
    if (!(this.#limitedFactor > 0 && this.#limitedFactor <= 1)) {
      throw new RangeError('commandRateFactorWhenLimited must be in (0, 1]');
    }

    this.#log = options.logger.child({ module: 'scheduler' });
    this.#clock = options.clock ?? systemClock;
    this.#classify = options.classifyFailure ?? failureClass;
    this.#abandonAfterAbortMs = options.abandonAfterAbortMs ?? 1000;
    this.#onTaskDone = options.onTaskDone;
    this.#gate = new AdmissionGate(
      { ratePerMinute, burst, concurrency, ...(options.interactiveReserve ? { interactiveReserve: options.interactiveReserve } : {}) },
      this.#clock.now(),
    );
    this.#throttle = new Throttle({ ...DEFAULT_BACKOFF, ...options.backoff }, options.random ?? Math.random);
    ({ interactive: this.#interactive, background: this.#background } = laneQueues(concurrency, this.#gate.backgroundSlots));
  }

  /** Begin dispatching. Tasks submitted before `start()` wait in the gate line. */
  start(): void {
    if (this.#state !== 'created') return;
    this.#state = 'running';
    this.#pump();
  }

  /**
   * Queue `task` in lane `priority`; it is called with an AbortSignal once the gate and a
   * concurrency slot allow (and, with `device`, no other task for that device runs). An isolated
   * task with capacity available is called synchronously, before `run()` returns. The task's
   * result or error is passed through unchanged: the scheduler never retries.
   */
  run<T>(priority: Priority, task: (signal: AbortSignal) => Promise<T>, options: RunOptions = {}): Promise<T> {
    if (!isPriority(priority)) return Promise.reject(new TypeError(`unknown scheduler priority: ${String(priority)}`));
    if (this.#state === 'stopping' || this.#state === 'stopped') {
      return Promise.reject(
        new SchedulerStoppedError('cloud scheduler is stopped; request not sent', { priority, label: options.label }),
      );
    }
    const { signal } = options;
    // Like fetch(): an aborted signal rejects with the signal's own reason, whatever it is.
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
    if (signal?.aborted) return Promise.reject(signal.reason);

    return new Promise<T>((resolve, reject) => {
      const entry: Task = {
        priority,
        label: options.label,
        device: options.device,
        cost: Math.max(1, Math.floor(options.cost ?? 1)),
        order: this.#nextOrder++,
        work: task,
        resolve: resolve as (value: unknown) => void,
        reject,
        controller: new AbortController(),
        enqueuedAt: this.#clock.now(),
        place: 'waiting',
        entry: undefined,
        endJob: noop,
        detachCallerSignal: noop,
        seq: -1,
        startedAt: 0,
        startedWhilePaused: false,
      };
      if (signal) {
        const onAbort = (): void => this.#cancel(entry, signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        entry.detachCallerSignal = () => signal.removeEventListener('abort', onAbort);
      }
      this.#submit(entry);
      this.#pump();
    });
  }

  /**
   * Stop taking work: queued tasks are rejected with `SchedulerStoppedError` at once; in-flight
   * tasks get `graceMs` to finish, then their signals are aborted, and after a further
   * `abandonAfterAbortMs` they are abandoned. Resolves when all have settled or been abandoned.
   */
  stop(graceMs = 5000): Promise<void> {
    if (this.#stopPromise) return this.#stopPromise;
    if (this.#throttle.pause) this.#rateLimitedMsDone += this.#throttle.end(this.#clock.now());
    this.#state = 'stopping';
    this.#cancelTimer('wake');
    this.#cancelTimer('resume');
    const notSent = (task: Task) =>
      new SchedulerStoppedError('cloud scheduler stopped before this request was sent', {
        priority: task.priority,
        label: task.label,
      });
    for (const task of [...this.#turns.drain(), ...this.#queued]) this.#drop(task, notSent(task));

    this.#stopPromise = new Promise<void>((resolve) => {
      const finish = (): void => {
        if (this.#state === 'stopped') return;
        this.#state = 'stopped';
        this.#cancelTimer('stop');
        resolve();
      };
      if (this.#running.size === 0) {
        finish();
        return;
      }
      this.#log.info({ inFlight: this.#running.size, graceMs }, 'waiting for in-flight cloud requests');
      void Promise.all([this.#interactive.onIdle(), this.#background.onIdle()]).then(finish);
      this.#stopTimer = this.#clock.setTimeout(() => {
        this.#abortInFlight();
        this.#stopTimer = this.#clock.setTimeout(() => {
          this.#stopTimer = undefined;
          if (this.#running.size > 0) {
            this.#log.warn({ abandoned: this.#running.size }, 'in-flight cloud requests ignored abort; abandoning them');
          }
          finish();
        }, this.#abandonAfterAbortMs);
      }, graceMs);
    });
    return this.#stopPromise;
  }

  /** Subscribe; returns the unsubscribe function. A throwing listener is logged and ignored. */
  on<K extends keyof SchedulerEvents>(event: K, listener: Listener<SchedulerEvents[K]>): () => void {
    this.#listeners[event].add(listener);
    return () => this.off(event, listener);
  }

  off<K extends keyof SchedulerEvents>(event: K, listener: Listener<SchedulerEvents[K]>): void {
    this.#listeners[event].delete(listener);
  }

  /** Listeners subscribed to every event together (the soak's leak accounting). */
  listenerCount(): number {
    return Object.values(this.#listeners).reduce((n, set) => n + set.size, 0);
  }

  /** True while `priority` is held back by a rate-limit backoff (always false for commands and read-backs). */
  isPaused(priority: Priority): boolean {
    return this.#throttle.pause !== undefined && !isInteractive(priority);
  }

  /** Epoch ms when background traffic resumes, or undefined when not paused. */
  get pausedUntil(): number | undefined {
    return this.#throttle.pause?.until;
  }

  /** Tasks waiting, including those waiting for their device. */
  get queueDepth(): number {
    let waiting = 0;
    for (const _ of this.#turns.waiting()) waiting++;
    return this.#queued.size + waiting;
  }

  get inFlight(): number {
    return this.#running.size;
  }

  stats(): SchedulerStats {
    const now = this.#clock.now();
    const pause = this.#throttle.pause;
    const queueDepthByPriority = zeroed(PRIORITY_ORDER);
    for (const task of this.#queued) queueDepthByPriority[task.priority]++;
    for (const task of this.#turns.waiting()) queueDepthByPriority[task.priority]++;
    return {
      requests: this.#requests,
      requestsByPriority: { ...this.#requestsByPriority },
      outcomes: { ...this.#outcomes },
      queueDepth: this.queueDepth,
      queueDepthByPriority,
      inFlight: this.#running.size,
      requestsLastMinute: this.#gate.startsInWindow(now),
      paused: pause !== undefined,
      pausedUntil: pause?.until,
      pauseReason: pause?.reason,
      pauses: this.#pauses,
      rateLimitedMs: this.#rateLimitedMsDone + (pause ? Math.max(0, now - pause.startedAt) : 0),
      backoffAttempt: this.#throttle.consecutiveSignals,
    };
  }

  // ── waiting ──────────────────────────────────────────────────────────────────────────────────

  /** Into its p-queue, unless another task for its device is running (or queued at a higher priority). */
  #submit(task: Task): void {
    const { go, displaced } = this.#turns.claim(task, (holder) => holder.place !== 'queued' && holder.place !== 'gate');
    if (displaced) this.#leaveQueue(displaced);
    if (go) this.#enqueue(task);
  }

  #queueOf(task: Task): PQueue {
    return isInteractive(task.priority) ? this.#interactive : this.#background;
  }

  #enqueue(task: Task): void {
    const entry = new AbortController();
    task.place = 'queued';
    task.entry = entry;
    this.#queued.add(task);
    const queue = this.#queueOf(task);
    // p-queue calls the job synchronously when it has a free slot (an isolated command starts
    // before run() returns). The job never fails by itself: the task's own promise carries its
    // outcome, and an aborted entry (the task left the queue) rejects only this add().
    queue
      .add(() => this.#arrive(task), { priority: queuePriority(task.priority, task.order), signal: entry.signal })
      .catch(noop);
    if (task.place === 'queued' && !queue.isPaused) this.#makeRoomFor(task);
  }

  /**
   * `task` is queued behind its queue's full slots. If one of them is held by a task in the gate
   * line that `task` runs before, that one goes back into the queue (at its old place, see
   * queuePriority): its slot, freed, goes to `task`. Until `task` reaches the line, the line's
   * head waits for it (strict priority: a poll that got a slot first must not start before a
   * device list queued later).
   */
  #makeRoomFor(task: Task): void {
    const behind = this.#line.lastBehind(task);
    if (!behind) return;
    this.#overtaking.add(task);
    this.#handBack(behind);
  }

  /** A task in the gate line goes back into its p-queue (overtaken, or its queue paused). */
  #handBack(task: Task): void {
    this.#leaveQueue(task);
    this.#enqueue(task);
  }

  /** p-queue's job for `task`: it waits in the gate line; it ends when the task has settled or left. */
  #arrive(task: Task): Promise<void> {
    return new Promise<void>((resolve) => {
      task.place = 'gate';
      task.endJob = resolve;
      this.#overtaking.delete(task);
      this.#line.add(task);
      this.#pump();
    });
  }

  /** Out of its p-queue (queued, or in the gate line), ending its job there. */
  #leaveQueue(task: Task): void {
    this.#queued.delete(task);
    this.#overtaking.delete(task);
    this.#line.remove(task);
    task.entry?.abort();
    task.entry = undefined;
    task.endJob();
    task.endJob = noop;
    task.place = 'waiting';
  }

  /** `task` left p-queue: its device's next task goes in. */
  #release(task: Task): void {
    const next = this.#turns.release(task);
    if (next) this.#enqueue(next);
  }

  /** The caller's signal fired. */
  #cancel(task: Task, reason: unknown): void {
    if (task.place === 'running') {
      task.controller.abort(reason);
      return;
    }
    if (task.place === 'done') return;
    this.#drop(task, reason); // the signal's own reason, as fetch() does
    this.#pump();
  }

  /** Take a task that has not started out of the scheduler and reject it. */
  #drop(task: Task, reason: unknown): void {
    if (task.place === 'queued' || task.place === 'gate') {
      this.#leaveQueue(task);
      this.#release(task);
    } else {
      this.#turns.forget(task);
    }
    task.place = 'done';
    task.detachCallerSignal();
    task.reject(reason);
  }

  // ── dispatching ──────────────────────────────────────────────────────────────────────────────

  /** Start every task that may start now, highest priority first; arm a timer for the next one. */
  #pump(): void {
    if (this.#pumping) {
      // A task called run() synchronously from inside a dispatch: let the outer loop pick it up.
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = true;
    try {
      do {
        this.#pumpAgain = false;
        this.#dispatch();
      } while (this.#pumpAgain);
    } finally {
      this.#pumping = false;
    }
  }

  /**
   * Strict priority: only the gate line's head may start, and only when no task that runs before
   * it is still on its way from a p-queue (any queued interactive task, for a background head).
   * Lower lanes never need less capacity than higher ones, so when the head cannot start, nothing
   * behind it could either.
   */
  #dispatch(): void {
    this.#cancelTimer('wake');
    if (this.#state !== 'running') return;
    for (;;) {
      const head = this.#line.first();
      if (!head || this.#outranked(head)) return;
      const now = this.#clock.now();
      const waitMs = this.#gate.msUntilStart(isInteractive(head.priority), head.cost, this.#running.size, now);
      if (waitMs > 0) {
        // Waiting for a slot (Infinity): the next task to finish pumps again. Otherwise wake up later.
        if (Number.isFinite(waitMs)) {
          this.#wakeTimer = this.#clock.setTimeout(() => this.#onWake(), Math.max(1, Math.ceil(waitMs)));
        }
        return;
      }
      this.#begin(head);
    }
  }

  #outranked(head: Task): boolean {
    if (!isInteractive(head.priority) && this.#interactive.size > 0) return true;
    for (const task of this.#overtaking) if (runsBefore(task, head)) return true;
    return false;
  }

  #onWake(): void {
    this.#wakeTimer = undefined;
    this.#pump();
  }

  #begin(task: Task): void {
    this.#line.remove(task);
    this.#queued.delete(task);
    const now = this.#clock.now();
    this.#gate.admit(task.cost, now);
    task.place = 'running';
    this.#running.add(task);
    task.seq = this.#nextSeq++;
    task.startedAt = now;
    task.startedWhilePaused = this.#throttle.pause !== undefined;
    this.#requests++;
    this.#requestsByPriority[task.priority]++;
    this.#log.trace({ priority: task.priority, label: task.label, queuedMs: now - task.enqueuedAt }, 'cloud request start');

    // The executor runs `work` synchronously (no timer or microtask before the request goes out)
    // and turns a synchronous throw into a rejection.
    const settled = new Promise<unknown>((resolve) => resolve(task.work(task.controller.signal)));
    settled.then(
      (value) => this.#finish(task, value, undefined, true),
      (err: unknown) => this.#finish(task, undefined, err, false),
    );
  }

  #finish(task: Task, value: unknown, error: unknown, ok: boolean): void {
    this.#running.delete(task);
    task.place = 'done';
    task.entry = undefined;
    task.endJob();
    task.endJob = noop;
    task.detachCallerSignal();
    const now = this.#clock.now();
    const outcome = ok ? 'ok' : this.#outcomeOf(task, error);
    this.#outcomes[outcome]++;
    this.#reportDone(task, now, outcome);

    if (this.#state === 'running') {
      const change = this.#throttle.record(outcome, task, now, this.#nextSeq);
      if (change) this.#applyPauseChange(change);
    }
    if (ok) task.resolve(value);
    else task.reject(error);
    this.#release(task);
    this.#pump();
  }

  #outcomeOf(task: Task, error: unknown): TaskOutcome {
    if (task.controller.signal.aborted) return 'aborted';
    try {
      return this.#classify(error);
    } catch (err) {
      this.#log.error({ err }, 'failure classifier threw; treating the failure as "other"');
      return 'other';
    }
  }

  #reportDone(task: Task, now: number, outcome: TaskOutcome): void {
    if (!this.#onTaskDone) return;
    const info: TaskInfo = { queuedMs: task.startedAt - task.enqueuedAt };
    if (task.label !== undefined) info.label = task.label;
    try {
      this.#onTaskDone(task.priority, now - task.startedAt, outcome, info);
    } catch (err) {
      this.#log.error({ err }, 'onTaskDone hook threw');
    }
  }

  // ── rate-limit pause ─────────────────────────────────────────────────────────────────────────

  #applyPauseChange(change: PauseChange): void {
    const { pause, delayMs, attempt } = change;
    const now = this.#clock.now();
    const logFields = { reason: pause.reason, delayMs, attempt, until: new Date(pause.until).toISOString() };
    if (change.kind === 'started') {
      this.#pauses++;
      this.#gate.setRateFactor(this.#limitedFactor, now);
      // Background tasks already handed out to the gate line go back and wait with the others.
      this.#background.pause();
      for (const task of this.#line.background()) this.#handBack(task);
      this.#log.warn(logFields, 'cloud throttling: pausing polls, commands continue at a reduced rate');
      this.#emit('rate_limited', { until: pause.until, reason: pause.reason, delayMs, attempt });
    } else {
      this.#log.warn(logFields, 'cloud throttling continues: pause extended');
    }
    this.#cancelTimer('resume');
    this.#resumeTimer = this.#clock.setTimeout(() => this.#resume(), Math.max(1, pause.until - now));
  }

  #resume(): void {
    this.#resumeTimer = undefined;
    const now = this.#clock.now();
    const pausedMs = this.#throttle.end(now);
    this.#rateLimitedMsDone += pausedMs;
    this.#gate.setRateFactor(1, now);
    this.#log.info({ pausedMs }, 'cloud throttling over: polling resumes');
    this.#emit('resumed', { at: now, pausedMs });
    this.#background.start();
    this.#pump();
  }

  #emit<K extends keyof SchedulerEvents>(event: K, payload: SchedulerEvents[K]): void {
    for (const listener of [...this.#listeners[event]]) {
      try {
        listener(payload);
      } catch (err) {
        this.#log.error({ err, event }, 'scheduler event listener threw');
      }
    }
  }

  // ── stopping ─────────────────────────────────────────────────────────────────────────────────

  #abortInFlight(): void {
    this.#log.warn({ inFlight: this.#running.size }, 'grace period over: aborting in-flight cloud requests');
    for (const task of this.#running) {
      task.controller.abort(
        new SchedulerStoppedError('cloud scheduler stopped: request aborted after the grace period', {
          priority: task.priority,
          label: task.label,
        }),
      );
    }
  }

  #cancelTimer(name: 'wake' | 'resume' | 'stop'): void {
    const handle = name === 'wake' ? this.#wakeTimer : name === 'resume' ? this.#resumeTimer : this.#stopTimer;
    if (handle !== undefined) this.#clock.clearTimeout(handle);
    if (name === 'wake') this.#wakeTimer = undefined;
    else if (name === 'resume') this.#resumeTimer = undefined;
    else this.#stopTimer = undefined;
  }
}

/**
 * Offset of item `index` of `count` when `count` periodic polls are evenly spread over
 * `intervalMs`: the scheduler shapes bursts, but a poller that enqueues everything at once still
 * builds a queue that delays its own later polls by up to the whole burst.
 */
export function spreadOffsetMs(index: number, count: number, intervalMs: number): number {
  if (count <= 0 || intervalMs <= 0) return 0;
  const slot = ((index % count) + count) % count;
  return Math.floor((slot * intervalMs) / count);
}

function zeroed<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
}

function noop(): void {}
