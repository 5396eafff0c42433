import type { Clock } from './clock.js';
import { isKeyed } from './is-keyed.js';
import type { Reservation } from './limit-options.js';
import { invalid } from './validate.js';

/**
 * A limiter that can reserve and refund: TokenBucket, or any with the same methods.
 * @example
 * ```ts
 * const limit: Limit = [new TokenBucket({ capacity: 60, refillPerSecond: 1 }), 1];
 * ```
 */
export interface BucketReserver {
  reserve(cost?: number): Reservation;
  refund(amount: number): void;
  /** The limiter's clock, which `acquireAll` waits on. */
  readonly clock?: Clock;
}

/**
 * A keyed limiter that can reserve and refund: KeyedLimiter, or any with the same methods.
 * @example
 * ```ts
 * const limit: Limit = [new KeyedLimiter({ capacity: 5, refillPerSecond: 1 }), userId, 1];
 * ```
 */
export interface KeyedReserver {
  reserve(key: string, cost?: number): Reservation;
  refund(key: string, amount: number): void;
  /** The limiter's clock, which `acquireAll` waits on. */
  readonly clock?: Clock;
}

/**
 * One limit of `acquireAll`: `[bucket, cost]` or `[keyed, key, cost]`.
 * @example
 * ```ts
 * await acquireAll([[globalLimit, 1], [perUser, userId, 1]]);
 * ```
 */
export type Limit = readonly [BucketReserver, number] | readonly [KeyedReserver, string, number];

/** Names a limiter by the methods it must have: `a limiter with reserve() and refund()`. */
export function limiterWith(methods: readonly string[]): string {
  const calls = methods.map((method) => `${method}()`);
  return `a limiter with ${calls.length > 1 ? `${calls.slice(0, -1).join(', ')} and ${calls.at(-1)}` : calls[0]}`;
}

const SHAPE = 'a [limiter, cost] or [keyedLimiter, key, cost] array';
const LIST = 'an array of [limiter, cost] or [keyedLimiter, key, cost] entries';

/**
 * Checks the shape of a list of limits, naming the first malformed entry by its index:
 * an array of 2 entries (a limiter with `methods`, then a cost) or 3 (a keyed limiter, a
 * key, a cost); a keyed limiter must have its key. With `functions`, a key or a cost may
 * also be a function (of a request, for `limitFetch`). Costs' values are left to the
 * limiters, which check them.
 * @throws {TypeError} naming `name[index]` and the expected shape.
 */
export function checkLimits(name: string, limits: unknown, methods: readonly string[], functions = false): void {
  if (!Array.isArray(limits)) throw invalid(name, LIST, limits);
  limits.forEach((entry: unknown, index) => {
    const at = `${name}[${index}]`;
    if (!Array.isArray(entry) || (entry.length !== 2 && entry.length !== 3)) throw invalid(at, SHAPE, entry);
    const limiter: unknown = entry[0];
    if (typeof limiter !== 'object' || limiter === null || methods.some((method) => typeof (limiter as Record<string, unknown>)[method] !== 'function')) {
      throw invalid(`${at}[0]`, limiterWith(methods), limiter);
    }
    if (entry.length === 2 && isKeyed(limiter)) throw invalid(at, '[keyedLimiter, key, cost] for a keyed limiter', entry);
    // A key for a limiter without keys would be ignored: two such entries would wait on each other.
    if (entry.length === 3 && !isKeyed(limiter)) throw invalid(at, '[limiter, cost] for a limiter without keys', entry);
    const checked = entry.length === 3 ? ([[1, 'string', 'a string'], [2, 'number', 'a number']] as const) : ([[1, 'number', 'a number']] as const);
    for (const [position, type, expected] of checked) {
      const value: unknown = entry[position];
      if (typeof value !== type && !(functions && typeof value === 'function')) throw invalid(`${at}[${position}]`, functions ? `${expected} or a function` : expected, value);
    }
  });
}
