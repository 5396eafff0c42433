import { describe, expect, it } from 'vitest';
import { KeyedLimiter, TokenBucket } from '../src/index.js';
import { LimitState } from '../src/limit-state.js';
import { adjustBy, covers, levelFor, refillMs, serveFrom, spend, takeFrom, tokensAt, tolerance } from '../src/refill.js';
import { fakeClock, manualClock } from './support/fake-clock.js';

// The arithmetic of refill.ts at fixed instants, in milli-tokens: a bucket of capacity 4
// (4,000) at 2 tokens per second (2 milli-tokens per ms), its origin at 0.
describe('refill arithmetic', () => {
  const full = 4_000;
  const rate = 2;
  const accruedAt = (nowMs: number) => nowMs * rate;

  it.each([
    // level, atMs, tokens there (at most full)
    [0, 0, 0],
    [0, 500, 1_000],
    [-1_000, 500, 0],
    [3_000, 1_000, 4_000],
    [-10_000, 1_000, -8_000],
  ])('tokensAt: a level of %s at %s ms holds %s', (level, atMs, tokens) => {
    expect(tokensAt(level, accruedAt(atMs), full)).toBe(tokens);
  });

  it.each([
    [1_000, 0, 1_000],
    [1_000, 500, 0],
    [4_000, 2_000, 0],
  ])('levelFor: %s tokens at %s ms is the level %s', (tokens, atMs, level) => {
    expect(levelFor(tokens, accruedAt(atMs))).toBe(level);
  });

  it.each([
    // level, atMs, need, level after (NaN: refused)
    [0, 1_000, 1_000, -1_000],
    [0, 1_000, 2_000, -2_000],
    [0, 1_000, 2_001, Number.NaN],
    [10_000, 1_000, 1_000, 1_000], // full: taken from the capacity, the refill beyond it lost
    [3_000, 500, 4_000, -1_000], // exactly full
    [-500, 250, 0, -500],
  ])('takeFrom: from a level of %s at %s ms, taking %s leaves %s', (level, atMs, need, after) => {
    expect(takeFrom(level, need, accruedAt(atMs), full, accruedAt(atMs))).toBe(after);
  });

  it.each([
    // level, atMs, need, level after: what the ideal instant leaves, at most full - need
    [-6_000, 5_000, 4_000, -10_000], // served at its ideal instant: nothing left
    [-6_000, 5_001, 4_000, -10_002], // 1 ms late: a full bucket less the cost, nothing left
    [-1_000, 60_000, 3_000, 4_000 - 3_000 - 120_000], // a minute late: capacity - cost left
    [-1_000, 1_500, 1_000, -2_000], // 499.5 ms late, but the 1,000 left are below capacity - cost
  ])('serveFrom: a waiter of %s served at %s ms needing %s leaves %s', (level, atMs, need, after) => {
    expect(serveFrom(level, need, accruedAt(atMs), full)).toBe(after);
  });

  it.each([
    // level, atMs, delta, after
    [0, 0, 1_000, 1_000],
    [3_000, 0, 2_000, 4_000], // never above the capacity
    [3_000, 0, -5_000, -2_000], // a charge goes into debt
    [10_000, 0, 1_000, 10_000], // a line's level above the capacity keeps what it is owed
    [10_000, 0, -1_000, 9_000],
  ])('adjustBy: a level of %s at %s ms moved by %s is %s', (level, atMs, delta, after) => {
    expect(adjustBy(level, delta, accruedAt(atMs), full)).toBe(after);
  });

  it.each([
    [0, 1_000, 500],
    [1_000, 1_000, 0],
    [-3_000, 1_000, 2_000],
  ])('refillMs: from %s to %s takes %s ms at 2/s', (tokens, need, waitMs) => {
    expect(refillMs(tokens, need, 0, rate)).toBe(waitMs);
  });

  it('refillMs is Infinity when nothing refills, 0 when covered', () => {
    expect([refillMs(0, 1, 0, 0), refillMs(1, 1, 0, 0)]).toEqual([Infinity, 0]);
  });

  it('covers a need a few ulps short, and nothing more', () => {
    const scale = 3e6;
    expect(tolerance(1_000, scale)).toBe((3e6 + 1_000) * 2 ** -50);
    expect(covers(1_000 - tolerance(1_000, scale), 1_000, scale)).toBe(true);
    expect(covers(1_000 - 2 * tolerance(1_000, scale), 1_000, scale)).toBe(false);
  });

  it('spend rounds an inexact subtraction towards fewer tokens', () => {
    expect(spend(0.1 + 0.2, 0.3)).toBeLessThanOrEqual(0.1 + 0.2 - 0.3);
    expect(spend(1_000, 300)).toBe(700);
    const level = 1e16 + 2;
    expect(level - spend(level, 1)).toBeGreaterThanOrEqual(1);
  });
});

