import { checkClock } from './clock.js';
import { RateLimitError } from './errors.js';
import { MonotonicTime } from './monotonic-time.js';
import { type AcquireOptions, type LimitOptions, admit, checkCost, checkLimitOptions, granted, tooLong } from './options.js';
import { MILLI, covers, refillMs, spend } from './refill.js';
import { invalid, stringKey } from './validate.js';
import { Lane, WaitScheduler } from './wait-scheduler.js';

/** Operations between two sweeps for full buckets; a sweep drops up to 2 per operation. */
const SWEEP_EVERY = 32;

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
  /**
   * Levels (milli-tokens, see refill.ts) of the buckets without waiters, least recently
   * used first: a key is moved to the end each time it is used. One number per key.
   */
  readonly #idle = new Map<string, number>();
  /** Buckets with waiters; they own their level while waiting. */
  readonly #waiting = new Map<string, Lane>();
  /** The key used last, which is already at the end of #idle. */
  #lastKey: string | undefined;
  #untilSweep = SWEEP_EVERY;

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
      this.#idle.set(lane.key, lane.level);
      this.#lastKey = lane.key;
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
    const idle = this.#idle;
    const level = idle.get(key);
    if (--this.#untilSweep === 0) this.#sweep(accrued);
    if (level === undefined) {
      if (need > this.#full || (this.#waiting.size !== 0 && this.#waiting.has(key))) return false;
      if (!this.#makeRoom()) return false;
      idle.set(key, this.#full - need - accrued);
      this.#lastKey = key;
      return true;
    }
    const tokens = level + accrued;
    let next = level;
    let taken = false;
    if (need <= this.#full) {
      if (tokens >= this.#full) {
        next = this.#full - need - accrued;
        taken = true;
      } else if (covers(tokens, need, nowMs, this.#refillPerSecond)) {
        next = spend(level, need);
        taken = true;
      }
    }
    if (key === this.#lastKey) {
      if (taken) idle.set(key, next);
    } else {
      // Delete and re-insert so that Map order stays least recently used first.
      idle.delete(key);
      idle.set(key, next);
      this.#lastKey = key;
    }
    return taken;
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
    const tokens = lane ? 0 : this.#tokens(key, nowMs);
    const waitMs = lane ? this.#scheduler.waitMs(lane, need, nowMs) : refillMs(tokens, need, nowMs, this.#refillPerSecond);
    const refusal = tooLong(waitMs, maxWaitMs) ?? (lane || this.#idle.has(key) || this.#makeRoom() ? undefined : new RateLimitError(0, 'Rate limit exceeded: every bucket held has waiters (maxKeys)'));
    if (refusal) return Promise.reject(refusal);
    if (!lane) {
      this.#idle.delete(key);
      if (this.#lastKey === key) this.#lastKey = undefined;
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
    if (need > this.#full) return Infinity;
    const nowMs = this.#time.now();
    const lane = this.#waiting.get(key);
    return lane ? this.#scheduler.waitMs(lane, need, nowMs) : refillMs(this.#tokens(key, nowMs), need, nowMs, this.#refillPerSecond);
  }

  /** Returns the tokens a `tryAcquire(key)` could take right now (fractional, exact); 0 while callers wait on `key`. Does not create a bucket. */
  available(key: string): number {
    stringKey(key);
    return this.#waiting.has(key) ? 0 : Math.max(0, this.#tokens(key, this.#time.now())) / MILLI;
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
    if (this.#lastKey === key) this.#lastKey = undefined;
    return this.#idle.delete(key) || lane !== undefined;
  }

  /** Forgets every bucket, as `delete` does for each key. */
  clear(): void {
    this.#idle.clear();
    this.#lastKey = undefined;
    for (const lane of [...this.#waiting.values()]) this.#refill(lane);
  }

  #refill(lane: Lane): void {
    const nowMs = this.#time.now();
    lane.level = this.#full - nowMs * this.#refillPerSecond;
    this.#scheduler.serve(lane, nowMs);
  }

  /** Milli-tokens in `key`'s bucket at `nowMs`, at most the capacity (nobody waiting). */
  #tokens(key: string, nowMs: number): number {
    const level = this.#idle.get(key);
    return level === undefined ? this.#full : Math.min(this.#full, level + nowMs * this.#refillPerSecond);
  }

  /** Makes room for one more key under maxKeys; returns false when every bucket held has waiters. */
  #makeRoom(): boolean {
    if (this.size < this.#maxKeys) return true;
    for (const key of this.#idle.keys()) {
      this.#idle.delete(key);
      if (this.#lastKey === key) this.#lastKey = undefined;
      return true;
    }
    return false;
  }

  /**
   * Drops full buckets from the least recently used end, stopping at the first that is
   * not full (every later one was used more recently). Up to 2 per operation, amortized.
   */
  #sweep(accrued: number): void {
    this.#untilSweep = SWEEP_EVERY;
    let budget = 2 * SWEEP_EVERY;
    for (const [key, level] of this.#idle) {
      if (budget-- === 0 || level + accrued < this.#full) return;
      this.#idle.delete(key);
      if (this.#lastKey === key) this.#lastKey = undefined;
    }
  }
}
