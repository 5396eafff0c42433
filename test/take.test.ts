import { describe, expect, it } from 'vitest';
import { KeyedLimiter, TokenBucket } from '../src/index.js';
import { fakeClock, manualClock } from './support/fake-clock.js';

describe('take: one decision with what rate-limit headers need', () => {
  it('TokenBucket.take reports granted, remaining, retryAfterMs, resetAfterMs and limit', () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ capacity: 3, refillPerSecond: 2, clock });
    expect(bucket.take(2)).toEqual({ granted: true, remaining: 1, retryAfterMs: 0, resetAfterMs: 1_000, limit: 3 });
    expect(bucket.take(2)).toEqual({ granted: false, remaining: 1, retryAfterMs: 500, resetAfterMs: 1_000, limit: 3 });
    clock.ms = 250;
    expect(bucket.take(1)).toEqual({ granted: true, remaining: 0.5, retryAfterMs: 0, resetAfterMs: 1_250, limit: 3 });
    expect(bucket.take(4)).toMatchObject({ granted: false, retryAfterMs: Infinity });
  });

  it('KeyedLimiter.take decides per key and creates nothing when refused for cost', () => {
    const clock = manualClock();
    const limiter = new KeyedLimiter({ capacity: 2, refillPerSecond: 1, clock });
    expect(limiter.take('a')).toEqual({ granted: true, remaining: 1, retryAfterMs: 0, resetAfterMs: 1_000, limit: 2 });
    expect(limiter.take('a', 2)).toEqual({ granted: false, remaining: 1, retryAfterMs: 1_000, resetAfterMs: 1_000, limit: 2 });
    expect(limiter.take('b', 3)).toMatchObject({ granted: false, remaining: 2, retryAfterMs: Infinity, resetAfterMs: 0 });
    expect(limiter.size).toBe(1);
  });

  it('counts waiting callers: nothing remains, and the reset comes after they are served', () => {
    const { clock } = fakeClock();
    const bucket = new TokenBucket({ capacity: 2, refillPerSecond: 1, initialTokens: 0, clock });
    void bucket.acquire(2);
    expect(bucket.take(1)).toEqual({ granted: false, remaining: 0, retryAfterMs: 3_000, resetAfterMs: 4_000, limit: 2 });
  });

  it('is Infinity for reset and retry of a spent fixed quota', () => {
    const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 0, clock: manualClock() });
    bucket.tryAcquire();
    expect(bucket.take()).toEqual({ granted: false, remaining: 0, retryAfterMs: Infinity, resetAfterMs: Infinity, limit: 1 });
  });
});
