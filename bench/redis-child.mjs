// Scenario 8 in a fresh process: decisions against one Redis through one ioredis client.
// Its own file, not a case of child.mjs: adding it there moved the real-time figures of
// scenario 5 (p50 lateness 0.75 -> 1.2 ms, measured), though the code never ran.
// Usage: node bench/redis-child.mjs <contender> '{"url": ..., "concurrency": 64, "durationMs": 3000}'
import { Redis } from 'ioredis';
import { redis } from './contenders.mjs';

const [contender, paramsJson = '{}'] = process.argv.slice(2);
const params = JSON.parse(paramsJson);

/** 1,000 keys in a fixed-seed random order. */
function keyOrder() {
  const keys = Array.from({ length: 1_000 }, (_, index) => `user:${index}`);
  let seed = 12_345;
  return () => {
    seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
    return keys[seed % keys.length];
  };
}

/** Microseconds Redis spent in scripts (EVALSHA and EVAL, their inner calls included) since the last CONFIG RESETSTAT. */
async function scriptUsec(client) {
  const stats = await client.info('commandstats');
  let usec = 0;
  for (const name of ['evalsha', 'eval']) usec += Number(new RegExp(`cmdstat_${name}:calls=\\d+,usec=(\\d+)`).exec(stats)?.[1] ?? 0);
  return usec;
}

// The same ioredis client for every contender; round trips are counted as writes to its
// socket while one decision at a time runs (a pipelined batch is one write).
const client = new Redis(params.url);
await client.ping();
const decide = await redis[contender](client);
const nextKey = keyOrder();
for (let index = 0; index < 2_000; index++) await decide(nextKey()); // warm-up, and the script loaded
const stream = client.stream;
const write = stream.write;
let writes = 0;
stream.write = function (...args) {
  writes++;
  return write.apply(this, args);
};
const sequential = 2_000;
let startMs = performance.now();
for (let index = 0; index < sequential; index++) await decide(nextKey());
const sequentialPerSecond = sequential / ((performance.now() - startMs) / 1000);
const roundTripsPerDecision = writes / sequential;
stream.write = write;
let decisions = 0;
let granted = 0;
await client.config('RESETSTAT');
const cpuBefore = process.cpuUsage();
startMs = performance.now();
const endMs = startMs + params.durationMs;
await Promise.all(
  Array.from({ length: params.concurrency }, async () => {
    while (performance.now() < endMs) {
      if (await decide(nextKey())) granted++;
      decisions++;
    }
  }),
);
const concurrentPerSecond = decisions / ((performance.now() - startMs) / 1000);
const cpu = process.cpuUsage(cpuBefore);
const clientCpuUsPerDecision = (cpu.user + cpu.system) / decisions;
const redisUsecPerDecision = (await scriptUsec(client)) / decisions;
client.disconnect();
process.stdout.write(
  `${JSON.stringify({ sequentialPerSecond, concurrentPerSecond, roundTripsPerDecision, grantedShare: granted / decisions, redisUsecPerDecision, clientCpuUsPerDecision })}\n`,
);
process.exit(0);
