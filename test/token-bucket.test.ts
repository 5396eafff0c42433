import FakeTimers from '@sinonjs/fake-timers';
import { afterEach, describe, expect, it } from 'vitest';
import { TokenBucket } from '../src/index.js';
import { fakeClock, manualClock } from './support/fake-clock.js';

describe('TokenBucket', () => {
  describe('construction', () => {
    it('starts full unless initialTokens says otherwise', () => {
      const clock = manualClock();
      expect(new TokenBucket({ capacity: 5, refillPerSecond: 1, clock }).available).toBe(5);
      expect(new TokenBucket({ capacity: 5, refillPerSecond: 1, initialTokens: 2, clock }).available).toBe(2);
      expect(new TokenBucket({ capacity: 5, refillPerSecond: 1, initialTokens: 0, clock }).available).toBe(0);
    });

    it('exposes capacity and refillPerSecond, read-only', () => {
      const bucket = new TokenBucket({ capacity: 2.5, refillPerSecond: 0.5, clock: manualClock() });
      expect([bucket.capacity, bucket.refillPerSecond]).toEqual([2.5, 0.5]);
      expect(() => {
        (bucket as { capacity: number }).capacity = 9;
      }).toThrow(TypeError);
    });

    it.each([
      [{ capacity: 0, refillPerSecond: 1 }, RangeError, 'Expected `capacity` to be a finite number > 0 and <= 1000000000000, got `0` (number)'],
      [{ capacity: -1, refillPerSecond: 1 }, RangeError, '`capacity`'],
      [{ capacity: Number.NaN, refillPerSecond: 1 }, RangeError, 'got `NaN` (number)'],
      [{ capacity: Infinity, refillPerSecond: 1 }, RangeError, 'got `Infinity` (number)'],
      [{ capacity: '5', refillPerSecond: 1 }, TypeError, 'Expected `capacity` to be a finite number > 0 and <= 1000000000000, got `"5"` (string)'],
      [{ capacity: 5, refillPerSecond: -1 }, RangeError, 'Expected `refillPerSecond` to be a finite number >= 0 and <= 1000000000, got `-1` (number)'],
      [{ capacity: 5, refillPerSecond: Infinity }, RangeError, '`refillPerSecond`'],
      [{ capacity: 5 }, TypeError, 'got `undefined` (undefined)'],
      [{ capacity: 5, refillPerSecond: 1, initialTokens: 6 }, RangeError, 'Expected `initialTokens` to be a finite number >= 0 and <= 5, got `6` (number)'],
      [{ capacity: 5, refillPerSecond: 1, initialTokens: -0.5 }, RangeError, '`initialTokens`'],
      [{ capacity: 5, refillPerSecond: 1, clock: {} }, TypeError, 'Expected `clock.now` to be a function, got `undefined` (undefined)'],
      [{ capacity: 5, refillPerSecond: 1, clock: { now: () => 0, setTimeout: 1, clearTimeout: () => 0 } }, TypeError, '`clock.setTimeout`'],
      [{ capacity: 5, refillPerSecond: 1, clock: 'fast' }, TypeError, '`clock`'],
    ])('rejects bad options %o with a clear error', (options, ErrorType, message) => {
      const create = () => new TokenBucket(options as never);
      expect(create).toThrow(ErrorType);
      expect(create).toThrow(message);
    });

    it('rejects options that are not an object', () => {
      expect(() => new TokenBucket(undefined as never)).toThrow(TypeError);
      expect(() => new TokenBucket(undefined as never)).toThrow('`options`');
    });
  });

  describe('tryAcquire', () => {
    it('takes tokens while there are enough, then refuses', () => {
      const bucket = new TokenBucket({ capacity: 3, refillPerSecond: 1, clock: manualClock() });
      expect([bucket.tryAcquire(), bucket.tryAcquire(2), bucket.tryAcquire(), bucket.available]).toEqual([true, true, false, 0]);
    });

    it('takes fractional costs exactly', () => {
      const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 1, clock: manualClock() });
      expect([bucket.tryAcquire(0.25), bucket.tryAcquire(0.5), bucket.available]).toEqual([true, true, 0.25]);
      expect(bucket.tryAcquire(0.3)).toBe(false);
      expect(bucket.tryAcquire(0.25)).toBe(true);
    });

    it('takes a zero cost whenever nobody waits', () => {
      const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 1, initialTokens: 0, clock: manualClock() });
      expect(bucket.tryAcquire(0)).toBe(true);
    });

    it('refuses a cost above the capacity without throwing', () => {
      const bucket = new TokenBucket({ capacity: 2, refillPerSecond: 1, clock: manualClock() });
      expect(bucket.tryAcquire(2.5)).toBe(false);
      expect(bucket.available).toBe(2);
    });

    it.each([[Number.NaN], [-1], [Infinity], [-Infinity]])('throws a RangeError naming `cost` for %s', (cost) => {
      const bucket = new TokenBucket({ capacity: 2, refillPerSecond: 1, clock: manualClock() });
      expect(() => bucket.tryAcquire(cost)).toThrow(RangeError);
      expect(() => bucket.tryAcquire(cost)).toThrow(`Expected \`cost\` to be a finite number >= 0, got \`${cost}\` (number)`);
    });

    it.each([['1'], [null], [{}]])('throws a TypeError naming `cost` for %o', (cost) => {
      const bucket = new TokenBucket({ capacity: 2, refillPerSecond: 1, clock: manualClock() });
      expect(() => bucket.tryAcquire(cost as never)).toThrow(TypeError);
      expect(() => bucket.tryAcquire(cost as never)).toThrow('`cost`');
    });
  });

  describe('lazy refill', () => {
    // The table of steps at fixed instants is in refill.test.ts, for both classes.
    it('refills without any timer', () => {
      const { clock, fake, delaysMs } = fakeClock();
      const bucket = new TokenBucket({ capacity: 10, refillPerSecond: 10, clock });
      for (let i = 0; i < 10; i++) bucket.tryAcquire();
      fake.tick(1_000);
      expect(bucket.available).toBe(10);
      expect(delaysMs).toEqual([]);
      expect(fake.countTimers()).toBe(0);
    });
  });

  describe('clock', () => {
    afterEach(() => undefined);

    it('reads performance.now() by default, never Date.now()', () => {
      const fake = FakeTimers.install({ toFake: ['Date'] });
      try {
        const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 1, initialTokens: 0 });
        fake.tick(10_000);
        expect(bucket.available).toBeLessThan(0.5);
      } finally {
        fake.uninstall();
      }
    });

    it('does not mint tokens when the clock goes backwards, and refills from the new reading on', () => {
      const clock = manualClock(10_000);
      const bucket = new TokenBucket({ capacity: 10, refillPerSecond: 1, initialTokens: 0, clock });
      clock.ms = 12_000;
      expect(bucket.available).toBe(2);
      clock.ms = 5_000; // back 7 seconds
      expect(bucket.available).toBe(2);
      clock.ms = 6_000; // one second after the new reading: refill resumes at once
      expect(bucket.available).toBe(3);
      clock.ms = 4_000;
      clock.ms = 4_500;
      expect(bucket.available).toBe(3);
      clock.ms = 5_500; // a second rebase, as exact as the first
      expect(bucket.available).toBe(4);
    });

    it('throws a TypeError when the clock returns something else than a number', () => {
      const clock = { ...manualClock(), now: () => '5' as unknown as number };
      expect(() => new TokenBucket({ capacity: 1, refillPerSecond: 1, clock })).toThrow(TypeError);
      const nan = manualClock();
      const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 1, clock: nan });
      nan.ms = Number.NaN;
      expect(() => bucket.tryAcquire()).toThrow('Expected `clock.now()` to be a finite number of milliseconds within ±2^53, got `NaN` (number)');
    });
  });

  describe('retryAfter', () => {
    it('is 0 when tokens are there, exact fractional milliseconds otherwise', () => {
      const clock = manualClock();
      const bucket = new TokenBucket({ capacity: 2, refillPerSecond: 3, clock });
      expect(bucket.retryAfter()).toBe(0);
      bucket.tryAcquire(2);
      expect(bucket.retryAfter()).toBe(1000 / 3);
      expect(bucket.retryAfter(2)).toBe(2000 / 3);
      expect(bucket.retryAfter(0)).toBe(0);
    });

    it('is Infinity for a cost above the capacity', () => {
      expect(new TokenBucket({ capacity: 2, refillPerSecond: 3, clock: manualClock() }).retryAfter(3)).toBe(Infinity);
    });

    it.each([
      { capacity: 1, refillPerSecond: 3, cost: 1 },
      { capacity: 5, refillPerSecond: 7, cost: 3 },
      { capacity: 10, refillPerSecond: 1000 / 86_400, cost: 1 },
      { capacity: 2.5, refillPerSecond: 0.3, cost: 0.7 },
      { capacity: 1, refillPerSecond: 1e-7, cost: 1 },
      { capacity: 1e6, refillPerSecond: 123_457, cost: 999_999.9 },
    ])('waiting exactly retryAfter($cost) at $refillPerSecond/s makes tryAcquire succeed', ({ capacity, refillPerSecond, cost }) => {
      for (const startMs of [0, 1.1, 123_456_789.123, 1_780_000_000_000]) {
        const clock = manualClock(startMs);
        const bucket = new TokenBucket({ capacity, refillPerSecond, initialTokens: 0, clock });
        for (let round = 0; round < 50; round++) {
          const waitMs = bucket.retryAfter(cost);
          expect(waitMs).toBeGreaterThan(0);
          clock.ms += waitMs;
          expect(bucket.retryAfter(cost)).toBe(0);
          expect(bucket.tryAcquire(cost)).toBe(true);
          expect(bucket.tryAcquire(cost)).toBe(false);
        }
      }
    });

    it('is not reached a microsecond early', () => {
      const clock = manualClock();
      const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 3, initialTokens: 0, clock });
      clock.ms = bucket.retryAfter() - 1e-3;
      expect(bucket.tryAcquire()).toBe(false);
    });

    it('is reached on fake-timers performance.now() after the whole milliseconds it rounds up to', () => {
      const fake = FakeTimers.install({ toFake: ['performance', 'setTimeout', 'clearTimeout'] });
      try {
        const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 7, initialTokens: 0 });
        for (let round = 0; round < 20; round++) {
          fake.tick(Math.ceil(bucket.retryAfter()));
          expect(bucket.tryAcquire()).toBe(true);
        }
      } finally {
        fake.uninstall();
      }
    });
  });

  describe('refillPerSecond: 0 (a fixed quota)', () => {
    it('never refills once spent', async () => {
      const clock = manualClock();
      const bucket = new TokenBucket({ capacity: 3, refillPerSecond: 0, clock });
      expect(bucket.tryAcquire(3)).toBe(true);
      clock.ms = 1e12;
      expect([bucket.tryAcquire(), bucket.available, bucket.retryAfter(), bucket.retryAfter(0)]).toEqual([false, 0, Infinity, 0]);
      const error = await bucket.acquire().catch((caught: unknown) => caught);
      expect(error).toMatchObject({ name: 'RateLimitError', retryAfterMs: Infinity });
    });
  });
});
