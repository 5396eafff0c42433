/**
 * RedisTimeoutError is what the Redis limiter reports (to `onError`, and as the `cause`
 * of a refusal) when Redis did not answer a command within `timeoutMs`.
 * @example
 * ```ts
 * new RedisKeyedLimiter({ redis, capacity: 10, refillPerSecond: 1, onError: (error) => {
 *   if (error instanceof RedisTimeoutError) metrics.increment('redis.timeout');
 * } });
 * ```
 */
export class RedisTimeoutError extends Error {
  /** The limit that was passed, in milliseconds. */
  readonly timeoutMs: number;

  constructor(timeoutMs: number) {
    super(`Redis did not answer within ${timeoutMs} ms`);
    this.name = 'RedisTimeoutError';
    this.timeoutMs = timeoutMs;
  }
}
