import { type Clock, checkClock } from './clock.js';
import type { Decision } from './decision.js';
import { RateLimitError } from './errors.js';
import { MonotonicTime } from './monotonic-time.js';
import {
  type AcquireOptions,
  type Denial,
  type LimiterStats,
  type LimitOptions,
  type Reservation,
  aboveCapacity,
  admit,
  checkAmount,
  checkCost,
  checkLimitOptions,
  checkOnDeny,
  granted,
  tooLong,
} from './options.js';
import { MILLI, covers, spend } from './refill.js';
import { finiteNumber } from './validate.js';
import { type Entry, Lane, WaitScheduler } from './wait-scheduler.js';

/**
 * Options of a TokenBucket.
 * @example
 * ```ts
 * const options: TokenBucketOptions = { capacity: 10, refillPerSecond: 1, initialTokens: 0 }; // starts empty
 * ```
 */
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
  // Number fields start as numbers, not `undefined`: V8 then keeps them as doubles it
  // updates in place, where a field that began as undefined boxes every new value (a
  // measured 4-5 ns per tryAcquire, for #level).
  #capacity = 0;
  #refillPerSecond = 0;
  /** Capacity in milli-tokens. */
  #full = 0;
  readonly #time: MonotonicTime;
  readonly #scheduler: WaitScheduler;
  readonly #onDeny: ((denial: Denial) => void) | undefined;
  /** The bucket's level (milli-tokens, see refill.ts) while nobody waits. */
  #level = 0;
  /** The line of waiting callers; it owns the level while it exists. */
  #lane: Lane | undefined;
  /**
   * Most milli-tokens a tryAcquire may take: the capacity, or -1 while callers wait or a
   * pause may be on (one compare on the hot path for all three).
   */
  #takeLimit = 0;
  #granted = 0;
  #denied = 0;

  /**
   * Creates a bucket, full unless `initialTokens` says otherwise.
   * @throws {TypeError} when an option has the wrong type or the clock lacks a method.
   * @throws {RangeError} when `capacity` is not > 0, `refillPerSecond` is negative, a number is NaN or infinite, or `initialTokens` is outside `[0, capacity]`.
   */
  constructor(options: TokenBucketOptions) {
    const [capacity, refillPerSecond] = checkLimitOptions(options);
    const initialTokens = options.initialTokens === undefined ? capacity : finiteNumber('initialTokens', options.initialTokens, 0, capacity);
    this.#onDeny = checkOnDeny(options.onDeny);
    this.#capacity = capacity;
    this.#refillPerSecond = refillPerSecond;
    this.#full = this.#takeLimit = capacity * MILLI;
    this.#time = new MonotonicTime(checkClock(options.clock));
    this.#level = initialTokens * MILLI - this.#time.now() * refillPerSecond;
    this.#scheduler = new WaitScheduler(this.#time, refillPerSecond, this.#full, (lane) => {
      this.#level = lane.level;
      this.#lane = undefined;
      // Reopened by the next tryAcquire once any pause is over.
      this.#takeLimit = -1;
    });
  }

  /** Most tokens the bucket holds. */
  get capacity(): number {
    return this.#capacity;
  }

  /** The clock this limiter reads and arms its timer on. */
  get clock(): Clock {
    return this.#time.clock;
  }

  /** Tokens added per second. */
  get refillPerSecond(): number {
    return this.#refillPerSecond;
  }

  /** Tokens a `tryAcquire` could take right now (fractional, exact); 0 while callers wait or during a pause. */
  get available(): number {
    const nowMs = this.#time.now();
    return this.#lane || nowMs < this.#scheduler.pausedUntilMs ? 0 : Math.max(0, this.#tokens(nowMs)) / MILLI;
  }

  /**
   * Takes `cost` tokens if they are there and nobody is waiting; never waits.
   * @param cost - tokens to take, a finite number >= 0. @default 1
   * @returns whether the tokens were taken; false when `cost` exceeds the capacity.
   * @throws {TypeError|RangeError} when `cost` is not a finite number >= 0.
   */
  tryAcquire(cost = 1): boolean {
    const need = checkCost(cost);
    if (this.#take(need, this.#time.now())) {
      this.#granted++;
      return true;
    }
    this.#deny(cost, need);
    return false;
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
    const need = admit(cost, options, this.#capacity);
    if (typeof need !== 'number') return Promise.reject(need.refusal);
    const signal = options?.signal;
    const maxWaitMs = options?.maxWaitMs ?? Infinity;
    const nowMs = this.#time.now();
    const lane = this.#lane;
    // Behind callers already waiting, nothing is taken at once (#take would say so too, slower).
    if (!lane && this.#take(need, nowMs)) {
      this.#granted++;
      return granted;
    }
    const tokens = lane ? 0 : this.#tokens(nowMs);
    // Joining a line that ends, with any wait accepted, nothing can refuse: skip planning the wait.
    const refusal =
      lane && maxWaitMs === Infinity && this.#scheduler.endsInTime(lane, need, nowMs)
        ? undefined
        : tooLong(this.#scheduler.waitMs(lane, tokens, need, nowMs), maxWaitMs);
    if (refusal) {
      this.#deny(cost, need, refusal.retryAfterMs);
      return Promise.reject(refusal);
    }
    return this.#scheduler.enqueue(lane ?? this.#open(tokens, nowMs), need, signal, nowMs);
  }

  /**
   * Returns the milliseconds until `tryAcquire(cost)` would succeed, behind every caller
   * already waiting and after any pause: 0 means now, Infinity means never (cost above
   * capacity, or a spent fixed quota). Exact: after waiting this long on the same clock,
   * `tryAcquire(cost)` succeeds.
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

  /**
   * Takes a place in line for `cost` tokens at once, without waiting (Go's `Reserve`):
   * act after `delayMs`, or `cancel()` to give the tokens back. The delay is a commitment:
   * later charges, pauses or reconfiguration never move it.
   * @param cost - tokens, a finite number >= 0 and <= capacity. @default 1
   * @throws {RangeError} when `cost` exceeds the capacity, or is not a finite number >= 0.
   * @throws {RateLimitError} (with `retryAfterMs: Infinity`) when the tokens can never be there.
   * @example
   * ```ts
   * const { delayMs, cancel } = bucket.reserve(3);
   * ```
   */
  reserve(cost = 1): Reservation {
    const need = this.#checkReservable(cost);
    const nowMs = this.#time.now();
    let entry: Entry | undefined;
    let lane = this.#lane;
    let delayMs = 0;
    if (!this.#take(need, nowMs)) {
      const tokens = lane ? 0 : this.#tokens(nowMs);
      delayMs = this.#scheduler.waitMs(lane, tokens, need, nowMs);
      if (delayMs === Infinity) {
        this.#deny(cost, need, delayMs);
        throw new RateLimitError(Infinity);
      }
      lane ??= this.#open(tokens, nowMs);
      entry = this.#scheduler.reserve(lane, need, nowMs + delayMs, nowMs);
    }
    this.#granted++;
    let cancelled = false;
    return {
      delayMs,
      cancel: () => {
        if (cancelled || this.#time.now() > nowMs + delayMs) return false;
        cancelled = true;
        if (!entry || !this.#scheduler.cancel(lane!, entry)) this.refund(cost);
        return true;
      },
    };
  }

  /**
   * Gives back `amount` tokens that were taken but not used (an estimate that came out
   * high), never above the capacity. Waiting callers see them at once.
   * @throws {TypeError|RangeError} when `amount` is not a finite number >= 0.
   * @example
   * ```ts
   * await bucket.acquire(1500); // estimated LLM tokens
   * bucket.refund(1500 - usage.totalTokens);
   * ```
   */
  refund(amount: number): void {
    this.#adjust(checkAmount('amount', amount));
  }

  /**
   * Takes `amount` more tokens, spent beyond an estimate, going into debt if there are
   * not enough: later callers wait until it is repaid. Waiting callers are re-planned at
   * once; reservations already given keep their instant.
   * @throws {TypeError|RangeError} when `amount` is not a finite number >= 0.
   */
  charge(amount: number): void {
    this.#adjust(-checkAmount('amount', amount));
  }

  /**
   * Grants nothing for the next `ms` milliseconds, for a server that answered 429 with
   * `Retry-After`. Tokens keep refilling (up to the capacity); waiting callers keep their
   * order and are served after the pause. Reservations already given keep their instant.
   * A shorter pause than one in force does not shorten it.
   * @throws {TypeError|RangeError} when `ms` is not a finite number >= 0.
   */
  pauseFor(ms: number): void {
    finiteNumber('ms', ms, 0);
    const nowMs = this.#time.now();
    this.#takeLimit = -1;
    this.#scheduler.pauseUntil(nowMs + ms, nowMs);
  }

  /**
   * Changes the refill rate (Go's `SetLimit`). The tokens earned up to now are kept
   * exactly; waiting callers are re-planned (with 0, those that can never be served are
   * refused with a RateLimitError); reservations already given keep their instant.
   * @throws {TypeError|RangeError} when `refillPerSecond` is not a finite number >= 0.
   */
  setRate(refillPerSecond: number): void {
    this.#reconfigure(this.#capacity, finiteNumber('refillPerSecond', refillPerSecond, 0));
  }

  /**
   * Changes the capacity (Go's `SetBurst`). Tokens above the new capacity are dropped;
   * waiting callers wanting more than it are refused with a RangeError; the others are
   * re-planned.
   * @throws {TypeError|RangeError} when `capacity` is not a finite number > 0.
   */
  setCapacity(capacity: number): void {
    this.#reconfigure(finiteNumber('capacity', capacity, 0, Infinity, true), this.#refillPerSecond);
  }

  /**
   * Returns the counters since the bucket was created. Cheap: plain counters.
   * @example
   * ```ts
   * const { granted, denied, waited, waitedMsTotal } = bucket.stats();
   * ```
   */
  stats(): LimiterStats {
    const scheduler = this.#scheduler;
    return { granted: this.#granted + scheduler.waited, denied: this.#denied, waited: scheduler.waited, waitedMsTotal: scheduler.waitedMsTotal };
  }

  /** Takes `need` milli-tokens at `nowMs` if they are there, nobody waits and no pause is on. */
  #take(need: number, nowMs: number): boolean {
    if (need > this.#takeLimit && !this.#reopen(need, nowMs)) return false;
    const accrued = nowMs * this.#refillPerSecond;
    const tokens = this.#level + accrued;
    if (tokens >= this.#full) {
      this.#level = this.#full - need - accrued;
      return true;
    }
    if (!covers(tokens, need, accrued)) return false;
    this.#level = spend(this.#level, need);
    return true;
  }

  /** Lifts the take limit if only a pause that is over kept it down; returns whether `need` may be taken. */
  #reopen(need: number, nowMs: number): boolean {
    if (this.#lane || nowMs < this.#scheduler.pausedUntilMs || need > this.#full) return false;
    this.#takeLimit = this.#full;
    return true;
  }

  #deny(cost: number, need: number, retryAfterMs?: number): void {
    this.#denied++;
    if (this.#onDeny) this.#onDeny({ key: undefined, cost, retryAfterMs: retryAfterMs ?? (need > this.#full ? Infinity : this.#waitMs(need, this.#time.now())) });
  }

  /** Starts the line, moving the bucket's level (`tokens` now, at most the capacity) into it. */
  #open(tokens: number, nowMs: number): Lane {
    this.#takeLimit = -1;
    return (this.#lane = new Lane('', tokens - nowMs * this.#refillPerSecond));
  }

  #checkReservable(cost: unknown): number {
    const need = checkCost(cost);
    if (need > this.#full) throw aboveCapacity(cost, this.#capacity);
    return need;
  }

  /** Adds `delta` milli-tokens (negative for a charge), never above the capacity. */
  #adjust(delta: number): void {
    const nowMs = this.#time.now();
    if (this.#lane) this.#scheduler.adjust(this.#lane, delta, nowMs);
    else this.#level = Math.min(this.#tokens(nowMs) + delta, this.#full) - nowMs * this.#refillPerSecond;
  }

  #reconfigure(capacity: number, refillPerSecond: number): void {
    const nowMs = this.#time.now();
    const full = capacity * MILLI;
    this.#level = Math.min(this.#tokens(nowMs), full) - nowMs * refillPerSecond;
    this.#capacity = capacity;
    this.#refillPerSecond = refillPerSecond;
    this.#full = full;
    this.#takeLimit = -1;
    this.#scheduler.reconfigure(refillPerSecond, full, nowMs);
  }

  /** Milliseconds until `need` milli-tokens are there for a new caller, behind every waiter and any pause. */
  #waitMs(need: number, nowMs: number): number {
    const lane = this.#lane;
    return this.#scheduler.waitMs(lane, lane ? 0 : this.#tokens(nowMs), need, nowMs);
  }

  /** Milli-tokens in the bucket at `nowMs`, at most the capacity (nobody waiting). */
  #tokens(nowMs: number): number {
    return Math.min(this.#full, this.#level + nowMs * this.#refillPerSecond);
  }
}
