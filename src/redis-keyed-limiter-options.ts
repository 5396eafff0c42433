import type { Clock } from './clock.js';
import type { Denial, LimiterStats } from './limit-options.js';
import type { RedisClientLike } from './redis-client.js';
import type { RedisErrorPolicy } from './redis-failure-policy.js';

/**
 * Options of a RedisKeyedLimiter.
 * @example
 * ```ts
 * const options: RedisKeyedLimiterOptions = { redis: new Redis(), capacity: 10, refillPerSecond: 1, prefix: 'api:' };
 * ```
 */
export interface RedisKeyedLimiterOptions {
  /** Your connected client, as it is: an ioredis client or Cluster, a node-redis client or cluster (`createCluster`), or any object with `sendCommand(args)`. */
  readonly redis: RedisClientLike;
  /** Put before each key to name its Redis key. @default 'fairbucket:' */
  readonly prefix?: string | undefined;
  /** Most tokens each bucket holds: the largest burst, and the largest cost one call may take. A finite number > 0. */
  readonly capacity: number;
  /** Tokens added to each bucket per second, continuously. A finite number >= 0; `0` makes the capacity a fixed quota. */
  readonly refillPerSecond: number;
  /**
   * Longest wait for a Redis reply, in milliseconds (a whole number >= 1); a later reply is
   * a failure, handled by `onRedisError`.
   * @default 500
   */
  readonly timeoutMs?: number | undefined;
  /**
   * What to do while Redis fails: `'allow'`, `'deny'`, or a local KeyedLimiter that decides
   * in its place until Redis answers again.
   * @default a local KeyedLimiter with the same capacity and refillPerSecond
   */
  readonly onRedisError?: RedisErrorPolicy | undefined;
  /** Called with every Redis failure: the client's error, a RedisTimeoutError, or a RedisDataError (one key holds no bucket). Keep it cheap. */
  readonly onError?: ((error: unknown) => void) | undefined;
  /** Called each time a request is refused, like the in-memory limiters' `onDeny`. */
  readonly onDeny?: ((denial: Denial) => void) | undefined;
  /** Timers for sleeping waiters and for `timeoutMs`; never used for decisions. @default defaultClock */
  readonly clock?: Clock | undefined;
}

/**
 * Counters of a RedisKeyedLimiter in this process since it was created, from `stats()`.
 * @example
 * ```ts
 * const { failures, fallbacks } = limiter.stats();
 * ```
 */
export interface RedisLimiterStats extends LimiterStats {
  /** Redis commands that failed or timed out, and requests on a key that held no bucket (RedisDataError). */
  readonly failures: number;
  /** Requests decided by `onRedisError` instead of Redis. */
  readonly fallbacks: number;
}
