import { describe, expect, it } from 'vitest';
import { KeyedLimiter, RateLimitError } from '../../src/index.js';
import { acquireAll, tryAcquireAll as outboundTryAll } from '../../src/outbound.js';
import { RedisDataError, RedisKeyedLimiter, type RedisLimitEntry, takeAll, tryAcquireAll } from '../../src/redis.js';
import { DECIDE_ALL_SCRIPT_SHA1 } from '../../src/redis-script.js';
import { fakeClock } from '../support/fake-clock.js';
import { flush, scriptedClient } from '../support/scripted-redis.js';
import { clientKinds, connectedForSuite, redisUrl, uniqueKey } from './clients.js';

describe.runIf(redisUrl).each(Object.keys(clientKinds))('takeAll and tryAcquireAll through %s (real Redis)', (kind) => {
  const connected = connectedForSuite(kind);
  /** "3 per second AND 5 per hour", as two limiters on one client (no refill: the test's time cannot matter). */
  const twoLimits = () => {
    const base = uniqueKey('multi');
    const options = { redis: connected.client.redis, refillPerSecond: 0, onRedisError: 'deny' as const };
    return {
      perSecond: new RedisKeyedLimiter({ ...options, prefix: `${base}:s:`, capacity: 3 }),
      perHour: new RedisKeyedLimiter({ ...options, prefix: `${base}:h:`, capacity: 5 }),
    };
  };

  it('takes from every bucket or from none, under 40 concurrent calls', async () => {
    const { perSecond, perHour } = twoLimits();
    const entries: RedisLimitEntry[] = [
      [perSecond, '{u}'],
      [perHour, '{u}', 1],
    ];
    const answers = await Promise.all(Array.from({ length: 40 }, () => tryAcquireAll(entries)));
    expect(answers.filter(Boolean)).toHaveLength(3);
    expect(await perSecond.available('{u}')).toBe(0);
    expect(await perHour.available('{u}')).toBe(2); // the 37 refusals took nothing from the hourly bucket
    expect(perSecond.stats()).toMatchObject({ granted: 3, denied: 37 });
    expect(perHour.stats()).toMatchObject({ granted: 3, denied: 0 }); // it never was the one short
  });

  it('reports the wait until every bucket holds its cost, and refuses a cost above a capacity without a round trip', async () => {
    const base = uniqueKey('wait');
    const fast = new RedisKeyedLimiter({ redis: connected.client.redis, prefix: `${base}:f:`, capacity: 1, refillPerSecond: 0.001 }); // one per 1000 s
    const slow = new RedisKeyedLimiter({ redis: connected.client.redis, prefix: `${base}:s:`, capacity: 2, refillPerSecond: 0.0001 }); // one per 10000 s
    expect(await takeAll([[fast, 'k'], [slow, 'k', 2]])).toEqual({ granted: true, retryAfterMs: 0 });
    const refused = await takeAll([[fast, 'k'], [slow, 'k']]);
    expect(refused.granted).toBe(false);
    expect(refused.retryAfterMs).toBeGreaterThan(9_990_000); // the slower bucket's wait
    expect(refused.retryAfterMs).toBeLessThanOrEqual(10_000_000);
    expect(await takeAll([[fast, 'other', 2], [slow, 'other']])).toEqual({ granted: false, retryAfterMs: Infinity });
    expect(await slow.available('other')).toBe(2);
  });

  it('keeps the state and expiry rules of single decisions: a refill, and no key once full', async () => {
    const base = uniqueKey('expiry');
    const perUser = new RedisKeyedLimiter({ redis: connected.client.redis, prefix: `${base}:`, capacity: 2, refillPerSecond: 10 });
    const perTeam = new RedisKeyedLimiter({ redis: connected.client.redis, prefix: `${base}:t:`, capacity: 4, refillPerSecond: 0 });
    expect(await tryAcquireAll([[perUser, 'u'], [perTeam, 't']])).toBe(true);
    expect(await connected.admin.sendCommand(['GET', `${base}:u`])).toMatch(/^1 \d+ \d+ 2 10$/);
    expect(Number(await connected.admin.sendCommand(['PTTL', `${base}:u`]))).toBeLessThanOrEqual(101);
    expect(await connected.admin.sendCommand(['PTTL', `${base}:t:t`])).toBe(-1);
    expect(await perUser.tryAcquire('u')).toBe(true); // single decisions read what takeAll wrote
    expect(await perTeam.available('t')).toBe(3);
  });

  it("answers by the limiters' policies, all or nothing, when a key holds no bucket", async () => {
    const base = uniqueKey('bad');
    const errors: unknown[] = [];
    const local = new KeyedLimiter({ capacity: 5, refillPerSecond: 0 });
    const good = new RedisKeyedLimiter({ redis: connected.client.redis, prefix: `${base}:g:`, capacity: 5, refillPerSecond: 0, onRedisError: local, onError: (e) => errors.push(e) });
    const bad = new RedisKeyedLimiter({ redis: connected.client.redis, prefix: `${base}:b:`, capacity: 5, refillPerSecond: 0, onRedisError: 'deny' });
    await connected.admin.sendCommand(['LPUSH', `${base}:b:k`, 'x']);
    expect(await tryAcquireAll([[good, 'k'], [bad, 'k']])).toBe(false);
    expect(local.available('k')).toBe(5); // the local grant was given back when 'deny' refused
    expect(errors[0]).toBeInstanceOf(RedisDataError);
    expect(errors[0]).toMatchObject({ key: `${base}:b:k` });
    expect(good.healthy && bad.healthy).toBe(true);
    expect(await good.available('k')).toBe(5); // Redis still decides the honest key
  });
});

