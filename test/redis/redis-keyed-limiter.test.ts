import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import express from 'express';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyedLimiter, RateLimitError } from '../../src/index.js';
import { rateLimit } from '../../src/http.js';
import { RedisDataError, RedisKeyedLimiter } from '../../src/redis.js';
import { DECIDE_ALL_SCRIPT, DECIDE_ALL_SCRIPT_SHA1, DECIDE_SCRIPT, DECIDE_SCRIPT_SHA1 } from '../../src/redis-script.js';
import { RespClient } from '../support/resp-client.js';
import { type TestClient, clientKinds, redisUrl, uniqueKey } from './clients.js';

// Real Redis, real time: the decisions are made on the Redis server's clock. Rates are
// chosen so that the time a test takes either cannot matter (0, or a refill of a
// millionth of a token per second) or is the thing tested, with wide margins.

const sleepMs = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the scripts SHA-1s', () => {
  it('are the SHA-1s of the scripts, so EVALSHA finds the scripts Redis cached', () => {
    expect(DECIDE_SCRIPT_SHA1).toBe(createHash('sha1').update(DECIDE_SCRIPT).digest('hex'));
    expect(DECIDE_ALL_SCRIPT_SHA1).toBe(createHash('sha1').update(DECIDE_ALL_SCRIPT).digest('hex'));
  });
});

