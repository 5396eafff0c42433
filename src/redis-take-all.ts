import { RedisDataError } from './redis-data-error.js';
import type { DownNode } from './redis-failure-policy.js';
import { type LimiterInternals, internalsOf } from './redis-limiter-internals.js';
import type { RedisKeyedLimiter } from './redis-keyed-limiter.js';
import { hashSlot } from './redis-hash-slot.js';
import { DECIDE_ALL, Outcome, tokensOf, waitMs } from './redis-script.js';
import { finiteNumber, invalid } from './validate.js';

/**
 * One limit of a decision over several: a RedisKeyedLimiter, the key of its bucket, and the
 * cost to take from it (a finite number >= 0; default 1).
 * @example
 * ```ts
 * const entry: RedisLimitEntry = [perSecond, `{user:${id}}`, 1];
 * ```
 */
export type RedisLimitEntry = readonly [limiter: RedisKeyedLimiter, key: string, cost?: number];

/**
 * What `takeAll` decided: whether every cost was taken, and when not, the milliseconds
 * until every bucket would hold its cost (0 when granted; Infinity when one never will).
 * @example
 * ```ts
 * const { granted, retryAfterMs } = await takeAll(entries);
 * ```
 */
export interface RedisMultiDecision {
  readonly granted: boolean;
  readonly retryAfterMs: number;
}

/** One entry, checked, with what the decision needs of its limiter. */
interface Bucket {
  readonly limiter: LimiterInternals;
  readonly key: string;
  readonly redisKey: string;
  readonly cost: number;
}

/** Checks `entries` and returns their buckets. */
function bucketsOf(entries: readonly RedisLimitEntry[]): Bucket[] {
  if (!Array.isArray(entries) || entries.length === 0) throw invalid('entries', 'a non-empty array of [RedisKeyedLimiter, key, cost?]', entries);
  const buckets: Bucket[] = [];
  for (let index = 0; index < entries.length; index++) {
    const entry = entries[index] as unknown;
    const [limiter, key, cost = 1] = Array.isArray(entry) ? (entry as unknown[]) : [];
    const internals = internalsOf(limiter);
    if (internals === undefined) throw invalid(`entries[${index}][0]`, 'a RedisKeyedLimiter', limiter);
    if (internals.client !== buckets[0]?.limiter.client && index > 0) {
      throw invalid(`entries[${index}][0]`, 'a RedisKeyedLimiter on the same Redis client as entries[0][0]', limiter);
    }
    if (typeof key !== 'string') throw invalid(`entries[${index}][1]`, 'a string', key);
    const redisKey = internals.prefix + key;
    if (buckets.some((bucket) => bucket.redisKey === redisKey)) throw invalid(`entries[${index}][1]`, 'a bucket not already in entries', key);
    buckets.push({ limiter: internals, key, redisKey, cost: finiteNumber(`entries[${index}][2]`, cost, 0) });
  }
  if (buckets[0]!.limiter.driver.cluster) {
    const slot = hashSlot(buckets[0]!.redisKey);
    for (let index = 1; index < buckets.length; index++) {
      const other = hashSlot(buckets[index]!.redisKey);
      if (other !== slot) {
        const expected = `${slot}, the slot of entries[0] (the keys of one decision in a Redis Cluster need one {hash tag}, like '{user:42}:second')`;
        throw invalid(`the hash slot of entries[${index}]`, expected, other, true);
      }
    }
  }
  return buckets;
}

/** Counts the decision on each limiter: a refusal on those whose bucket was short. */
function count(buckets: readonly Bucket[], granted: boolean, waitsMs: readonly number[]): void {
  buckets.forEach((bucket, index) => {
    if (granted || waitsMs[index]! > 0) bucket.limiter.count(bucket.key, bucket.cost, granted, waitsMs[index]!);
  });
}

/** Decides by each limiter's `onRedisError`, all or nothing: a local grant is given back when another bucket refuses. */
function decideInstead(buckets: readonly Bucket[]): RedisMultiDecision {
  const taken: [Bucket, DownNode | undefined][] = [];
  const waitsMs = buckets.map(() => 0);
  buckets.forEach((bucket, index) => {
    const down = bucket.limiter.failures.downNodeOf(bucket.redisKey);
    const decision = bucket.limiter.failures.take(bucket.key, bucket.cost, down);
    if (decision.granted) taken.push([bucket, down]);
    else waitsMs[index] = decision.retryAfterMs;
  });
  const granted = taken.length === buckets.length;
  if (!granted) for (const [bucket, down] of taken) bucket.limiter.failures.giveBack(bucket.key, bucket.cost, down);
  count(buckets, granted, waitsMs);
  return { granted, retryAfterMs: Math.max(...waitsMs) };
}

