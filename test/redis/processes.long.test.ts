import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hashSlot } from '../../src/redis-hash-slot.js';
import { DECIDE_SCRIPT } from '../../src/redis-script.js';
import { type RedisCluster, startRedisCluster } from '../support/redis-cluster.js';
import { RespClient } from '../support/resp-client.js';
import { redisServerBinary, redisUrl, uniqueKey } from './clients.js';

// Real processes, each with its own client, on one real Redis: what is tested is the
// limit they share. Real time throughout; the bounds hold by construction (the upper one)
// or with a margin of many refill periods (the lower one).

const worker = fileURLToPath(new URL('./worker.mjs', import.meta.url));
const children: ChildProcess[] = [];

interface Message {
  type: string;
  [field: string]: unknown;
}

/** Starts an app-server process; resolves once its client is connected. */
async function startWorker(options: {
  kind: 'ioredis' | 'node-redis' | 'ioredis-cluster' | 'node-redis-cluster';
  prefix: string;
  capacity: number;
  refillPerSecond: number;
  seeds?: readonly { host: string; port: number }[];
  timeoutMs?: number;
}) {
  const child = fork(worker, [JSON.stringify({ url: redisUrl, ...options })], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.push(child);
  const inbox: Message[] = [];
  const waiters: (() => void)[] = [];
  child.on('message', (message: Message) => {
    inbox.push(message);
    waiters.splice(0).forEach((wake) => wake());
  });
  /** Resolves with the first message (not yet taken) that matches. */
  const next = async (match: (message: Message) => boolean): Promise<Message> => {
    for (;;) {
      const index = inbox.findIndex(match);
      if (index >= 0) return inbox.splice(index, 1)[0]!;
      await new Promise<void>((wake) => waiters.push(wake));
    }
  };
  await next((m) => m.type === 'ready');
  return { send: (message: Message) => child.send(message), next };
}

/** The Redis server's time in seconds, as the limiter's script reads it. */
async function redisTimeSeconds(admin: RespClient): Promise<number> {
  const [seconds, micros] = (await admin.sendCommand(['TIME'])) as [string, string];
  return Number(seconds) + Number(micros) / 1e6;
}

afterEach(() => {
  for (const child of children.splice(0)) child.kill();
});

describe.runIf(redisUrl)('RedisKeyedLimiter across real processes', () => {
  it('admits per key at most capacity + rate × elapsed, and at least 95% of it, from 4 processes hammering 3 keys', { timeout: 60_000 }, async () => {
    const prefix = uniqueKey('hammer');
    const [capacity, refillPerSecond] = [20, 100];
    const keys = ['alpha', 'beta', 'gamma'];
    const workers = await Promise.all(
      (['ioredis', 'ioredis', 'node-redis', 'node-redis'] as const).map((kind) => startWorker({ kind, prefix, capacity, refillPerSecond })),
    );
    const admin = await RespClient.connect(redisUrl);
    // Steady state: Redis has the script cached (a first decision on a Redis that has not
    // seen it costs one more command, EVAL, tested on its own).
    await admin.sendCommand(['SCRIPT', 'LOAD', DECIDE_SCRIPT]);
    const startSeconds = await redisTimeSeconds(admin);
    workers.forEach((w) => w.send({ type: 'hammer', keys, concurrency: 8, durationMs: 3_000 }));
    const results = await Promise.all(workers.map((w) => w.next((m) => m.type === 'hammered')));
    const elapsedSeconds = (await redisTimeSeconds(admin)) - startSeconds;
    admin.close();
    expect(elapsedSeconds).toBeGreaterThan(3);
    const bound = capacity + refillPerSecond * elapsedSeconds;
    for (const key of keys) {
      const admitted = results.reduce((sum, r) => sum + (r.granted as Record<string, number>)[key]!, 0);
      console.log(`${key}: admitted ${admitted} of a bound of ${bound.toFixed(1)} (${((100 * admitted) / bound).toFixed(1)}%)`);
      expect(admitted, key).toBeLessThanOrEqual(bound);
      expect(admitted, key).toBeGreaterThanOrEqual(0.95 * bound);
    }
    for (const r of results) {
      // One round trip per decision, and every decision made by Redis, none by the policy.
      expect(r.commands).toBe(r.decisions);
      expect(r.stats).toMatchObject({ failures: 0, fallbacks: 0 });
    }
  });

  it('serves acquire callers of every process fairly, at the rate and in turn, with one command each and no polling', { timeout: 60_000 }, async () => {
    const prefix = uniqueKey('fair');
    const [capacity, refillPerSecond] = [1, 50];
    const workers = await Promise.all(
      (['ioredis', 'node-redis', 'ioredis', 'node-redis'] as const).map((kind) => startWorker({ kind, prefix, capacity, refillPerSecond })),
    );
    workers.forEach((w) => w.send({ type: 'acquire-loop', key: 'shared', concurrency: 2, durationMs: 2_000 }));
    const results = await Promise.all(workers.map((w) => w.next((m) => m.type === 'acquired')));
    const served = results.map((r) => (r.servedAtMs as number[]).length);
    const total = served.reduce((a, b) => a + b, 0);
    for (const count of served) {
      // Each process asks as often as the others, so each gets a quarter, give or take a few.
      expect(count).toBeGreaterThanOrEqual(total / 4 - 4);
      expect(count).toBeLessThanOrEqual(total / 4 + 4);
    }
    for (const r of results) expect(r.commands).toBe(r.calls);
    // Over the whole run, never more than the burst plus the rate (one every 20 ms).
    const all = results.flatMap((r) => r.servedAtMs as number[]).sort((a, b) => a - b);
    const spanSeconds = (all.at(-1)! - all[0]!) / 1000;
    expect(all.length).toBeLessThanOrEqual(capacity + 1 + refillPerSecond * spanSeconds);
  });

  it('serves callers in the order their reservations reached Redis, whichever process they came from', async () => {
    const prefix = uniqueKey('order');
    const options = { prefix, capacity: 1, refillPerSecond: 10 }; // one every 100 ms
    const [a, b] = await Promise.all([startWorker({ kind: 'ioredis', ...options }), startWorker({ kind: 'node-redis', ...options })]);
    const sendAndSettle = async (w: typeof a, id: string) => {
      w.send({ type: 'acquire', key: 'k', id });
      await w.next((m) => m.type === 'sent' && m.id === id);
      await new Promise((resolve) => setTimeout(resolve, 20)); // its command has reached Redis
    };
    await sendAndSettle(a, 'a0'); // takes the one token
    await sendAndSettle(a, 'a1'); // 1st in line
    await sendAndSettle(b, 'b1'); // 2nd
    await sendAndSettle(a, 'a2'); // 3rd
    const served = await Promise.all([
      a.next((m) => m.id === 'a1' && m.type === 'served'),
      b.next((m) => m.id === 'b1' && m.type === 'served'),
      a.next((m) => m.id === 'a2' && m.type === 'served'),
    ]);
    const [a1, b1, a2] = served.map((m) => m.atMs as number);
    expect(a1).toBeLessThan(b1!);
    expect(b1).toBeLessThan(a2!);
  });
});

describe.runIf(redisServerBinary)('RedisKeyedLimiter across real processes on a Redis Cluster', () => {
  let cluster: RedisCluster;
  beforeAll(async () => {
    cluster = await startRedisCluster(3);
  }, 60_000);
  afterAll(() => cluster?.stop());

  it('shares limits exactly between 4 processes, both cluster clients, during a live reshard of the keys\' slots', { timeout: 90_000 }, async () => {
    const prefix = `${uniqueKey('reshard')}:`;
    const [capacity, refillPerSecond] = [20, 100];
    const [from, to] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]];
    // Keys in the first 300 slots of the first master: the slots a reshard of 300 moves.
    const keys: string[] = [];
    for (let index = 0; keys.length < 3; index++) {
      const slot = hashSlot(`${prefix}k${index}`);
      if (slot < 300 && (await cluster.ownerOf(slot)) === from) keys.push(`k${index}`);
    }
    const seeds = cluster.seeds;
    const workers = await Promise.all(
      (['ioredis-cluster', 'node-redis-cluster', 'ioredis-cluster', 'node-redis-cluster'] as const).map((kind) =>
        // A timeout no busy machine reaches: what is tested is the shared limit, not the latency during MIGRATE.
        startWorker({ kind, prefix, capacity, refillPerSecond, seeds, timeoutMs: 10_000 }),
      ),
    );
    const admin = await RespClient.connect(from.url);
    const startSeconds = await redisTimeSeconds(admin);
    workers.forEach((w) => w.send({ type: 'hammer', keys, concurrency: 4, durationMs: 5_000 }));
    await new Promise((resolve) => setTimeout(resolve, 500));
    await cluster.reshard(from, to, 300);
    const results = await Promise.all(workers.map((w) => w.next((m) => m.type === 'hammered')));
    const elapsedSeconds = (await redisTimeSeconds(admin)) - startSeconds;
    admin.close();
    for (const key of keys) expect(await cluster.ownerOf(hashSlot(prefix + key)), `${key} moved`).toBe(to);
    const bound = capacity + refillPerSecond * elapsedSeconds;
    for (const key of keys) {
      const admitted = results.reduce((sum, r) => sum + (r.granted as Record<string, number>)[key]!, 0);
      console.log(`reshard, ${key}: admitted ${admitted} of a bound of ${bound.toFixed(1)} (${((100 * admitted) / bound).toFixed(1)}%)`);
      expect(admitted, key).toBeLessThanOrEqual(bound);
      expect(admitted, key).toBeGreaterThanOrEqual(0.95 * bound);
    }
    for (const r of results) expect(r.stats).toMatchObject({ failures: 0, fallbacks: 0 });
  });
});
