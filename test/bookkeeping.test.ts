import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { KeyedLimiter, TokenBucket } from '../src/index.js';
import { acquireAll, limitFetch, parseRetryAfter } from '../src/outbound.js';
import { fakeClock, manualClock, track } from './support/fake-clock.js';

// The exact counts and instants behind stats, reservations and the outbound helpers.
describe('stats count every path exactly', () => {
  it('on a TokenBucket: acquire at once, reserve, refusals', async () => {
    const { clock, fake } = fakeClock();
    const bucket = new TokenBucket({ capacity: 2, refillPerSecond: 1, clock });
    await bucket.acquire();
    bucket.reserve();
    bucket.reserve();
    bucket.tryAcquire();
    await bucket.acquire(1, { maxWaitMs: 0 }).catch(() => undefined);
    void bucket.acquire();
    await fake.tickAsync(3_000);
    expect(bucket.stats()).toEqual({ granted: 4, denied: 2, waited: 1, waitedMsTotal: 2_000, queued: 0 });
  });

  it('on a KeyedLimiter: acquire at once, reserve, refusals, and full buckets dropped', async () => {
    const { clock, fake } = fakeClock();
    const limiter = new KeyedLimiter({ capacity: 1, refillPerSecond: 1, clock });
    await limiter.acquire('a');
    limiter.reserve('b');
    limiter.tryAcquire('a');
    await fake.tickAsync(5_000);
    limiter.tryAcquire('c'); // a and b are full again: both dropped
    expect(limiter.stats()).toEqual({ granted: 3, denied: 1, waited: 0, waitedMsTotal: 0, queued: 0, evicted: 2 });
  });
});

describe('reservations at their instant', () => {
  it('cancel at exactly the reserved instant still gives the tokens back', () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 1, initialTokens: 0, clock });
    const reservation = bucket.reserve();
    clock.ms = reservation.delayMs;
    expect(reservation.cancel()).toBe(true);
    expect(bucket.available).toBe(1);
  });

  it('on a KeyedLimiter too, and not a millisecond later', () => {
    const clock = manualClock();
    const limiter = new KeyedLimiter({ capacity: 1, refillPerSecond: 1, clock });
    limiter.tryAcquire('k');
    const first = limiter.reserve('k');
    const second = limiter.reserve('k');
    clock.ms = first.delayMs;
    expect(first.cancel()).toBe(true);
    clock.ms = second.delayMs + 1;
    expect(second.cancel()).toBe(false);
    expect(limiter.available('k')).toBe(1);
  });

  it('refusing callers above a new, smaller capacity says so', async () => {
    const { clock } = fakeClock();
    const bucket = new TokenBucket({ capacity: 4, refillPerSecond: 1, initialTokens: 0, clock });
    const waiting = bucket.acquire(3).catch((error: Error) => error.message);
    bucket.setCapacity(2);
    expect(await waiting).toBe('Expected `cost` to be at most the capacity (2): the cost exceeds the new capacity, got `3` (number)');
  });

  it('waiting callers see a refund, a charge and a new rate at the instant they happen', async () => {
    const { clock, fake } = fakeClock();
    const limiter = new KeyedLimiter({ capacity: 4, refillPerSecond: 1, clock });
    limiter.tryAcquire('k', 4);
    const log: string[] = [];
    void track(limiter.acquire('k', 4), log, 'waiter'); // due in 4 s
    await fake.tickAsync(1_000);
    limiter.charge('k', 1); // due in 4 s from now
    expect(limiter.retryAfter('k', 0)).toBe(4_000);
    limiter.refund('k', 2); // due in 2 s from now
    expect(limiter.retryAfter('k', 0)).toBe(2_000);
    limiter.setRate(2); // due in 1 s from now
    expect(limiter.retryAfter('k', 0)).toBe(1_000);
    await fake.tickAsync(999);
    expect(log).toEqual([]);
    await fake.tickAsync(1);
    expect(log).toEqual(['waiter granted']);
  });

  it('a deleted key with waiters serves them from a full bucket at that instant', async () => {
    const { clock, fake } = fakeClock();
    const limiter = new KeyedLimiter({ capacity: 2, refillPerSecond: 1, clock });
    limiter.tryAcquire('k', 2);
    const log: string[] = [];
    void track(limiter.acquire('k', 2), log, 'first');
    void track(limiter.acquire('k', 2), log, 'second');
    await fake.tickAsync(500);
    limiter.delete('k');
    await fake.tickAsync(0);
    expect(log).toEqual(['first granted']);
    await fake.tickAsync(1_999);
    expect(log).toEqual(['first granted']);
    await fake.tickAsync(1);
    expect(log).toEqual(['first granted', 'second granted']);
  });
});

describe('acquireAll bookkeeping', () => {
  it('refunds a keyed limit granted at once when another is refused', async () => {
    const { clock } = fakeClock();
    const perUser = new KeyedLimiter({ capacity: 2, refillPerSecond: 1, clock });
    const global = new TokenBucket({ capacity: 1, refillPerSecond: 1, initialTokens: 0, clock });
    const controller = new AbortController();
    const pending = acquireAll([[perUser, 'ann', 2], [global, 1]], { signal: controller.signal });
    controller.abort('stop');
    await expect(pending).rejects.toBe('stop');
    expect(perUser.available('ann')).toBe(2);
  });

  it('accepts a wait exactly equal to maxWaitMs, and nothing to acquire at all', async () => {
    const { clock, fake } = fakeClock();
    const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 1, initialTokens: 0, clock });
    const log: string[] = [];
    void track(acquireAll([[bucket, 1]], { maxWaitMs: 1_000 }), log, 'exact');
    await fake.tickAsync(1_000);
    expect(log).toEqual(['exact granted']);
    await expect(acquireAll([])).resolves.toBeUndefined();
  });
});

describe('parseRetryAfter, strictly', () => {
  it.each([
    ['1.25', undefined],
    ['abc12', undefined],
    ['12abc', undefined],
    ['', undefined],
  ])('%o', (value, expected) => {
    expect(parseRetryAfter(value, 0)).toBe(expected);
  });
});

describe('limitFetch bookkeeping (real server on loopback)', () => {
  async function serve(status: number, retryAfter: string | undefined) {
    let requests = 0;
    const server = createServer((_req, res) => {
      requests++;
      if (retryAfter !== undefined) res.setHeader('Retry-After', retryAfter);
      res.statusCode = status;
      res.end();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, requests: () => requests, close: () => new Promise((resolve) => server.close(resolve)) };
  }

  it('sends a request at most 1 + retries times, then returns the last refusal', async () => {
    const server = await serve(429, '0');
    try {
      const limitedFetch = limitFetch(fetch, new TokenBucket({ capacity: 10, refillPerSecond: 10 }), { retries: 2 });
      expect((await limitedFetch(server.url)).status).toBe(429);
      expect(server.requests()).toBe(3);
    } finally {
      await server.close();
    }
  });

  it('returns a 429 without Retry-After when no retries are left, and lets init.signal abort the wait', async () => {
    const server = await serve(429, undefined);
    try {
      const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 0.001 });
      const limitedFetch = limitFetch(fetch, bucket);
      expect((await limitedFetch(server.url)).status).toBe(429);
      expect(server.requests()).toBe(1);
      const controller = new AbortController();
      const waiting = limitedFetch(server.url, { signal: controller.signal });
      controller.abort('no more');
      await expect(waiting).rejects.toBe('no more');
      expect(server.requests()).toBe(1);
    } finally {
      await server.close();
    }
  });
});
