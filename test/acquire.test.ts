import { describe, expect, it } from 'vitest';
import { type Clock, RateLimitError, TokenBucket } from '../src/index.js';
import { fakeClock, track } from './support/fake-clock.js';

/** Lets every settled promise run its callbacks. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('TokenBucket', () => {
  describe('acquire', () => {
    it('resolves at once, without a timer, when tokens are there and nobody waits', async () => {
      const { clock, armedTimers, delaysMs } = fakeClock();
      const bucket = new TokenBucket({ capacity: 2, refillPerSecond: 1, clock });
      await bucket.acquire();
      await bucket.acquire();
      expect([bucket.available, armedTimers(), delaysMs.length]).toEqual([0, 0, 0]);
    });

    it('serves waiters first-in first-out, each at its ideal instant', async () => {
      const { clock, fake } = fakeClock();
      const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 4, initialTokens: 0, clock });
      const grantedAtMs: number[] = [];
      const waits = [0, 1, 2, 3].map((index) => bucket.acquire().then(() => void (grantedAtMs[index] = fake.now)));
      await fake.tickAsync(1_000);
      await Promise.all(waits);
      expect(grantedAtMs).toEqual([250, 500, 750, 1000]);
    });

    it('never lets a small later request overtake a large earlier one', async () => {
      const { clock, fake } = fakeClock();
      const bucket = new TokenBucket({ capacity: 5, refillPerSecond: 1, initialTokens: 1, clock });
      const log: string[] = [];
      void track(bucket.acquire(5), log, 'large');
      void track(bucket.acquire(1), log, 'small');
      await fake.tickAsync(3_999);
      expect(log).toEqual([]);
      await fake.tickAsync(1);
      expect(log).toEqual(['large granted']);
      await fake.tickAsync(1_000);
      expect(log).toEqual(['large granted', 'small granted']);
    });

    it('does not let tryAcquire barge in while anyone waits, and reports nothing available', async () => {
      const { clock, fake } = fakeClock();
      const bucket = new TokenBucket({ capacity: 10, refillPerSecond: 1, initialTokens: 2, clock });
      const waiting = bucket.acquire(5);
      expect([bucket.tryAcquire(1), bucket.available, bucket.retryAfter(1)]).toEqual([false, 0, 4_000]);
      await fake.tickAsync(2_000);
      expect([bucket.tryAcquire(0), bucket.available]).toEqual([false, 0]);
      await fake.tickAsync(1_000);
      await waiting;
      expect([bucket.available, bucket.tryAcquire(0)]).toEqual([0, true]);
    });

    it('holds at most one armed timer however many callers wait', async () => {
      const { clock, fake, armedTimers } = fakeClock();
      const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 1_000, initialTokens: 0, clock });
      const waits = Array.from({ length: 2_000 }, () => bucket.acquire());
      let peak = armedTimers();
      for (let ms = 0; ms < 2_000; ms++) {
        await fake.tickAsync(1);
        peak = Math.max(peak, armedTimers());
      }
      await Promise.all(waits);
      expect([peak, armedTimers(), fake.countTimers()]).toEqual([1, 0, 0]);
    });

    it('grants no earlier than the ideal instant and within a millisecond after it, never above the capacity at any instant', async () => {
      const { clock, fake } = fakeClock();
      const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 3, initialTokens: 0, clock });
      const log: string[] = [];
      void track(bucket.acquire(), log, 'first');
      void track(bucket.acquire(), log, 'second');
      await fake.tickAsync(333);
      expect(log).toEqual([]);
      await fake.tickAsync(1);
      expect(log).toEqual(['first granted']);
      // Served at 334, 0.67 ms late: the bucket cannot keep the 0.002 tokens refilled past
      // its capacity of 1 (issue 13), so the second's ideal instant is 334 + 333.33.
      await fake.tickAsync(333);
      expect(log).toEqual(['first granted']);
      await fake.tickAsync(1);
      expect(log).toEqual(['first granted', 'second granted']);
    });

    it('does not add a millisecond for float noise in the due time', async () => {
      for (const startMs of [24.063000000000002, 31.093, 400.7]) {
        const { clock, fake, delaysMs } = fakeClock();
        let readingMs = startMs;
        const offset = { ...clock, now: () => readingMs + fake.now };
        const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 1, initialTokens: 0, clock: offset });
        const log: string[] = [];
        void track(bucket.acquire(), log, 'waiter');
        expect(delaysMs).toEqual([1_000]);
        await fake.tickAsync(1_000);
        expect(log).toEqual(['waiter granted']);
        readingMs = 0;
      }
    });

    it('re-arms instead of granting when a timer fires early', async () => {
      const { fake, clock } = fakeClock();
      let calls = 0;
      // A clock whose timers fire 5 ms before they should, as loop-time rounding can.
      const early: Clock = {
        now: clock.now,
        clearTimeout: clock.clearTimeout,
        setTimeout: (callback, ms) => {
          calls++;
          return clock.setTimeout(callback, Math.max(1, ms - 5));
        },
      };
      const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 10, initialTokens: 0, clock: early });
      const log: string[] = [];
      void track(bucket.acquire(), log, 'waiter');
      await fake.tickAsync(99);
      expect(log).toEqual([]);
      await fake.tickAsync(1);
      expect(log).toEqual(['waiter granted']);
      expect(calls).toBeLessThanOrEqual(6);
    });

    it('re-arms a wait longer than the setTimeout limit instead of firing at once', async () => {
      const { fake, clock, delaysMs } = fakeClock();
      const dayMs = 86_400_000;
      const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 1_000 / (30 * dayMs), initialTokens: 0, clock });
      const log: string[] = [];
      void track(bucket.acquire(), log, 'monthly');
      expect(delaysMs).toEqual([2 ** 31 - 1]);
      await fake.tickAsync(2 ** 31 - 1);
      expect(log).toEqual([]);
      await fake.tickAsync(30 * dayMs - (2 ** 31 - 1) - 1);
      expect(log).toEqual([]);
      await fake.tickAsync(1);
      expect(log).toEqual(['monthly granted']);
    });

    describe('maxWaitMs', () => {
      it('accepts a wait exactly equal to it', async () => {
        const { clock, fake } = fakeClock();
        const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 10, initialTokens: 0, clock });
        const log: string[] = [];
        void track(bucket.acquire(1, { maxWaitMs: 100 }), log, 'exact');
        await fake.tickAsync(100);
        expect(log).toEqual(['exact granted']);
      });

      it('rejects at once with RateLimitError when the wait behind the queue is longer, and takes nothing', async () => {
        const { clock, fake } = fakeClock();
        const bucket = new TokenBucket({ capacity: 2, refillPerSecond: 10, initialTokens: 0, clock });
        const log: string[] = [];
        void track(bucket.acquire(2), log, 'first'); // due at 200 ms
        const error = await bucket.acquire(1, { maxWaitMs: 299 }).catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(RateLimitError);
        expect(error).toMatchObject({ name: 'RateLimitError', retryAfterMs: 300 });
        expect(fake.now).toBe(0);
        void track(bucket.acquire(1, { maxWaitMs: 300 }), log, 'second');
        await fake.tickAsync(300);
        expect(log).toEqual(['first granted', 'second granted']);
        expect(bucket.available).toBe(0);
      });

      it('with 0, accepts only what can be served now', async () => {
        const { clock } = fakeClock();
        const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 10, clock });
        await bucket.acquire(1, { maxWaitMs: 0 });
        await expect(bucket.acquire(1, { maxWaitMs: 0 })).rejects.toMatchObject({ retryAfterMs: 100 });
      });
    });

    describe('signal', () => {
      it('rejects at once with signal.reason when already aborted, and queues nothing', async () => {
        const { clock } = fakeClock();
        const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 1, clock });
        const reason = new Error('gone');
        await expect(bucket.acquire(1, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
        expect(bucket.available).toBe(1);
      });

      it('on abort while waiting, rejects with signal.reason and moves the callers behind up', async () => {
        const { clock, fake, armedTimers } = fakeClock();
        const bucket = new TokenBucket({ capacity: 3, refillPerSecond: 1, initialTokens: 0, clock });
        const controller = new AbortController();
        const log: string[] = [];
        void track(bucket.acquire(3, { signal: controller.signal }), log, 'big');
        void track(bucket.acquire(1), log, 'small');
        await fake.tickAsync(1_500);
        controller.abort('changed my mind');
        await flush();
        // The 1.5 tokens saved up for the aborted caller go to the next one at once.
        expect(log).toEqual(['big rejected: changed my mind', 'small granted']);
        expect(bucket.available).toBe(0.5);
        expect(armedTimers()).toBe(0);
      });

      it('removes its abort listener when the caller is served or refused', async () => {
        const { clock, fake } = fakeClock();
        const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 1, initialTokens: 0, clock });
        const controller = new AbortController();
        const added: unknown[] = [];
        const removed: unknown[] = [];
        const signal = controller.signal;
        const add = signal.addEventListener.bind(signal);
        const remove = signal.removeEventListener.bind(signal);
        signal.addEventListener = ((type: string, listener: EventListener, options?: AddEventListenerOptions) => {
          added.push(listener);
          add(type, listener, options);
        }) as typeof signal.addEventListener;
        signal.removeEventListener = ((type: string, listener: EventListener) => {
          removed.push(listener);
          remove(type, listener);
        }) as typeof signal.removeEventListener;
        const first = bucket.acquire(1, { signal });
        const second = bucket.acquire(1, { signal, maxWaitMs: 1 });
        await expect(second).rejects.toBeInstanceOf(RateLimitError);
        await fake.tickAsync(1_000);
        await first;
        expect(added.length).toBe(1);
        expect(removed).toEqual(added);
      });

      it('aborting a waiter in the middle keeps the order of the others', async () => {
        const { clock, fake } = fakeClock();
        const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 1, initialTokens: 0, clock });
        const controllers = [0, 1, 2, 3].map(() => new AbortController());
        const log: string[] = [];
        const waits = controllers.map((controller, index) => track(bucket.acquire(1, { signal: controller.signal }), log, `w${index}`));
        controllers[1]!.abort(new Error('x'));
        controllers[2]!.abort(new Error('x'));
        await fake.tickAsync(2_000);
        await Promise.all(waits);
        expect(log).toEqual(['w1 rejected: Error', 'w2 rejected: Error', 'w0 granted', 'w3 granted']);
      });
    });

    describe('refusals are rejected promises, never synchronous throws', () => {
      it.each([
        ['a cost above the capacity', 3, undefined, RangeError, 'exceeds the capacity'],
        ['a NaN cost', Number.NaN, undefined, RangeError, '`cost`'],
        ['a string cost', '1', undefined, TypeError, '`cost`'],
        ['a negative maxWaitMs', 1, { maxWaitMs: -1 }, RangeError, '`maxWaitMs`'],
        ['a signal that is not one', 1, { signal: 'stop' }, TypeError, '`signal`'],
        ['options that are not an object', 1, 5, TypeError, '`options`'],
      ])('%s', async (_name, cost, options, ErrorType, message) => {
        const bucket = new TokenBucket({ capacity: 2, refillPerSecond: 1, clock: fakeClock().clock });
        let promise: Promise<void> | undefined;
        expect(() => {
          promise = bucket.acquire(cost as number, options as never);
        }).not.toThrow();
        await expect(promise).rejects.toThrow(ErrorType);
        await expect(promise).rejects.toThrow(message);
        expect(bucket.available).toBe(2);
      });
    });

    it('leaves no timer and no pending promise once everyone is served', async () => {
      const { clock, fake, armedTimers } = fakeClock();
      const bucket = new TokenBucket({ capacity: 2, refillPerSecond: 5, initialTokens: 0, clock });
      const settled: boolean[] = [];
      for (let index = 0; index < 20; index++) void bucket.acquire(index % 2 ? 2 : 0.5).then(() => settled.push(true));
      await fake.runAllAsync();
      expect([settled.length, armedTimers(), fake.countTimers()]).toEqual([20, 0, 0]);
    });

    it('rejects, and does not throw, when the clock cannot arm its timer', async () => {
      const failure = new Error('no timers here');
      const clock: Clock = { now: () => 0, setTimeout: () => { throw failure; }, clearTimeout: () => undefined };
      const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 1, initialTokens: 0, clock });
      let waiting: Promise<void> | undefined;
      expect(() => (waiting = bucket.acquire())).not.toThrow();
      await expect(waiting).rejects.toBe(failure);
    });

    it('refuses at once a caller joining a line that can never reach it, though earlier callers wait', async () => {
      const { clock, fake } = fakeClock();
      // A fixed quota: the first caller waits only for the pause to end, the second for tokens that never come.
      const bucket = new TokenBucket({ capacity: 2, refillPerSecond: 0, initialTokens: 1, clock });
      bucket.pauseFor(1_000);
      const log: string[] = [];
      void track(bucket.acquire(1), log, 'first');
      await expect(bucket.acquire(1)).rejects.toMatchObject({ name: 'RateLimitError', retryAfterMs: Infinity });
      expect(bucket.stats().denied).toBe(1);
      await fake.tickAsync(1_000);
      expect(log).toEqual(['first granted']);
    });
  });
});
