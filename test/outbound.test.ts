import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import { KeyedLimiter, RateLimitError, TokenBucket } from '../src/index.js';
import { acquireAll, limitFetch, parseRetryAfter, throttle } from '../src/outbound.js';
import { fakeClock, manualClock, track } from './support/fake-clock.js';

describe('throttle', () => {
  it('keeps this, arguments and return values, and waits its turn', async () => {
    const { clock, fake } = fakeClock();
    const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 1, clock });
    const client = {
      prefix: 'answer:',
      complete(question: string, n: number) {
        return `${this.prefix}${question}x${n}`;
      },
    };
    const complete = throttle(client.complete, bucket);
    const answers: string[] = [];
    void complete.call(client, 'a', 1).then((answer) => answers.push(answer));
    void complete.call(client, 'b', 2).then((answer) => answers.push(answer));
    await fake.tickAsync(0);
    expect(answers).toEqual(['answer:ax1']);
    await fake.tickAsync(1_000);
    expect(answers).toEqual(['answer:ax1', 'answer:bx2']);
  });

  it('rejects with exactly what the function throws or rejects with', async () => {
    const bucket = new TokenBucket({ capacity: 5, refillPerSecond: 1, clock: manualClock() });
    const thrown = new Error('sync');
    const rejected = new TypeError('async');
    await expect(throttle(() => { throw thrown; }, bucket)()).rejects.toBe(thrown);
    await expect(throttle(async () => Promise.reject(rejected), bucket)()).rejects.toBe(rejected);
    expect(await throttle(async (n: number) => n * 2, bucket)(21)).toBe(42);
  });

  it('charges a cost computed from the arguments, and keys a keyed limiter', async () => {
    const { clock } = fakeClock();
    const bucket = new TokenBucket({ capacity: 10, refillPerSecond: 1, clock });
    const keyed = new KeyedLimiter({ capacity: 2, refillPerSecond: 1, clock });
    await throttle((text: string) => text.length, bucket, { cost: (text) => text.length })('abcd');
    expect(bucket.available).toBe(6);
    const send = throttle((user: { id: string }) => user.id, keyed, { key: (user) => user.id, cost: 2 });
    await send({ id: 'ann' });
    expect([keyed.available('ann'), keyed.available('bob')]).toEqual([0, 2]);
  });

  it('passes maxWaitMs and signal to acquire', async () => {
    const { clock } = fakeClock();
    const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 1, initialTokens: 0, clock });
    await expect(throttle(() => 1, bucket, { maxWaitMs: 10 })()).rejects.toBeInstanceOf(RateLimitError);
    const controller = new AbortController();
    const pending = throttle(() => 1, bucket, { signal: controller.signal })();
    controller.abort('stop');
    await expect(pending).rejects.toBe('stop');
  });

  it('is fully typed: same parameters, this and an awaited return type', () => {
    const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 1 });
    const wrapped = throttle(function (this: { base: number }, a: number, b: string): Promise<boolean> {
      return Promise.resolve(this.base > a && b.length > 0);
    }, bucket);
    expectTypeOf(wrapped).parameters.toEqualTypeOf<[number, string]>();
    expectTypeOf(wrapped).thisParameter.toEqualTypeOf<{ base: number }>();
    expectTypeOf(wrapped).returns.toEqualTypeOf<Promise<boolean>>();
    // @ts-expect-error a keyed limiter needs a key function
    throttle((n: number) => n, new KeyedLimiter({ capacity: 1, refillPerSecond: 1 }));
  });

  it('rejects bad arguments with a TypeError', () => {
    const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 1 });
    expect(() => throttle('fn' as never, bucket)).toThrow('`fn`');
    expect(() => throttle(() => 1, {} as never)).toThrow('`limiter`');
    expect(() => throttle(() => 1, bucket, { cost: '2' as never })).toThrow('`cost`');
    expect(() => throttle(() => 1, bucket, { key: 'k' as never })).toThrow('`key`');
  });
});

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

  it('resolves at once when every limit is there', async () => {
    const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 1, clock: manualClock() });
    await acquireAll([[bucket, 1]]);
    expect(bucket.available).toBe(0);
    await expect(acquireAll('x' as never)).rejects.toThrow('`limits`');
  });
});

