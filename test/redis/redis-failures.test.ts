import { describe, expect, it } from 'vitest';
import { KeyedLimiter, RateLimitError } from '../../src/index.js';
import { RedisKeyedLimiter, type RedisKeyedLimiterOptions, RedisTimeoutError } from '../../src/redis.js';
import { fakeClock } from '../support/fake-clock.js';
import { flush, scriptedClient, scriptedLimiter } from '../support/scripted-redis.js';

// The failure policy is logic: it runs here on fake time, against a client whose replies
// the test hands out one by one (the real-Redis faults are in faults.test.ts).

/** A script reply: the outcome (0 refused, 1 granted, 2 reserved) and the tokens after it. */
const reply = (outcome: 0 | 1 | 2, tokens: number) => `${outcome}${tokens}`;

const setUp = scriptedLimiter;

describe('RedisKeyedLimiter when Redis fails (fake time)', () => {
  it('waits timeoutMs, then one more timer turn, before it gives up on a reply', async () => {
    const { fake, armedTimers, client, errors, limiter } = setUp({ onRedisError: 'deny' });
    let answer: boolean | undefined;
    void limiter.tryAcquire('u').then((granted) => (answer = granted));
    await fake.tickAsync(100);
    expect(answer).toBeUndefined();
    await fake.tickAsync(1);
    expect(answer).toBe(false);
    expect(errors).toEqual([new RedisTimeoutError(100)]);
    expect(limiter.stats()).toMatchObject({ denied: 1, failures: 1, fallbacks: 1 });
    expect(limiter.healthy).toBe(false);
    expect(armedTimers()).toBe(0);
    client.pending[0]!.reject(new Error('late')); // an error after the timeout changes nothing
    await flush();
    expect(errors).toEqual([new RedisTimeoutError(100)]);
    expect(client.sent()).toEqual(['take 1']);
  });

  it('answers by the policy at once while Redis is down, and probes it with one peek of the failing key per timeoutMs', async () => {
    const { fake, client, limiter } = setUp({ onRedisError: 'allow' });
    const first = limiter.tryAcquire('u');
    await fake.tickAsync(101);
    expect(await first).toBe(true);
    expect(await limiter.tryAcquire('u')).toBe(true); // at once: no timer ran
    expect(await limiter.tryAcquire('u')).toBe(true);
    expect(client.sent()).toEqual(['take 1', 'peek 0']);
    await fake.tickAsync(101); // the probe times out too
    await limiter.tryAcquire('u');
    expect(client.sent()).toEqual(['take 1', 'peek 0', 'peek 0']);
    client.pending[2]!.resolve(reply(0, 2));
    await flush();
    expect(limiter.healthy).toBe(true);
    const backOnRedis = limiter.tryAcquire('u');
    client.pending[3]!.resolve(reply(0, 0.5));
    expect(await backOnRedis).toBe(false);
    expect(client.sent()).toEqual(['take 1', 'peek 0', 'peek 0', 'take 1']);
  });

  it('gives a grant back when its reply comes after the caller was answered by the policy', async () => {
    const { fake, client, limiter } = setUp({ onRedisError: 'deny' });
    const answer = limiter.tryAcquire('u', 2);
    await fake.tickAsync(101);
    expect(await answer).toBe(false);
    client.pending[0]!.resolve(reply(1, 0));
    await flush();
    expect(client.sent()).toEqual(['take 2', 'refund 2']);
  });

  it('gives nothing back for a late refusal', async () => {
    const { fake, client, limiter } = setUp({ onRedisError: 'deny' });
    const answer = limiter.tryAcquire('u', 2);
    await fake.tickAsync(101);
    await answer;
    client.pending[0]!.resolve(reply(0, 1));
    await flush();
    expect(client.sent()).toEqual(['take 2']);
  });

  it('rejects acquire with signal.reason at once when aborted in flight, and gives a later grant back', async () => {
    const { fake, client, limiter, armedTimers } = setUp();
    const controller = new AbortController();
    const waiting = limiter.acquire('u', 1, { signal: controller.signal });
    controller.abort(new Error('gone'));
    await expect(waiting).rejects.toThrow('gone');
    client.pending[0]!.resolve(reply(2, -1));
    await flush();
    expect(client.sent()).toEqual(['reserve 1', 'refund 1']);
    client.pending[1]!.resolve(reply(1, 0));
    await flush();
    expect(limiter.healthy).toBe(true);
    await fake.tickAsync(101); // the one timeout timer finds nothing in flight, and is not armed again
    expect(armedTimers()).toBe(0);
  });

  it('sleeps exactly the reserved wait, and gives the place back on an abort during it', async () => {
    const { fake, client, limiter, armedTimers } = setUp();
    let served = false;
    void limiter.acquire('u').then(() => (served = true));
    client.pending[0]!.resolve(reply(2, -0.9995));
    await flush();
    await fake.tickAsync(999);
    expect(served).toBe(false);
    await fake.tickAsync(1);
    expect(served).toBe(true);
    expect(limiter.stats()).toMatchObject({ granted: 1, waited: 1, waitedMsTotal: 999.5 });

    const controller = new AbortController();
    const waiting = limiter.acquire('u', 1, { signal: controller.signal });
    client.pending[1]!.resolve(reply(2, -1));
    await flush();
    await fake.tickAsync(500);
    controller.abort(new Error('left'));
    await expect(waiting).rejects.toThrow('left');
    expect(client.sent()).toEqual(['reserve 1', 'reserve 1', 'refund 1']);
    expect(armedTimers()).toBe(1); // the one timeout timer, for the refund in flight
    client.pending[2]!.resolve(reply(1, 0));
    await flush();
    await fake.tickAsync(101);
    expect(armedTimers()).toBe(0);
  });

  describe.each([
    ['allow', { tryAcquire: true, available: 2, retryAfter: 0 }],
    ['deny', { tryAcquire: false, available: 0, retryAfter: 100 }],
  ] as const)("onRedisError: '%s'", (policy, expected) => {
    it('answers every request the documented way', async () => {
      const { fake, limiter } = setUp({ onRedisError: policy });
      const first = limiter.tryAcquire('u');
      await fake.tickAsync(101);
      expect(await first).toBe(expected.tryAcquire);
      expect(await limiter.available('u')).toBe(expected.available);
      expect(await limiter.retryAfter('u')).toBe(expected.retryAfter);
      expect((await limiter.take('u')).granted).toBe(expected.tryAcquire);
      await limiter.refund('u', 1);
      if (policy === 'allow') {
        await expect(limiter.acquire('u')).resolves.toBeUndefined();
      } else {
        const refusal = await limiter.acquire('u').catch((error: unknown) => error);
        expect(refusal).toBeInstanceOf(RateLimitError);
        expect(refusal).toMatchObject({ retryAfterMs: 100, cause: new RedisTimeoutError(100) });
      }
    });
  });

  it('decides with the local KeyedLimiter it is given, exactly, while Redis is down', async () => {
    const { fake, clock } = fakeClock();
    const client = scriptedClient();
    const local = new KeyedLimiter({ capacity: 2, refillPerSecond: 1, clock });
    const limiter = new RedisKeyedLimiter({ redis: client.redis, capacity: 2, refillPerSecond: 1, timeoutMs: 100, clock, onRedisError: local });
    const first = limiter.tryAcquire('u');
    await fake.tickAsync(101); // the local bucket refills 0.101 tokens meanwhile; it is full anyway
    expect(await first).toBe(true);
    expect(await limiter.tryAcquire('u')).toBe(true);
    expect(await limiter.tryAcquire('u')).toBe(false);
    expect(await limiter.retryAfter('u')).toBe(1000);
    expect(await limiter.available('u')).toBe(0);
    let served = false;
    void limiter.acquire('u').then(() => (served = true));
    await fake.tickAsync(999);
    expect(served).toBe(false);
    await fake.tickAsync(1);
    expect(served).toBe(true);
    await limiter.refund('u', 2);
    expect(await limiter.available('u')).toBe(2);
    expect(limiter.stats()).toMatchObject({ granted: 3, denied: 1, fallbacks: 8 });
  });

  it('charges Redis, once its node answers, with what the local limiter granted meanwhile, then forgets those local buckets', async () => {
    const { fake, clock } = fakeClock();
    const client = scriptedClient();
    const local = new KeyedLimiter({ capacity: 5, refillPerSecond: 0, clock });
    const errors: unknown[] = [];
    const limiter = new RedisKeyedLimiter({ redis: client.redis, capacity: 5, refillPerSecond: 0, timeoutMs: 100, clock, onRedisError: local, onError: (e) => errors.push(e) });
    const first = limiter.tryAcquire('u', 2);
    await fake.tickAsync(101);
    expect(await first).toBe(true); // locally
    expect(await limiter.tryAcquire('u', 1)).toBe(true);
    await limiter.refund('u', 0.5);
    await limiter.acquire('v');
    expect(await limiter.tryAcquire('w', 0)).toBe(true); // nothing spent, nothing to charge
    expect(client.sent()).toEqual(['take 2', 'peek 0']);
    client.pending[1]!.resolve(reply(0, 5));
    await flush();
    expect(limiter.healthy).toBe(true);
    expect(client.sent().slice(2).sort()).toEqual(['charge 1', 'charge 2.5']);
    expect([local.available('u'), local.available('v')]).toEqual([5, 5]);
    client.pending[2]!.reject(new Error('OOM command not allowed')); // a charge that fails is reported, and changes nothing else
    await flush();
    expect(errors.map(String)).toEqual(['RedisTimeoutError: Redis did not answer within 100 ms', 'Error: OOM command not allowed']);
    expect(limiter.healthy).toBe(true);
  });

  it('remembers the local grants of at most 10,000 keys per node down', async () => {
    const { fake, clock } = fakeClock();
    const client = scriptedClient();
    const limiter = new RedisKeyedLimiter({ redis: client.redis, capacity: 5, refillPerSecond: 0, timeoutMs: 100, clock });
    const first = limiter.tryAcquire('k0');
    await fake.tickAsync(101);
    expect(await first).toBe(true);
    for (let index = 1; index <= 10_000; index++) await limiter.tryAcquire(`k${index}`);
    client.pending[1]!.resolve(reply(0, 5)); // the probe
    await flush();
    expect(client.pending.filter(({ args }) => args[4] === 'charge')).toHaveLength(10_000);
  });

  it('keeps a node down while its probe gets a reply it cannot read', async () => {
    const { fake, client, limiter, errors } = setUp({ onRedisError: 'deny' });
    const first = limiter.tryAcquire('u');
    await fake.tickAsync(101);
    await first;
    await limiter.tryAcquire('u');
    client.pending[1]!.resolve('PONG');
    await flush();
    expect(limiter.healthy).toBe(false);
    expect(errors.map(String)).toEqual(['RedisTimeoutError: Redis did not answer within 100 ms', 'TypeError: Unexpected reply from the Redis script: PONG']);
  });

  it('counts a node as back when its probe finds the key holding no bucket: the node answered', async () => {
    const { fake, client, limiter } = setUp({ onRedisError: 'deny' });
    const first = limiter.tryAcquire('u');
    await fake.tickAsync(101);
    await first;
    await limiter.tryAcquire('u');
    client.pending[1]!.resolve([3, 'WRONGTYPE Operation against a key holding the wrong kind of value', 'fairbucket:u']);
    await flush();
    expect(limiter.healthy).toBe(true);
  });

  it('answers by the policy when the client throws as it sends the script whole after NOSCRIPT', async () => {
    const errors: unknown[] = [];
    const limiter = new RedisKeyedLimiter({
      redis: {
        sendCommand: (args: string[]) => {
          if (args[0] === 'EVAL') throw new Error('socket closed');
          return Promise.reject(new Error('NOSCRIPT No matching script'));
        },
      },
      capacity: 1,
      refillPerSecond: 1,
      onRedisError: 'deny',
      onError: (error) => errors.push(error),
    });
    expect(await limiter.tryAcquire('u')).toBe(false);
    expect(errors.map(String)).toEqual(['Error: socket closed']);
  });

  it('uses a local KeyedLimiter of the same limits when no policy is given', async () => {
    const { fake, limiter } = setUp();
    const first = limiter.tryAcquire('u', 2);
    await fake.tickAsync(101);
    expect(await first).toBe(true);
    expect(await limiter.tryAcquire('u')).toBe(false);
  });

  it('treats a client that throws, or a reply it cannot read, as a failure', async () => {
    const errors: unknown[] = [];
    const throwing = new RedisKeyedLimiter({
      redis: {
        sendCommand: () => {
          throw new Error('socket closed');
        },
      },
      capacity: 1,
      refillPerSecond: 1,
      onRedisError: 'deny',
      onError: (error) => errors.push(error),
    });
    expect(await throwing.tryAcquire('u')).toBe(false);
    const garbled = new RedisKeyedLimiter({
      redis: { sendCommand: async () => 'OK' },
      capacity: 1,
      refillPerSecond: 1,
      onRedisError: 'allow',
      onError: (error) => errors.push(error),
    });
    expect(await garbled.tryAcquire('u')).toBe(true);
    const wrongNumbers = new RedisKeyedLimiter({
      redis: { sendCommand: async () => '1x' },
      capacity: 1,
      refillPerSecond: 1,
      onRedisError: 'allow',
      onError: (error) => errors.push(error),
    });
    expect(await wrongNumbers.tryAcquire('u')).toBe(true);
    expect(errors.map(String)).toEqual([
      'Error: socket closed',
      'TypeError: Unexpected reply from the Redis script: OK',
      'TypeError: Unexpected reply from the Redis script: 1x',
    ]);
  });

  it('rejects delete with the failure, and still forgets the key in a local fallback', async () => {
    const { fake, clock } = fakeClock();
    const client = scriptedClient();
    const local = new KeyedLimiter({ capacity: 2, refillPerSecond: 1, clock });
    local.tryAcquire('u', 2);
    const limiter = new RedisKeyedLimiter({ redis: client.redis, capacity: 2, refillPerSecond: 1, timeoutMs: 100, clock, onRedisError: local });
    const deleting = limiter.delete('u').catch((error: unknown) => error);
    await fake.tickAsync(101);
    expect(await deleting).toEqual(new RedisTimeoutError(100));
    expect(local.available('u')).toBe(2);
  });
});

