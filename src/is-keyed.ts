import { invalid } from './validate.js';

/**
 * Returns whether `limiter` is keyed (KeyedLimiter, RedisKeyedLimiter): its `available`
 * is a method taking a key, where a TokenBucket's is a number. A limiter of another
 * shape counts as unkeyed, and a call without its key fails on the limiter's own check.
 */
export function isKeyed(limiter: object): boolean {
  return typeof (limiter as { available?: unknown }).available === 'function';
}

/** Returns the error for a keyed limiter given without its `key` option. */
export function keyRequired(): TypeError {
  return invalid('key', 'a function (the `key` option is required with a keyed limiter)', undefined);
}
