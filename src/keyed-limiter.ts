import { BucketSlab } from './bucket-slab.js';
import { checkAmount, checkLimitOptions, checkOnDeny } from './check-options.js';
import type { Decision } from './decision.js';
import { ENLIST, type Part, type Party } from './enlist.js';
import type { AcquireOptions, LimiterStats, LimitOptions, Reservation } from './limit-options.js';
import { LimiterEngine } from './limiter-engine.js';
import { LimiterFace, checkPauseMs } from './limiter-face.js';
import { invalid, stringKey } from './validate.js';

/**
 * Options of a KeyedLimiter.
 * @example
 * ```ts
 * const options: KeyedLimiterOptions = { capacity: 5, refillPerSecond: 1, maxKeys: 100_000 };
 * ```
 */
export interface KeyedLimiterOptions extends LimitOptions {
  /**
   * Most buckets held in memory, a whole number >= 1 or Infinity. Past it, of the five
   * least recently used buckets without waiters the one closest to full is dropped (its
   * key starts again full); when every bucket held has waiters, a new key is refused.
   * @default 1_000_000
   */
  readonly maxKeys?: number | undefined;
}

/**
 * Counters of a KeyedLimiter since it was created, from `stats()`.
 * @example
 * ```ts
 * const { evicted } = new KeyedLimiter({ capacity: 5, refillPerSecond: 1 }).stats();
 * ```
 */
export interface KeyedLimiterStats extends LimiterStats {
  /** Buckets dropped: full ones (invisible) and, past `maxKeys`, the fullest of the least recently used. */
  readonly evicted: number;
}

const OPTIONS = ['capacity', 'refillPerSecond', 'clock', 'onDeny', 'maxKeys'] as const;

/**
 * KeyedLimiter keeps one token bucket per key (a user, an API token, an IP address), each
 * with the same `capacity` and `refillPerSecond`. A bucket that has refilled to full and
 * has no waiters is indistinguishable from a new one, so once it has been full for one
 * refill period it is dropped as later operations pass by (no timer, no scan); `size`
 * stays near the number of keys used within two refill periods. One timer serves the
 * waiters of all keys.
 *
 * @example
 * ```ts
 * const perUser = new KeyedLimiter({ capacity: 5, refillPerSecond: 1 });
 * if (!perUser.tryAcquire(userId)) return tooManyRequests(perUser.retryAfter(userId));
 * ```
 */
export class KeyedLimiter extends LimiterFace {
  readonly #engine: LimiterEngine;

  /**
   * Creates an empty limiter; every key starts with a full bucket.
   * @throws {TypeError} when an option has the wrong type, an option is unknown, or the clock lacks a method.
   * @throws {RangeError} when `capacity` is not > 0 and <= 1e12, `refillPerSecond` is not from 0 to 1e9, a number is NaN or infinite, or `maxKeys` is not a whole number >= 1.
   */
  constructor(options: KeyedLimiterOptions) {
    const [capacity, refillPerSecond] = checkLimitOptions(options, OPTIONS);
    const { maxKeys = 1_000_000 } = options;
    if (!(Number.isInteger(maxKeys) && maxKeys >= 1) && maxKeys !== Infinity) throw invalid('maxKeys', 'a whole number >= 1 or Infinity', maxKeys, true);
    const engine = new LimiterEngine((state) => new BucketSlab(state, maxKeys), capacity, refillPerSecond, options.clock, checkOnDeny(options.onDeny), true);
    super(engine);
    this.#engine = engine;
  }

  /** Buckets held in memory: keys not full or with waiters or paused, plus full ones not yet dropped. */
  get size(): number {
    return this.#engine.size;
  }

  /**
   * Takes `cost` tokens from `key`'s bucket if they are there and nobody waits on that key.
   * @param key - the bucket's key, any string (including `__proto__`).
   * @param cost - tokens to take, a finite number >= 0. @default 1
   * @returns whether the tokens were taken; false when `cost` exceeds the capacity, during
   * a pause, or when the key is new and every bucket held (`maxKeys`) has waiters.
   * @throws {TypeError|RangeError} when `key` is not a string or `cost` not a finite number >= 0.
   */
  tryAcquire(key: string, cost = 1): boolean {
    if (typeof key !== 'string') stringKey(key);
    return this.#engine.tryAcquire(key, cost);
  }

  /**
   * Takes `cost` tokens from `key`'s bucket, waiting first-in first-out behind earlier
   * callers on the same key. Never throws: every refusal is a rejected promise.
   * @param key - the bucket's key, any string.
   * @param cost - tokens to take, a finite number >= 0 and <= capacity. @default 1
   * @returns a promise that resolves when the tokens are taken. It rejects with a
   * RateLimitError (taking nothing) when the wait would exceed `maxWaitMs`, can never end,
   * or the key is new and every bucket held has waiters; with `signal.reason` when
   * aborted (or the reason given to `abortAll`); with a RangeError when `cost` exceeds the
   * capacity; with a TypeError or RangeError on bad input, an unknown option included.
   */
  acquire(key: string, cost = 1, options?: AcquireOptions): Promise<void> {
    if (typeof key !== 'string') return Promise.reject(invalid('key', 'a string', key));
    return this.#engine.acquire(key, cost, options);
  }

