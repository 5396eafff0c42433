import { type MultiDecision, TAKE_ALL, type TakingAll, takesAll } from './take-all.js';
import { checkLimits } from './limit.js';

/**
 * A limiter `tryAcquireAll` can take from: TokenBucket, or any with the same methods.
 * @example
 * ```ts
 * const limit: TryLimit = [new TokenBucket({ capacity: 60, refillPerSecond: 1 }), 1];
 * ```
 */
export interface BucketTaker {
  tryAcquire(cost?: number): boolean;
  retryAfter(cost?: number): number;
  refund(amount: number): void;
}

/**
 * A keyed limiter `tryAcquireAll` can take from: KeyedLimiter, or any with the same methods.
 * @example
 * ```ts
 * const limit: TryLimit = [new KeyedLimiter({ capacity: 5, refillPerSecond: 1 }), userId, 1];
 * ```
 */
export interface KeyedTaker {
  tryAcquire(key: string, cost?: number): boolean;
  retryAfter(key: string, cost?: number): number;
  refund(key: string, amount: number): void;
}

/**
 * One limit of `tryAcquireAll`: `[bucket, cost]` or `[keyed, key, cost]`.
 * @example
 * ```ts
 * tryAcquireAll([[globalLimit, 1], [perUser, userId, 1]]);
 * ```
 */
export type TryLimit = readonly [BucketTaker, number] | readonly [KeyedTaker, string, number];

/** Calls `tryAcquire` of one limit. */
function tryOne(limit: TryLimit): boolean {
  return limit.length === 3 ? limit[0].tryAcquire(limit[1], limit[2]) : limit[0].tryAcquire(limit[1]);
}

/**
 * Takes several limits all-or-nothing at this instant, never waiting: true when every
 * one had its tokens (all are taken), false when any had not (none is taken). The first
 * limit that cannot be met is the one refused, so its `stats()` count the refusal and its
 * `onDeny` hears it; the limits before it are left untouched. A limit met only because an
 * earlier entry of the list was not yet taken (the same bucket twice) is refused too,
 * and what was taken is refunded.
 * @returns whether every limit was taken.
 * @throws {TypeError} naming a malformed entry (``limits[1]``) and the expected shape;
 * whatever a limiter throws for a bad key or cost, having taken nothing.
 * @example
 * ```ts
 * if (!tryAcquireAll([[requestsPerMinute, 1], [perUser, userId, 1]])) return reply(429);
 * ```
 */
export function tryAcquireAll(limits: readonly TryLimit[]): boolean;
/**
 * Takes several buckets of RedisKeyedLimiter limiters on one client all-or-nothing, in one
 * script call (in a cluster their keys must share a hash slot: a `{tag}`).
 * @returns a promise of whether every limit was taken.
 * @example
 * ```ts
 * if (!(await tryAcquireAll([[perSecond, `{${user}}`, 1], [perHour, `{${user}}`, 1]]))) return reply(429);
 * ```
 */
export function tryAcquireAll(limits: readonly (readonly [TakingAll, string, number])[]): Promise<boolean>;
export function tryAcquireAll(limits: readonly TryLimit[] | readonly (readonly [TakingAll, string, number])[]): boolean | Promise<boolean> {
  if (Array.isArray(limits) && takesAll(limits)) return limits[0]![0][TAKE_ALL](limits).then((decision: MultiDecision) => decision.granted);
  checkLimits('limits', limits, ['tryAcquire', 'retryAfter', 'refund']);
  return tryEvery(limits as readonly TryLimit[]);
}

/** `tryAcquireAll` over in-memory limiters, checked. */
function tryEvery(limits: readonly TryLimit[]): boolean {
  // Asking first takes nothing from a limit when a later one refuses, so its counters stay true.
  const refused = limits.find((limit) => (limit.length === 3 ? limit[0].retryAfter(limit[1], limit[2]) : limit[0].retryAfter(limit[1])) > 0);
  if (refused) {
    // Refused at this instant (retryAfter > 0): called only so that its counters and onDeny hear it.
    tryOne(refused);
    return false;
  }
  const taken = limits.findIndex((limit) => !tryOne(limit));
  if (taken === -1) return true;
  for (const limit of limits.slice(0, taken)) {
    if (limit.length === 3) limit[0].refund(limit[1], limit[2]);
    else limit[0].refund(limit[1]);
  }
  return false;
}