describe('LimitState', () => {
  it('counts refill from its origin and moves it forward once the refill grows past 2^36 milli-tokens', () => {
    const state = new LimitState(4, 1e6, 1.75e12);
    expect([state.accruedAt(1.75e12 + 10), state.rebaseAtMs]).toEqual([1e7, 1.75e12 + 2 ** 36 / 1e6]);
    state.reset(4, 0, 2e12);
    expect([state.accruedAt(3e12), state.rebaseAtMs, state.originScaleMilli]).toEqual([0, Infinity, 0]);
  });

  it('keeps the tokens of every bucket through a move of the origin (a long run at a high rate)', () => {
    const clock = manualClock();
    const limiter = new KeyedLimiter({ capacity: 1e6, refillPerSecond: 1e6, clock });
    limiter.tryAcquire('a', 1e6);
    limiter.tryAcquire('b', 5e5);
    // 2^36 milli-tokens at 1e6/s are 68.7 s: step past the origin's move.
    clock.ms = 68_000;
    expect([limiter.available('a'), limiter.available('b')]).toEqual([1e6, 1e6]);
    limiter.tryAcquire('a', 1e6);
    clock.ms = 69_000.5;
    expect([limiter.available('a'), limiter.retryAfter('a', 1e6)]).toEqual([1e6, 0]);
    clock.ms = 70_000;
    limiter.tryAcquire('a', 1e6);
    clock.ms = 70_000.25;
    expect(limiter.available('a')).toBe(250);
  });
});

describe('a move of the origin with callers waiting', () => {
  it('moves their lines too: they are served as if it had not moved', async () => {
    const { clock, fake } = fakeClock();
    const limiter = new KeyedLimiter({ capacity: 10, refillPerSecond: 1e6, clock });
    limiter.tryAcquire('k', 10);
    limiter.charge('k', 8e7); // 80 s of debt at 1e6/s
    const servedAtMs: number[] = [];
    for (let index = 0; index < 2; index++) void limiter.acquire('k', 10).then(() => servedAtMs.push(fake.now));
    await fake.tickAsync(70_000);
    limiter.tryAcquire('other'); // past 68.7 s: the origin moves
    await fake.tickAsync(9_999);
    expect(servedAtMs).toEqual([]);
    await fake.tickAsync(5);
    // The first is due at 80,000.01 ms and served on the whole millisecond; a bucket of 10
    // holds no more than 10, so the second is due 0.01 ms after that.
    expect(servedAtMs).toEqual([80_001, 80_002]);
  });
});

/** Steps at fixed instants, as in Go's rate_test.go: tokens = min(capacity, tokens + elapsedMs × rate / 1000), capacity 4 at 2 per second. */
const LAZY_REFILL = [
  { atMs: 0, take: 4, ok: true, after: 0 },
  { atMs: 100, take: 0, ok: true, after: 0.2 },
  { atMs: 250, take: 1, ok: false, after: 0.5 },
  { atMs: 500, take: 1, ok: true, after: 0 },
  { atMs: 2_000, take: 0, ok: true, after: 3 },
  { atMs: 60_000, take: 0, ok: true, after: 4 },
  { atMs: 60_000, take: 4, ok: true, after: 0 },
];

describe('lazy refill at fixed instants', () => {
  it.each([
    ['TokenBucket', (clock: ReturnType<typeof manualClock>) => {
      const bucket = new TokenBucket({ capacity: 4, refillPerSecond: 2, clock });
      return (take: number) => [bucket.tryAcquire(take), bucket.available];
    }],
    ['KeyedLimiter', (clock: ReturnType<typeof manualClock>) => {
      const limiter = new KeyedLimiter({ capacity: 4, refillPerSecond: 2, clock });
      return (take: number) => [limiter.tryAcquire('k', take), limiter.available('k')];
    }],
  ])('%s follows the table step by step', (_name, create) => {
    const clock = manualClock();
    const step = create(clock);
    for (const { atMs, take, ok, after } of LAZY_REFILL) {
      clock.ms = atMs;
      expect([atMs, ...step(take)]).toEqual([atMs, ok, after]);
    }
  });
});