describe('parseRetryAfter', () => {
  it.each([
    ['120', 120_000],
    [' 1.5 ', 1_500],
    ['Wed, 21 Oct 2015 07:28:10 GMT', 10_000],
    ['Wed, 21 Oct 2015 07:27:00 GMT', 0],
    ['soon', undefined],
    [null, undefined],
  ])('reads %o as %o ms', (value, expected) => {
    expect(parseRetryAfter(value, Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(expected);
  });
});

// A real server on loopback and the global fetch; real time, since what is tested is what
// reaches the server and when.
describe('limitFetch against a real server', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });

  async function serve(answer: (index: number) => { status: number; retryAfter?: string }) {
    const arrivalsMs: number[] = [];
    const refusalsSentMs: number[] = [];
    const server = createServer((_req, res) => {
      const index = arrivalsMs.push(performance.now()) - 1;
      const { status, retryAfter } = answer(index);
      if (retryAfter !== undefined) res.setHeader('Retry-After', retryAfter);
      res.statusCode = status;
      res.end(String(index), () => {
        if (status !== 200) refusalsSentMs.push(performance.now());
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    closers.push(() => new Promise((resolve) => server.close(() => resolve())));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, arrivalsMs, refusalsSentMs };
  }

  it('pauses on 429 with Retry-After in seconds and retries after the pause, under the limit', async () => {
    const server = await serve((index) => (index === 2 ? { status: 429, retryAfter: '1' } : { status: 200 }));
    const bucket = new TokenBucket({ capacity: 3, refillPerSecond: 3 });
    const limitedFetch = limitFetch(fetch, bucket, { retries: 1 });
    const statuses = await Promise.all(Array.from({ length: 6 }, () => limitedFetch(server.url).then((response) => response.status)));
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200]);
    const refusalMs = server.refusalsSentMs[0]!;
    // Nothing reached the server during the second after the 429 was sent.
    const during = server.arrivalsMs.filter((atMs) => atMs > refusalMs && atMs < refusalMs + 1_000);
    expect(during).toEqual([]);
    expect(server.arrivalsMs.length).toBe(7);
    // Never more than the limit allows in any window, capacity + rate x window, allowing
    // 20 ms for the jitter between a grant and its request reaching the server.
    const arrivals = [...server.arrivalsMs].sort((a, b) => a - b);
    for (let i = 0; i < arrivals.length; i++) {
      for (let j = i; j < arrivals.length; j++) expect(j - i + 1).toBeLessThanOrEqual(3 + (3 * (arrivals[j]! - arrivals[i]! + 20)) / 1000);
    }
  });

  it('pauses on 503 with Retry-After as an HTTP date, and returns the response when retries are spent', async () => {
    const server = await serve((index) => (index === 0 ? { status: 503, retryAfter: new Date(Date.now() + 2_000).toUTCString() } : { status: 200 }));
    const bucket = new TokenBucket({ capacity: 5, refillPerSecond: 5 });
    const limitedFetch = limitFetch(fetch, bucket);
    const first = await limitedFetch(server.url);
    expect(first.status).toBe(503);
    const second = await limitedFetch(server.url);
    expect(second.status).toBe(200);
    // An HTTP date has whole seconds: the pause was between 1 and 2 seconds.
    expect(server.arrivalsMs[1]! - server.refusalsSentMs[0]!).toBeGreaterThanOrEqual(1_000);
  });

  it('keys requests on a keyed limiter and returns other answers as they are', async () => {
    const server = await serve(() => ({ status: 404 }));
    const keyed = new KeyedLimiter({ capacity: 1, refillPerSecond: 1 });
    const limitedFetch = limitFetch(fetch, keyed, { key: (input) => new URL(String(input)).host, cost: () => 1 });
    expect((await limitedFetch(server.url)).status).toBe(404);
    expect(keyed.available(new URL(server.url).host)).toBeLessThan(1);
    expect(() => limitFetch(fetch, keyed, { retries: -1 })).toThrow('`retries`');
    expect(() => limitFetch('fetch' as never, keyed)).toThrow('`fetch`');
    expect(() => limitFetch(fetch, {} as never)).toThrow('`limiter`');
  });
});

describe('RateLimitError across builds', () => {
  it('is recognised by instanceof from any copy of the class', () => {
    const lookalike = Object.assign(new Error('x'), { name: 'RateLimitError', retryAfterMs: 5 });
    expect(lookalike).toBeInstanceOf(RateLimitError);
    expect(new Error('x')).not.toBeInstanceOf(RateLimitError);
  });
});
