import type { Logger } from '../logger.js';
import { DEFAULT_BACKOFF } from './backoff.js';
import { classifyKasaFailure, type FailureClassifier } from './classify.js';
import { systemClock, type Clock } from './clock.js';
import { TypedEmitter } from './emitter.js';
import { SchedulerStoppedError } from './errors.js';
import { PRIORITY_ORDER, isInteractive, isPriority, type Priority } from './priority.js';
import { SlidingWindow } from './slidingWindow.js';
import { Throttle, type PauseChange, type TaskOutcome } from './throttle.js';
import { TokenBucket } from './tokenBucket.js';
import type { RunOptions, SchedulerEvents, SchedulerOptions, SchedulerStats, TaskInfo } from './schedulerTypes.js';

export type { Priority } from './priority.js';
export type { PauseReason, TaskOutcome } from './throttle.js';
export type * from './schedulerTypes.js';

/**
 * Rate guarantee. `KASA_RATE_LIMIT` is a hard ceiling: in ANY 60 s window at most
 * `ratePerMinute` requests start. A token bucket alone (capacity B, refill R/min) allows up to
 * R + B in a window (a full bucket plus a minute of refill), so two limits apply together:
 *
 * 1. a token bucket, capacity `burst`, refilling `ratePerMinute / 60` per second — shapes bursts
 *    and lets an isolated request start at once;
 * 2. a sliding-window guard — a request starts only if fewer than `ratePerMinute` started in the
 *    last 60 s plus a margin (a start at time s counts until s + 61 000 ms, exclusive). The margin
 *    is for the cloud, which counts arrivals: two requests started exactly 60 s apart can arrive
 *    less than 60 s apart when the first one's connection was slower.
 *
 * While throttled (after -20004, "blackList" or repeated 5xx) background lanes stop and the refill
 * rate drops to `ratePerMinute × commandRateFactorWhenLimited`; the window ceiling stays the
 * configured limit. Tokens already in the bucket (background lanes always leave one for commands)
 * are kept, so the first command after a rate-limit answer still goes out at once.
 */
export const RATE_WINDOW_MS = 60_000;
/** Arrival-time slack on top of the 60 s window (see above). */
export const RATE_WINDOW_MARGIN_MS = 1_000;

interface Task {
  readonly priority: Priority;
  readonly label: string | undefined;
  readonly cost: number;
  readonly work: (signal: AbortSignal) => Promise<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (reason: unknown) => void;
  readonly controller: AbortController;
  readonly enqueuedAt: number;
  detachCallerSignal: () => void;
  seq: number;
  startedAt: number;
  startedWhilePaused: boolean;
}

type State = 'created' | 'running' | 'stopping' | 'stopped';

/** The one scheduler every TP-Link cloud call goes through. */
export class CloudScheduler {
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly classify: FailureClassifier;
  private readonly limitedFactor: number;
  /** Most starts in any RATE_WINDOW_MS. */
  private readonly windowLimit: number;
  private readonly reservedTokens: number;
  private readonly reservedSlots: number;
  private readonly abandonAfterAbortMs: number;
  private readonly onTaskDone: SchedulerOptions['onTaskDone'];

  private readonly bucket: TokenBucket;
  private readonly window = new SlidingWindow(RATE_WINDOW_MS + RATE_WINDOW_MARGIN_MS);
  private readonly throttle: Throttle;
  private readonly events: TypedEmitter<SchedulerEvents>;
  private readonly queues = new Map<Priority, Set<Task>>(PRIORITY_ORDER.map((p) => [p, new Set<Task>()]));
  private readonly running = new Set<Task>();

  private state: State = 'created';
  private nextSeq = 0;
  private pumping = false;
  private pumpAgain = false;
  private wakeTimer: unknown;
  private resumeTimer: unknown;
  private stopTimer: unknown;
  private stopPromise: Promise<void> | undefined;
  private stopDone: (() => void) | undefined;

  private requests = 0;
  private readonly requestsByPriority = zeroed(PRIORITY_ORDER);
  private readonly outcomes = zeroed(['ok', 'aborted', 'rate_limited', 'blacklisted', 'server_error', 'other'] as const);
  private pauses = 0;
  private rateLimitedMsDone = 0;

