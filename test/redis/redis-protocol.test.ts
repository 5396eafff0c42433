import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { KeyedLimiter, RateLimitError } from '../../src/index.js';
import { RedisDataError, RedisKeyedLimiter, type RedisKeyedLimiterOptions, RedisTimeoutError } from '../../src/redis.js';
import { DECIDE_SCRIPT_SHA1 } from '../../src/redis-script.js';
import { fakeClock } from '../support/fake-clock.js';
import { flush, scriptedLimiter } from '../support/scripted-redis.js';

// What the limiter sends and how it reads the script's replies, on fake time, against a
// client whose replies the test hands out (the script itself runs in the real-Redis suites).

/** Capacity 1 at 2 per second: a token every 500 ms. */
const setUp = (options: Partial<RedisKeyedLimiterOptions> = {}) => scriptedLimiter({ capacity: 1, refillPerSecond: 2, ...options });

describe('RedisKeyedLimiter and its script (fake time, scripted replies)', () => {
  describe('what it sends', () => {
    it('one EVALSHA per request, naming the key, the operation, the limits and the cost', async () => {
      const { client, limiter } = setUp({ prefix: 'p:' });
      const calls = [
        limiter.tryAcquire('a', 0.5),
        limiter.take('b'),
        limiter.acquire('c', 1, { maxWaitMs: 250 }),
        limiter.acquire('d'),
        limiter.retryAfter('e', 1),
        limiter.available('f'),
        limiter.refund('g', 0.25),
      ];
      for (let i = 0; i < calls.length; i++) client.answer('10');
      await Promise.all(calls);
      expect(client.pending.map(({ args }) => args)).toEqual([
        ['EVALSHA', DECIDE_SCRIPT_SHA1, '1', 'p:a', 'take', '1', '2', '0.5'],
        ['EVALSHA', DECIDE_SCRIPT_SHA1, '1', 'p:b', 'take', '1', '2', '1'],
        ['EVALSHA', DECIDE_SCRIPT_SHA1, '1', 'p:c', 'reserve', '1', '2', '1', '250'],
        ['EVALSHA', DECIDE_SCRIPT_SHA1, '1', 'p:d', 'reserve', '1', '2', '1', '-1'],
        ['EVALSHA', DECIDE_SCRIPT_SHA1, '1', 'p:e', 'peek', '1', '2', '1'],
        ['EVALSHA', DECIDE_SCRIPT_SHA1, '1', 'p:f', 'peek', '1', '2', '0'],
        ['EVALSHA', DECIDE_SCRIPT_SHA1, '1', 'p:g', 'refund', '1', '2', '0.25'],
      ]);
    });

    it('refuses a cost above the capacity: tryAcquire without a round trip, take with a peek to report the bucket', async () => {
      const { client, limiter, denials } = setUp();
      expect(await limiter.tryAcquire('a', 2)).toBe(false);
      expect(client.pending).toEqual([]);
      const decision = limiter.take('a', 2);
      client.answer('00.5');
      expect(await decision).toEqual({ granted: false, remaining: 0.5, retryAfterMs: Infinity, resetAfterMs: 250, limit: 1 });
      expect(client.pending.map(({ args }) => args[4])).toEqual(['peek']);
      expect(denials).toEqual([
        { key: 'a', cost: 2, retryAfterMs: Infinity },
        { key: 'a', cost: 2, retryAfterMs: Infinity },
      ]);
    });
  });

  describe('how it reads the replies', () => {
    it('derives every figure of a decision from the tokens left', async () => {
      const { client, limiter, denials } = setUp();
      const granted = limiter.take('a');
      client.answer('10.25'); // outcome 1, then the tokens
      expect(await granted).toEqual({ granted: true, remaining: 0.25, retryAfterMs: 0, resetAfterMs: 375, limit: 1 });
      const refused = limiter.take('a');
      client.answer('00.5');
      expect(await refused).toEqual({ granted: false, remaining: 0.5, retryAfterMs: 250, resetAfterMs: 250, limit: 1 });
      expect(denials).toEqual([{ key: 'a', cost: 1, retryAfterMs: 250 }]);
      const owed = limiter.take('a');
      client.answer('0-1.5'); // reservations owed
      expect(await owed).toMatchObject({ remaining: 0, retryAfterMs: 1250, resetAfterMs: 1250 });
    });

    it('agrees with the script that tokens a few ulps short of the cost are there', async () => {
      const { client, limiter } = setUp();
      const almost = limiter.retryAfter('a');
      client.answer('00.999999999999995');
      expect(await almost).toBe(0);
      const short = limiter.retryAfter('a');
      client.answer('00.99999999999');
      expect(await short).toBeGreaterThan(0);
    });

    it.each([['1'], ['41'], ['-1'], ['g1'], ['1many'], [''], [[1, '1']], [{ 0: 1, 1: '1', length: 2 }], [null], [7]])(
      'treats the reply %j as a failure',
      async (reply) => {
        const { client, limiter, errors } = setUp({ onRedisError: 'deny' });
        const answer = limiter.tryAcquire('a');
        client.answer(reply);
        expect(await answer).toBe(false);
        expect(errors).toEqual([new TypeError(`Unexpected reply from the Redis script: ${String(reply)}`)]);
      },
    );

    it('answers a key holding no bucket by the policy, reports a RedisDataError, and marks nothing down', async () => {
      const { client, limiter, errors } = setUp({ onRedisError: 'deny', prefix: 'p:' });
      const answer = limiter.tryAcquire('a');
      client.answer([3, 'WRONGTYPE Operation against a key holding the wrong kind of value']);
      expect(await answer).toBe(false);
      expect(errors).toEqual([new RedisDataError('p:a', 'WRONGTYPE Operation against a key holding the wrong kind of value')]);
      expect(errors[0]).toMatchObject({ name: 'RedisDataError', key: 'p:a' });
      expect(limiter.healthy).toBe(true);
      const next = limiter.tryAcquire('b');
      client.answer('10');
      expect(await next).toBe(true);
      expect(client.sent()).toEqual(['take 1', 'take 1']);
      expect(limiter.stats()).toMatchObject({ failures: 1, fallbacks: 1 });
    });

    it("refuses acquire by 'deny' on a key holding no bucket, with the RedisDataError as its cause", async () => {
      const { client, limiter } = setUp({ onRedisError: 'deny' });
      const refused = limiter.acquire('a').catch((error: unknown) => error);
      client.answer([3, 'WRONGTYPE Operation against a key holding the wrong kind of value', 'fairbucket:a']);
      expect(await refused).toMatchObject({ name: 'RateLimitError', cause: { name: 'RedisDataError', key: 'fairbucket:a' } });
      expect(limiter.healthy).toBe(true);
    });

    it('treats a rejection without an error as a failure too', async () => {
      const { client, limiter, errors } = setUp({ onRedisError: 'deny' });
      const answer = limiter.tryAcquire('a');
      client.pending[0]!.reject(undefined);
      expect(await answer).toBe(false);
      expect(errors).toEqual([new Error('Redis command failed')]);
    });
  });

  describe('when Redis lost the script (NOSCRIPT)', () => {
    it('sends it whole once per node; the other calls wait for that EVAL and go by SHA-1 again', async () => {
      const { client, limiter } = setUp({ capacity: 5 });
      const names = () => client.pending.map(({ args }) => args[0]);
      const calls = [limiter.tryAcquire('a'), limiter.tryAcquire('b'), limiter.tryAcquire('c')];
      for (const command of client.pending.slice(0, 3)) command.reject(new Error('NOSCRIPT No matching script. Please use EVAL.'));
      await flush();
      expect(names()).toEqual(['EVALSHA', 'EVALSHA', 'EVALSHA', 'EVAL']);
      client.pending[3]!.resolve('14');
      await flush();
      expect(names()).toEqual(['EVALSHA', 'EVALSHA', 'EVALSHA', 'EVAL', 'EVALSHA', 'EVALSHA']);
      client.pending[4]!.resolve('14');
      client.pending[5]!.resolve('14');
      expect(await Promise.all(calls)).toEqual([true, true, true]);
      expect(limiter.stats()).toMatchObject({ failures: 0, fallbacks: 0 });
    });

    it('answers a call that timed out while waiting for the EVAL by the policy, and does not send it again', async () => {
      const { fake, client, limiter } = setUp({ capacity: 5, onRedisError: 'deny' });
      const first = limiter.tryAcquire('a');
      const second = limiter.tryAcquire('b');
      client.pending[0]!.reject(new Error('NOSCRIPT'));
      client.pending[1]!.reject(new Error('NOSCRIPT'));
      await flush();
      await fake.tickAsync(101);
      expect(await Promise.all([first, second])).toEqual([false, false]);
      client.pending[2]!.resolve('14'); // the EVAL's late grant: given back
      await flush();
      expect(client.pending.map(({ args }) => `${args[0]} ${args[4]}`)).toEqual(['EVALSHA take', 'EVALSHA take', 'EVAL take', 'EVALSHA refund']);
    });

    it('sends it whole itself when NOSCRIPT comes again after waiting (the EVAL failed)', async () => {
      const { client, limiter } = setUp({ capacity: 5, onRedisError: 'deny' });
      const names = () => client.pending.map(({ args }) => args[0]);
      const calls = [limiter.tryAcquire('a'), limiter.tryAcquire('b')];
      for (const command of client.pending.slice(0, 2)) command.reject(new Error('NOSCRIPT'));
      await flush();
      client.pending[2]!.reject(new Error('OOM command not allowed'));
      await flush();
      client.pending[3]!.reject(new Error('NOSCRIPT'));
      await flush();
      expect(names()).toEqual(['EVALSHA', 'EVALSHA', 'EVAL', 'EVALSHA', 'EVAL']);
      client.pending[4]!.resolve('14');
      expect(await Promise.all(calls)).toEqual([false, true]);
    });
  });

  describe('listeners and timers', () => {
    it('leaves no abort listener behind: granted at once, after sleeping, or aborted in flight', async () => {
      const { fake, client, limiter, armedTimers } = setUp();
      const controller = new AbortController();
      const { signal } = controller;
      const now = limiter.acquire('a', 1, { signal });
      expect(getEventListeners(signal, 'abort')).toHaveLength(1);
      client.answer('10');
      await now;
      expect(getEventListeners(signal, 'abort')).toHaveLength(0);
      const later = limiter.acquire('a', 1, { signal });
      client.answer('2-1');
      await flush();
      expect(getEventListeners(signal, 'abort')).toHaveLength(1); // the sleep's
      await fake.tickAsync(500);
      await later;
      expect(getEventListeners(signal, 'abort')).toHaveLength(0);
      const aborted = limiter.acquire('a', 1, { signal });
      controller.abort(new Error('gone'));
      await expect(aborted).rejects.toThrow('gone');
      expect(getEventListeners(signal, 'abort')).toHaveLength(0);
      client.answer('00');
      await flush();
      await fake.tickAsync(500);
      expect(armedTimers()).toBe(0);
    });

    it('arms one timer for every command in flight, not one per command, and none once nothing is in flight', async () => {
      const { fake, client, limiter, armedTimers, delaysMs } = setUp({ timeoutMs: 100 });
      const calls = [limiter.tryAcquire('a'), limiter.tryAcquire('b'), limiter.tryAcquire('c')];
      expect(armedTimers()).toBe(1);
      await fake.tickAsync(40);
      calls.push(limiter.tryAcquire('d'));
      expect(armedTimers()).toBe(1);
      for (const index of [2, 0, 3, 1]) client.pending[index]!.resolve('10'); // out of order, as a cluster's nodes answer
      expect(await Promise.all(calls)).toEqual([true, true, true, true]);
      await fake.tickAsync(101);
      expect(armedTimers()).toBe(0);
      expect(delaysMs).toEqual([100, 1]); // its timeout, then the one timer turn; nothing was left to time out
    });

    it('times out each command timeoutMs after it was sent, however many share the timer', async () => {
      const { fake, limiter, errors } = setUp({ timeoutMs: 100, onRedisError: 'deny' });
      const answers: boolean[] = [];
      void limiter.tryAcquire('a').then((granted) => answers.push(granted));
      await fake.tickAsync(60);
      void limiter.tryAcquire('b').then((granted) => answers.push(granted)); // another key: sent, as nothing is down yet
      await fake.tickAsync(41);
      expect(answers).toEqual([false]);
      await fake.tickAsync(59);
      expect(answers).toEqual([false]);
      await fake.tickAsync(1);
      expect(answers).toEqual([false, false]);
      expect(errors).toEqual([new RedisTimeoutError(100), new RedisTimeoutError(100)]);
    });
  });

  describe('while Redis fails', () => {
    it('sends one probe at a time, a peek of the failing key, and no other until timeoutMs has passed since the last', async () => {
      const { fake, client, limiter, errors } = setUp({ onRedisError: 'allow' });
      const first = limiter.tryAcquire('a');
      client.pending[0]!.reject(new Error('ECONNREFUSED'));
      await first;
      const sent = client.sent;
      await Promise.all([limiter.tryAcquire('a'), limiter.tryAcquire('a')]);
      expect(sent()).toEqual(['take 1', 'peek 0']); // the second call found a probe in flight
      expect(client.pending[1]!.args[3]).toBe('fairbucket:a');
      client.pending[1]!.reject(new Error('ECONNREFUSED'));
      await flush();
      expect(limiter.stats()).toMatchObject({ failures: 2, fallbacks: 3 });
      await fake.tickAsync(99);
      await limiter.tryAcquire('a');
      expect(sent()).toEqual(['take 1', 'peek 0']);
      await fake.tickAsync(1);
      await limiter.tryAcquire('a');
      expect(sent()).toEqual(['take 1', 'peek 0', 'peek 0']);
      expect(errors.map(String)).toEqual(['Error: ECONNREFUSED', 'Error: ECONNREFUSED']);
    });

    it('does not give back twice: a late reply to a refund is only a reply', async () => {
      const { fake, client, limiter } = setUp({ onRedisError: 'deny' });
      const refund = limiter.refund('a', 1);
      await fake.tickAsync(101);
      await refund;
      client.answer('11');
      await flush();
      expect(client.pending).toHaveLength(1);
    });

    it('reports a give-back that fails', async () => {
      const { client, limiter, errors } = setUp();
      const controller = new AbortController();
      const waiting = limiter.acquire('a', 1, { signal: controller.signal });
      controller.abort(new Error('gone'));
      await expect(waiting).rejects.toThrow('gone');
      client.answer('2-1'); // granted after all: given back
      await flush();
      client.pending[1]!.reject(new Error('READONLY'));
      await flush();
      expect(errors.map(String)).toEqual(['Error: READONLY']);
      expect(limiter.stats().failures).toBe(1);
    });

    it("counts what 'allow' grants and tells onDeny what 'deny' and a local limiter refuse", async () => {
      const allowing = setUp({ onRedisError: 'allow' });
      const first = allowing.limiter.acquire('a');
      allowing.client.pending[0]!.reject(new Error('down'));
      await first;
      await allowing.limiter.acquire('a');
      expect(allowing.limiter.stats()).toMatchObject({ granted: 2, denied: 0 });

      const denying = setUp({ onRedisError: 'deny' });
      const refused = denying.limiter.acquire('a').catch((error: unknown) => error);
      denying.client.pending[0]!.reject(new Error('down'));
      expect(await refused).toMatchObject({ message: "Redis is unavailable: refused by onRedisError 'deny', retry after 100 ms", retryAfterMs: 100 });
      expect(denying.denials).toEqual([{ key: 'a', cost: 1, retryAfterMs: 100 }]);

      const { clock } = fakeClock();
      const local = setUp({ onRedisError: new KeyedLimiter({ capacity: 1, refillPerSecond: 2, clock }) });
      const spent = local.limiter.acquire('a');
      local.client.pending[0]!.reject(new Error('down'));
      await spent;
      const tooLong = await local.limiter.acquire('a', 1, { maxWaitMs: 10 }).catch((error: unknown) => error);
      expect(tooLong).toBeInstanceOf(RateLimitError);
      expect(local.denials).toEqual([{ key: 'a', cost: 1, retryAfterMs: 500 }]);
      expect(local.limiter.stats()).toMatchObject({ granted: 1, denied: 1 });
      const controller = new AbortController();
      const aborted = local.limiter.acquire('a', 1, { signal: controller.signal }); // waits in the local limiter
      controller.abort(new Error('left'));
      await expect(aborted).rejects.toThrow('left');
      expect(local.limiter.stats().denied).toBe(1); // an abort is not a refusal
    });
  });

  describe('options', () => {
    const redis = { sendCommand: async () => null };
    it.each([
      [{ timeoutMs: 0 }, RangeError, 'Expected `timeoutMs` to be a whole number >= 1, got `0` (number)'],
      [{ timeoutMs: '100' }, TypeError, 'Expected `timeoutMs` to be a whole number >= 1, got `"100"` (string)'],
      [{ onRedisError: null }, TypeError, "Expected `onRedisError` to be 'allow', 'deny' or a KeyedLimiter, got `null` (object)"],
      [{ redis: null }, TypeError, 'Expected `redis` to be an ioredis client or Cluster (with call), a node-redis client (sendCommand(args)) or cluster (createCluster: sendCommand(firstKey, isReadonly, args)), or an object with sendCommand(args), got `null` (object)'],
      [{ redis: 'redis://127.0.0.1' }, TypeError, 'Expected `redis` to be an ioredis client or Cluster'],
      [{ redis: Object.assign(async () => null, { sendCommand: async () => null }) }, TypeError, 'Expected `redis` to be an ioredis client or Cluster'],
      // node_redis 3: its sendCommand takes a callback and returns a boolean.
      [{ redis: { sendCommand: (): boolean => true, send_command: (): boolean => true } }, TypeError, 'Expected `redis` to be an ioredis client or Cluster'],
    ])('throws on %o', (override, ErrorType, message) => {
      const create = () => new RedisKeyedLimiter({ redis, capacity: 1, refillPerSecond: 1, ...override } as unknown as RedisKeyedLimiterOptions);
      expect(create).toThrow(ErrorType);
      expect(create).toThrow(message);
    });

    it('accepts a timeout of 1 ms', () => {
      expect(() => new RedisKeyedLimiter({ redis, capacity: 1, refillPerSecond: 1, timeoutMs: 1 })).not.toThrow();
    });

    it('names the bad cost of tryAcquire and take', async () => {
      const limiter = new RedisKeyedLimiter({ redis, capacity: 1, refillPerSecond: 1 });
      await expect(limiter.tryAcquire('a', -1)).rejects.toThrow('Expected `cost` to be a finite number >= 0, got `-1` (number)');
      await expect(limiter.take('a', Number.NaN)).rejects.toThrow('Expected `cost` to be a finite number >= 0, got `NaN` (number)');
    });
  });

  it('RedisTimeoutError says how long Redis had', () => {
    const error = new RedisTimeoutError(250);
    expect([error.name, error.message, error.timeoutMs, error instanceof Error]).toEqual(['RedisTimeoutError', 'Redis did not answer within 250 ms', 250, true]);
  });
});
