import { describe, expect, it } from 'vitest';
import { KeyedLimiter, RateLimitError } from '../src/index.js';
import { fakeClock, manualClock, track } from './support/fake-clock.js';

describe('KeyedLimiter', () => {
  describe('buckets per key', () => {
    it('gives every key its own full bucket', () => {
      const limiter = new KeyedLimiter({ capacity: 2, refillPerSecond: 1, clock: manualClock() });
      expect([limiter.tryAcquire('a'), limiter.tryAcquire('a'), limiter.tryAcquire('a')]).toEqual([true, true, false]);
      expect([limiter.tryAcquire('b', 2), limiter.available('a'), limiter.available('b'), limiter.available('c')]).toEqual([true, 0, 0, 2]);
      expect([limiter.capacity, limiter.refillPerSecond]).toEqual([2, 1]);
    });

    it('treats __proto__, constructor and other odd keys like any other', () => {
      const limiter = new KeyedLimiter({ capacity: 1, refillPerSecond: 1, clock: manualClock() });
      for (const key of ['__proto__', 'constructor', 'hasOwnProperty', 'toString', '', '🚀', 'x'.repeat(10_000)]) {
        expect([limiter.tryAcquire(key), limiter.tryAcquire(key), limiter.available(key)]).toEqual([true, false, 0]);
      }
      expect(limiter.size).toBe(7);
    });

    it('refuses a cost above the capacity on a key it holds, without throwing', () => {
      const limiter = new KeyedLimiter({ capacity: 2, refillPerSecond: 1, clock: manualClock() });
      limiter.tryAcquire('a');
      expect([limiter.tryAcquire('a', 3), limiter.available('a')]).toEqual([false, 1]);
    });

    it('refuses a cost above the capacity on a held bucket that is full again', () => {
      const clock = manualClock();
      const limiter = new KeyedLimiter({ capacity: 2, refillPerSecond: 1, clock });
      limiter.tryAcquire('a');
      clock.ms = 1_000; // full again, and held until it has been full for a refill period
      expect([limiter.tryAcquire('a', 3), limiter.size, limiter.available('a')]).toEqual([false, 1, 2]);
    });

    it('refills lazily and exactly per key', () => {
      const clock = manualClock();
      const limiter = new KeyedLimiter({ capacity: 3, refillPerSecond: 3, clock });
      limiter.tryAcquire('a', 3);
      expect(limiter.retryAfter('a')).toBe(1000 / 3);
      clock.ms += limiter.retryAfter('a', 2);
      expect([limiter.retryAfter('a', 2), limiter.tryAcquire('a', 2), limiter.tryAcquire('a', 0.01)]).toEqual([0, true, false]);
      expect(limiter.retryAfter('b')).toBe(0);
      expect(limiter.retryAfter('b', 4)).toBe(Infinity);
    });

    it('does not mint tokens when the clock goes backwards', () => {
      const clock = manualClock(1_000);
      const limiter = new KeyedLimiter({ capacity: 10, refillPerSecond: 1, clock });
      limiter.tryAcquire('a', 10);
      clock.ms = 3_000;
      expect(limiter.available('a')).toBe(2);
      clock.ms = 0;
      expect(limiter.available('a')).toBe(2);
      clock.ms = 1_000;
      expect(limiter.available('a')).toBe(3);
    });

    it('with refillPerSecond: 0, spends a fixed quota per key', async () => {
      const limiter = new KeyedLimiter({ capacity: 2, refillPerSecond: 0, clock: manualClock() });
      expect([limiter.tryAcquire('a', 2), limiter.tryAcquire('a'), limiter.retryAfter('a')]).toEqual([true, false, Infinity]);
      await expect(limiter.acquire('a')).rejects.toMatchObject({ name: 'RateLimitError', retryAfterMs: Infinity });
    });

    it.each([[5], [undefined], [null], [Symbol('k')], [{}]])('throws a TypeError naming `key` for %s', (key) => {
      const limiter = new KeyedLimiter({ capacity: 1, refillPerSecond: 1, clock: manualClock() });
      for (const call of [() => limiter.tryAcquire(key as never), () => limiter.retryAfter(key as never), () => limiter.available(key as never), () => limiter.delete(key as never)]) {
        expect(call).toThrow(TypeError);
        expect(call).toThrow('Expected `key` to be a string');
      }
    });

    it('rejects the promise, without throwing, for a bad key in acquire', async () => {
      const limiter = new KeyedLimiter({ capacity: 1, refillPerSecond: 1, clock: manualClock() });
      await expect(limiter.acquire(7 as never)).rejects.toThrow(TypeError);
    });

    it.each([[0], [-1], [1.5], [Number.NaN], ['10']])('rejects maxKeys %o', (maxKeys) => {
      expect(() => new KeyedLimiter({ capacity: 1, refillPerSecond: 1, maxKeys: maxKeys as number })).toThrow('`maxKeys`');
    });

    it('takes from a held bucket as before after a pause and after a new rate', () => {
      const clock = manualClock();
      const limiter = new KeyedLimiter({ capacity: 2, refillPerSecond: 1, clock });
      limiter.tryAcquire('a');
      limiter.pauseFor(500);
      clock.ms = 500;
      expect([limiter.tryAcquire('a'), limiter.available('a')]).toEqual([true, 0.5]);
      limiter.setRate(2);
      clock.ms = 750;
      expect([limiter.tryAcquire('a'), limiter.tryAcquire('a')]).toEqual([true, false]);
    });
  });

  describe('acquire', () => {
    it('serves each key first-in first-out and keys independently', async () => {
      const { clock, fake } = fakeClock();
      const limiter = new KeyedLimiter({ capacity: 1, refillPerSecond: 1, clock });
      const log: string[] = [];
      const waits = [
        track(limiter.acquire('a'), log, 'a1'),
        track(limiter.acquire('a'), log, 'a2'),
        track(limiter.acquire('b', 1), log, 'b1'),
        track(limiter.acquire('a'), log, 'a3'),
        track(limiter.acquire('b', 1), log, 'b2'),
      ];
      await fake.tickAsync(0);
      expect(log).toEqual(['a1 granted', 'b1 granted']);
      expect([limiter.tryAcquire('a', 0), limiter.available('a')]).toEqual([false, 0]);
      await fake.tickAsync(2_000);
      await Promise.all(waits);
      expect(log).toEqual(['a1 granted', 'b1 granted', 'a2 granted', 'b2 granted', 'a3 granted']);
    });

    it('holds one timer for all keys, armed for the soonest grant', async () => {
      const { clock, fake, armedTimers } = fakeClock();
      const limiter = new KeyedLimiter({ capacity: 1, refillPerSecond: 1, clock });
      const grants: string[] = [];
      const waits: Promise<void>[] = [];
      for (let index = 0; index < 300; index++) {
        const key = `k${index}`;
        limiter.tryAcquire(key);
        fake.tick(3);
        waits.push(limiter.acquire(key).then(() => void grants.push(key)));
        expect(armedTimers()).toBe(1);
      }
      await fake.tickAsync(2_000);
      await Promise.all(waits);
      expect(grants).toEqual(Array.from({ length: 300 }, (_, index) => `k${index}`));
      expect(armedTimers()).toBe(0);
    });

    it('grants across keys in order of due time, whatever order the keys started waiting in', async () => {
      const { clock, fake } = fakeClock();
      const limiter = new KeyedLimiter({ capacity: 4, refillPerSecond: 1, clock });
      const grants: string[] = [];
      const plan: [string, number][] = [['slow', 4], ['medium', 3], ['fast', 1], ['middle', 2]];
      for (const [key, cost] of plan) {
        limiter.tryAcquire(key, 4);
        void limiter.acquire(key, cost).then(() => void grants.push(key));
      }
      expect(limiter.retryAfter('fast', 1)).toBe(2_000);
      await fake.tickAsync(4_000);
      expect(grants).toEqual(['fast', 'middle', 'medium', 'slow']);
    });

    it('re-plans the timer when the soonest key is aborted', async () => {
      const { clock, fake, delaysMs } = fakeClock();
      const limiter = new KeyedLimiter({ capacity: 1, refillPerSecond: 1, clock });
      const controller = new AbortController();
      limiter.tryAcquire('soon');
      void limiter.acquire('soon', 1, { signal: controller.signal }).catch(() => undefined);
      fake.tick(500);
      limiter.tryAcquire('later');
      const log: string[] = [];
      void track(limiter.acquire('later'), log, 'later');
      controller.abort();
      await fake.tickAsync(0);
      expect(delaysMs).toEqual([1_000, 1_000]);
      await fake.tickAsync(1_000);
      expect(log).toEqual(['later granted']);
      expect(limiter.size).toBe(2);
    });

    it('rejects with RateLimitError past maxWaitMs and takes nothing', async () => {
      const { clock } = fakeClock();
      const limiter = new KeyedLimiter({ capacity: 1, refillPerSecond: 10, clock });
      limiter.tryAcquire('a');
      const error = await limiter.acquire('a', 1, { maxWaitMs: 99 }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(RateLimitError);
      expect(error).toMatchObject({ retryAfterMs: 100 });
      expect(limiter.retryAfter('a')).toBe(100);
    });

    it('rejects with signal.reason on abort, and the next caller moves up', async () => {
      const { clock, fake } = fakeClock();
      const limiter = new KeyedLimiter({ capacity: 2, refillPerSecond: 1, clock });
      limiter.tryAcquire('a', 2);
      const controller = new AbortController();
      const log: string[] = [];
      void track(limiter.acquire('a', 2, { signal: controller.signal }), log, 'big');
      void track(limiter.acquire('a', 1), log, 'small');
      await fake.tickAsync(1_000);
      controller.abort(new TypeError('no'));
      await fake.tickAsync(0);
      expect(log).toEqual(['big rejected: TypeError', 'small granted']);
    });

    it('rejects a cost above the capacity with a RangeError', async () => {
      const limiter = new KeyedLimiter({ capacity: 2, refillPerSecond: 1, clock: manualClock() });
      await expect(limiter.acquire('a', 3)).rejects.toThrow(RangeError);
      await expect(limiter.acquire('a', 3)).rejects.toThrow('exceeds the capacity');
      expect(limiter.size).toBe(0);
    });

    it('lets a caller join a line within its maxWaitMs, and refuses one past it', async () => {
      const { clock, fake } = fakeClock();
      const limiter = new KeyedLimiter({ capacity: 1, refillPerSecond: 1, clock });
      limiter.tryAcquire('k');
      const log: string[] = [];
      void track(limiter.acquire('k'), log, 'first');
      void track(limiter.acquire('k', 1, { maxWaitMs: 2_000 }), log, 'second');
      await expect(limiter.acquire('k', 1, { maxWaitMs: 2_999 })).rejects.toMatchObject({ retryAfterMs: 3_000 });
      await fake.tickAsync(2_000);
      expect(log).toEqual(['first granted', 'second granted']);
    });

    it('refuses at once a caller joining a line on a key that can never reach it', async () => {
      const { clock, fake } = fakeClock();
      const limiter = new KeyedLimiter({ capacity: 2, refillPerSecond: 0, clock });
      limiter.tryAcquire('k');
      limiter.pauseFor(1_000);
      const log: string[] = [];
      void track(limiter.acquire('k', 1), log, 'first');
      await expect(limiter.acquire('k', 1)).rejects.toMatchObject({ name: 'RateLimitError', retryAfterMs: Infinity });
      await fake.tickAsync(1_000);
      expect(log).toEqual(['first granted']);
    });
  });

  describe('eviction', () => {
    it('drops buckets that have been full for one refill period, without any timer', () => {
      const { clock, fake, delaysMs } = fakeClock();
      const limiter = new KeyedLimiter({ capacity: 10, refillPerSecond: 10, clock }); // refill period: 1 s
      for (let index = 0; index < 1_000; index++) limiter.tryAcquire(`user${index}`);
      expect(limiter.size).toBe(1_000);
      fake.tick(100); // every bucket is full again
      for (let index = 0; index < 10; index++) limiter.tryAcquire('active');
      expect(limiter.size).toBe(1_001); // full for less than a refill period: kept
      fake.tick(1_000);
      for (let index = 0; index < 1_000; index++) limiter.tryAcquire('active');
      expect(limiter.size).toBe(1);
      expect(limiter.stats().evicted).toBe(1_000);
      expect(delaysMs).toEqual([]);
    });

    it('drops at most two full buckets per operation, so no call pays for a sweep', () => {
      const clock = manualClock();
      const limiter = new KeyedLimiter({ capacity: 1, refillPerSecond: 1, clock });
      for (let index = 0; index < 10; index++) limiter.tryAcquire(`user${index}`);
      clock.ms = 5_000; // all ten have been full for more than a refill period
      limiter.tryAcquire('active');
      expect([limiter.size, limiter.stats().evicted]).toEqual([9, 2]);
      limiter.tryAcquire('active');
      expect([limiter.size, limiter.stats().evicted]).toEqual([7, 4]);
    });

    it('keeps a key used steadily below its limit instead of dropping and re-creating it at each use', () => {
      const { clock, fake } = fakeClock();
      const limiter = new KeyedLimiter({ capacity: 10, refillPerSecond: 10, clock });
      for (let use = 0; use < 100; use++) {
        expect(limiter.tryAcquire('steady')).toBe(true);
        fake.tick(500); // full again after 100 ms, used again 400 ms later
      }
      expect(limiter.stats().evicted).toBe(0);
      expect(limiter.size).toBe(1);
    });

    it('drops a fixed quota bucket as soon as it is full again', () => {
      const limiter = new KeyedLimiter({ capacity: 2, refillPerSecond: 0 });
      limiter.tryAcquire('refunded');
      limiter.refund('refunded', 1);
      limiter.tryAcquire('other');
      expect([limiter.size, limiter.stats().evicted]).toEqual([1, 1]);
    });

    it('serves a full bucket not yet dropped exactly as a fresh one', () => {
      const clock = manualClock();
      const limiter = new KeyedLimiter({ capacity: 3, refillPerSecond: 1, clock });
      for (const key of ['a', 'b', 'c']) limiter.tryAcquire(key, 3);
      clock.ms = 10_000; // all full; an operation drops at most two
      expect([limiter.tryAcquire('c', 3), limiter.available('c'), limiter.size]).toEqual([true, 0, 1]);
    });

    it('never drops a bucket that is not full', () => {
      const { clock, fake } = fakeClock();
      const limiter = new KeyedLimiter({ capacity: 10, refillPerSecond: 1, clock });
      limiter.tryAcquire('drained', 10);
      fake.tick(9_999);
      for (let index = 0; index < 10_000; index++) limiter.tryAcquire(`other${index % 3}`);
      expect(limiter.available('drained')).toBeCloseTo(9.999, 9);
      expect(limiter.tryAcquire('drained', 10)).toBe(false);
    });

    it('never drops a bucket with waiters', async () => {
      const { clock, fake } = fakeClock();
      const limiter = new KeyedLimiter({ capacity: 1, refillPerSecond: 1, clock });
      limiter.tryAcquire('waiting');
      const log: string[] = [];
      void track(limiter.acquire('waiting'), log, 'waiter');
      for (let index = 0; index < 10_000; index++) limiter.tryAcquire(`k${index}`);
      expect(limiter.size).toBe(10_001);
      expect(limiter.tryAcquire('waiting', 0)).toBe(false);
      await fake.tickAsync(1_000);
      expect(log).toEqual(['waiter granted']);
    });

    it('keeps size near the keys used within two refill periods, however many came before', () => {
      const { clock, fake } = fakeClock();
      // Refill period: capacity / refillPerSecond = 1 s. One new key per millisecond.
      const limiter = new KeyedLimiter({ capacity: 5, refillPerSecond: 5, clock });
      let peak = 0;
      for (let index = 0; index < 200_000; index++) {
        limiter.tryAcquire(`client${index}`);
        fake.tick(1);
        if (index > 2_000) peak = Math.max(peak, limiter.size);
      }
      expect(peak).toBeLessThanOrEqual(2_000);
      expect(peak).toBeGreaterThanOrEqual(200); // keys used within 200 ms are never full
    });

    it('is invisible: a dropped key behaves as a fresh bucket, which is what it was', () => {
      const clock = manualClock();
      const limiter = new KeyedLimiter({ capacity: 2, refillPerSecond: 4, clock });
      limiter.tryAcquire('a', 2);
      clock.ms = 500;
      for (let index = 0; index < 200; index++) limiter.tryAcquire(`b${index}`);
      expect([limiter.available('a'), limiter.retryAfter('a', 2), limiter.tryAcquire('a', 2), limiter.tryAcquire('a', 0.5)]).toEqual([2, 0, true, false]);
    });
  });

  describe('maxKeys', () => {
    it('drops the fullest of the least recently used buckets past it, the oldest on a tie', () => {
      const clock = manualClock();
      const limiter = new KeyedLimiter({ capacity: 10, refillPerSecond: 1, maxKeys: 3, clock });
      limiter.tryAcquire('a', 5);
      limiter.tryAcquire('b', 5);
      limiter.tryAcquire('c', 5);
      limiter.tryAcquire('a', 1); // a is now the most recently used
      limiter.tryAcquire('d', 5); // b goes
      expect(limiter.size).toBe(3);
      expect([limiter.available('a'), limiter.available('b'), limiter.available('c'), limiter.available('d')]).toEqual([4, 10, 5, 5]);
      limiter.tryAcquire('c', 1);
      // a (4 tokens) is now the least recently used, but d (5) is fuller: d goes. Issue 13:
      // the bucket that carries the least information goes, not merely the oldest.
      limiter.tryAcquire('e', 1);
      expect([limiter.available('a'), limiter.available('c'), limiter.available('d'), limiter.available('e')]).toEqual([4, 4, 10, 9]);
    });

    it('counts a refused try as a use', () => {
      const limiter = new KeyedLimiter({ capacity: 1, refillPerSecond: 1, maxKeys: 2, clock: manualClock() });
      limiter.tryAcquire('a');
      limiter.tryAcquire('b');
      expect(limiter.tryAcquire('a')).toBe(false);
      limiter.tryAcquire('c'); // b goes, a stays
      expect([limiter.available('a'), limiter.available('b')]).toEqual([0, 1]);
    });

    it('counts a try above the capacity as a use, though it is refused', () => {
      const limiter = new KeyedLimiter({ capacity: 2, refillPerSecond: 1, maxKeys: 2, clock: manualClock() });
      limiter.tryAcquire('a');
      limiter.tryAcquire('b');
      expect(limiter.tryAcquire('a', 5)).toBe(false);
      limiter.tryAcquire('c'); // b goes, a stays
      expect([limiter.available('a'), limiter.available('b')]).toEqual([1, 2]);
    });

    it('does not count a try during a pause as a use', () => {
      const limiter = new KeyedLimiter({ capacity: 2, refillPerSecond: 1, maxKeys: 2, clock: manualClock() });
      limiter.tryAcquire('a');
      limiter.tryAcquire('b');
      limiter.pauseFor(0.5);
      expect(limiter.tryAcquire('a')).toBe(false);
      limiter.tryAcquire('c'); // still paused: c is refused and nothing goes
      expect([limiter.size, limiter.stats().evicted]).toEqual([2, 0]);
    });

    it('never drops a bucket with waiters, and refuses a new key when every bucket held has waiters', async () => {
      const { clock, fake } = fakeClock();
      const limiter = new KeyedLimiter({ capacity: 1, refillPerSecond: 1, maxKeys: 2, clock });
      const log: string[] = [];
      for (const key of ['a', 'b']) {
        limiter.tryAcquire(key);
        void track(limiter.acquire(key), log, key);
      }
      expect(limiter.tryAcquire('c')).toBe(false);
      await expect(limiter.acquire('c')).rejects.toBeInstanceOf(RateLimitError);
      // Refused until the next grant, when a bucket may free up.
      await expect(limiter.acquire('c')).rejects.toMatchObject({ retryAfterMs: 1_000 });
      expect(limiter.size).toBe(2);
      await fake.tickAsync(1_000);
      expect(log).toEqual(['a granted', 'b granted']);
      expect(limiter.tryAcquire('c')).toBe(true);
    });

    it('keeps honest keys limited under a flood of distinct keys', () => {
      const { clock, fake } = fakeClock();
      const limiter = new KeyedLimiter({ capacity: 10, refillPerSecond: 1, maxKeys: 1_000, clock });
      let honestGranted = 0;
      for (let second = 0; second < 100; second++) {
        for (let index = 0; index < 500; index++) limiter.tryAcquire(`attacker-${second}-${index}`);
        for (let attempt = 0; attempt < 5; attempt++) if (limiter.tryAcquire('honest')) honestGranted++;
        fake.tick(1_000);
        expect(limiter.size).toBeLessThanOrEqual(1_000);
      }
      expect(honestGranted).toBe(10 + 99);
    });
  });

  describe('delete and clear', () => {
    it('delete forgets a bucket and reports whether one was held', () => {
      const limiter = new KeyedLimiter({ capacity: 2, refillPerSecond: 1, clock: manualClock() });
      limiter.tryAcquire('a', 2);
      expect([limiter.delete('a'), limiter.delete('a'), limiter.size, limiter.available('a')]).toEqual([true, false, 0, 2]);
    });

    it('delete serves the callers waiting on the key from a full bucket', async () => {
      const { clock, fake } = fakeClock();
      const limiter = new KeyedLimiter({ capacity: 2, refillPerSecond: 1, clock });
      limiter.tryAcquire('a', 2);
      const log: string[] = [];
      void track(limiter.acquire('a', 2), log, 'first');
      void track(limiter.acquire('a', 1), log, 'second');
      expect(limiter.delete('a')).toBe(true);
      await fake.tickAsync(0);
      expect(log).toEqual(['first granted']);
      await fake.tickAsync(1_000);
      expect(log).toEqual(['first granted', 'second granted']);
    });

    it('clear forgets every bucket', async () => {
      const { clock, fake } = fakeClock();
      const limiter = new KeyedLimiter({ capacity: 1, refillPerSecond: 1, clock });
      limiter.tryAcquire('a');
      limiter.tryAcquire('b');
      const log: string[] = [];
      void track(limiter.acquire('b'), log, 'b');
      limiter.clear();
      await fake.tickAsync(0);
      expect(log).toEqual(['b granted']);
      expect([limiter.available('a'), limiter.tryAcquire('a')]).toEqual([1, true]);
    });
  });
});
