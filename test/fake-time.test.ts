import FakeTimers from '@sinonjs/fake-timers';
import { describe, expect, it, vi } from 'vitest';
import { type Clock, KeyedLimiter, TokenBucket } from '../src/index.js';

// The two ways the README shows to test code that uses a limiter on fake time.
describe('testing on fake time', () => {
  it('works with a clock built from createClock()', async () => {
    const fake = FakeTimers.createClock();
    const clock: Clock = {
      now: () => fake.now,
      setTimeout: (callback, ms) => fake.setTimeout(callback, ms),
      clearTimeout: (handle) => fake.clearTimeout(handle as FakeTimers.TimerId),
    };
    const bucket = new TokenBucket({ capacity: 2, refillPerSecond: 1, clock });
    const grantedAtMs: number[] = [];
    for (let index = 0; index < 4; index++) void bucket.acquire().then(() => grantedAtMs.push(fake.now));
    await fake.tickAsync(2_000);
    expect(grantedAtMs).toEqual([0, 0, 1_000, 2_000]);
  });

  it("works with Vitest's fake timers when toFake names performance, which the default clock reads", async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
    try {
      const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 4 });
      const grantedAtMs: number[] = [];
      const start = performance.now();
      for (let index = 0; index < 3; index++) void bucket.acquire().then(() => grantedAtMs.push(performance.now() - start));
      await vi.advanceTimersByTimeAsync(500);
      expect(grantedAtMs).toEqual([0, 250, 500]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('without performance faked, a waiting acquire does not move with fake time (the README says to fake it)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 1 });
      bucket.tryAcquire();
      let granted = false;
      const waiting = bucket.acquire().then(() => void (granted = true));
      await vi.advanceTimersByTimeAsync(1_000);
      expect(granted).toBe(false);
      bucket.abortAll();
      await waiting.catch(() => undefined);
    } finally {
      vi.useRealTimers();
    }
  });

  it('works with FakeTimers.install() and the default clock, installed after the import', async () => {
    const fake = FakeTimers.install();
    try {
      const keyed = new KeyedLimiter({ capacity: 1, refillPerSecond: 10 });
      const grantedAtMs: number[] = [];
      for (let index = 0; index < 3; index++) void keyed.acquire('user').then(() => grantedAtMs.push(fake.now));
      await fake.tickAsync(200);
      expect(grantedAtMs).toEqual([0, 100, 200]);
      expect(fake.countTimers()).toBe(0);
    } finally {
      fake.uninstall();
    }
  });

  it('the default clock follows fake time installed after the limiter was created', async () => {
    const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 1, initialTokens: 0 });
    const fake = FakeTimers.install({ now: 0, toFake: ['performance', 'setTimeout', 'clearTimeout'] });
    try {
      // The bucket's last reading was real time; fake time starts earlier, so it rebases.
      let granted = false;
      void bucket.acquire().then(() => (granted = true));
      await fake.tickAsync(1_000);
      expect(granted).toBe(true);
      expect(bucket.available).toBe(0);
    } finally {
      fake.uninstall();
    }
  });

  it('the default clock clears its timer when the last waiter leaves', async () => {
    const fake = FakeTimers.install({ toFake: ['performance', 'setTimeout', 'clearTimeout'] });
    try {
      const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 1, initialTokens: 0 });
      const controller = new AbortController();
      const waiting = bucket.acquire(1, { signal: controller.signal }).catch((error: unknown) => error);
      expect(fake.countTimers()).toBe(1);
      controller.abort('stop');
      expect(await waiting).toBe('stop');
      expect(fake.countTimers()).toBe(0);
    } finally {
      fake.uninstall();
    }
  });
});