describe.runIf(redisUrl).each(Object.keys(clientKinds))('RedisKeyedLimiter through %s (real Redis)', (kind) => {
  let client: TestClient;
  let admin: RespClient;
  beforeAll(async () => {
    client = await clientKinds[kind]!();
    admin = await RespClient.connect(redisUrl);
  });
  afterAll(async () => {
    await client.close();
    admin.close();
  });
  const limiter = (capacity: number, refillPerSecond: number, prefix = `${uniqueKey('t')}:`) =>
    new RedisKeyedLimiter({ redis: client.redis, capacity, refillPerSecond, prefix, onRedisError: 'deny' });

  describe('tryAcquire and take', () => {
    it('grants a new key its whole capacity, then refuses', async () => {
      const perUser = limiter(3, 0);
      expect([await perUser.tryAcquire('u'), await perUser.tryAcquire('u', 3), await perUser.tryAcquire('u', 0.5)]).toEqual([true, false, true]);
      expect(await perUser.take('u', 1.5)).toEqual({ granted: true, remaining: 0, retryAfterMs: 0, resetAfterMs: Infinity, limit: 3 });
      expect(await perUser.take('u')).toEqual({ granted: false, remaining: 0, retryAfterMs: Infinity, resetAfterMs: Infinity, limit: 3 });
      expect(await perUser.tryAcquire('other', 3)).toBe(true);
      expect(perUser.stats()).toMatchObject({ granted: 4, denied: 2, failures: 0, fallbacks: 0 });
    });

    it('refuses a cost above the capacity without asking Redis', async () => {
      const counting = await RespClient.connect(redisUrl);
      const perUser = new RedisKeyedLimiter({ redis: counting, capacity: 2, refillPerSecond: 1, prefix: uniqueKey('p') });
      expect(await perUser.tryAcquire('u', 3)).toBe(false);
      expect(await perUser.retryAfter('u', 3)).toBe(Infinity);
      expect(counting.sent).toEqual([]);
      counting.close();
    });

    it('refills continuously on the Redis server clock', async () => {
      const perUser = limiter(1, 20); // one token every 50 ms
      expect(await perUser.tryAcquire('u')).toBe(true);
      expect(await perUser.tryAcquire('u')).toBe(false);
      const waitMs = await perUser.retryAfter('u');
      expect(waitMs).toBeGreaterThan(0);
      expect(waitMs).toBeLessThanOrEqual(50);
      await sleepMs(Math.ceil(waitMs) + 1);
      expect(await perUser.tryAcquire('u')).toBe(true);
    });

    it('reports remaining tokens, the wait and the time to full like the in-memory take', async () => {
      const perUser = limiter(4, 0.000_001);
      const decision = await perUser.take('u', 3);
      expect(decision.granted).toBe(true);
      expect(decision.remaining).toBeCloseTo(1, 5);
      expect(decision.resetAfterMs).toBeCloseTo(3e9, -5);
      const refused = await perUser.take('u', 2);
      expect(refused.granted).toBe(false);
      expect(refused.retryAfterMs).toBeCloseTo(1e9, -5);
    });
  });

  describe('the same answers as the in-memory KeyedLimiter', () => {
    type Step = ['tryAcquire', string, number] | ['refund', string, number] | ['available', string] | ['retryAfter', string, number] | ['delete', string];
    const run = async (target: KeyedLimiter | RedisKeyedLimiter, step: Step) => {
      switch (step[0]) {
        case 'tryAcquire':
          return target.tryAcquire(step[1], step[2]);
        case 'refund':
          return target.refund(step[1], step[2]);
        case 'available':
          return target.available(step[1]);
        case 'retryAfter':
          return target.retryAfter(step[1], step[2]);
        case 'delete':
          await target.delete(step[1]); // its answer differs: a full in-memory bucket may be held, a full Redis one never is
          return undefined;
      }
    };

    it('for every sequence of takes, refunds, reads and deletes on a fixed quota (refillPerSecond: 0)', async () => {
      const cost = fc.constantFrom(0, 0.25, 0.5, 1, 2, 3);
      const key = fc.constantFrom('a', 'b', '__proto__');
      const step: fc.Arbitrary<Step> = fc.oneof(
        fc.tuple(fc.constant('tryAcquire' as const), key, cost),
        fc.tuple(fc.constant('refund' as const), key, cost),
        fc.tuple(fc.constant('available' as const), key),
        fc.tuple(fc.constant('retryAfter' as const), key, cost),
        fc.tuple(fc.constant('delete' as const), key),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(step, { maxLength: 25 }), async (steps) => {
          const local = new KeyedLimiter({ capacity: 3, refillPerSecond: 0 });
          const shared = limiter(3, 0);
          for (const s of steps) expect(await run(shared, s), JSON.stringify(s)).toEqual(await run(local, s));
        }),
        { numRuns: 40 },
      );
    });
  });

  describe('expiry', () => {
    it('keeps a bucket only until it would be full again, and a vanished bucket decides like a new one', async () => {
      const prefix = uniqueKey('e');
      const perUser = limiter(2, 10, prefix); // full again 100 ms after taking one
      expect(await perUser.take('u')).toMatchObject({ granted: true, remaining: 1 });
      const ttlMs = Number(await admin.sendCommand(['PTTL', `${prefix}u`]));
      // Full again in 100 ms: the expiry is the first whole millisecond at or after that
      // instant, so PTTL (counted from a whole millisecond) is at most 101; a little of it may have passed.
      expect(ttlMs).toBeGreaterThan(60);
      expect(ttlMs).toBeLessThanOrEqual(101);
      // Exactly: the stored state says when the bucket is full (1 token at 10/s after the write).
      const [tokens, seconds, micros] = String(await admin.sendCommand(['GET', `${prefix}u`])).split(' ').map(Number);
      const fullAtMs = seconds! * 1000 + micros! / 1000 + ((2 - tokens!) * 1000) / 10;
      expect(await admin.sendCommand(['PEXPIRETIME', `${prefix}u`])).toBe(Math.ceil(fullAtMs));
      await sleepMs(ttlMs + 20);
      expect(await admin.sendCommand(['EXISTS', `${prefix}u`])).toBe(0);
      expect(await perUser.take('u', 2)).toMatchObject({ granted: true, remaining: 0 });
    });

    it('stores no key for a bucket that is full after a decision', async () => {
      const prefix = uniqueKey('f');
      const perUser = limiter(2, 10, prefix);
      expect(await perUser.tryAcquire('u', 0)).toBe(true);
      expect(await perUser.available('u')).toBe(2);
      expect(await admin.sendCommand(['EXISTS', `${prefix}u`])).toBe(0);
      await perUser.tryAcquire('u', 1);
      await perUser.refund('u', 5);
      expect(await admin.sendCommand(['EXISTS', `${prefix}u`])).toBe(0);
    });

    it('keeps a bucket that would take longer than 1e15 ms to refill without expiry', async () => {
      const prefix = uniqueKey('slow');
      const perUser = limiter(1e9, 0.000_001, prefix);
      await perUser.tryAcquire('u', 1e9);
      expect(await admin.sendCommand(['PTTL', `${prefix}u`])).toBe(-1);
    });

    it('stores "<tokens> <seconds> <microseconds> <capacity> <refillPerSecond>" of the Redis clock, and never refills backwards when that clock went back', async () => {
      const prefix = uniqueKey('state');
      const perUser = limiter(5, 1, prefix);
      await perUser.tryAcquire('u', 2);
      const [seconds] = (await admin.sendCommand(['TIME'])) as [string];
      expect(await admin.sendCommand(['GET', `${prefix}u`])).toMatch(/^3 \d+ \d+ 5 1$/);
      // As if this bucket had been written by a Redis whose clock was an hour ahead (a failover).
      await admin.sendCommand(['SET', `${prefix}u`, `1.5 ${Number(seconds) + 3600} 0`, 'PX', '60000']);
      expect(await perUser.available('u')).toBe(1.5);
      expect(await perUser.tryAcquire('u', 1.5)).toBe(true);
      expect(await perUser.available('u')).toBeLessThan(0.1); // re-based on this clock: refilling again
    });

    it('answers a key holding something it did not write by onRedisError, reports it, and keeps deciding the other keys on Redis', async () => {
      const prefix = uniqueKey('foreign');
      const errors: unknown[] = [];
      const perUser = new RedisKeyedLimiter({ redis: client.redis, capacity: 5, refillPerSecond: 0, prefix, onRedisError: 'deny', onError: (error) => errors.push(error) });
      await admin.sendCommand(['LPUSH', `${prefix}list`, 'x']);
      await admin.sendCommand(['SET', `${prefix}text`, 'hello']);
      expect(await perUser.tryAcquire('list')).toBe(false);
      expect(await perUser.tryAcquire('text')).toBe(false);
      expect(await perUser.tryAcquire('honest', 5)).toBe(true); // Redis decides it: nothing was marked down
      expect(await perUser.tryAcquire('honest')).toBe(false);
      expect(perUser.healthy).toBe(true);
      expect(errors).toHaveLength(2);
      expect(errors[0]).toBeInstanceOf(RedisDataError);
      expect(errors[0]).toMatchObject({ key: `${prefix}list`, message: expect.stringMatching(/WRONGTYPE/) });
      expect(errors[1]).toMatchObject({ key: `${prefix}text`, message: expect.stringMatching(/does not hold a bucket: not a string this script wrote/) });
      expect(perUser.stats()).toMatchObject({ granted: 1, denied: 3, failures: 2, fallbacks: 2 });
    });

    it('never erases nor shortens what a limiter with other settings on the prefix spent (a rolling deploy)', async () => {
      const prefix = uniqueKey('mixed');
      const large = limiter(100, 1, prefix); // full again 100 s after being emptied
      const small = limiter(10, 10, prefix); // full again within 1 s
      expect(await large.tryAcquire('u', 100)).toBe(true);
      expect(await small.tryAcquire('u')).toBe(false); // reads the large one's spent state
      await small.refund('u', 10); // full for the small one, not for the large one: kept
      expect(Number(await admin.sendCommand(['PTTL', `${prefix}u`]))).toBeGreaterThan(80_000);
      expect(await admin.sendCommand(['GET', `${prefix}u`])).toMatch(/ 100 1$/);
      expect(await large.available('u')).toBeLessThan(11); // not 100: the spent tokens were not erased
      expect(await large.tryAcquire('u', 90)).toBe(false);
    });

    it('keeps a fixed quota without expiry', async () => {
      const prefix = uniqueKey('q');
      const perUser = limiter(2, 0, prefix);
      await perUser.tryAcquire('u');
      expect(await admin.sendCommand(['PTTL', `${prefix}u`])).toBe(-1);
    });
  });

  describe('acquire', () => {
    it('serves concurrent callers first-in first-out, each at its reserved instant and not before', async () => {
      const perUser = limiter(1, 20); // one every 50 ms
      const startMs = performance.now();
      const servedMs: number[] = [];
      const order: number[] = [];
      await Promise.all(
        [0, 1, 2, 3, 4].map((i) =>
          perUser.acquire('u').then(() => {
            order.push(i);
            servedMs.push(performance.now() - startMs);
          }),
        ),
      );
      expect(order).toEqual([0, 1, 2, 3, 4]);
      servedMs.forEach((ms, i) => expect(ms).toBeGreaterThanOrEqual(i * 50));
      expect(perUser.stats()).toMatchObject({ granted: 5, waited: 4 });
    });

    it('refuses at once, taking nothing, when the wait would pass maxWaitMs', async () => {
      const perUser = limiter(1, 0.001); // one every 1000 s
      await perUser.acquire('u');
      const refusal = await perUser.acquire('u', 1, { maxWaitMs: 60_000 }).catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(RateLimitError);
      expect((refusal as RateLimitError).retryAfterMs).toBeGreaterThan(990_000);
      expect(await perUser.retryAfter('u')).toBeGreaterThan(990_000);
      expect(await perUser.retryAfter('u')).toBeLessThanOrEqual(1_000_000);
    });

    it('rejects with RateLimitError when the tokens can never come', async () => {
      const perUser = limiter(1, 0);
      await perUser.acquire('u');
      await expect(perUser.acquire('u')).rejects.toMatchObject({ name: 'RateLimitError', retryAfterMs: Infinity });
    });

    it('gives the reservation back when aborted while sleeping', async () => {
      const perUser = limiter(1, 0.001);
      await perUser.acquire('u');
      const controller = new AbortController();
      const waiting = perUser.acquire('u', 1, { signal: controller.signal });
      await sleepMs(20); // the reservation is in Redis: the bucket owes a token
      expect(await perUser.retryAfter('u')).toBeGreaterThan(1_900_000);
      controller.abort(new Error('user left'));
      await expect(waiting).rejects.toThrow('user left');
      expect(await perUser.retryAfter('u')).toBeLessThanOrEqual(1_000_000);
    });

    it('rejects an already aborted signal, a bad cost and a cost above the capacity without waiting', async () => {
      const perUser = limiter(2, 1);
      await expect(perUser.acquire('u', 1, { signal: AbortSignal.abort(new Error('gone')) })).rejects.toThrow('gone');
      await expect(perUser.acquire('u', 3)).rejects.toThrow(RangeError);
      await expect(perUser.acquire('u', -1)).rejects.toThrow('Expected `cost` to be a finite number >= 0, got `-1` (number)');
      await expect(perUser.acquire(5 as unknown as string)).rejects.toThrow('Expected `key` to be a string, got `5` (number)');
    });
  });

  describe('behind the HTTP middleware', () => {
    it('limits a real Express server: headers from Redis, then a 429 with Retry-After', async () => {
      const perClient = limiter(2, 0.5); // a token every 2 s
      const app = express();
      app.get('/', rateLimit({ limiter: perClient }), (_req, res) => void res.send('ok'));
      const server = createServer(app).listen(0, '127.0.0.1');
      await once(server, 'listening');
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
      try {
        const statuses = [];
        for (let i = 0; i < 3; i++) statuses.push(await fetch(url));
        expect(statuses.map((response) => response.status)).toEqual([200, 200, 429]);
        expect(statuses[0]!.headers.get('ratelimit')).toBe('"default";r=1;t=2');
        expect(statuses[2]!.headers.get('retry-after')).toBe('2');
        await Promise.all(statuses.map((response) => response.text()));
      } finally {
        server.close();
      }
    });
  });

  describe('delete', () => {
    it('forgets a bucket, which starts again full', async () => {
      const perUser = limiter(2, 0);
      await perUser.tryAcquire('u', 2);
      expect(await perUser.delete('u')).toBe(true);
      expect(await perUser.delete('u')).toBe(false);
      expect(await perUser.available('u')).toBe(2);
    });
  });

  describe('time', () => {
    it('makes the same decisions for app servers whose clocks disagree by hours', async () => {
      const prefix = uniqueKey('skew');
      const clockAt = (offsetMs: number) => ({
        now: () => performance.now() + offsetMs,
        setTimeout: (callback: () => void, ms: number) => setTimeout(callback, ms),
        clearTimeout: (handle: unknown) => clearTimeout(handle as NodeJS.Timeout),
      });
      const options = { redis: client.redis, capacity: 4, refillPerSecond: 0.001, prefix };
      const ahead = new RedisKeyedLimiter({ ...options, clock: clockAt(+3_600_000) });
      const behind = new RedisKeyedLimiter({ ...options, clock: clockAt(-3_600_000) });
      expect(await ahead.tryAcquire('u', 3)).toBe(true);
      expect(await behind.tryAcquire('u', 2)).toBe(false);
      expect(await behind.tryAcquire('u', 1)).toBe(true);
      expect(await ahead.tryAcquire('u', 1)).toBe(false);
      const [aheadWaitMs, behindWaitMs] = [await ahead.retryAfter('u'), await behind.retryAfter('u')];
      expect(aheadWaitMs).toBeGreaterThan(990_000);
      expect(Math.abs(aheadWaitMs - behindWaitMs)).toBeLessThan(1_000);
    });
  });
});