describe('RedisKeyedLimiter options', () => {
  const redis = { sendCommand: async () => null };
  it.each([
    [
      { redis: {} },
      TypeError,
      'Expected `redis` to be an ioredis client or Cluster (with call), a node-redis client (sendCommand(args)) or cluster (createCluster: sendCommand(firstKey, isReadonly, args)), or an object with sendCommand(args), got `[object Object]` (object)',
    ],
    [{ redis, capacity: 0 }, RangeError, 'Expected `capacity` to be a finite number > 0 and <= 1000000000000, got `0` (number)'],
    [{ redis, refillPerSecond: -1 }, RangeError, 'Expected `refillPerSecond` to be a finite number >= 0 and <= 1000000000, got `-1` (number)'],
    [{ redis, timeoutMs: 0.5 }, RangeError, 'Expected `timeoutMs` to be a whole number >= 1, got `0.5` (number)'],
    [{ redis, prefix: 1 }, TypeError, 'Expected `prefix` to be a string, got `1` (number)'],
    [{ redis, timeout: 100 }, TypeError, 'Unknown option `timeout` (did you mean `timeoutMs`?)'],
    [{ redis, onRedisError: 'ignore' }, TypeError, "Expected `onRedisError` to be 'allow', 'deny' or a KeyedLimiter, got `\"ignore\"` (string)"],
    [{ redis, onError: 'log' }, TypeError, 'Expected `onError` to be a function, got `"log"` (string)'],
  ])('throws on %o', (override, ErrorType, message) => {
    const create = () => new RedisKeyedLimiter({ capacity: 1, refillPerSecond: 1, ...override } as unknown as RedisKeyedLimiterOptions);
    expect(create).toThrow(ErrorType);
    expect(create).toThrow(message);
  });

  it('reports its limits and prefix', () => {
    const limiter = new RedisKeyedLimiter({ redis, capacity: 3, refillPerSecond: 0.5 });
    expect([limiter.capacity, limiter.refillPerSecond, limiter.prefix, limiter.healthy]).toEqual([3, 0.5, 'fairbucket:', true]);
  });

  it('rejects bad keys and costs, never throwing synchronously', async () => {
    const limiter = new RedisKeyedLimiter({ redis, capacity: 3, refillPerSecond: 0.5 });
    const bad = 7 as unknown as string;
    for (const call of [() => limiter.tryAcquire(bad), () => limiter.available(bad), () => limiter.delete(bad), () => limiter.retryAfter('u', -1)]) {
      await expect(call()).rejects.toThrow(/Expected `(key|cost)`/);
    }
    await expect(limiter.refund('u', Number.NaN)).rejects.toThrow('Expected `amount` to be a finite number >= 0, got `NaN` (number)');
  });
});
