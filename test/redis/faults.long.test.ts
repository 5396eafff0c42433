import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyedLimiter, RateLimitError } from '../../src/index.js';
import { type RedisErrorPolicy, RedisKeyedLimiter, RedisTimeoutError } from '../../src/redis.js';
import { type RedisServer, startRedisServer } from '../support/redis-server.js';
import { RespClient } from '../support/resp-client.js';
import { type TestClient, clientKinds, redisServerBinary, uniqueKey } from './clients.js';

// Real faults on a redis-server of this file's own (pausing or killing the shared one
// would disturb the other suites): CLIENT PAUSE, and a kill followed by a restart. Real
// time, since what is tested is how the limiter lives through real outages; every wait
// below is bounded, and the bounds are far from the times involved.

const sleepMs = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const TIMEOUT_MS = 100;

/** Resolves with how `promise` settled and how long it took; fails the test if it hangs. */
async function settle<T>(promise: Promise<T>): Promise<{ value?: T; error?: unknown; ms: number }> {
  const startMs = performance.now();
  let hung: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    promise.then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    ),
    new Promise<never>((_, reject) => {
      hung = setTimeout(() => reject(new Error('a call hung for 5 s')), 5_000);
    }),
  ]);
  clearTimeout(hung);
  return { ...outcome, ms: performance.now() - startMs };
}

/** Calls until the limiter uses Redis again (a probe answered), at most 10 s. */
async function recovered(limiter: RedisKeyedLimiter): Promise<void> {
  for (let i = 0; i < 200 && !limiter.healthy; i++) {
    await limiter.available('probe');
    await sleepMs(50);
  }
  expect(limiter.healthy).toBe(true);
}

const policies: [string, () => RedisErrorPolicy][] = [
  ['allow', () => 'allow'],
  ['deny', () => 'deny'],
  ['a local KeyedLimiter', () => new KeyedLimiter({ capacity: 3, refillPerSecond: 0.000_001 })],
];

