/*
 * The protocol by which `acquireAll` (fairbucket/outbound, built apart from the core)
 * waits in the lines of several limiters at once: structural, so that it holds across
 * entry points, builds and realms.
 */

/**
 * The key of a limiter's method that takes a place in its line for an `acquireAll`
 * caller: `limiter[ENLIST](key, cost, party, reject)` returns a Part. A registered symbol,
 * the same in every entry point and build.
 */
export const ENLIST: unique symbol = Symbol.for('fairbucket.enlist') as never;

/**
 * A caller of `acquireAll` waiting in several lines at once: each of its places asks it,
 * once at the head of its line with its tokens there, whether every place is.
 */
export interface Party {
  /**
   * Called when the place holding `entry` has its tokens at the head of its line; returns
   * whether every place was ready, in which case every place has been charged.
   */
  ready(entry: unknown): boolean;
}

/** One place of an `acquireAll` caller in one limiter's line. */
export interface Part {
  /** The line entry of this place, as `Party.ready` receives it. */
  readonly entry: unknown;
  /** Milliseconds the place was planned to wait when it was taken (behind the line, after any pause). */
  readonly waitMs: number;
  /** Returns whether the place could be charged now: at the head of its line, not paused, its tokens there. */
  isReady(): boolean;
  /** Charges the place (which `isReady` says may be), without serving the line behind it. */
  commit(): void;
  /** Serves the line: the place's own turn may come, or, once it is charged, the callers behind it. */
  settle(): void;
  /** Gives the place back uncharged, if it is still in line. */
  cancel(): void;
  /** Counts a refusal of the caller in this limiter's statistics and tells its `onDeny`. */
  deny(retryAfterMs: number): void;
}

/** A limiter that can take a place in its line for an `acquireAll` caller. */
export interface Enlisting {
  [ENLIST](key: string | undefined, cost: number, party: Party, reject: (reason: unknown) => void): Part;
}

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
