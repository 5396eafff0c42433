// One app server of the multi-process tests: its own Redis client and limiter, driven by
// the parent over IPC. Counts what it was granted and how many commands it sent.
import { Cluster, Redis } from 'ioredis';
import { createClient, createCluster } from 'redis';
import { RedisKeyedLimiter } from '../../dist/redis.js';

const { url, seeds, kind, prefix, capacity, refillPerSecond, timeoutMs } = JSON.parse(process.argv[2]);
let commands = 0;
let redis;
let close;
if (kind === 'ioredis') {
  const client = new Redis(url);
  redis = { call: (...args) => (commands++, client.call(...args)) };
  close = () => client.disconnect();
} else if (kind === 'node-redis') {
  const client = await createClient({ url }).connect();
  redis = { sendCommand: (args) => (commands++, client.sendCommand(args)) };
  close = () => client.close();
} else if (kind === 'ioredis-cluster') {
  // The clients as users pass them: the limiter reads their slot maps.
  redis = new Cluster(seeds);
  await new Promise((resolve) => redis.once('ready', resolve));
  close = () => redis.disconnect();
} else {
  redis = await createCluster({ rootNodes: seeds.map(({ host, port }) => ({ url: `redis://${host}:${port}` })) }).connect();
  close = () => redis.close();
}
const limiter = new RedisKeyedLimiter({ redis, prefix, capacity, refillPerSecond, timeoutMs, onRedisError: 'deny' });
const nowEpochMs = () => performance.timeOrigin + performance.now();

process.on('message', async (message) => {
  if (message.type === 'hammer') {
    // `concurrency` loops of tryAcquire on each key until the deadline.
    const { keys, concurrency, durationMs } = message;
    const granted = Object.fromEntries(keys.map((key) => [key, 0]));
    const endMs = performance.now() + durationMs;
    let decisions = 0;
    await Promise.all(
      keys.flatMap((key) =>
        Array.from({ length: concurrency }, async () => {
          while (performance.now() < endMs) {
            decisions++;
            if (await limiter.tryAcquire(key)) granted[key]++;
          }
        }),
      ),
    );
    process.send({ type: 'hammered', granted, decisions, commands, stats: limiter.stats() });
  } else if (message.type === 'acquire-loop') {
    // `concurrency` callers acquiring one after another until the deadline; each grant's instant.
    const { key, concurrency, durationMs } = message;
    const servedAtMs = [];
    const endMs = performance.now() + durationMs;
    let calls = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < endMs) {
          calls++;
          await limiter.acquire(key);
          servedAtMs.push(nowEpochMs());
        }
      }),
    );
    process.send({ type: 'acquired', servedAtMs, calls, commands });
  } else if (message.type === 'acquire') {
    // One acquire: report once its command is sent, and again when it is served.
    const served = limiter.acquire(message.key);
    process.send({ type: 'sent', id: message.id });
    await served;
    process.send({ type: 'served', id: message.id, atMs: nowEpochMs() });
  } else if (message.type === 'close') {
    await close();
    process.disconnect();
  }
});
process.send({ type: 'ready' });