/**
 * Takes each entry's cost from its bucket, all or nothing, in one script call on Redis:
 * "10 per second AND 1,000 per hour per user" as one decision that never takes from one
 * bucket what another refuses. The limiters must share one client; in a Redis Cluster the
 * keys (with each limiter's prefix) must share one hash slot — give them one `{hash tag}`.
 * While the node fails, or a key holds no bucket, each limiter's `onRedisError` decides,
 * still all or nothing. Decisions are counted in each limiter's `stats()`.
 * @param entries - `[limiter, key, cost?]` for each bucket, each bucket once.
 * @returns whether every cost was taken, and when not, the wait until all could be.
 * @throws {TypeError} (as a rejection) when an entry is not `[RedisKeyedLimiter, string, number?]`, or its limiter is on another client.
 * @throws {RangeError} (as a rejection) when a cost is not a finite number >= 0, or in a cluster when the keys are in different hash slots.
 * @example
 * ```ts
 * const perSecond = new RedisKeyedLimiter({ redis, prefix: 'rps:', capacity: 10, refillPerSecond: 10 });
 * const perHour = new RedisKeyedLimiter({ redis, prefix: 'rph:', capacity: 1000, refillPerSecond: 1000 / 3600 });
 * const { granted, retryAfterMs } = await takeAll([[perSecond, `{${user}}`], [perHour, `{${user}}`]]);
 * ```
 */
export async function takeAll(entries: readonly RedisLimitEntry[]): Promise<RedisMultiDecision> {
  const buckets = bucketsOf(entries);
  const waitsMs = buckets.map(({ limiter, cost }) => (cost > limiter.capacity ? Infinity : 0));
  if (waitsMs.includes(Infinity)) {
    count(buckets, false, waitsMs);
    return { granted: false, retryAfterMs: Infinity };
  }
  const first = buckets[0]!.limiter;
  // Every bucket asked, so that each down node gets its probe.
  if (buckets.map((bucket) => bucket.limiter.isDown(bucket.redisKey)).includes(true)) return decideInstead(buckets);
  const argv: string[] = [];
  for (const { limiter, cost } of buckets) argv.push(...limiter.limitArgs, String(cost));
  const keys = buckets.map((bucket) => bucket.redisKey);
  const reply = await new Promise<unknown>((resolve) => {
    first.transport.run({ script: DECIDE_ALL, keys, operation: 'take', argv }, (error, value) => resolve(error === undefined ? value : new Failure(error)));
  });
  const tokens = Array.isArray(reply) && reply.length === buckets.length + 1 ? reply.slice(1).map(tokensOf) : [];
  const outcome = Array.isArray(reply) ? Number(reply[0]) : Number.NaN;
  if ((outcome !== Outcome.Refused && outcome !== Outcome.Granted) || tokens.length === 0 || tokens.some(Number.isNaN)) {
    if (outcome === Outcome.NotABucket) first.failures.report(new RedisDataError(String((reply as unknown[])[2]), String((reply as unknown[])[1])));
    else {
      const error = reply instanceof Failure ? reply.error : new TypeError(`Unexpected reply from the Redis script: ${String(reply)}`);
      for (const bucket of buckets) bucket.limiter.failures.fail(bucket.redisKey, error);
    }
    return decideInstead(buckets);
  }
  const granted = outcome === Outcome.Granted;
  buckets.forEach(({ limiter, cost }, index) => (waitsMs[index] = granted ? 0 : waitMs(tokens[index]!, cost, limiter.capacity, limiter.refillPerSecond)));
  count(buckets, granted, waitsMs);
  return { granted, retryAfterMs: Math.max(...waitsMs) };
}

/** A failed command, told apart from a reply. */
class Failure {
  constructor(readonly error: unknown) {}
}

/**
 * Takes each entry's cost from its bucket, all or nothing, like `takeAll`, and says
 * whether it did.
 * @throws {TypeError|RangeError} (as a rejection) like `takeAll`.
 * @example
 * ```ts
 * if (!(await tryAcquireAll([[perSecond, `{${user}}`], [perHour, `{${user}}`]]))) return tooManyRequests();
 * ```
 */
export async function tryAcquireAll(entries: readonly RedisLimitEntry[]): Promise<boolean> {
  return (await takeAll(entries)).granted;
}
