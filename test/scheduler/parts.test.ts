import { describe, expect, it } from 'vitest';
import { SlidingWindow, TokenBucket } from '../../src/scheduler/gate.js';
import { spreadOffsetMs } from '../../src/scheduler/scheduler.js';
import { backoffDelayMs } from '../../src/scheduler/throttle.js';
import { KasaError, KasaNetworkError, KasaRateLimitError, failureClass } from '../../src/kasa/errors.js';

describe('TokenBucket', () => {
  it('starts full, refills at rate/60 per second, never above capacity', () => {
    const bucket = new TokenBucket(3, 60, 0);
    expect(bucket.available(0)).toBe(3);
    bucket.take(0);
    bucket.take(0);
    bucket.take(0);
    expect(bucket.msUntil(1, 0)).toBe(1_000);
    expect(bucket.available(500)).toBeCloseTo(0.5);
    expect(bucket.available(10_000)).toBe(3);
  });

  it('changes rate without losing earned tokens', () => {
    const bucket = new TokenBucket(5, 60, 0);
    for (let i = 0; i < 5; i++) bucket.take(0);
    bucket.setRate(30, 1_000); // 1 token earned at the old rate
    expect(bucket.available(1_000)).toBeCloseTo(1);
    expect(bucket.msUntil(2, 1_000)).toBeCloseTo(2_000);
  });

  it('reports Infinity for more than its capacity', () => {
    expect(new TokenBucket(2, 60, 0).msUntil(3, 0)).toBe(Infinity);
  });
});

describe('SlidingWindow', () => {
  it('counts a start for exactly windowMs', () => {
    const window = new SlidingWindow(60_000);
    window.record(0);
    window.record(10_000);
    expect(window.count(59_999)).toBe(2);
    expect(window.count(60_000)).toBe(1);
    expect(window.count(70_000)).toBe(0);
  });

  it('says how long until one more start fits under a limit', () => {
    const window = new SlidingWindow(60_000);
    for (const t of [0, 1_000, 2_000]) window.record(t);
    expect(window.msUntilRoomFor(4, 5_000)).toBe(0);
    expect(window.msUntilRoomFor(3, 5_000)).toBe(55_000);
    expect(window.msUntilRoomFor(2, 5_000)).toBe(56_000);
    expect(window.msUntilRoomFor(0, 5_000)).toBe(Infinity);
  });

  it('stays correct across internal compaction', () => {
    const window = new SlidingWindow(1_000);
    for (let t = 0; t < 5_000; t++) window.record(t);
    expect(window.count(4_999)).toBe(1_000);
  });
});

describe('backoffDelayMs', () => {
  it('doubles from the base and caps at the maximum', () => {
    const mid = () => 0.5;
    expect([1, 2, 3, 4, 5, 6, 50, 5_000].map((n) => backoffDelayMs(n, 1_000, 10_000, 0.2, mid))).toEqual([
      1_000, 2_000, 4_000, 8_000, 10_000, 10_000, 10_000, 10_000,
    ]);
  });

  it('stays within ±jitter and never above the cap', () => {
    for (let i = 0; i < 1_000; i++) {
      const attempt = 1 + (i % 6);
      const base = Math.min(10_000, 1_000 * 2 ** (attempt - 1));
      const random = () => (i * 0.618_034) % 1; // deterministic, covers [0, 1)
      const delay = backoffDelayMs(attempt, 1_000, 10_000, 0.2, random);
      expect(delay).toBeGreaterThanOrEqual(Math.floor(base * 0.8));
      expect(delay).toBeLessThanOrEqual(Math.min(10_000, Math.ceil(base * 1.2)));
    }
  });
});

describe('failureClass (read from KasaError.action)', () => {
  it.each([
    [new KasaRateLimitError('API rate limit exceeded', { code: -20004 }), 'rate_limited'],
    [new KasaRateLimitError('Access denied request in blackList', { blacklisted: true }), 'blacklisted'],
    [new KasaNetworkError('HTTP 503', { status: 503 }), 'server_error'],
    [new KasaNetworkError('HTTP 500', { status: 500 }), 'server_error'],
    [new KasaNetworkError('HTTP 404', { status: 404 }), 'other'],
    [new KasaNetworkError('timed out', { timeout: true }), 'other'],
    [new KasaError('rate limited', 'back_off', { code: -20004 }), 'rate_limited'],
    [new KasaError('blacklisted', 'stop'), 'blacklisted'],
    [new Error('Access denied request in blackList'), 'other'],
    [new Error('boom'), 'other'],
    ['a string', 'other'],
    [undefined, 'other'],
  ] as const)('%s → %s', (err, expected) => {
    expect(failureClass(err)).toBe(expected);
  });
});

describe('spreading polls', () => {
  it('spreads n polls evenly over the interval', () => {
    expect([0, 1, 2, 3].map((i) => spreadOffsetMs(i, 4, 60_000))).toEqual([0, 15_000, 30_000, 45_000]);
    expect(spreadOffsetMs(0, 0, 60_000)).toBe(0);
  });
});