describe('takeAll and tryAcquireAll (scripted replies)', () => {
  const redis = { sendCommand: async () => null };
  const limiter = (options: Partial<ConstructorParameters<typeof RedisKeyedLimiter>[0]> = {}) =>
    new RedisKeyedLimiter({ redis, capacity: 2, refillPerSecond: 1, ...options });

  it.each([
    [[], TypeError, 'Expected `entries` to be a non-empty array of [RedisKeyedLimiter, key, cost?], got `` (object)'],
    [[[new KeyedLimiter({ capacity: 1, refillPerSecond: 1 }), 'k']], TypeError, 'Expected `entries[0][0]` to be a RedisKeyedLimiter, got `[object Object]` (object)'],
    [['k'], TypeError, 'Expected `entries[0][0]` to be a RedisKeyedLimiter, got `undefined` (undefined)'],
    [[[limiter(), 7]], TypeError, 'Expected `entries[0][1]` to be a string, got `7` (number)'],
    [[[limiter(), 'k', -1]], RangeError, 'Expected `entries[0][2]` to be a finite number >= 0, got `-1` (number)'],
    [[[limiter(), 'k'], [limiter({ redis: { sendCommand: async () => null } }), 'k']], TypeError, 'Expected `entries[1][0]` to be a RedisKeyedLimiter on the same Redis client as entries[0][0]'],
    [[[limiter(), 'k'], [limiter(), 'k']], TypeError, 'Expected `entries[1][1]` to be a bucket not already in entries, got `"k"` (string)'],
  ])('rejects bad entries: %#', async (entries, ErrorType, message) => {
    const rejection = takeAll(entries as unknown as RedisLimitEntry[]);
    await expect(rejection).rejects.toThrow(ErrorType);
    await expect(rejection).rejects.toThrow(message);
  });

  it('requires the keys of one decision to share a hash slot when the client is a cluster', async () => {
    const cluster = { isCluster: true, call: async () => [1, '0', '0'] };
    const a = limiter({ redis: cluster, prefix: 'a:' });
    const b = limiter({ redis: cluster, prefix: 'b:' });
    await expect(takeAll([[a, 'x'], [b, 'y']])).rejects.toThrow(
      "Expected `the hash slot of entries[1]` to be 14746, the slot of entries[0] (the keys of one decision in a Redis Cluster need one {hash tag}, like '{user:42}:second'), got `12523` (number)",
    );
    await expect(takeAll([[a, 'x'], [b, 'y']])).rejects.toThrow(RangeError);
    expect(await tryAcquireAll([[a, '{x}'], [b, '{x}']])).toBe(true);
  });

  it.each([[[1, '', '1']], [[1, '1']], ['11'], [[2, '1', '1']]])("treats the reply %j as a failure, and answers by the policies", async (reply) => {
    const errors: unknown[] = [];
    const client = { sendCommand: async () => reply };
    const a = limiter({ redis: client, onRedisError: 'allow', onError: (error) => errors.push(error) });
    const b = limiter({ redis: client, prefix: 'b:', onRedisError: 'allow' });
    expect(await takeAll([[a, 'k'], [b, 'k']])).toEqual({ granted: true, retryAfterMs: 0 });
    expect(errors).toEqual([new TypeError(`Unexpected reply from the Redis script: ${String(reply)}`)]);
    expect(a.healthy || b.healthy).toBe(false);
  });

  it('decides by the local limiters, all or nothing, while Redis does not answer, and charges Redis with their grants once it does', async () => {
    const { fake, clock } = fakeClock();
    const client = scriptedClient();
    const a = new KeyedLimiter({ capacity: 2, refillPerSecond: 0, clock });
    const b = new KeyedLimiter({ capacity: 1, refillPerSecond: 0, clock });
    const common = { redis: client.redis, refillPerSecond: 0, timeoutMs: 100, clock };
    const first = new RedisKeyedLimiter({ ...common, capacity: 2, prefix: 'a:', onRedisError: a });
    const second = new RedisKeyedLimiter({ ...common, capacity: 1, prefix: 'b:', onRedisError: b });
    const entries: RedisLimitEntry[] = [
      [first, 'k'],
      [second, 'k'],
    ];
    const timedOut = takeAll(entries);
    await fake.tickAsync(101);
    expect(await timedOut).toEqual({ granted: true, retryAfterMs: 0 }); // by the local limiters
    expect(await takeAll(entries)).toEqual({ granted: false, retryAfterMs: Infinity }); // b is spent
    expect(a.available('k')).toBe(1); // a's grant given back
    expect(client.pending[0]!.args.slice(0, 5)).toEqual(['EVALSHA', DECIDE_ALL_SCRIPT_SHA1, '2', 'a:k', 'b:k']);
    expect(client.pending[0]!.args.slice(5)).toEqual(['take', '2', '0', '1', '1', '0', '1']);
    // Each limiter probes its key's node; once it answers, what the local limiter granted is charged to Redis.
    const sent = () => client.pending.map(({ args }) => `${args[0]} ${args[3]} ${args[4]}`);
    expect(sent().slice(1)).toEqual(['EVALSHA a:k peek', 'EVALSHA b:k peek']);
    client.pending[0]!.resolve([1, '1', '0']); // the late grant: given back
    client.pending[1]!.resolve('02');
    client.pending[2]!.resolve('01');
    await flush();
    expect(first.healthy && second.healthy).toBe(true);
    expect(sent().slice(3).sort()).toEqual(['EVALSHA a:k b:k', 'EVALSHA a:k charge', 'EVALSHA b:k charge']);
    const giveBack = client.pending.find(({ args }) => args[2] === '2' && args !== client.pending[0]!.args)!;
    expect(giveBack.args.slice(5)).toEqual(['refund', '2', '0', '1', '1', '0', '1']);
    expect(a.available('k')).toBe(2); // forgotten once charged
    expect(first.stats()).toMatchObject({ granted: 1, denied: 0, fallbacks: 2 });
    expect(second.stats()).toMatchObject({ granted: 1, denied: 1, fallbacks: 2 });
  });
});