  constructor(private readonly options: SchedulerOptions) {
    const { ratePerMinute, burst, concurrency } = options;
    if (!(ratePerMinute > 0)) throw new RangeError('ratePerMinute must be > 0');
    if (!Number.isInteger(burst) || burst < 1) throw new RangeError('burst must be an integer ≥ 1');
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError('concurrency must be an integer ≥ 1');
    this.limitedFactor = options.commandRateFactorWhenLimited ?? 0.5;
    if (!(this.limitedFactor > 0 && this.limitedFactor <= 1)) {
      throw new RangeError('commandRateFactorWhenLimited must be in (0, 1]');
    }

    this.log = options.logger.child({ module: 'scheduler' });
    this.clock = options.clock ?? systemClock;
    this.classify = options.classifyFailure ?? classifyKasaFailure;
    this.abandonAfterAbortMs = options.abandonAfterAbortMs ?? 1000;
    this.onTaskDone = options.onTaskDone;
    this.windowLimit = Math.max(1, Math.floor(ratePerMinute));
    const reserve = options.interactiveReserve ?? {};
    this.reservedTokens = clamp(reserve.tokens ?? 1, 0, Math.min(burst - 1, this.windowLimit - 1));
    this.reservedSlots = clamp(reserve.slots ?? 1, 0, concurrency - 1);
    this.bucket = new TokenBucket(burst, ratePerMinute, this.clock.now());
    this.throttle = new Throttle({ ...DEFAULT_BACKOFF, ...options.backoff }, options.random ?? Math.random);
    this.events = new TypedEmitter<SchedulerEvents>(this.log);
  }

  /** Begin dispatching. Tasks submitted before `start()` wait in the queue. */
  start(): void {
    if (this.state !== 'created') return;
    this.state = 'running';
    this.pump();
  }

