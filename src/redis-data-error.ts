/**
 * RedisDataError is what the Redis limiter reports to `onError` when one key holds
 * something that is not a bucket it wrote (another type, WRONGTYPE, or a string it cannot
 * read). The request on that key is answered by `onRedisError`; nothing is marked
 * unhealthy, and every other key is decided by Redis as before.
 * @example
 * ```ts
 * new RedisKeyedLimiter({ redis, capacity: 10, refillPerSecond: 1, onError: (error) => {
 *   if (error instanceof RedisDataError) log.warn(`bad limiter key ${error.key}`);
 * } });
 * ```
 */
export class RedisDataError extends Error {
  /** The Redis key (prefix included) whose data could not be read. */
  readonly key: string;

  constructor(key: string, reason: string) {
    super(`Redis key ${JSON.stringify(key)} does not hold a bucket: ${reason}`);
    this.name = 'RedisDataError';
    this.key = key;
  }
}