describe.runIf(redisUrl)('acquireAll and tryAcquireAll from fairbucket/outbound with RedisKeyedLimiter limits (real Redis)', () => {
  const connected = connectedForSuite('ioredis');
  const limits = (capacity: number, refillPerSecond: number) => {
    const base = uniqueKey('outbound');
    const options = { redis: connected.client.redis, refillPerSecond, onRedisError: 'deny' as const };
    return [new RedisKeyedLimiter({ ...options, prefix: `${base}:a:`, capacity }), new RedisKeyedLimiter({ ...options, prefix: `${base}:b:`, capacity: capacity * 2 })] as const;
  };

  it('tryAcquireAll decides both in one call, all or nothing (it used to fail: limit[0].reserve is not a function)', async () => {
    const [perSecond, perHour] = limits(2, 0);
    const answers = await Promise.all(Array.from({ length: 10 }, () => outboundTryAll([[perSecond, '{u}', 1], [perHour, '{u}', 1]])));
    expect(answers.filter(Boolean)).toHaveLength(2);
    expect([await perSecond.available('{u}'), await perHour.available('{u}')]).toEqual([0, 2]);
  });

  it('acquireAll waits until every bucket can serve, then takes them together', async () => {
    const [a, b] = limits(1, 20);
    await acquireAll([[a, '{w}', 1], [b, '{w}', 2]]);
    const startedMs = performance.now();
    await acquireAll([[a, '{w}', 1], [b, '{w}', 2]]);
    // One token of `a` at 20/s: 50 ms (b's 2 of 40 per second, 50 ms too); never at once.
    expect(performance.now() - startedMs).toBeGreaterThanOrEqual(45);
    await expect(acquireAll([[a, '{w}', 1], [b, '{w}', 2]], { maxWaitMs: 0 })).rejects.toBeInstanceOf(RateLimitError);
    await expect(acquireAll([[a, '{w}', 5], [b, '{w}', 1]])).rejects.toMatchObject({ retryAfterMs: Infinity });
  });
});
