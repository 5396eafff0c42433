import { describe, expect, it } from 'vitest';
import { acquireInLine, canEnlist } from '../src/acquire-in-line.js';
import type { Enlisting } from '../src/enlist.js';
import { type Denial, KeyedLimiter, RateLimitError, TokenBucket } from '../src/index.js';
import { fakeClock, track } from './support/fake-clock.js';

type Limiter = TokenBucket | KeyedLimiter;
const place = (limiter: Limiter, cost: number, key?: string) => ({ limiter: limiter as unknown as Enlisting, key, cost });
const inLine = (places: ReturnType<typeof place>[], options: { signal?: AbortSignal; maxWaitMs?: number } = {}) =>
  acquireInLine(places, options.signal, options.maxWaitMs ?? Infinity);

// Issue 14: acquireAll waits in line like acquire.
describe('waiting in several lines at once (acquireAll)', () => {
  it('is offered by TokenBucket and KeyedLimiter, and by nothing else', () => {
    expect([canEnlist(new TokenBucket({ capacity: 1, refillPerSecond: 1 })), canEnlist(new KeyedLimiter({ capacity: 1, refillPerSecond: 1 })), canEnlist({}), canEnlist(null)]).toEqual([true, true, false, false]);
  });

  it('sees refunds at once: five callers estimating 200 and refunding 180 are granted every 200 ms (every 2 s was the bug)', async () => {
    const { clock, fake } = fakeClock();
    const tokens = new TokenBucket({ capacity: 200, refillPerSecond: 100, clock });
    const requests = new TokenBucket({ capacity: 60, refillPerSecond: 1, clock });
    const grantedAtMs: number[] = [];
    const callers = [0, 1, 2, 3, 4].map(() =>
      inLine([place(requests, 1), place(tokens, 200)]).then(() => {
        grantedAtMs.push(fake.now);
        tokens.refund(180);
      }),
    );
    await fake.tickAsync(2_000);
    await Promise.all(callers);
    expect(grantedAtMs).toEqual([0, 200, 400, 600, 800]);
  });

  it('sees a pause at once: no caller is granted inside it', async () => {
    const { clock, fake } = fakeClock();
    const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 5, clock });
    const perHost = new KeyedLimiter({ capacity: 10, refillPerSecond: 10, clock });
    const grantedAtMs: number[] = [];
    const callers = [0, 1, 2, 3].map((index) =>
      inLine([place(bucket, 1), place(perHost, 1, 'api')]).then(() => {
        grantedAtMs.push(fake.now);
        if (index === 0) perHost.pauseFor(1_000, 'api');
      }),
    );
    await fake.tickAsync(3_000);
    await Promise.all(callers);
    expect(grantedAtMs).toEqual([0, 1_000, 1_200, 1_400]);
  });

  it('takes every place together or none: a caller waits for its slowest limit while holding its places', async () => {
    const { clock, fake } = fakeClock();
    const fast = new TokenBucket({ capacity: 1, refillPerSecond: 10, initialTokens: 0, clock });
    const slow = new TokenBucket({ capacity: 1, refillPerSecond: 1, initialTokens: 0, clock });
    const log: string[] = [];
    void track(inLine([place(fast, 1), place(slow, 1)]), log, 'both');
    // Behind it in fast's line: not served before it, though fast's tokens are there at 100 ms.
    void track(fast.acquire(), log, 'fast only');
    await fake.tickAsync(999);
    expect([log, fast.available, slow.available]).toEqual([[], 0, 0]);
    await fake.tickAsync(1);
    expect(log).toEqual(['both granted']);
    await fake.tickAsync(100);
    expect(log).toEqual(['both granted', 'fast only granted']);
  });

  it('never deadlocks when callers take the same limiters in opposite orders', async () => {
    const { clock, fake } = fakeClock();
    const a = new TokenBucket({ capacity: 1, refillPerSecond: 1, initialTokens: 0, clock });
    const b = new TokenBucket({ capacity: 1, refillPerSecond: 2, initialTokens: 0, clock });
    const log: string[] = [];
    void track(inLine([place(a, 1), place(b, 1)]), log, 'ab');
    void track(inLine([place(b, 1), place(a, 1)]), log, 'ba');
    await fake.tickAsync(1_000);
    expect(log).toEqual(['ab granted']);
    await fake.tickAsync(1_000);
    expect(log).toEqual(['ab granted', 'ba granted']);
    expect([a.queued, b.queued]).toEqual([0, 0]);
  });

  it('counts in each limiter stats() and onDeny, and refuses a wait past maxWaitMs at once, taking nothing', async () => {
    const { clock } = fakeClock();
    const denials: Denial[] = [];
    const a = new TokenBucket({ capacity: 2, refillPerSecond: 1, clock });
    const b = new KeyedLimiter({ capacity: 2, refillPerSecond: 1, clock, onDeny: (denial) => denials.push(denial) });
    await inLine([place(a, 1), place(b, 2, 'k')]);
    const refusal = await inLine([place(a, 1), place(b, 1, 'k')], { maxWaitMs: 500 }).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(RateLimitError);
    expect((refusal as RateLimitError).retryAfterMs).toBe(1_000);
    expect(denials).toEqual([{ key: 'k', cost: 1, retryAfterMs: 1_000 }]);
    expect([a.stats(), b.stats()]).toMatchObject([{ granted: 1, denied: 0, queued: 0 }, { granted: 1, denied: 1, queued: 0 }]);
    expect([a.available, b.available('k')]).toEqual([1, 0]);
  });

  it('gives every place back on abort and rejects with signal.reason', async () => {
    const { clock, fake } = fakeClock();
    const a = new TokenBucket({ capacity: 1, refillPerSecond: 1, initialTokens: 0, clock });
    const b = new TokenBucket({ capacity: 1, refillPerSecond: 1, clock });
    const controller = new AbortController();
    const waiting = inLine([place(a, 1), place(b, 1)], { signal: controller.signal }).catch((error: unknown) => error);
    expect([a.queued, b.queued]).toEqual([1, 1]);
    controller.abort('stop');
    expect(await waiting).toBe('stop');
    expect([a.queued, b.queued, b.available]).toEqual([0, 0, 1]);
    await fake.tickAsync(1_000);
    expect(a.tryAcquire()).toBe(true);
    await expect(inLine([place(a, 1)], { signal: controller.signal })).rejects.toBe('stop');
  });

  it('is rejected by abortAll, a shrinking capacity, or a limit that can never be met, and gives its other places back', async () => {
    const { clock } = fakeClock();
    const a = new TokenBucket({ capacity: 2, refillPerSecond: 1, initialTokens: 0, clock });
    const b = new TokenBucket({ capacity: 2, refillPerSecond: 1, clock });
    const aborted = inLine([place(a, 1), place(b, 1)]).catch((error: Error) => error.name);
    a.abortAll();
    expect([await aborted, b.queued]).toEqual(['AbortError', 0]);
    const shrunk = inLine([place(a, 2), place(b, 1)]).catch((error: Error) => error.name);
    a.setCapacity(1);
    expect([await shrunk, b.queued]).toEqual(['RangeError', 0]);
    const never = inLine([place(a, 1), place(b, 1)]).catch((error: Error) => error.name);
    a.setRate(0);
    expect([await never, b.queued]).toEqual(['RateLimitError', 0]);
  });

  it('takes two places on one limiter and key as one', async () => {
    const { clock, fake } = fakeClock();
    const limiter = new KeyedLimiter({ capacity: 3, refillPerSecond: 1, clock });
    limiter.tryAcquire('k', 3);
    const both = inLine([place(limiter, 1, 'k'), place(limiter, 2, 'k'), place(limiter, 1, 'other')]);
    await fake.tickAsync(3_000);
    await both;
    expect([limiter.available('k'), limiter.available('other')]).toEqual([0, 2]);
  });

  it('is refused, as acquire is, a new key when every bucket held (maxKeys) has waiters', async () => {
    const { clock } = fakeClock();
    const limiter = new KeyedLimiter({ capacity: 1, refillPerSecond: 1, maxKeys: 1, clock });
    limiter.tryAcquire('a');
    const waiting = limiter.acquire('a').catch((error: Error) => error.name);
    const other = new TokenBucket({ capacity: 1, refillPerSecond: 1, clock });
    await expect(inLine([place(other, 1), place(limiter, 1, 'b')])).rejects.toThrow('every bucket held (maxKeys) has waiters');
    expect([limiter.stats().denied, other.queued, other.available]).toEqual([1, 0, 1]);
    limiter.abortAll();
    expect(await waiting).toBe('AbortError');
  });

  it('resolves at once with no place to take', async () => {
    await expect(inLine([])).resolves.toBeUndefined();
  });

  it('rejects a bad cost, taking nothing', async () => {
    const a = new TokenBucket({ capacity: 2, refillPerSecond: 1 });
    const b = new TokenBucket({ capacity: 2, refillPerSecond: 1 });
    await expect(inLine([place(a, 1), place(b, 3)])).rejects.toThrow(RangeError);
    await expect(inLine([place(a, 1), place(b, -1)])).rejects.toThrow('Expected `cost` to be a finite number >= 0, got `-1` (number)');
    expect([a.available, a.queued]).toEqual([2, 0]);
  });
});
