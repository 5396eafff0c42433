import { describe, expect, it } from 'vitest';
import { type Denial, KeyedLimiter, RateLimitError, TokenBucket } from '../src/index.js';
import { acquireAll, tryAcquireAll } from '../src/outbound.js';
import { fakeClock, manualClock, track } from './support/fake-clock.js';

describe('acquireAll', () => {
  it('charges every limit and waits for the latest of them', async () => {
    const { clock, fake } = fakeClock();
    const requestsPerMinute = new TokenBucket({ capacity: 2, refillPerSecond: 1, initialTokens: 0, clock });
    const tokensPerMinute = new KeyedLimiter({ capacity: 1_000, refillPerSecond: 500, clock });
    const log: string[] = [];
    // No clock given: acquireAll waits on the limiters' own (fake) clock.
    void track(acquireAll([[requestsPerMinute, 1], [tokensPerMinute, 'model', 1_000]]), log, 'both');
    expect(tokensPerMinute.available('model')).toBe(0);
    await fake.tickAsync(999);
    expect(log).toEqual([]);
    await fake.tickAsync(1);
    expect(log).toEqual(['both granted']);
    expect(requestsPerMinute.available).toBe(0);
  });

  it('charges none when any cannot be met within maxWaitMs', async () => {
    const { clock } = fakeClock();
    const global = new TokenBucket({ capacity: 10, refillPerSecond: 1, clock });
    const perUser = new KeyedLimiter({ capacity: 1, refillPerSecond: 1, clock });
    perUser.tryAcquire('ann');
    const error = await acquireAll([[global, 3], [perUser, 'ann', 1]], { maxWaitMs: 500, clock }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toMatchObject({ retryAfterMs: 1_000 });
    expect([global.available, perUser.retryAfter('ann')]).toEqual([10, 1_000]);
  });

  it('charges none when a limit refuses outright, and gives every place back on abort', async () => {
    const { clock, fake } = fakeClock();
    const a = new TokenBucket({ capacity: 2, refillPerSecond: 1, initialTokens: 0, clock });
    const b = new TokenBucket({ capacity: 1, refillPerSecond: 1, clock });
    await expect(acquireAll([[b, 1], [a, 3]], { clock })).rejects.toBeInstanceOf(RangeError);
    expect(b.available).toBe(1);
    const controller = new AbortController();
    const pending = acquireAll([[a, 2], [b, 1]], { signal: controller.signal, clock });
    await fake.tickAsync(500);
    controller.abort('gone');
    await expect(pending).rejects.toBe('gone');
    expect([a.retryAfter(2), b.available]).toEqual([1_500, 1]);
    await expect(acquireAll([[b, 1]], { signal: controller.signal, clock })).rejects.toBe('gone');
  });

  it('refunds a keyed limit granted at once when the call is aborted waiting for another', async () => {
    const { clock, fake } = fakeClock();
    const perUser = new KeyedLimiter({ capacity: 2, refillPerSecond: 1, clock });
    const slow = new TokenBucket({ capacity: 1, refillPerSecond: 1, initialTokens: 0, clock });
    const controller = new AbortController();
    const pending = acquireAll([[perUser, 'ann', 2], [slow, 1]], { signal: controller.signal });
    await fake.tickAsync(500);
    controller.abort('gone');
    await expect(pending).rejects.toBe('gone');
    expect(perUser.available('ann')).toBe(2);
  });

  it('resolves at once when every limit is there, and for no limits', async () => {
    const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 1, clock: manualClock() });
    await acquireAll([[bucket, 1]]);
    expect(bucket.available).toBe(0);
    await acquireAll([]);
  });
});


