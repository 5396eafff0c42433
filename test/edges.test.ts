import { describe, expect, it } from 'vitest';
import { type Clock, KeyedLimiter, RateLimitError, TokenBucket } from '../src/index.js';
import { ORIGIN_MS, fakeClock, manualClock } from './support/fake-clock.js';
import { churnAttack } from './support/churn-attack.js';
import { mulberry32 } from './support/random.js';

/** Lets every settled promise run its callbacks. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A clock set by hand whose timers fire only when `fire()` is called: a stalled event loop. */
function stallingClock(startMs = 0): Clock & { ms: number; fire: () => void } {
  let pending: (() => void) | undefined;
  return {
    ms: startMs,
    now() {
      return ORIGIN_MS + this.ms;
    },
    setTimeout: (callback) => {
      pending = callback;
      return 1;
    },
    clearTimeout: () => {
      pending = undefined;
    },
    fire() {
      const callback = pending;
      pending = undefined;
      callback?.();
    },
  };
}

// Issue 13: the limit holds under stalls, deletes, huge numbers, wall-clock time and key churn.
describe('the limit holds at the edges', () => {
  describe('KeyedLimiter.delete with callers waiting', () => {
    it('serves them from the full bucket and keeps what is left, as clear() does (8 granted at one instant was the bug)', async () => {
      const limiter = new KeyedLimiter({ capacity: 5, refillPerSecond: 1, clock: manualClock() });
      limiter.tryAcquire('u', 5);
      const waiting = [limiter.acquire('u', 1), limiter.acquire('u', 1), limiter.acquire('u', 1)];
      expect(limiter.delete('u')).toBe(true);
      await Promise.all(waiting);
      expect([limiter.available('u'), limiter.tryAcquire('u', 2), limiter.tryAcquire('u', 0.001)]).toEqual([2, true, false]);
    });
  });

  it('KeyedLimiter.delete also forgets the key’s own pause', async () => {
    const { clock, fake } = fakeClock();
    const limiter = new KeyedLimiter({ capacity: 2, refillPerSecond: 1, clock });
    limiter.tryAcquire('u', 2);
    limiter.pauseFor(60_000, 'u');
    const waiting = limiter.acquire('u', 1);
    limiter.delete('u');
    await fake.tickAsync(0);
    await waiting;
    expect([limiter.available('u'), limiter.size]).toEqual([1, 1]);
  });

  describe('a late timer', () => {
    it('serves the waiter but leaves no more than capacity - cost (6 tokens at one instant from capacity 3 was the bug)', async () => {
      const clock = stallingClock();
      const bucket = new TokenBucket({ capacity: 3, refillPerSecond: 3, clock });
      bucket.tryAcquire(3);
      const served = bucket.acquire(3);
      clock.ms = 60_000;
      clock.fire();
      await served;
      expect([bucket.available, bucket.tryAcquire(0.001)]).toEqual([0, false]);
    });

    it('with 20 waiters and a clock that jumps days ahead, serves at most the capacity at that instant and the rest at the rate', async () => {
      const clock = stallingClock();
      const limiter = new KeyedLimiter({ capacity: 4, refillPerSecond: 2, clock });
      limiter.tryAcquire('k', 4);
      const servedAtMs: number[] = [];
      for (let index = 0; index < 20; index++) void limiter.acquire('k', 1).then(() => servedAtMs.push(clock.ms));
      clock.ms = 3 * 86_400_000;
      for (let round = 0; round < 40 && servedAtMs.length < 20; round++) {
        clock.fire();
        await flush();
        clock.ms += 500;
      }
      const jumpMs = 3 * 86_400_000;
      expect(servedAtMs.filter((ms) => ms === jumpMs)).toHaveLength(4);
      // Then one every 500 ms: never more than capacity + rate × T in any window.
      for (let index = 4; index < 20; index++) expect(servedAtMs[index]).toBe(jumpMs + (index - 3) * 500);
    });

    it('still never delays the callers behind beyond what the capacity allows', async () => {
      const clock = stallingClock();
      const bucket = new TokenBucket({ capacity: 10, refillPerSecond: 1, initialTokens: 0, clock });
      const first = bucket.acquire(3);
      const second = bucket.acquire(3);
      clock.ms = 60_000;
      clock.fire();
      await Promise.all([first, second]);
      expect(bucket.available).toBe(4);
    });
  });

  describe('found in review', () => {
    it('a reservation is never charged before its instant, so it and a waiter cannot act at one instant above the capacity', async () => {
      const { clock, fake } = fakeClock();
      const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 1, clock });
      bucket.tryAcquire();
      const controller = new AbortController();
      void bucket.acquire(1, { signal: controller.signal }).catch(() => undefined);
      const reservation = bucket.reserve();
      const grantedAtMs: number[] = [];
      void bucket.acquire().then(() => grantedAtMs.push(fake.now));
      await fake.tickAsync(1);
      controller.abort();
      await fake.tickAsync(999);
      bucket.refund(0); // serves the line at 1,000 ms
      await fake.tickAsync(2_000);
      expect([reservation.delayMs, grantedAtMs]).toEqual([2_000, [3_000]]);
    });

    it('raising the capacity during a pause does not mint what the line refilled past the old capacity', async () => {
      const { clock, fake } = fakeClock();
      const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 1, clock });
      bucket.tryAcquire();
      const waiting = bucket.acquire();
      bucket.pauseFor(10_000);
      await fake.tickAsync(9_000);
      bucket.setCapacity(100);
      await fake.tickAsync(1_000);
      await waiting;
      // Held at most 1 until 9 s, then refilled 1 more by 10 s: the waiter took 1.
      expect(bucket.available).toBe(1);
    });

    it('acquireAll refuses a key for a limiter without keys (two such places waited on each other for good)', async () => {
      const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 1 });
      const { acquireAll } = await import('../src/outbound.js');
      await expect(acquireAll([[bucket, 'a', 1] as never, [bucket, 'b', 1] as never])).rejects.toThrow('Expected `limits[0]` to be [limiter, cost] for a limiter without keys');
    });

    it('a caller whose timer cannot be armed leaves the line', async () => {
      const clock = { ...manualClock(), setTimeout: () => { throw new Error('no timers'); } };
      const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 1, clock });
      bucket.tryAcquire();
      await expect(bucket.acquire()).rejects.toThrow('no timers');
      expect([bucket.queued, bucket.available]).toEqual([0, 0]);
      clock.ms = 1_000;
      expect(bucket.tryAcquire()).toBe(true);
    });

    it('clear() keeps what an acquireAll caller took from two keys of the same limiter', async () => {
      const { clock } = fakeClock();
      const limiter = new KeyedLimiter({ capacity: 2, refillPerSecond: 1, clock });
      limiter.tryAcquire('a', 2);
      limiter.tryAcquire('b', 2);
      const { acquireAll } = await import('../src/outbound.js');
      const both = acquireAll([[limiter, 'a', 2], [limiter, 'b', 2]]);
      limiter.clear();
      await both;
      expect([limiter.available('a'), limiter.available('b')]).toEqual([0, 0]);
    });
  });

  describe('huge numbers', () => {
    it.each([
      ['capacity 1e306', () => new TokenBucket({ capacity: 1e306, refillPerSecond: 1 }), 'Expected `capacity` to be a finite number > 0 and <= 1000000000000, got `1e+306` (number)'],
      ['refillPerSecond 1e308', () => new TokenBucket({ capacity: 5, refillPerSecond: 1e308 }), 'Expected `refillPerSecond` to be a finite number >= 0 and <= 1000000000, got `1e+308` (number)'],
      ['setRate(1e308)', () => new KeyedLimiter({ capacity: 5, refillPerSecond: 1 }).setRate(1e308), 'Expected `refillPerSecond` to be a finite number >= 0 and <= 1000000000, got `1e+308` (number)'],
      ['setCapacity(1e306)', () => new KeyedLimiter({ capacity: 5, refillPerSecond: 1 }).setCapacity(1e306), 'Expected `capacity` to be a finite number > 0 and <= 1000000000000, got `1e+306` (number)'],
      ['charge(1e306)', () => new TokenBucket({ capacity: 5, refillPerSecond: 1 }).charge(1e306), 'Expected `amount` to be a finite number >= 0 and <= 1000000000000, got `1e+306` (number)'],
    ])('refuses %s with a RangeError naming the parameter and the supported range', (_name, run, message) => {
      expect(run).toThrow(RangeError);
      expect(run).toThrow(message);
    });

    it('keeps every result finite at the largest capacity, rate and costs accepted', () => {
      const clock = manualClock();
      const bucket = new TokenBucket({ capacity: 1e12, refillPerSecond: 1e9, clock });
      expect(bucket.tryAcquire(1e306)).toBe(false);
      expect(bucket.tryAcquire(1e12)).toBe(true);
      bucket.charge(1e12);
      clock.ms = 1e15;
      const results = [bucket.available, bucket.retryAfter(1e306), bucket.retryAfter(1e12), ...Object.values(bucket.take(5e11))];
      expect(results.filter((value) => typeof value === 'number' && Number.isNaN(value))).toEqual([]);
      expect([bucket.available, bucket.retryAfter(1e12)]).toEqual([5e11, 500_000]);
    });

    it('a full bucket at the highest rate grants', () => {
      const bucket = new TokenBucket({ capacity: 10, refillPerSecond: 1e9, clock: manualClock() });
      expect([bucket.tryAcquire(5), bucket.tryAcquire(5), bucket.tryAcquire(5)]).toEqual([true, true, false]);
    });

    it.each([Infinity, -Infinity, Number.NaN, 2 ** 60])('a clock reading of %s throws naming clock.now() and leaves the state as it was', (bad) => {
      const reading = { value: 0 };
      const clock = { ...manualClock(), now: () => reading.value };
      const bucket = new TokenBucket({ capacity: 4, refillPerSecond: 1, clock });
      bucket.tryAcquire(3);
      reading.value = bad;
      expect(() => bucket.tryAcquire()).toThrow(RangeError);
      expect(() => bucket.available).toThrow('Expected `clock.now()` to be a finite number of milliseconds within ±2^53');
      reading.value = 1_000;
      expect([bucket.available, bucket.retryAfter(4), bucket.take(1).remaining]).toEqual([2, 2_000, 1]);
    });
  });

  describe('wall-clock magnitudes', () => {
    it.each([0, 1.1, 1.75e12, 2e12])('capacity 1 at 1e5/s from a clock at %s ms: continuous demand gets every admissible grant (19% short was the bug)', (startMs) => {
      const reading = { ms: startMs };
      const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 1e5, clock: { ...manualClock(), now: () => reading.ms } });
      let granted = 0;
      // Every 0.01 ms (one token), 100,000 times: one second of demand at the rate.
      for (let step = 1; step <= 100_000; step++) {
        reading.ms = startMs + step * 0.01;
        while (bucket.tryAcquire()) granted++;
      }
      const admissible = 1 + 1e5 * (reading.ms - startMs) / 1_000;
      expect(granted).toBeLessThanOrEqual(admissible);
      expect(granted).toBeGreaterThanOrEqual(admissible - 1);
    });

    it.each([
      [0, 1e-3],
      [1.75e12, 1e-3],
      [2e12, 7],
      [123_456.789, 3_333.3],
      [1.75e12, 1e6],
      [2e12, 1e6],
    ])('from %s ms at %s/s over a simulated year: within one cost of capacity + rate × elapsed, never above, and waiting retryAfter() succeeds', (startMs, refillPerSecond) => {
      const random = mulberry32(13);
      const reading = { ms: startMs };
      const steps = 5_000;
      const stepMs = (365 * 86_400_000) / steps;
      // Large enough that the bucket never fills between two steps: demand is continuous.
      const capacity = Math.max(1, Math.ceil((refillPerSecond * 4 * stepMs) / 1_000));
      const cost = capacity / 8;
      const bucket = new TokenBucket({ capacity, refillPerSecond, clock: { ...manualClock(), now: () => reading.ms } });
      let granted = 0;
      while (bucket.tryAcquire(cost)) granted += cost;
      for (let step = 1; step <= steps; step++) {
        reading.ms = Math.max(reading.ms, startMs + Math.floor((step - random()) * stepMs));
        while (bucket.tryAcquire(cost)) granted += cost;
        if (step % 250 === 0) {
          reading.ms += bucket.retryAfter(cost);
          expect(bucket.tryAcquire(cost)).toBe(true);
          granted += cost;
        }
        // Never above, to within what the clock can tell apart: at 2e12 ms a reading moves
        // in steps of 2.4e-4 ms, so a wait of exactly retryAfter() ends up to one step early.
        const admissible = capacity + (refillPerSecond * (reading.ms - startMs)) / 1_000;
        const clockStepTokens = (Math.abs(reading.ms) * 2 ** -52 * refillPerSecond) / 1_000;
        expect(granted).toBeLessThanOrEqual(admissible + clockStepTokens + admissible * 2 ** -52);
        expect(granted).toBeGreaterThanOrEqual(admissible - cost);
      }
    });
  });

  describe('key churn past maxKeys', () => {
    it('an attacker creating new keys cannot give an honest key more than its limit + 1% (a grant per request was the bug)', () => {
      const { honest, limit, size } = churnAttack(300);
      expect(honest).toBeLessThanOrEqual(Math.floor(limit * 1.01));
      expect(size).toBeLessThanOrEqual(1_000);
    });

    it('never drops a bucket with callers waiting', async () => {
      const { clock, fake } = fakeClock();
      const limiter = new KeyedLimiter({ capacity: 1, refillPerSecond: 1, maxKeys: 2, clock });
      limiter.tryAcquire('waiting');
      const served = limiter.acquire('waiting');
      for (let index = 0; index < 10; index++) limiter.tryAcquire(`other:${index}`);
      await fake.tickAsync(1_000);
      await served;
      expect(limiter.available('waiting')).toBe(0);
    });
  });

  describe('take', () => {
    it('reads the clock once and decides at that one instant', () => {
      const clock = manualClock();
      let reads = 0;
      const counting = { ...clock, now: () => (reads++, clock.now()) };
      const bucket = new TokenBucket({ capacity: 2, refillPerSecond: 1, clock: counting });
      const keyed = new KeyedLimiter({ capacity: 2, refillPerSecond: 1, clock: counting });
      reads = 0;
      bucket.take(3);
      keyed.take('k', 1);
      expect(reads).toBe(2);
    });
  });
});