  /**
   * Queue `task` in lane `priority`; it is called with an AbortSignal once a token and a
   * concurrency slot are free. An isolated task with capacity available is called synchronously,
   * before `run()` returns. The task's result or error is passed through unchanged: the scheduler
   * never retries.
   */
  run<T>(priority: Priority, task: (signal: AbortSignal) => Promise<T>, options: RunOptions = {}): Promise<T> {
    if (!isPriority(priority)) return Promise.reject(new TypeError(`unknown scheduler priority: ${String(priority)}`));
    if (this.state === 'stopping' || this.state === 'stopped') {
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
        cost: Math.max(1, Math.floor(options.cost ?? 1)),
        work: task,
        resolve: resolve as (value: unknown) => void,
        reject,
        controller: new AbortController(),
        enqueuedAt: this.clock.now(),
        detachCallerSignal: noop,
        seq: -1,
        startedAt: 0,
        startedWhilePaused: false,
      };
      if (signal) {
        const onAbort = (): void => this.abortTask(entry, signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        entry.detachCallerSignal = () => signal.removeEventListener('abort', onAbort);
      }
      this.queue(priority).add(entry);
      this.pump();
    });
  }

  /**
   * Stop taking work: queued tasks are rejected with `SchedulerStoppedError` at once; in-flight
   * tasks get `graceMs` to finish, then their signals are aborted, and after a further
   * `abandonAfterAbortMs` they are abandoned. Resolves when all have settled or been abandoned.
   */
  stop(graceMs = 5000): Promise<void> {
    if (this.stopPromise) return this.stopPromise;
    const wasPaused = this.throttle.pause !== undefined;
    this.state = 'stopping';
    this.cancelTimer('wakeTimer');
    this.cancelTimer('resumeTimer');
    if (wasPaused) this.rateLimitedMsDone += this.throttle.end(this.clock.now());
    for (const lane of this.queues.values()) {
      for (const task of lane) {
        lane.delete(task);
        task.detachCallerSignal();
        task.reject(
          new SchedulerStoppedError('cloud scheduler stopped before this request was sent', {
            priority: task.priority,
            label: task.label,
          }),
        );
      }
    }
    this.stopPromise = new Promise<void>((resolve) => {
      this.stopDone = resolve;
      if (this.running.size === 0) {
        this.finishStop();
        return;
      }
      this.log.info({ inFlight: this.running.size, graceMs }, 'waiting for in-flight cloud requests');
      this.stopTimer = this.clock.setTimeout(() => this.abortInFlight(), graceMs);
    });
    return this.stopPromise;
  }

  on<K extends keyof SchedulerEvents>(event: K, listener: (payload: SchedulerEvents[K]) => void): () => void {
    return this.events.on(event, listener);
  }

  off<K extends keyof SchedulerEvents>(event: K, listener: (payload: SchedulerEvents[K]) => void): void {
    this.events.off(event, listener);
  }

  /** True while `priority` is held back by a rate-limit backoff (always false for commands and read-backs). */
  isPaused(priority: Priority): boolean {
    return this.throttle.pause !== undefined && !isInteractive(priority);
  }

  /** Epoch ms when background traffic resumes, or undefined when not paused. */
  get pausedUntil(): number | undefined {
    return this.throttle.pause?.until;
  }

  get queueDepth(): number {
    let depth = 0;
    for (const lane of this.queues.values()) depth += lane.size;
    return depth;
  }

  get inFlight(): number {
    return this.running.size;
  }

  stats(): SchedulerStats {
    const now = this.clock.now();
    const pause = this.throttle.pause;
    const queueDepthByPriority = zeroed(PRIORITY_ORDER);
    for (const [priority, lane] of this.queues) queueDepthByPriority[priority] = lane.size;
    return {
      requests: this.requests,
      requestsByPriority: { ...this.requestsByPriority },
      outcomes: { ...this.outcomes },
      queueDepth: this.queueDepth,
      queueDepthByPriority,
      inFlight: this.running.size,
      requestsLastMinute: this.window.count(now),
      paused: pause !== undefined,
      pausedUntil: pause?.until,
      pauseReason: pause?.reason,
      pauses: this.pauses,
      rateLimitedMs: this.rateLimitedMsDone + (pause ? Math.max(0, now - pause.startedAt) : 0),
      backoffAttempt: this.throttle.consecutiveSignals,
    };
  }

  // ── dispatching ──────────────────────────────────────────────────────────────────────────────

  /** Start every task that may start now, highest priority first; arm a timer for the next one. */
  private pump(): void {
    if (this.pumping) {
      // A task called run() synchronously from inside a dispatch: let the outer loop pick it up.
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        this.dispatch();
      } while (this.pumpAgain);
    } finally {
      this.pumping = false;
    }
  }

  private dispatch(): void {
    this.cancelTimer('wakeTimer');
    if (this.state !== 'running') return;
    for (;;) {
      const task = this.nextCandidate();
      if (!task) return;
      const now = this.clock.now();
      const waitMs = this.msUntilStartable(task.priority, now, task.cost);
      if (waitMs > 0) {
        // Blocked on concurrency (Infinity): a finishing task pumps again. Otherwise wake up later.
        if (Number.isFinite(waitMs)) this.wakeTimer = this.clock.setTimeout(() => this.onWake(), Math.max(1, Math.ceil(waitMs)));
        return;
      }
      this.startTask(task, now);
    }
  }

  private onWake(): void {
    this.wakeTimer = undefined;
    this.pump();
  }

  /**
   * Strict priority: the head of the highest non-empty, non-paused lane. Lower lanes never need
   * less capacity than higher ones, so if that head cannot start, nothing below it can either.
   */
  private nextCandidate(): Task | undefined {
    for (const priority of PRIORITY_ORDER) {
      if (this.isPaused(priority)) continue;
      const head = this.queue(priority).values().next();
      if (!head.done) return head.value;
    }
    return undefined;
  }

  /** 0 if a task of `priority` may start now; Infinity if it waits for a slot; else ms until capacity. */
  private msUntilStartable(priority: Priority, now: number, cost = 1): number {
    const interactive = isInteractive(priority);
    const slots = this.options.concurrency - (interactive ? 0 : this.reservedSlots);
    if (this.running.size >= slots) return Infinity;
    // A task costing more than the bucket or window can ever hold still starts once they are full.
    const extra = Math.min(cost, this.options.burst, this.windowLimit) - 1;
    const tokensNeeded = 1 + extra + (interactive ? 0 : this.reservedTokens);
    const windowLimit = this.windowLimit - extra - (interactive ? 0 : this.reservedTokens);
    return Math.max(this.bucket.msUntil(tokensNeeded, now), this.window.msUntilRoomFor(windowLimit, now));
  }

  private startTask(task: Task, now: number): void {
    this.queue(task.priority).delete(task);
    this.bucket.take(now, task.cost);
    for (let i = 0; i < task.cost; i++) this.window.record(now);
    this.running.add(task);
    task.seq = this.nextSeq++;
    task.startedAt = now;
    task.startedWhilePaused = this.throttle.pause !== undefined;
    this.requests++;
    this.requestsByPriority[task.priority]++;
    this.log.trace({ priority: task.priority, label: task.label, queuedMs: now - task.enqueuedAt }, 'cloud request start');

    // The executor runs `work` synchronously (no timer or microtask before the request goes out)
    // and turns a synchronous throw into a rejection.
    const settled = new Promise<unknown>((resolve) => resolve(task.work(task.controller.signal)));
    void settled.then(
      (value) => this.finishTask(task, value, undefined, true),
      (err: unknown) => this.finishTask(task, undefined, err, false),
    );
  }

  private finishTask(task: Task, value: unknown, error: unknown, ok: boolean): void {
    this.running.delete(task);
    task.detachCallerSignal();
    const now = this.clock.now();
    const outcome = ok ? 'ok' : this.outcomeOf(task, error);
    this.outcomes[outcome]++;
    this.reportDone(task, now, outcome);

    if (this.state === 'running') {
      const change = this.throttle.record(outcome, task, now, this.nextSeq);
      if (change) this.applyPauseChange(change);
    }
    if (ok) task.resolve(value);
    else task.reject(error);

    if (this.state === 'stopping' && this.running.size === 0) this.finishStop();
    else this.pump();
  }

  private outcomeOf(task: Task, error: unknown): TaskOutcome {
    if (task.controller.signal.aborted) return 'aborted';
    try {
      return this.classify(error);
    } catch (err) {
      this.log.error({ err }, 'failure classifier threw; treating the failure as "other"');
      return 'other';
    }
  }

  private reportDone(task: Task, now: number, outcome: TaskOutcome): void {
    if (!this.onTaskDone) return;
    const info: TaskInfo = { queuedMs: task.startedAt - task.enqueuedAt };
    if (task.label !== undefined) info.label = task.label;
    try {
      this.onTaskDone(task.priority, now - task.startedAt, outcome, info);
    } catch (err) {
      this.log.error({ err }, 'onTaskDone hook threw');
    }
  }

  private abortTask(task: Task, reason: unknown): void {
    const lane = this.queue(task.priority);
    if (lane.delete(task)) {
      task.detachCallerSignal();
      task.reject(reason); // the signal's own reason, as fetch() does
      this.pump();
    } else if (this.running.has(task)) {
      task.controller.abort(reason);
    }
  }

  // ── rate-limit pause ─────────────────────────────────────────────────────────────────────────

  private applyPauseChange(change: PauseChange): void {
    const { pause, delayMs, attempt } = change;
    const now = this.clock.now();
    const logFields = { reason: pause.reason, delayMs, attempt, until: new Date(pause.until).toISOString() };
    if (change.kind === 'started') {
      this.pauses++;
      this.bucket.setRate(this.options.ratePerMinute * this.limitedFactor, now);
      this.log.warn(logFields, 'cloud throttling: pausing polls, commands continue at a reduced rate');
      this.events.emit('rate_limited', { until: pause.until, reason: pause.reason, delayMs, attempt });
    } else {
      this.log.warn(logFields, 'cloud throttling continues: pause extended');
    }
    this.cancelTimer('resumeTimer');
    this.resumeTimer = this.clock.setTimeout(() => this.resume(), Math.max(1, pause.until - now));
  }

  private resume(): void {
    this.resumeTimer = undefined;
    const now = this.clock.now();
    const pausedMs = this.throttle.end(now);
    this.rateLimitedMsDone += pausedMs;
    this.bucket.setRate(this.options.ratePerMinute, now);
    this.log.info({ pausedMs }, 'cloud throttling over: polling resumes');
    this.events.emit('resumed', { at: now, pausedMs });
    this.pump();
  }

  // ── stopping ─────────────────────────────────────────────────────────────────────────────────

  private abortInFlight(): void {
    this.stopTimer = undefined;
    this.log.warn({ inFlight: this.running.size }, 'grace period over: aborting in-flight cloud requests');
    for (const task of this.running) {
      task.controller.abort(
        new SchedulerStoppedError('cloud scheduler stopped: request aborted after the grace period', {
          priority: task.priority,
          label: task.label,
        }),
      );
    }
    this.stopTimer = this.clock.setTimeout(() => {
      this.stopTimer = undefined;
      if (this.running.size > 0) {
        this.log.warn({ abandoned: this.running.size }, 'in-flight cloud requests ignored abort; abandoning them');
      }
      this.finishStop();
    }, this.abandonAfterAbortMs);
  }

  private finishStop(): void {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    this.cancelTimer('stopTimer');
    this.stopDone?.();
    this.stopDone = undefined;
  }

  // ── helpers ──────────────────────────────────────────────────────────────────────────────────

  private queue(priority: Priority): Set<Task> {
    const lane = this.queues.get(priority);
    if (!lane) throw new TypeError(`unknown scheduler priority: ${priority}`);
    return lane;
  }

  private cancelTimer(name: 'wakeTimer' | 'resumeTimer' | 'stopTimer'): void {
    const handle = this[name];
    if (handle !== undefined) this.clock.clearTimeout(handle);
    this[name] = undefined;
  }
}

function zeroed<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
}

function clamp(value: number, min: number, max: number): number {
  return Math.max(min, Math.min(max, Math.floor(value)));
}

function noop(): void {}
