import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyedLimiter } from '../../src/index.js';
import { RedisDataError, RedisKeyedLimiter, type RedisKeyedLimiterOptions, takeAll, tryAcquireAll } from '../../src/redis.js';
import { hashSlot } from '../../src/redis-hash-slot.js';
import { type ClusterNode, type RedisCluster, startRedisCluster } from '../support/redis-cluster.js';
import { RespClient } from '../support/resp-client.js';
import { type TestClient, clusterClientKinds, redisServerBinary, uniqueKey } from './clients.js';

// A real 3-master Redis Cluster of this file's own, through both cluster clients as users
// pass them. Real time: what is tested is how decisions spread over nodes and live through
// a node's death; every bound below holds by construction or with a wide margin.

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Returns a key (after `prefix`) whose slot `node` owns. */
async function keyOn(cluster: RedisCluster, node: ClusterNode, prefix: string, name: string): Promise<string> {
  for (let index = 0; ; index++) {
    const key = `${name}${index}`;
    if ((await cluster.ownerOf(hashSlot(prefix + key))) === node) return key;
  }
}

/** Sends one command to one node. */
async function ask(node: ClusterNode, args: string[]): Promise<unknown> {
  const admin = await RespClient.connect(node.url);
  try {
    return await admin.sendCommand(args);
  } finally {
    admin.close();
  }
}

/** Calls tryAcquire on `key` from `loops` loops until `endMs`, pacing each loop by 2 ms; counts grants and the slowest answer. */
async function hammer(limiter: RedisKeyedLimiter, key: string, loops: number, untilDone: () => boolean) {
  let granted = 0;
  let slowestMs = 0;
  await Promise.all(
    Array.from({ length: loops }, async () => {
      while (!untilDone()) {
        const startMs = performance.now();
        if (await limiter.tryAcquire(key)) granted++;
        slowestMs = Math.max(slowestMs, performance.now() - startMs);
        await pause(2);
      }
    }),
  );
  return { granted, slowestMs };
}

