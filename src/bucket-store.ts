import type { MilliTokens } from './refill.js';

/**
 * BucketStore holds the levels (see refill.ts) of the buckets that have no line of
 * waiting callers: one bucket (SingleBucket, for TokenBucket) or one per key (BucketSlab,
 * for KeyedLimiter). The limiter engine keeps every semantic; a store only keeps levels,
 * recency and what may be forgotten.
 */
export interface BucketStore {
  /** Buckets held. */
  readonly size: number;
  /**
   * Takes `needMilli` (at most the capacity) from `key`'s bucket if it holds them, the
   * refill so far being `accruedMilli`, and marks it used; undefined when `key` holds no
   * bucket here. The store reads the capacity from the limiter's LimitState.
   */
  take(key: string, needMilli: MilliTokens, accruedMilli: MilliTokens): boolean | undefined;
  /** Returns the level of `key`'s bucket, or undefined when it holds none here. */
  levelOf(key: string): MilliTokens | undefined;
  /** Sets the level of `key`'s bucket, adding it (as the most recently used) if it holds none. */
  setLevel(key: string, levelMilli: MilliTokens): void;
  /** Forgets `key`'s bucket; returns whether there was one. */
  drop(key: string): boolean;
  /** Marks `key`'s bucket, which must be held, as used. */
  touch(key: string): void;
  /** Replaces every level with `map(level)`. */
  rebase(map: (levelMilli: MilliTokens) => MilliTokens): void;
  /** Forgets every bucket. */
  clear(): void;
  /** Called before each decision: may forget buckets that are full and unused (they read as new). */
  sweep(accruedMilli: MilliTokens): void;
  /**
   * Makes room for one more bucket when `elsewhere` buckets are held outside the store
   * (those with waiters); returns false when none can be forgotten.
   */
  makeRoom(elsewhere: number, accruedMilli: MilliTokens): boolean;
  /** Tells the store that the capacity or rate of the LimitState changed. */
  configure(): void;
  /** Buckets forgotten so far. */
  readonly evicted: number;
}
