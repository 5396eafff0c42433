import { describe, expect, expectTypeOf, it } from 'vitest';
import { KeyedLimiter, RateLimitError, TokenBucket } from '../src/index.js';
import * as outbound from '../src/outbound.js';
import { throttle } from '../src/outbound.js';
import { fakeClock, manualClock } from './support/fake-clock.js';

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
    // @ts-expect-error a keyed limiter needs a key function (and is refused without one at run time too)
    expect(() => throttle((n: number) => n, new KeyedLimiter({ capacity: 1, refillPerSecond: 1 }))).toThrow('the `key` option is required with a keyed limiter');
  });

  it('rejects bad arguments with a TypeError', () => {
    const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 1 });
    expect(() => throttle('fn' as never, bucket)).toThrow('`fn`');
    expect(() => throttle(() => 1, {} as never)).toThrow('`limiter`');
    expect(() => throttle(() => 1, bucket, { cost: '2' as never })).toThrow('`cost`');
    expect(() => throttle(() => 1, bucket, { key: 'k' as never })).toThrow('`key`');
    expect(() => throttle(() => 1, bucket, null as never)).toThrow('`options`');
  });

  it('says at once that a keyed limiter needs the `key` option (it used to fail at the first call)', () => {
    const keyed = new KeyedLimiter({ capacity: 1, refillPerSecond: 1 });
    expect(() => throttle((n: number) => n, keyed as never)).toThrow(new TypeError('Expected `key` to be a function (the `key` option is required with a keyed limiter), got `undefined` (undefined)'));
  });

  it('rejects unknown option names, naming the closest known one', () => {
    const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 1 });
    expect(() => throttle(() => 1, bucket, { maxWait: 5 } as never)).toThrow(new TypeError('Unknown option `maxWait` (did you mean `maxWaitMs`?)'));
  });
});

describe('RateLimitError across builds', () => {
  it('is recognised by instanceof from any copy of the class', () => {
    const lookalike = Object.assign(new Error('x'), { name: 'RateLimitError', retryAfterMs: 5 });
    expect(lookalike).toBeInstanceOf(RateLimitError);
    expect(new Error('x')).not.toBeInstanceOf(RateLimitError);
  });
});

describe('fairbucket/outbound', () => {
  it('exports exactly its functions', () => {
    expect(Object.keys(outbound).sort()).toEqual(['acquireAll', 'limitFetch', 'parseRetryAfter', 'throttle', 'tryAcquireAll']);
  });
});
