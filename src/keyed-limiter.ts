import { BucketSlab } from './bucket-slab.js';
import { checkClock } from './clock.js';
import type { Decision } from './decision.js';
import { RateLimitError } from './errors.js';
import { MonotonicTime } from './monotonic-time.js';
import { type AcquireOptions, type LimitOptions, admit, checkCost, checkLimitOptions, granted, tooLong } from './options.js';
import { MILLI, covers, refillMs, spend } from './refill.js';
import { invalid, stringKey } from './validate.js';
import { Lane, WaitScheduler } from './wait-scheduler.js';

/** Options of a KeyedLimiter. */
export interface KeyedLimiterOptions extends LimitOptions {
  /**
   * Most buckets held in memory, a whole number >= 1 or Infinity. Past it, the least
   * recently used bucket without waiters is dropped (its key starts again full); when
   * every bucket held has waiters, a new key is refused.
   * @default 1_000_000
   */
  readonly maxKeys?: number | undefined;
}

/**
 * KeyedLimiter keeps one token bucket per key (a user, an API token, an IP address), each
 * with the same `capacity` and `refillPerSecond`. A bucket that has refilled to full and
 * has no waiters is indistinguishable from a new one, so it is dropped as later operations
 * pass by (no timer, no scan); `size` stays near the number of keys used within one
 * refill period. One timer serves the waiters of all keys.
 *
 * @example
 * ```ts
 * const perUser = new KeyedLimiter({ capacity: 5, refillPerSecond: 1 });
 * if (!perUser.tryAcquire(userId)) return tooManyRequests(perUser.retryAfter(userId));
 * ```
 */
export class KeyedLimiter {
  readonly #capacity: number;
  readonly #refillPerSecond: number;
  readonly #full: number;
  readonly #maxKeys: number;
  readonly #time: MonotonicTime;
  readonly #scheduler: WaitScheduler;
  /** Buckets without waiters, least recently used first. */
  readonly #idle = new BucketSlab();
  /** Buckets with waiters; they own their level while waiting. */
  readonly #waiting = new Map<string, Lane>();