  /**
   * Returns the milliseconds until `tryAcquire(key, cost)` would succeed, behind every
   * caller already waiting on `key` and after any pause: 0 means now, Infinity means never.
   * Exact, like TokenBucket's `retryAfter`. Does not create a bucket.
   */
  retryAfter(key: string, cost = 1): number {
    return this.#engine.retryAfter(stringKey(key), cost);
  }

  /**
   * Takes `cost` tokens from `key`'s bucket like `tryAcquire` and reports the decision
   * with what rate-limit headers need: tokens remaining, when to retry, when the bucket
   * is full again, all at one reading of the clock.
   * @param key - the bucket's key, any string.
   * @param cost - tokens to take, a finite number >= 0. @default 1
   * @throws {TypeError|RangeError} when `key` is not a string or `cost` not a finite number >= 0.
   * @example
   * ```ts
   * const { granted, remaining, retryAfterMs } = limiter.take(apiToken);
   * ```
   */
  take(key: string, cost = 1): Decision {
    return this.#engine.decide(stringKey(key), cost);
  }

  /** Returns the tokens a `tryAcquire(key)` could take right now (fractional, exact); 0 while callers wait on `key` or during a pause. Does not create a bucket. */
  available(key: string): number {
    return this.#engine.available(stringKey(key));
  }

  /**
   * Takes a place in `key`'s line for `cost` tokens at once, without waiting (Go's
   * `Reserve`): act after `delayMs`, or `cancel()` to give the tokens back. The delay is a
   * commitment: later charges, pauses or reconfiguration never move it.
   * @throws {TypeError|RangeError} on a bad key or cost, or a cost above the capacity.
   * @throws {RateLimitError} when the tokens can never be there, or the key is new and every bucket held has waiters.
   */
  reserve(key: string, cost = 1): Reservation {
    return this.#engine.reserve(stringKey(key), cost);
  }

  /**
   * Gives back `amount` tokens to `key`'s bucket, taken but not used, never above the
   * capacity. Callers waiting on the key see them at once.
   * @throws {TypeError|RangeError} on a bad key, or when `amount` is not a finite number from 0 to 1e12.
   */
  refund(key: string, amount: number): void {
    this.#engine.adjust(stringKey(key), checkAmount('amount', amount));
  }

  /**
   * Takes `amount` more tokens from `key`'s bucket, spent beyond an estimate, going into
   * debt if there are not enough. Callers waiting on the key are re-planned at once. For a
   * key that holds no bucket when every bucket held (`maxKeys`) has waiters, there is no
   * room to hold the debt and the charge is dropped, as that key's bucket would be.
   * @throws {TypeError|RangeError} on a bad key, or when `amount` is not a finite number from 0 to 1e12.
   */
  charge(key: string, amount: number): void {
    this.#engine.adjust(stringKey(key), -checkAmount('amount', amount));
  }

  /**
   * Grants nothing for the next `ms` milliseconds: on `key` only (a host that answered 429
   * with `Retry-After`), or on every key when `key` is left out. Tokens keep refilling (up
   * to the capacity); waiting callers keep their order and are served after the pause;
   * reservations already given keep their instant. A shorter pause than one in force does
   * not shorten it (`resume` does). A paused key is held in memory until its pause ends,
   * even past `maxKeys` (a pause is never lost to make room).
   * @throws {TypeError|RangeError} when `ms` is not a finite number >= 0, or `key` is given and not a string.
   * @example
   * ```ts
   * perHost.pauseFor(30_000, 'api.example.com'); // other hosts go on
   * ```
   */
  pauseFor(ms: number, key?: string): void {
    this.#engine.pauseFor(checkPauseMs(ms), key === undefined ? undefined : stringKey(key));
  }

  /**
   * Ends a pause now: `key`'s own pause, or, with no key, every pause (of all keys and of
   * each key). Waiting callers whose tokens are there are served at once.
   * @throws {TypeError} when `key` is given and not a string.
   */
  resume(key?: string): void {
    this.#engine.resume(key === undefined ? undefined : stringKey(key));
  }

  /** Returns the counters since the limiter was created, with the buckets evicted. */
  stats(): KeyedLimiterStats {
    return { ...this.#engine.stats(), evicted: this.#engine.evicted };
  }

  /**
   * Forgets `key`'s bucket, so that it starts again full, and its own pause. Callers
   * waiting on it are served from the full bucket at once, as far as its tokens go, and
   * keep their place; what they take is gone from it.
   * @returns whether a bucket was held for `key`.
   */
  delete(key: string): boolean {
    return this.#engine.forget(stringKey(key));
  }

  /** Forgets every bucket, as `delete` does for each key. */
  clear(): void {
    this.#engine.forgetAll();
  }

  /** Takes a place in `key`'s line for `acquireAll` from `fairbucket/outbound`; not for direct use. */
  [ENLIST](key: string | undefined, cost: number, party: Party, reject: (reason: unknown) => void): Part {
    return this.enlistIn(stringKey(key), cost, party, reject);
  }
}
