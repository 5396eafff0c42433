import { describe, expect, it } from 'vitest';
import { fetchRateLimit, rateLimit } from '../src/http.js';
import { KeyedLimiter, RateLimitError, TokenBucket } from '../src/index.js';
import { acquireAll, limitFetch, throttle } from '../src/outbound.js';
import { manualClock } from './support/fake-clock.js';

/** Returns the error `run` throws or rejects with. */
async function errorOf(run: () => unknown): Promise<Error> {
  try {
    await run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

const clock = manualClock();
const bucket = () => new TokenBucket({ capacity: 2, refillPerSecond: 1, clock });
const keyed = () => new KeyedLimiter({ capacity: 2, refillPerSecond: 1, clock });

// One message form for all bad input, naming the parameter and the value (p-throttle's).
describe('error messages, exactly', () => {
  it.each([
    ['options', () => new TokenBucket(undefined as never), TypeError, 'Expected `options` to be an object, got `undefined` (undefined)'],
    ['capacity', () => new TokenBucket({ capacity: 0, refillPerSecond: 1 }), RangeError, 'Expected `capacity` to be a finite number > 0 and <= 1000000000000, got `0` (number)'],
    ['refillPerSecond', () => new KeyedLimiter({ capacity: 1, refillPerSecond: -1 }), RangeError, 'Expected `refillPerSecond` to be a finite number >= 0 and <= 1000000000, got `-1` (number)'],
    ['initialTokens', () => new TokenBucket({ capacity: 5, refillPerSecond: 1, initialTokens: 6 }), RangeError, 'Expected `initialTokens` to be a finite number >= 0 and <= 5, got `6` (number)'],
    ['clock', () => new TokenBucket({ capacity: 5, refillPerSecond: 1, clock: 'fast' as never }), TypeError, 'Expected `clock` to be an object with now, setTimeout and clearTimeout, got `"fast"` (string)'],
    ['clock null', () => new TokenBucket({ capacity: 5, refillPerSecond: 1, clock: null as never }), TypeError, 'Expected `clock` to be an object with now, setTimeout and clearTimeout, got `null` (object)'],
    ['clock.clearTimeout', () => new TokenBucket({ capacity: 5, refillPerSecond: 1, clock: { now: () => 0, setTimeout: () => 0 } as never }), TypeError, 'Expected `clock.clearTimeout` to be a function, got `undefined` (undefined)'],
    ['maxKeys', () => new KeyedLimiter({ capacity: 1, refillPerSecond: 1, maxKeys: 0 }), RangeError, 'Expected `maxKeys` to be a whole number >= 1 or Infinity, got `0` (number)'],
    ['onDeny', () => new KeyedLimiter({ capacity: 1, refillPerSecond: 1, onDeny: 'log' as never }), TypeError, 'Expected `onDeny` to be a function, got `"log"` (string)'],
    ['cost', () => bucket().tryAcquire(Number.NaN), RangeError, 'Expected `cost` to be a finite number >= 0, got `NaN` (number)'],
    ['cost type', () => keyed().retryAfter('k', '1' as never), TypeError, 'Expected `cost` to be a finite number >= 0, got `"1"` (string)'],
    ['key', () => keyed().available(5 as never), TypeError, 'Expected `key` to be a string, got `5` (number)'],
    ['cost above capacity', () => bucket().acquire(3), RangeError, 'Expected `cost` to be at most the capacity (2): the cost exceeds the capacity, got `3` (number)'],
    ['reserve above capacity', () => keyed().reserve('k', 3), RangeError, 'Expected `cost` to be at most the capacity (2): the cost exceeds the capacity, got `3` (number)'],
    ['acquire options', () => bucket().acquire(1, 5 as never), TypeError, 'Expected `options` to be an object, got `5` (number)'],
    ['signal', () => keyed().acquire('k', 1, { signal: 'stop' as never }), TypeError, 'Expected `signal` to be an AbortSignal, got `"stop"` (string)'],
    ['maxWaitMs', () => bucket().acquire(1, { maxWaitMs: -1 }), RangeError, 'Expected `maxWaitMs` to be a finite number >= 0, got `-1` (number)'],
    ['amount', () => keyed().refund('k', -1), RangeError, 'Expected `amount` to be a finite number >= 0 and <= 1000000000000, got `-1` (number)'],
    ['ms', () => bucket().pauseFor(Infinity), RangeError, 'Expected `ms` to be a finite number >= 0, got `Infinity` (number)'],
    ['setCapacity', () => bucket().setCapacity(0), RangeError, 'Expected `capacity` to be a finite number > 0 and <= 1000000000000, got `0` (number)'],
    ['setRate', () => keyed().setRate(Number.NaN), RangeError, 'Expected `refillPerSecond` to be a finite number >= 0 and <= 1000000000, got `NaN` (number)'],
    ['limiter', () => rateLimit({ limiter: {} as never }), TypeError, 'Expected `limiter` to be a keyed limiter with take(key, cost), got `[object Object]` (object)'],
    ['headers', () => rateLimit({ limiter: keyed(), headers: 'all' as never }), TypeError, 'Expected `headers` to be \'draft\', \'legacy\', \'both\' or \'none\', got `"all"` (string)'],
    ['trustProxy', () => rateLimit({ limiter: keyed(), trustProxy: 1.5 }), RangeError, 'Expected `trustProxy` to be a boolean or a whole number >= 0, got `1.5` (number)'],
    ['fetch key', () => fetchRateLimit({ limiter: keyed() }), TypeError, 'Expected `key` to be a function (a fetch Request carries no client address; or set trustProxy), got `undefined` (undefined)'],
    ['http options', () => rateLimit(null as never), TypeError, 'Expected `options` to be an object, got `null` (object)'],
    ['fn', () => throttle('fn' as never, bucket()), TypeError, 'Expected `fn` to be a function, got `"fn"` (string)'],
    ['throttle limiter', () => throttle(() => 1, {} as never), TypeError, 'Expected `limiter` to be a limiter with acquire(), got `[object Object]` (object)'],
    ['throttle cost', () => throttle(() => 1, bucket(), { cost: '2' as never }), TypeError, 'Expected `cost` to be a number or a function, got `"2"` (string)'],
    ['throttle key', () => throttle(() => 1, bucket(), { key: 'k' as never }), TypeError, 'Expected `key` to be a function, got `"k"` (string)'],
    ['limits', () => acquireAll('x' as never), TypeError, 'Expected `limits` to be an array of [limiter, cost] or [keyedLimiter, key, cost] entries, got `"x"` (string)'],
    ['acquireAll maxWaitMs', () => acquireAll([], { maxWaitMs: -5 }), RangeError, 'Expected `maxWaitMs` to be a finite number >= 0, got `-5` (number)'],
    ['fetch', () => limitFetch('fetch' as never, bucket()), TypeError, 'Expected `fetch` to be a function, got `"fetch"` (string)'],
    ['limitFetch limiter', () => limitFetch(fetch, { acquire: () => Promise.resolve() } as never), TypeError, 'Expected `limiter` to be a limiter with acquire() and pauseFor(), or a list of budgets, got `[object Object]` (object)'],
    ['retries', () => limitFetch(fetch, bucket(), { retries: 1.5 }), RangeError, 'Expected `retries` to be a whole number >= 0, got `1.5` (number)'],
  ])('%s', async (_name, run, ErrorType, message) => {
    const error = await errorOf(run);
    expect(error).toBeInstanceOf(ErrorType);
    expect(error.message).toBe(message);
  });

  it('a clock reading that is not a number', async () => {
    const reading = { value: 0 as unknown };
    const limiter = new TokenBucket({ capacity: 1, refillPerSecond: 1, clock: { ...manualClock(), now: () => reading.value as number } });
    reading.value = Number.NaN;
    const notANumber = await errorOf(() => limiter.tryAcquire());
    expect([notANumber.name, notANumber.message]).toEqual(['RangeError', 'Expected `clock.now()` to be a finite number of milliseconds within ±2^53, got `NaN` (number)']);
    reading.value = '5';
    const error = await errorOf(() => limiter.available);
    expect([error.name, error.message]).toEqual(['TypeError', 'Expected `clock.now()` to be a finite number of milliseconds within ±2^53, got `"5"` (string)']);
  });

  it('RateLimitError', async () => {
    const limiter = new TokenBucket({ capacity: 1, refillPerSecond: 10, initialTokens: 0, clock: manualClock() });
    const error = await errorOf(() => limiter.acquire(1, { maxWaitMs: 0 }));
    expect([error.name, error.message, (error as RateLimitError).retryAfterMs]).toEqual(['RateLimitError', 'Rate limit exceeded: retry after 100 ms', 100]);
    expect(error).toBeInstanceOf(Error);
  });
});