  /**
   * Creates an empty limiter; every key starts with a full bucket.
   * @throws {TypeError} when an option has the wrong type or the clock lacks a method.
   * @throws {RangeError} when `capacity` is not > 0, `refillPerSecond` is negative, a number is NaN or infinite, or `maxKeys` is not a whole number >= 1.
   */
  constructor(options: KeyedLimiterOptions) {
    const [capacity, refillPerSecond] = checkLimitOptions(options);
    const { maxKeys = 1_000_000 } = options;
    if (!(Number.isInteger(maxKeys) && maxKeys >= 1) && maxKeys !== Infinity) throw invalid('maxKeys', 'a whole number >= 1 or Infinity', maxKeys, true);
    this.#capacity = capacity;
    this.#refillPerSecond = refillPerSecond;
    this.#full = capacity * MILLI;
    this.#maxKeys = maxKeys;
    this.#time = new MonotonicTime(checkClock(options.clock));
    this.#scheduler = new WaitScheduler(this.#time, refillPerSecond, (lane) => {
      this.#waiting.delete(lane.key);
      this.#idle.add(lane.key, lane.level);
    });
  }

  /** Most tokens each bucket holds. */
  get capacity(): number {
    return this.#capacity;
  }

  /** Tokens added to each bucket per second. */
  get refillPerSecond(): number {
    return this.#refillPerSecond;
  }

  /** Buckets held in memory: keys not full or with waiters, plus full ones not yet dropped. */
  get size(): number {
    return this.#idle.size + this.#waiting.size;
  }

  /**
   * Takes `cost` tokens from `key`'s bucket if they are there and nobody waits on that key.
   * @param key - the bucket's key, any string (including `__proto__`).
   * @param cost - tokens to take, a finite number >= 0. @default 1
   * @returns whether the tokens were taken; false when `cost` exceeds the capacity, or when
   * the key is new and every bucket held (`maxKeys`) has waiters.
   * @throws {TypeError|RangeError} when `key` is not a string or `cost` not a finite number >= 0.
   */
  tryAcquire(key: string, cost = 1): boolean {
    if (typeof key !== 'string') stringKey(key);
    const need = checkCost(cost);
    const nowMs = this.#time.now();
    const accrued = nowMs * this.#refillPerSecond;
    const full = this.#full;
    const idle = this.#idle;
    this.#dropFull(accrued);
    const slot = idle.slot(key);
    if (slot === undefined) {
      if (need > full || (this.#waiting.size !== 0 && this.#waiting.has(key)) || !this.#makeRoom()) return false;
      idle.add(key, full - need - accrued);
      return true;
    }
    idle.touch(slot);
    const level = idle.level(slot);
    const tokens = level + accrued;
    if (need > full) return false;
    if (tokens >= full) idle.setLevel(slot, full - need - accrued);
    else if (covers(tokens, need, nowMs, this.#refillPerSecond)) idle.setLevel(slot, spend(level, need));
    else return false;
    return true;
  }

  /**
   * Takes `cost` tokens from `key`'s bucket, waiting first-in first-out behind earlier
   * callers on the same key. Never throws: every refusal is a rejected promise.
   * @param key - the bucket's key, any string.
   * @param cost - tokens to take, a finite number >= 0 and <= capacity. @default 1
   * @returns a promise that resolves when the tokens are taken. It rejects with a
   * RateLimitError (taking nothing) when the wait would exceed `maxWaitMs`, can never end,
   * or the key is new and every bucket held has waiters; with `signal.reason` when
   * aborted; with a RangeError when `cost` exceeds the capacity; with a TypeError or
   * RangeError on bad input.
   */
  acquire(key: string, cost = 1, options?: AcquireOptions): Promise<void> {
    if (typeof key !== 'string') return Promise.reject(invalid('key', 'a string', key));
    const admitted = admit(cost, options, this.#capacity);
    if ('refusal' in admitted) return Promise.reject(admitted.refusal);
    const { need, signal, maxWaitMs } = admitted;
    if (this.tryAcquire(key, cost)) return granted;
    const nowMs = this.#time.now();
    let lane = this.#waiting.get(key);
    const slot = this.#idle.slot(key);
    const tokens = lane ? 0 : this.#tokens(slot, nowMs);
    const waitMs = lane ? this.#scheduler.waitMs(lane, need, nowMs) : refillMs(tokens, need, nowMs, this.#refillPerSecond);
    // A key that tryAcquire could not add (every bucket held has waiters) is refused until
    // the next grant, the earliest a bucket could free up.
    const refusal =
      tooLong(waitMs, maxWaitMs) ??
      (lane || slot !== undefined ? undefined : new RateLimitError(this.#scheduler.nextGrantMs(nowMs), 'Rate limit exceeded: every bucket held (maxKeys) has waiters'));
    if (refusal) return Promise.reject(refusal);
    if (!lane) {
      this.#idle.remove(slot!);
      this.#waiting.set(key, (lane = new Lane(key, tokens - nowMs * this.#refillPerSecond)));
    }
    return this.#scheduler.enqueue(lane, need, signal, nowMs);
  }

  /**
   * Returns the milliseconds until `tryAcquire(key, cost)` would succeed, behind every
   * caller already waiting on `key`: 0 means now, Infinity means never. Exact, like
   * TokenBucket's `retryAfter`. Does not create a bucket.
   */
  retryAfter(key: string, cost = 1): number {
    stringKey(key);
    const need = checkCost(cost);
    return need > this.#full ? Infinity : this.#waitMs(key, need, this.#time.now());
  }

  /**
   * Takes `cost` tokens from `key`'s bucket like `tryAcquire` and reports the decision
   * with what rate-limit headers need: tokens remaining, when to retry, when the bucket
   * is full again.
   * @param key - the bucket's key, any string.
   * @param cost - tokens to take, a finite number >= 0. @default 1
   * @throws {TypeError|RangeError} when `key` is not a string or `cost` not a finite number >= 0.
   * @example
   * ```ts
   * const { granted, remaining, retryAfterMs } = limiter.take(apiToken);
   * ```
   */
  take(key: string, cost = 1): Decision {
    const granted = this.tryAcquire(key, cost);
    return {
      granted,
      remaining: this.available(key),
      retryAfterMs: granted ? 0 : this.retryAfter(key, cost),
      resetAfterMs: this.#waitMs(key, this.#full, this.#time.now()),
      limit: this.#capacity,
    };
  }

  /** Milliseconds until `need` milli-tokens are there for a new caller on `key`, behind every waiter. */
  #waitMs(key: string, need: number, nowMs: number): number {
    const lane = this.#waiting.get(key);
    return lane ? this.#scheduler.waitMs(lane, need, nowMs) : refillMs(this.#tokens(this.#idle.slot(key), nowMs), need, nowMs, this.#refillPerSecond);
  }

  /** Returns the tokens a `tryAcquire(key)` could take right now (fractional, exact); 0 while callers wait on `key`. Does not create a bucket. */
  available(key: string): number {
    stringKey(key);
    return this.#waiting.has(key) ? 0 : Math.max(0, this.#tokens(this.#idle.slot(key), this.#time.now())) / MILLI;
  }

  /**
   * Forgets `key`'s bucket, so that it starts again full. Callers waiting on it are
   * served from the full bucket at once, as far as its tokens go, and keep their place.
   * @returns whether a bucket was held for `key`.
   */
  delete(key: string): boolean {
    stringKey(key);
    const lane = this.#waiting.get(key);
    if (lane) this.#refill(lane);
    const slot = this.#idle.slot(key);
    if (slot !== undefined) this.#idle.remove(slot);
    return slot !== undefined || lane !== undefined;
  }

  /** Forgets every bucket, as `delete` does for each key. */
  clear(): void {
    this.#idle.clear();
    for (const lane of [...this.#waiting.values()]) this.#refill(lane);
  }

  #refill(lane: Lane): void {
    const nowMs = this.#time.now();
    lane.level = this.#full - nowMs * this.#refillPerSecond;
    this.#scheduler.serve(lane, nowMs);
  }

  /** Milli-tokens in the bucket in `slot` at `nowMs` (a fresh bucket when undefined), at most the capacity. */
  #tokens(slot: number | undefined, nowMs: number): number {
    return slot === undefined ? this.#full : Math.min(this.#full, this.#idle.level(slot) + nowMs * this.#refillPerSecond);
  }

  /** Makes room for one more key under maxKeys; returns false when every bucket held has waiters. */
  #makeRoom(): boolean {
    if (this.size < this.#maxKeys) return true;
    const oldest = this.#idle.oldest();
    if (oldest === 0) return false;
    this.#idle.remove(oldest);
    return true;
  }

  /**
   * Drops up to two full buckets from the least recently used end, stopping at the first
   * that is not full: every later one was used more recently. So each operation removes
   * more than it can add, and a bucket outlives its last use by about one refill period.
   */
  #dropFull(accrued: number): void {
    const idle = this.#idle;
    for (let budget = 2; budget > 0; budget--) {
      const oldest = idle.oldest();
      if (oldest === 0 || idle.level(oldest) + accrued < this.#full) return;
      idle.remove(oldest);
    }
  }
}