describe('acquireAll input', () => {
  const bucket = new TokenBucket({ capacity: 5, refillPerSecond: 1, clock: manualClock() });
  const keyed = new KeyedLimiter({ capacity: 5, refillPerSecond: 1, clock: manualClock() });

  it.each([
    ['not a list', 'x', 'Expected `limits` to be an array of [limiter, cost] or [keyedLimiter, key, cost] entries, got `"x"` (string)'],
    // The case reported: a single limit not nested used to fail reading `clock` of undefined.
    ['a limit not nested', [bucket, 1], 'Expected `limits[0]` to be a [limiter, cost] or [keyedLimiter, key, cost] array, got `[object Object]` (object)'],
    ['an entry of 4', [[bucket, 1], [keyed, 'a', 1, 2]], 'Expected `limits[1]` to be a [limiter, cost] or [keyedLimiter, key, cost] array, got `[object Object],a,1,2` (object)'],
    ['no limiter', [[null, 1]], 'Expected `limits[0][0]` to be a limiter with reserve() and refund(), got `null` (object)'],
    ['a limiter without reserve', [[{ refund() {} }, 1]], 'Expected `limits[0][0]` to be a limiter with reserve() and refund(), got `[object Object]` (object)'],
    ['a keyed limiter without its key', [[keyed, 1]], 'Expected `limits[0]` to be [keyedLimiter, key, cost] for a keyed limiter, got `[object Object],1` (object)'],
    ['a cost that is a string', [[bucket, '1']], 'Expected `limits[0][1]` to be a number, got `"1"` (string)'],
    ['a key that is a number', [[keyed, 7, 1]], 'Expected `limits[0][1]` to be a string, got `7` (number)'],
    ['a keyed cost that is missing', [[bucket, 1], [keyed, 'a', undefined]], 'Expected `limits[1][2]` to be a number, got `undefined` (undefined)'],
  ])('rejects %s with a TypeError naming the entry and the shape', async (_case, limits, message) => {
    await expect(acquireAll(limits as never)).rejects.toThrow(new TypeError(message));
    expect(() => tryAcquireAll(limits as never)).toThrow(TypeError);
    expect([bucket.available, keyed.available('a')]).toEqual([5, 5]);
  });
});

describe('tryAcquireAll', () => {
  it('takes every limit when each has its tokens now', () => {
    const clock = manualClock();
    const requests = new TokenBucket({ capacity: 2, refillPerSecond: 1, clock });
    const perUser = new KeyedLimiter({ capacity: 3, refillPerSecond: 1, clock });
    expect(tryAcquireAll([[requests, 1], [perUser, 'ann', 3]])).toBe(true);
    expect([requests.available, perUser.available('ann'), perUser.available('bob')]).toEqual([1, 0, 3]);
    expect(tryAcquireAll([])).toBe(true);
  });

  it('takes none when one limit lacks tokens, and only that limit counts and reports the refusal', () => {
    const clock = manualClock();
    const denials: Denial[] = [];
    const requests = new TokenBucket({ capacity: 2, refillPerSecond: 1, clock, onDeny: (denial) => denials.push(denial) });
    const perUser = new KeyedLimiter({ capacity: 3, refillPerSecond: 1, clock, onDeny: (denial) => denials.push(denial) });
    const global = new TokenBucket({ capacity: 9, refillPerSecond: 1, clock });
    perUser.tryAcquire('ann', 3);
    expect(tryAcquireAll([[requests, 1], [perUser, 'ann', 1], [global, 1]])).toBe(false);
    expect([requests.available, perUser.available('ann'), global.available]).toEqual([2, 0, 9]);
    expect(denials).toEqual([{ key: 'ann', cost: 1, retryAfterMs: 1_000 }]);
    expect([requests.stats(), global.stats()].map(({ granted, denied }) => [granted, denied])).toEqual([[0, 0], [0, 0]]);
    clock.ms = 1_000;
    expect(tryAcquireAll([[requests, 1], [perUser, 'ann', 1], [global, 1]])).toBe(true);
  });

  it('refuses a list naming one bucket twice for more than it has, giving back what it took', () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ capacity: 3, refillPerSecond: 1, clock });
    const keyed = new KeyedLimiter({ capacity: 3, refillPerSecond: 1, clock });
    expect(tryAcquireAll([[keyed, 'a', 1], [bucket, 2], [bucket, 2]])).toBe(false);
    expect([bucket.available, keyed.available('a')]).toEqual([3, 3]);
    expect(tryAcquireAll([[keyed, 'a', 1], [bucket, 2], [bucket, 1]])).toBe(true);
    expect([bucket.available, keyed.available('a')]).toEqual([0, 2]);
  });

  it('refuses a cost above a capacity, taking nothing', () => {
    const clock = manualClock();
    const small = new TokenBucket({ capacity: 1, refillPerSecond: 1, clock });
    const large = new TokenBucket({ capacity: 9, refillPerSecond: 1, clock });
    expect(tryAcquireAll([[large, 5], [small, 2]])).toBe(false);
    expect([large.available, small.available]).toEqual([9, 1]);
  });
});