describe.runIf(redisServerBinary).each(Object.keys(clusterClientKinds))('RedisKeyedLimiter on a 3-master Redis Cluster through %s', { timeout: 120_000 }, (kind) => {
  let cluster: RedisCluster;
  let client: TestClient;
  beforeAll(async () => {
    cluster = await startRedisCluster(3);
    client = await clusterClientKinds[kind]!(cluster.seeds);
  }, 60_000);
  afterAll(async () => {
    await client?.close();
    await cluster?.stop();
  });
  const create = (options: Partial<RedisKeyedLimiterOptions> = {}) =>
    new RedisKeyedLimiter({ redis: client.redis, capacity: 3, refillPerSecond: 0, prefix: `${uniqueKey('c')}:`, onRedisError: 'deny', ...options });

  it("computes every key's hash slot as Redis does (CLUSTER KEYSLOT), tags and Unicode included", async () => {
    const keys = ['', '{}}', 'foo{}{bar}', 'foo{{bar}}zap', '{bar', 'a{b}c{d}', 'ключ{标签}🔑', '\uD800x'];
    for (let index = 0; index < 100; index++) keys.push(`${Math.random().toString(36).slice(2, 5)}{${Math.random().toString(36).slice(7)}}${'{}'.repeat(index % 3)}`);
    for (const key of keys) expect(hashSlot(key), JSON.stringify(key)).toBe(Number(await ask(cluster.nodes[0]!, ['CLUSTER', 'KEYSLOT', key])));
  });

  it('decides exactly on keys spread over every master', async () => {
    const limiter = create({ timeoutMs: 10_000 });
    const keys = await Promise.all(cluster.nodes.map((node, index) => keyOn(cluster, node, limiter.prefix, `n${index}-`)));
    for (const key of keys) {
      const answers = await Promise.all(Array.from({ length: 10 }, () => limiter.tryAcquire(key)));
      expect(answers.filter(Boolean), key).toHaveLength(3);
      expect(await limiter.available(key)).toBe(0);
    }
    expect(limiter.stats()).toMatchObject({ granted: 9, denied: 21, failures: 0, fallbacks: 0 });
  });

  it('decides several buckets of one {hash tag} at once, and refuses keys of different slots with a RangeError', async () => {
    const perSecond = create({ prefix: `${uniqueKey('s')}:` });
    const perHour = create({ prefix: `${uniqueKey('h')}:`, capacity: 5 });
    const answers = await Promise.all(Array.from({ length: 12 }, () => tryAcquireAll([[perSecond, '{user:1}'], [perHour, '{user:1}']])));
    expect(answers.filter(Boolean)).toHaveLength(3);
    expect(await perHour.available('{user:1}')).toBe(2);
    await expect(takeAll([[perSecond, 'a'], [perHour, 'b']])).rejects.toThrow(RangeError);
    await expect(takeAll([[perSecond, 'a'], [perHour, 'b']])).rejects.toThrow(/hash slot .*\{hash tag\}/);
  });

  it('answers a WRONGTYPE key by the policy and keeps every honest key exact beside it', async () => {
    const errors: unknown[] = [];
    const limiter = create({ capacity: 2, timeoutMs: 10_000, onError: (error) => errors.push(error) });
    const [badNode] = cluster.nodes;
    const bad = await keyOn(cluster, badNode!, limiter.prefix, 'bad');
    await ask(badNode!, ['LPUSH', limiter.prefix + bad, 'x']);
    let stop = false;
    const badLoop = (async () => {
      let refused = 0;
      while (!stop) {
        if (!(await limiter.tryAcquire(bad))) refused++;
        await pause(10);
      }
      return refused;
    })();
    const honest = Array.from({ length: 60 }, (_, index) => `honest${index}`);
    const answers = await Promise.all(honest.flatMap((key) => [limiter.tryAcquire(key), limiter.tryAcquire(key), limiter.tryAcquire(key)]));
    stop = true;
    const badRefused = await badLoop;
    expect(answers.filter(Boolean)).toHaveLength(2 * honest.length); // every honest key: exactly its 2 tokens
    expect(limiter.healthy).toBe(true);
    expect(badRefused).toBeGreaterThan(0);
    expect(errors.length).toBe(badRefused);
    expect(errors.every((error) => error instanceof RedisDataError)).toBe(true);
    expect(limiter.stats().fallbacks).toBe(badRefused); // only the bad key went to the policy
  });

  it('sends the script whole once per node after SCRIPT FLUSH, under a burst', async () => {
    const limiter = create({ capacity: 1_000, timeoutMs: 10_000 }); // what is tested is the EVALs, not how fast a busy machine answers
    await Promise.all(cluster.nodes.map((node) => ask(node, ['SCRIPT', 'FLUSH'])));
    await Promise.all(cluster.nodes.map((node) => ask(node, ['CONFIG', 'RESETSTAT'])));
    const answers = await Promise.all(Array.from({ length: 600 }, (_, index) => limiter.tryAcquire(`burst${index % 60}`)));
    expect(answers.every(Boolean)).toBe(true);
    for (const node of cluster.nodes) {
      const stats = String(await ask(node, ['INFO', 'commandstats']));
      const evals = Number(/cmdstat_eval:calls=(\d+)/.exec(stats)?.[1] ?? 0);
      expect(evals, `EVAL calls on ${node.port}`).toBe(1);
    }
    expect(limiter.stats()).toMatchObject({ failures: 0, fallbacks: 0 });
  });

  it('keeps keys on live masters exact while one master is dead, never hangs, and is exact everywhere once it is back', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const [capacity, refillPerSecond] = [5, 20];
    const local = new KeyedLimiter({ capacity, refillPerSecond });
    // Long enough that a live master never misses it on a busy machine; the dead one misses it every time.
    const timeoutMs = 750;
    const limiter = create({ capacity, refillPerSecond, timeoutMs, onRedisError: local });
    const [dead, ...live] = cluster.nodes as [ClusterNode, ClusterNode, ClusterNode];
    const deadKey = await keyOn(cluster, dead, limiter.prefix, 'dead');
    const liveKeys = await Promise.all(live.map((node, index) => keyOn(cluster, node, limiter.prefix, `live${index}-`)));
    let running = true;
    const startMs = performance.now();
    const runs = [deadKey, ...liveKeys].map((key) => hammer(limiter, key, 3, () => !running));
    await pause(1_000);
    await dead.stop();
    await pause(3_000);
    await dead.restart();
    for (let i = 0; i < 100 && !limiter.healthy; i++) await pause(50);
    await pause(500);
    running = false;
    const [onDead, ...onLive] = (await Promise.all(runs)) as [Awaited<(typeof runs)[0]>, ...Awaited<(typeof runs)[0]>[]];
    const elapsedSeconds = (performance.now() - startMs) / 1000;
    const bound = capacity + refillPerSecond * elapsedSeconds;
    for (const [index, result] of onLive.entries()) {
      console.log(`${kind}, live key ${index}: admitted ${result.granted} of ${bound.toFixed(1)}; slowest answer ${result.slowestMs.toFixed(0)} ms`);
      expect(result.granted).toBeLessThanOrEqual(bound);
      expect(result.granted).toBeGreaterThanOrEqual(0.95 * bound);
    }
    console.log(`${kind}, dead key: admitted ${onDead.granted} (limit plus one capacity: ${(bound + capacity).toFixed(1)}); slowest ${onDead.slowestMs.toFixed(0)} ms`);
    expect(onDead.granted).toBeLessThanOrEqual(bound + capacity);
    for (const { slowestMs } of [onDead, ...onLive]) expect(slowestMs).toBeLessThan(timeoutMs + 2_000);
    expect(limiter.healthy).toBe(true);

    // Back: fresh keys on every master, decided by Redis alone and exactly.
    const fallbacksBefore = limiter.stats().fallbacks;
    const fresh = await Promise.all(cluster.nodes.map((node, index) => keyOn(cluster, node, limiter.prefix, `after${index}-`)));
    let again = true;
    const againStartMs = performance.now();
    const afterRuns = fresh.map((key) => hammer(limiter, key, 3, () => !again));
    await pause(1_500);
    again = false;
    const after = await Promise.all(afterRuns);
    const afterBound = capacity + refillPerSecond * ((performance.now() - againStartMs) / 1000);
    for (const { granted } of after) {
      expect(granted).toBeLessThanOrEqual(afterBound);
      expect(granted).toBeGreaterThanOrEqual(0.95 * afterBound);
    }
    expect(limiter.stats().fallbacks).toBe(fallbacksBefore);
    process.off('unhandledRejection', onUnhandled);
    expect(unhandled).toEqual([]);
  });
});
