/*
 * The protocol by which `acquireAll` and `tryAcquireAll` (fairbucket/outbound) decide a
 * list of RedisKeyedLimiter buckets in one script call: structural, so that it holds
 * across entry points and builds, and the core does not carry it.
 */
/**
 * The key of a Redis limiter's method that decides several of its buckets in one script
 * call, all or nothing: `limiter[TAKE_ALL](entries)` resolves to `{ granted, retryAfterMs }`.
 * `acquireAll` and `tryAcquireAll` use it for lists of RedisKeyedLimiter entries.
 */
export const TAKE_ALL: unique symbol = Symbol.for('fairbucket.takeAll') as never;

/** A decision over several buckets at once. */
export interface MultiDecision {
  readonly granted: boolean;
  /** Milliseconds until every bucket could serve its cost: 0 when granted, Infinity when never. */
  readonly retryAfterMs: number;
}

/** A limiter that decides several of its buckets in one call. */
export interface TakingAll {
  [TAKE_ALL](entries: readonly (readonly [TakingAll, string, number?])[]): Promise<MultiDecision>;
  readonly clock?: unknown;
}

/** Returns whether every entry of `limits` is `[limiter, key, cost]` on a limiter that decides several buckets at once (RedisKeyedLimiter). */
export function takesAll(limits: readonly (readonly unknown[])[]): limits is readonly (readonly [TakingAll, string, number])[] {
  return (
    limits.length !== 0 &&
    limits.every((limit) => Array.isArray(limit) && limit.length === 3 && typeof (limit[0] as Partial<TakingAll> | null)?.[TAKE_ALL] === 'function')
  );
}
