import { describe, expect, it } from 'vitest';
import { KeyedLimiter, RateLimitError, TokenBucket } from '../src/index.js';
import { fakeClock, manualClock } from './support/fake-clock.js';

// Issue 13: see into a limiter, and stop it cleanly.
describe('seeing into a limiter', () => {
  describe('queued', () => {
    it('counts the callers waiting now on a TokenBucket, in the getter and in stats()', async () => {
      const { clock, fake } = fakeClock();
      const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 1, clock });
      await bucket.acquire();
      const waiting = [bucket.acquire(), bucket.acquire(), bucket.acquire(), bucket.acquire()];
      bucket.reserve();
      expect([bucket.queued, bucket.stats().queued, bucket.stats().waited]).toEqual([4, 4, 0]);
      await fake.tickAsync(1_000);
      expect(bucket.queued).toBe(3);
      await fake.tickAsync(5_000);
      await Promise.all(waiting);
      expect([bucket.queued, bucket.stats().queued, bucket.stats().waited]).toEqual([0, 0, 4]);
    });

    it('counts the callers of every key on a KeyedLimiter', () => {
      const limiter = new KeyedLimiter({ capacity: 1, refillPerSecond: 1, clock: fakeClock().clock });
      limiter.tryAcquire('a');
      limiter.tryAcquire('b');
      void limiter.acquire('a');
      void limiter.acquire('b');
      void limiter.acquire('b');
      expect([limiter.queued, limiter.stats().queued]).toEqual([3, 3]);
    });
  });

  describe('abortAll', () => {
    it('rejects every waiting caller of every key with an AbortError by default, and gives their places back', async () => {
      const { clock, fake, armedTimers } = fakeClock();
      const limiter = new KeyedLimiter({ capacity: 2, refillPerSecond: 1, clock });
      limiter.tryAcquire('a', 2);
      limiter.tryAcquire('b', 2);
      const outcomes = [limiter.acquire('a', 2), limiter.acquire('b', 1), limiter.acquire('b', 1)].map((promise) =>
        promise.then(
          () => 'granted',
          (error: Error) => `${error.name}: ${error.message}`,
        ),
      );
      limiter.abortAll();
      expect(await Promise.all(outcomes)).toEqual(Array(3).fill('AbortError: This operation was aborted'));
      expect([limiter.queued, armedTimers()]).toEqual([0, 0]);
      // Their places are given back: the tokens saved up so far stay for the next callers.
      await fake.tickAsync(1_000);
      expect([limiter.tryAcquire('a'), limiter.tryAcquire('b'), limiter.tryAcquire('b')]).toEqual([true, true, false]);
    });

    it('rejects with the reason given, keeps reservations, and leaves the limiter usable', async () => {
      const { clock, fake } = fakeClock();
      const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 1, initialTokens: 0, clock });
      const reservation = bucket.reserve();
      const waiting = bucket.acquire().catch((error: unknown) => error);
      const reason = new Error('shutting down');
      bucket.abortAll(reason);
      expect(await waiting).toBe(reason);
      expect(reservation.delayMs).toBe(1_000);
      const later = bucket.acquire();
      await fake.tickAsync(2_000);
      await later;
      expect(bucket.stats()).toMatchObject({ queued: 0, waited: 1 });
    });
  });

  describe('unknown options', () => {
    it.each([
      ['TokenBucket', () => new TokenBucket({ capacity: 1, refillPerSecond: 1, maxWait: 5 } as never), 'Unknown option `maxWait` (known options: `capacity`, `refillPerSecond`, `clock`, `onDeny`, `initialTokens`)'],
      ['KeyedLimiter', () => new KeyedLimiter({ capacity: 1, refillPerSecond: 1, maxKey: 5 } as never), 'Unknown option `maxKey` (did you mean `maxKeys`?)'],
      ['KeyedLimiter refill', () => new KeyedLimiter({ capacity: 1, refill: 5 } as never), 'Unknown option `refill` (did you mean `refillPerSecond`?)'],
    ])('%s rejects a name it does not know with a TypeError suggesting the closest', (_name, create, message) => {
      expect(create).toThrow(TypeError);
      expect(create).toThrow(message);
    });

    it('acquire rejects `maxWait` (a typo of maxWaitMs that waited forever) at once', async () => {
      const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 1, initialTokens: 0, clock: manualClock() });
      await expect(bucket.acquire(1, { maxWait: 100 } as never)).rejects.toThrow(new TypeError('Unknown option `maxWait` (did you mean `maxWaitMs`?)'));
      expect(bucket.queued).toBe(0);
    });
  });

  describe('RateLimitError messages', () => {
    it('round the wait up to whole milliseconds and keep retryAfterMs exact', () => {
      const error = new RateLimitError(20_514.138725);
      expect([error.message, error.retryAfterMs]).toEqual(['Rate limit exceeded: retry after 20515 ms', 20_514.138725]);
    });

    it('say never for a wait that cannot end', async () => {
      const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 0, initialTokens: 0, clock: manualClock() });
      await expect(bucket.acquire()).rejects.toThrow('Rate limit exceeded: the request can never be granted');
    });
  });
});