// The reproductions: refunds, charges and pauses must reach callers waiting in
// acquireAll as they reach callers of acquire. Each test runs the same callers through
// acquire first, as the reference, then through acquireAll.
describe('acquireAll waits in line like acquire', () => {
  /** Five callers each estimate 200 tokens (capacity 200, 100/s), work 10 ms, then refund the 180 they did not use. */
  async function refundingCallers(take: (tokens: TokenBucket, requests: TokenBucket) => Promise<void>): Promise<number[]> {
    const { clock, fake } = fakeClock();
    const tokens = new TokenBucket({ capacity: 200, refillPerSecond: 100, clock });
    const requests = new TokenBucket({ capacity: 60, refillPerSecond: 1, clock });
    const grantedMs: number[] = [];
    const callers = Array.from({ length: 5 }, async () => {
      await take(tokens, requests);
      grantedMs.push(fake.now);
      await new Promise<void>((resolve) => fake.setTimeout(() => resolve(), 10));
      tokens.refund(180);
    });
    // Long enough for the slow schedule too (the last grant at 8,000 ms), so a failure shows the instants.
    await fake.tickAsync(10_000);
    await Promise.all(callers);
    return grantedMs;
  }

  it('serves five refunding callers as acquire does (they were granted at 4, 2,038, 4,006, 6,031 and 8,003 ms)', async () => {
    expect(await refundingCallers((tokens) => tokens.acquire(200))).toEqual([0, 200, 400, 600, 800]);
    expect(await refundingCallers((tokens, requests) => acquireAll([[requests, 1], [tokens, 200]]))).toEqual([0, 200, 400, 600, 800]);
  });

  /** Four callers (5 per second, bursts of 1); the first is answered 429 after 5 ms and pauses both limits for 1 s. */
  async function pausedCallers(take: (requests: TokenBucket, tokens: TokenBucket) => Promise<void>): Promise<number[]> {
    const { clock, fake } = fakeClock();
    const requests = new TokenBucket({ capacity: 1, refillPerSecond: 5, clock });
    const tokens = new TokenBucket({ capacity: 1_000, refillPerSecond: 1_000, clock });
    const sentMs: number[] = [];
    const callers = Array.from({ length: 4 }, async (_, index) => {
      await take(requests, tokens);
      sentMs.push(fake.now);
      if (index > 0) return;
      await new Promise<void>((resolve) => fake.setTimeout(() => resolve(), 5));
      requests.pauseFor(1_000);
      tokens.pauseFor(1_000);
    });
    await fake.tickAsync(3_000);
    await Promise.all(callers);
    return sentMs;
  }

  it('sends nothing inside the Retry-After window once a caller paused the limits (they went out at 203, 402 and 602 ms)', async () => {
    expect(await pausedCallers((requests) => requests.acquire(1))).toEqual([0, 1_005, 1_205, 1_405]);
    expect(await pausedCallers((requests, tokens) => acquireAll([[requests, 1], [tokens, 10]]))).toEqual([0, 1_005, 1_205, 1_405]);
  });

  it('re-plans a waiting caller when tokens are charged', async () => {
    const { clock, fake } = fakeClock();
    const tokens = new TokenBucket({ capacity: 100, refillPerSecond: 100, initialTokens: 0, clock });
    const requests = new TokenBucket({ capacity: 60, refillPerSecond: 1, clock });
    const log: string[] = [];
    void track(acquireAll([[requests, 1], [tokens, 100]]), log, 'caller');
    tokens.charge(50);
    await fake.tickAsync(1_499);
    expect(log).toEqual([]);
    await fake.tickAsync(1);
    expect(log).toEqual(['caller granted']);
  });

  it('is counted in stats() and heard by onDeny', async () => {
    const { clock, fake } = fakeClock();
    const denials: Denial[] = [];
    const tokens = new TokenBucket({ capacity: 100, refillPerSecond: 100, initialTokens: 0, clock, onDeny: (denial) => denials.push(denial) });
    const perUser = new KeyedLimiter({ capacity: 5, refillPerSecond: 5, clock });
    const waiting = acquireAll([[perUser, 'ann', 1], [tokens, 50]]);
    await expect(acquireAll([[perUser, 'ann', 1], [tokens, 100]], { maxWaitMs: 100 })).rejects.toBeInstanceOf(RateLimitError);
    await fake.tickAsync(500);
    await waiting;
    expect(tokens.stats()).toMatchObject({ granted: 1, denied: 1, waited: 1, waitedMsTotal: 500 });
    expect(denials).toEqual([{ key: undefined, cost: 100, retryAfterMs: 1_500 }]);
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

/** A limiter with reserve() and refund() only (no place in line for acquireAll): one that is not TokenBucket or KeyedLimiter. */
function reservingOnly(limiter: TokenBucket): { reserve: TokenBucket['reserve']; refund: TokenBucket['refund']; readonly clock: TokenBucket['clock'] };
function reservingOnly(limiter: KeyedLimiter): { reserve: KeyedLimiter['reserve']; refund: KeyedLimiter['refund']; available: KeyedLimiter['available']; readonly clock: KeyedLimiter['clock'] };
function reservingOnly(limiter: TokenBucket | KeyedLimiter) {
  const keyed = limiter instanceof KeyedLimiter ? { available: limiter.available.bind(limiter) } : {};
  return { reserve: limiter.reserve.bind(limiter), refund: limiter.refund.bind(limiter), clock: limiter.clock, ...keyed } as never;
}

describe('acquireAll over other limiters (by reservation)', () => {
  it('reserves every limit at once and waits for the latest, on the first limiter’s clock', async () => {
    const { clock, fake } = fakeClock();
    const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 1, initialTokens: 0, clock });
    const keyed = new KeyedLimiter({ capacity: 2, refillPerSecond: 1, clock });
    const log: string[] = [];
    void track(acquireAll([[reservingOnly(bucket), 1], [reservingOnly(keyed), 'k', 2]]), log, 'both');
    // A reservation is a commitment: the refund below does not move it.
    bucket.refund(1);
    await fake.tickAsync(999);
    expect(log).toEqual([]);
    await fake.tickAsync(1);
    expect(log).toEqual(['both granted']);
  });

  it('gives back what it reserved when the wait passes maxWaitMs, when a limit throws, and on abort', async () => {
    const { clock, fake } = fakeClock();
    const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 1, clock });
    const keyed = new KeyedLimiter({ capacity: 1, refillPerSecond: 1, clock });
    keyed.tryAcquire('k');
    await expect(acquireAll([[reservingOnly(bucket), 1], [reservingOnly(keyed), 'k', 1]], { maxWaitMs: 500 })).rejects.toMatchObject({ retryAfterMs: 1_000 });
    expect([bucket.available, keyed.queued]).toEqual([1, 0]);
    await expect(acquireAll([[reservingOnly(bucket), 1], [reservingOnly(keyed), 'k', 5]])).rejects.toThrow(RangeError);
    expect(bucket.available).toBe(1);
    const controller = new AbortController();
    const aborted = acquireAll([[reservingOnly(bucket), 1], [reservingOnly(keyed), 'k', 1]], { signal: controller.signal }).catch((error: unknown) => error);
    controller.abort('stop');
    expect(await aborted).toBe('stop');
    await fake.tickAsync(1_000);
    expect([bucket.available, keyed.available('k')]).toEqual([1, 1]);
  });
});
