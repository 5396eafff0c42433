import { checkClock } from './clock.js';
import type { Decision } from './decision.js';
import { MonotonicTime } from './monotonic-time.js';
import { type AcquireOptions, type LimitOptions, admit, checkCost, checkLimitOptions, granted, tooLong } from './options.js';
import { MILLI, covers, refillMs, spend } from './refill.js';
import { finiteNumber } from './validate.js';
import { Lane, WaitScheduler } from './wait-scheduler.js';

/** Options of a TokenBucket. */
export interface TokenBucketOptions extends LimitOptions {
  /** Tokens in the bucket when it is created, from 0 to `capacity`. @default capacity (a full bucket) */
  readonly initialTokens?: number | undefined;
}

/**
 * TokenBucket is one token bucket: it holds up to `capacity` tokens and refills
 * continuously at `refillPerSecond`. Refill is computed when asked (no background timer);
 * waiting callers are served first-in first-out with at most one timer.
 *
 * @example
 * ```ts
 * const bucket = new TokenBucket({ capacity: 10, refillPerSecond: 5 });
 * if (bucket.tryAcquire()) send();             // never waits
 * await bucket.acquire();                       // waits its turn
 * ```
 */
export class TokenBucket {
  readonly #capacity: number;
  readonly #refillPerSecond: number;
  /** Capacity in milli-tokens. */
  readonly #full: number;
  readonly #time: MonotonicTime;
  readonly #scheduler: WaitScheduler;
  /** The bucket's level (milli-tokens, see refill.ts) while nobody waits. */
  #level: number;
  /** The line of waiting callers; it owns the level while it exists. */
  #lane: Lane | undefined;
  /** Most milli-tokens a tryAcquire may take: the capacity, or -1 while callers wait (one compare for both). */
  #takeLimit: number;

  /**
   * Creates a bucket, full unless `initialTokens` says otherwise.
   * @throws {TypeError} when an option has the wrong type or the clock lacks a method.
   * @throws {RangeError} when `capacity` is not > 0, `refillPerSecond` is negative, a number is NaN or infinite, or `initialTokens` is outside `[0, capacity]`.
   */
  constructor(options: TokenBucketOptions) {
    const [capacity, refillPerSecond] = checkLimitOptions(options);
    const initialTokens = options.initialTokens === undefined ? capacity : finiteNumber('initialTokens', options.initialTokens, 0, capacity);
    this.#capacity = capacity;
    this.#refillPerSecond = refillPerSecond;
    this.#full = this.#takeLimit = capacity * MILLI;
    this.#time = new MonotonicTime(checkClock(options.clock));
    this.#level = initialTokens * MILLI - this.#time.now() * refillPerSecond;
    this.#scheduler = new WaitScheduler(this.#time, refillPerSecond, (lane) => {
      this.#level = lane.level;
      this.#lane = undefined;
      this.#takeLimit = this.#full;
    });
  }

  /** Most tokens the bucket holds. */
  get capacity(): number {
    return this.#capacity;
  }

  /** Tokens added per second. */
  get refillPerSecond(): number {
    return this.#refillPerSecond;
  }

  /** Tokens a `tryAcquire` could take right now (fractional, exact); 0 while callers wait. */
  get available(): number {
    return this.#lane ? 0 : Math.max(0, this.#tokens(this.#time.now())) / MILLI;
  }

  /**
   * Takes `cost` tokens if they are there and nobody is waiting; never waits.
   * @param cost - tokens to take, a finite number >= 0. @default 1
   * @returns whether the tokens were taken; false when `cost` exceeds the capacity.
   * @throws {TypeError|RangeError} when `cost` is not a finite number >= 0.
   */
  tryAcquire(cost = 1): boolean {
    const need = checkCost(cost);
    const nowMs = this.#time.now();
    if (need > this.#takeLimit) return false;
    const accrued = nowMs * this.#refillPerSecond;
    const tokens = this.#level + accrued;
    if (tokens >= this.#full) {
      this.#level = this.#full - need - accrued;
      return true;
    }
    if (!covers(tokens, need, nowMs, this.#refillPerSecond)) return false;
    this.#level = spend(this.#level, need);
    return true;
  }

  /**
   * Takes `cost` tokens, waiting first-in first-out behind earlier callers until they are
   * there. Resolves at once, without a timer, when tokens are there and nobody waits.
   * Never throws: every refusal is a rejected promise.
   * @param cost - tokens to take, a finite number >= 0 and <= capacity. @default 1
   * @returns a promise that resolves when the tokens are taken. It rejects with a
   * RateLimitError (and takes nothing) when the wait would exceed `maxWaitMs` or can never
   * end; with `signal.reason` when aborted; with a RangeError when `cost` exceeds the
   * capacity; with a TypeError or RangeError on bad input.
   */
  acquire(cost = 1, options?: AcquireOptions): Promise<void> {
    const admitted = admit(cost, options, this.#capacity);
    if ('refusal' in admitted) return Promise.reject(admitted.refusal);
    const { need, signal, maxWaitMs } = admitted;
    if (this.tryAcquire(cost)) return granted;
    const nowMs = this.#time.now();
    const lane = this.#lane;
    const tokens = lane ? 0 : this.#tokens(nowMs);
    const refusal = tooLong(this.#waitMs(need, nowMs), maxWaitMs);
    if (refusal) return Promise.reject(refusal);
    if (!lane) this.#takeLimit = -1;
    return this.#scheduler.enqueue(lane ?? (this.#lane = new Lane('', tokens - nowMs * this.#refillPerSecond)), need, signal, nowMs);
  }

  /**
   * Returns the milliseconds until `tryAcquire(cost)` would succeed, behind every caller
   * already waiting: 0 means now, Infinity means never (cost above capacity, or a spent
   * fixed quota). Exact: after waiting this long on the same clock, `tryAcquire(cost)` succeeds.
   * @param cost - tokens, a finite number >= 0. @default 1
   */
  retryAfter(cost = 1): number {
    const need = checkCost(cost);
    return need > this.#full ? Infinity : this.#waitMs(need, this.#time.now());
  }

  /**
   * Takes `cost` tokens like `tryAcquire` and reports the decision with what rate-limit
   * headers need: tokens remaining, when to retry, when the bucket is full again.
   * @param cost - tokens to take, a finite number >= 0. @default 1
   * @throws {TypeError|RangeError} when `cost` is not a finite number >= 0.
   * @example
   * ```ts
   * const { granted, retryAfterMs } = bucket.take();
   * ```
   */
  take(cost = 1): Decision {
    const granted = this.tryAcquire(cost);
    return {
      granted,
      remaining: this.available,
      retryAfterMs: granted ? 0 : this.retryAfter(cost),
      resetAfterMs: this.#waitMs(this.#full, this.#time.now()),
      limit: this.#capacity,
    };
  }

  /** Milliseconds until `need` milli-tokens are there for a new caller, behind every waiter. */
  #waitMs(need: number, nowMs: number): number {
    const lane = this.#lane;
    return lane ? this.#scheduler.waitMs(lane, need, nowMs) : refillMs(this.#tokens(nowMs), need, nowMs, this.#refillPerSecond);
  }

  /** Milli-tokens in the bucket at `nowMs`, at most the capacity (nobody waiting). */
  #tokens(nowMs: number): number {
    return Math.min(this.#full, this.#level + nowMs * this.#refillPerSecond);
  }
}