describe.runIf(redisUrl)('RedisKeyedLimiter round trips (real Redis)', () => {
  it('sends exactly one command per decision: EVALSHA of the cached script', async () => {
    const counting = await RespClient.connect(redisUrl);
    const perUser = new RedisKeyedLimiter({ redis: counting, capacity: 5, refillPerSecond: 1, prefix: uniqueKey('rt') });
    await perUser.tryAcquire('warm-up'); // loads the script if this Redis never saw it
    counting.sent.length = 0;
    await perUser.tryAcquire('u');
    await perUser.take('u');
    await perUser.acquire('u');
    await perUser.retryAfter('u');
    await perUser.available('u');
    await perUser.refund('u', 1);
    expect(counting.sent.map((args) => args[0])).toEqual(['EVALSHA', 'EVALSHA', 'EVALSHA', 'EVALSHA', 'EVALSHA', 'EVALSHA']);
    counting.close();
  });

  it('loads the script once with EVAL after Redis lost it (NOSCRIPT), then uses EVALSHA again', async () => {
    const counting = await RespClient.connect(redisUrl);
    const perUser = new RedisKeyedLimiter({ redis: counting, capacity: 5, refillPerSecond: 1, prefix: uniqueKey('ns') });
    await counting.sendCommand(['SCRIPT', 'FLUSH']);
    counting.sent.length = 0;
    expect(await perUser.tryAcquire('u')).toBe(true);
    expect(await perUser.tryAcquire('u')).toBe(true);
    expect(counting.sent.map((args) => args[0])).toEqual(['EVALSHA', 'EVAL', 'EVALSHA']);
    expect(perUser.stats()).toMatchObject({ failures: 0, fallbacks: 0 });
    counting.close();
  });
});