describe.runIf(redisServerBinary).each(['ioredis', 'node-redis'])('RedisKeyedLimiter through %s, on real faults', (kind) => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(() => server.stop());

  describe.each(policies)('onRedisError: %s', (policyName, policy) => {
    let client: TestClient;
    beforeAll(async () => {
      client = await clientKinds[kind]!(server.url);
    });
    afterAll(() => client.close());

    const create = (prefix: string, errors: unknown[] = []) =>
      new RedisKeyedLimiter({
        redis: client.redis,
        capacity: 3,
        refillPerSecond: 0.000_001, // a millionth of a token per second: the test's own time cannot matter
        prefix,
        timeoutMs: TIMEOUT_MS,
        onRedisError: policy(),
        onError: (error) => errors.push(error),
      });

    /** What the policy answers to tryAcquire while Redis is out: the first 3 calls, then the 4th. */
    const expectedWhileOut = policyName === 'allow' ? [true, true, true, true] : policyName === 'deny' ? [false, false, false, false] : [true, true, true, false];

    it('answers by the policy within timeoutMs while Redis is paused, and gives back what Redis granted late', async () => {
      const prefix = uniqueKey('pause');
      const errors: unknown[] = [];
      const limiter = create(prefix, errors);
      expect(await limiter.tryAcquire('u')).toBe(true); // Redis: 2 left
      const admin = await RespClient.connect(server.url);
      await admin.sendCommand(['CLIENT', 'PAUSE', '1500', 'ALL']);
      admin.close();
      const answers = await Promise.all([0, 1, 2, 3].map(() => settle(limiter.tryAcquire('u'))));
      expect(answers.map(({ value }) => value).sort()).toEqual(expectedWhileOut.slice().sort());
      // The first call waited timeoutMs (and a timer turn); the rest were answered at once.
      for (const { ms } of answers) expect(ms).toBeLessThan(1_000);
      const acquired = await settle(limiter.acquire('u', 1, { maxWaitMs: 0 }));
      if (policyName === 'deny') {
        expect(acquired.error).toBeInstanceOf(RateLimitError);
        expect((acquired.error as RateLimitError).cause).toBeInstanceOf(RedisTimeoutError);
      } else if (policyName === 'allow') {
        expect(acquired.error).toBeUndefined();
      } else {
        expect(acquired.error).toBeInstanceOf(RateLimitError); // the local bucket is spent
      }
      expect(errors[0]).toBeInstanceOf(RedisTimeoutError);
      await sleepMs(1_600); // the pause ends; the late replies arrive
      await recovered(limiter);
      await sleepMs(2 * TIMEOUT_MS); // what is charged on recovery has reached Redis
      if (policyName === 'a local KeyedLimiter') {
        // What the local limiter granted (3) is charged to Redis once it answers: 2 - 3 = a token owed.
        expect(await limiter.available('u')).toBe(0);
        expect(await limiter.retryAfter('u')).toBeGreaterThan(1_999_000_000);
      } else {
        // Nothing the paused Redis granted to callers answered by the policy stayed taken.
        expect(await limiter.available('u')).toBeCloseTo(2, 3);
        expect(await limiter.tryAcquire('u', 2)).toBe(true);
        expect(await limiter.tryAcquire('u', 0.5)).toBe(false);
      }
    });

    it('answers by the policy while Redis is down, and decides exactly again once it is back', async () => {
      const prefix = uniqueKey('restart');
      const limiter = create(prefix);
      expect(await limiter.tryAcquire('u', 3)).toBe(true);
      await server.stop();
      const answers = [];
      for (let i = 0; i < 4; i++) answers.push(await settle(limiter.tryAcquire('fresh')));
      expect(answers.map(({ value }) => value)).toEqual(expectedWhileOut);
      for (const { ms } of answers) expect(ms).toBeLessThan(1_000);
      await server.restart(); // empty, and without the script cached
      await recovered(limiter);
      // A restarted Redis holds no buckets: every key starts full, and the script loads again.
      await sleepMs(2 * TIMEOUT_MS); // let any command queued during the outage run and be given back
      expect(await limiter.tryAcquire('u', 3)).toBe(true);
      expect(await limiter.tryAcquire('u', 0.5)).toBe(false);
      // What the local limiter granted on 'fresh' while Redis was down (3) was charged to it once back.
      expect(await limiter.available('fresh')).toBeCloseTo(policyName === 'a local KeyedLimiter' ? 0 : 3, 3);
      expect(await limiter.retryAfter('u')).toBeGreaterThan(999_000_000);
    });
  });
});

describe.runIf(redisServerBinary)('RedisKeyedLimiter on a Redis that comes and goes', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(() => server.stop());

  it('never lets a process admit more than the limit plus one capacity, however often it switches between Redis and the local fallback', { timeout: 30_000 }, async () => {
    const real = await RespClient.connect(server.url);
    // Down for 250 ms of every 500: each command, probes included, fails while down.
    const startMs = performance.now();
    const down = () => (performance.now() - startMs) % 500 >= 250;
    const flapping = { sendCommand: (args: string[]) => (down() ? Promise.reject(new Error('ECONNRESET')) : real.sendCommand(args)) };
    const [capacity, refillPerSecond] = [5, 20];
    const limiter = new RedisKeyedLimiter({
      redis: flapping,
      capacity,
      refillPerSecond,
      prefix: uniqueKey('flap'),
      timeoutMs: 50,
      onRedisError: new KeyedLimiter({ capacity, refillPerSecond }),
    });
    let granted = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (performance.now() - startMs < 3_000) {
          if (await limiter.tryAcquire('k')) granted++;
          await sleepMs(2);
        }
      }),
    );
    const elapsedSeconds = (performance.now() - startMs) / 1000;
    const limit = capacity + refillPerSecond * elapsedSeconds;
    console.log(`flapping: admitted ${granted}; the limit ${limit.toFixed(1)}, plus one capacity ${(limit + capacity).toFixed(1)}; ${limiter.stats().fallbacks} by the fallback`);
    expect(limiter.stats().fallbacks).toBeGreaterThan(100); // it did switch, many times
    expect(granted).toBeLessThanOrEqual(limit + capacity);
    real.close();
  });
});
