import { BucketSlab } from './bucket-slab.js';
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
import { MILLI } from './refill.js';
import { finiteNumber, invalid, stringKey } from './validate.js';
import { type Entry, Lane, WaitScheduler } from './wait-scheduler.js';

/**
 * Returns the level plus refill at which a bucket has been full for one refill period:
 * uncapped, it would hold twice its capacity. A fixed quota's full bucket goes at once.
 */
function dropAt(refillPerSecond: number, full: number): number {
  return refillPerSecond > 0 ? 2 * full : full;
}

/**
 * Options of a KeyedLimiter.
 * @example
 * ```ts
 * const options: KeyedLimiterOptions = { capacity: 5, refillPerSecond: 1, maxKeys: 100_000 };
 * ```
 */
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
 * Counters of a KeyedLimiter since it was created, from `stats()`.
 * @example
 * ```ts
 * const { evicted } = new KeyedLimiter({ capacity: 5, refillPerSecond: 1 }).stats();
 * ```
 */
export interface KeyedLimiterStats extends LimiterStats {
  /** Buckets dropped: full ones (invisible) and, past `maxKeys`, least recently used ones. */
  readonly evicted: number;
}

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
export class KeyedLimiter {
  #capacity = 0;
  #refillPerSecond = 0;
  #full = 0;
  /** A bucket whose level plus the refill so far reaches this has been full for one refill period (see #dropFull). */
  #dropAt = 0;
  readonly #maxKeys: number;
  readonly #time: MonotonicTime;
  readonly #scheduler: WaitScheduler;
  readonly #onDeny: ((denial: Denial) => void) | undefined;
  /** Buckets without waiters, least recently used first. */
  readonly #idle = new BucketSlab();
  /** Buckets with waiters; they own their level while waiting. */
  readonly #waiting = new Map<string, Lane>();
  /** Nothing is granted before this instant (pauseFor); mirrors the scheduler's, for the hot path. */
  #pausedUntilMs = -Infinity;
  /**
   * Largest need `#take` takes without a second look: the capacity, or -1 from a pause
   * or reconfiguration until `#takeRare` lifts it. One comparison on the hot path for both.
   */
  #takeLimit = -1;
  #granted = 0;
  #denied = 0;
  #evicted = 0;

  /**
   * Creates an empty limiter; every key starts with a full bucket.
   * @throws {TypeError} when an option has the wrong type or the clock lacks a method.
   * @throws {RangeError} when `capacity` is not > 0, `refillPerSecond` is negative, a number is NaN or infinite, or `maxKeys` is not a whole number >= 1.
   */
  constructor(options: KeyedLimiterOptions) {
    const [capacity, refillPerSecond] = checkLimitOptions(options);
    const { maxKeys = 1_000_000 } = options;
    if (!(Number.isInteger(maxKeys) && maxKeys >= 1) && maxKeys !== Infinity) throw invalid('maxKeys', 'a whole number >= 1 or Infinity', maxKeys, true);
    this.#onDeny = checkOnDeny(options.onDeny);
    this.#capacity = capacity;
    this.#refillPerSecond = refillPerSecond;
    this.#full = capacity * MILLI;
    this.#dropAt = dropAt(refillPerSecond, this.#full);
    this.#maxKeys = maxKeys;
    this.#time = new MonotonicTime(checkClock(options.clock));
    this.#scheduler = new WaitScheduler(this.#time, refillPerSecond, this.#full, (lane) => {
      this.#waiting.delete(lane.key);
      this.#idle.add(lane.key, lane.level);
    });
  }

  /** Most tokens each bucket holds. */
  get capacity(): number {
    return this.#capacity;
  }

  /** The clock this limiter reads and arms its timer on. */
  get clock(): Clock {
    return this.#time.clock;
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
   * @returns whether the tokens were taken; false when `cost` exceeds the capacity, during
   * a pause, or when the key is new and every bucket held (`maxKeys`) has waiters.
   * @throws {TypeError|RangeError} when `key` is not a string or `cost` not a finite number >= 0.
   */
  tryAcquire(key: string, cost = 1): boolean {
    if (typeof key !== 'string') stringKey(key);
    const need = checkCost(cost);
    if (this.#take(key, need, this.#time.now())) {
      this.#granted++;
      return true;
    }
    // #deny written out: an operation here that V8 has not seen yet makes it optimize
    // again once refusals start, with them inlined; a call could stay a call (measured:
    // 75 against 79 ns per refused keyed decision, median of 10 alternating runs).
    this.#denied++;
    if (this.#onDeny) this.#tellDenied(key, cost, need, undefined);
    return false;
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
    const need = admit(cost, options, this.#capacity);
    if (typeof need !== 'number') return Promise.reject(need.refusal);
    const signal = options?.signal;
    const maxWaitMs = options?.maxWaitMs ?? Infinity;
    const nowMs = this.#time.now();
    if (this.#take(key, need, nowMs)) {
      this.#granted++;
      return granted;
    }
    const lane = this.#waiting.get(key);
    const tokens = lane ? 0 : this.#tokens(this.#idle.slot(key), nowMs);
    // Joining a line that ends, with any wait accepted, nothing can refuse: skip planning the wait.
    const refusal =
      lane && maxWaitMs === Infinity && this.#scheduler.endsInTime(lane, need, nowMs)
        ? undefined
        : (tooLong(this.#scheduler.waitMs(lane, tokens, need, nowMs), maxWaitMs) ?? (lane ? undefined : this.#refuseNewKey(key, nowMs)));
    if (refusal) {
      this.#deny(key, cost, need, refusal.retryAfterMs);
      return Promise.reject(refusal);
    }
    return this.#scheduler.enqueue(lane ?? this.#open(key, tokens, nowMs), need, signal, nowMs);
  }

  /**
   * Returns the milliseconds until `tryAcquire(key, cost)` would succeed, behind every
   * caller already waiting on `key` and after any pause: 0 means now, Infinity means never.
   * Exact, like TokenBucket's `retryAfter`. Does not create a bucket.
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

  /** Returns the tokens a `tryAcquire(key)` could take right now (fractional, exact); 0 while callers wait on `key` or during a pause. Does not create a bucket. */
  available(key: string): number {
    stringKey(key);
    const nowMs = this.#time.now();
    return this.#waiting.has(key) || nowMs < this.#pausedUntilMs ? 0 : Math.max(0, this.#tokens(this.#idle.slot(key), nowMs)) / MILLI;
  }

  /**
   * Takes a place in `key`'s line for `cost` tokens at once, without waiting (Go's
   * `Reserve`): act after `delayMs`, or `cancel()` to give the tokens back. The delay is a
   * commitment: later charges, pauses or reconfiguration never move it.
   * @throws {TypeError|RangeError} on a bad key or cost, or a cost above the capacity.
   * @throws {RateLimitError} when the tokens can never be there, or the key is new and every bucket held has waiters.
   */
  reserve(key: string, cost = 1): Reservation {
    stringKey(key);
    const need = checkCost(cost);
    if (need > this.#full) throw aboveCapacity(cost, this.#capacity);
    const nowMs = this.#time.now();
    let entry: Entry | undefined;
    let lane = this.#waiting.get(key);
    let delayMs = 0;
    if (!this.#take(key, need, nowMs)) {
      const tokens = lane ? 0 : this.#tokens(this.#idle.slot(key), nowMs);
      delayMs = this.#scheduler.waitMs(lane, tokens, need, nowMs);
      const refusal = delayMs === Infinity ? new RateLimitError(Infinity) : lane ? undefined : this.#refuseNewKey(key, nowMs);
      if (refusal) {
        this.#deny(key, cost, need, refusal.retryAfterMs);
        throw refusal;
      }
      lane ??= this.#open(key, tokens, nowMs);
      entry = this.#scheduler.reserve(lane, need, nowMs + delayMs, nowMs);
    }
    this.#granted++;
    let cancelled = false;
    return {
      delayMs,
      cancel: () => {
        if (cancelled || this.#time.now() > nowMs + delayMs) return false;
        cancelled = true;
        if (!entry || !this.#scheduler.cancel(lane!, entry)) this.refund(key, cost);
        return true;
      },
    };
  }

  /**
   * Gives back `amount` tokens to `key`'s bucket, taken but not used, never above the
   * capacity. Callers waiting on the key see them at once.
   * @throws {TypeError|RangeError} on a bad key, or when `amount` is not a finite number >= 0.
   */
  refund(key: string, amount: number): void {
    stringKey(key);
    this.#adjust(key, checkAmount('amount', amount));
  }

  /**
   * Takes `amount` more tokens from `key`'s bucket, spent beyond an estimate, going into
   * debt if there are not enough. Callers waiting on the key are re-planned at once.
   * @throws {TypeError|RangeError} on a bad key, or when `amount` is not a finite number >= 0.
   */
  charge(key: string, amount: number): void {
    stringKey(key);
    this.#adjust(key, -checkAmount('amount', amount));
  }

  /**
   * Grants nothing, on any key, for the next `ms` milliseconds. Tokens keep refilling (up
   * to the capacity); waiting callers keep their order and are served after the pause.
   * @throws {TypeError|RangeError} when `ms` is not a finite number >= 0.
   */
  pauseFor(ms: number): void {
    finiteNumber('ms', ms, 0);
    const nowMs = this.#time.now();
    this.#scheduler.pauseUntil(nowMs + ms, nowMs);
    this.#pausedUntilMs = this.#scheduler.pausedUntilMs;
    this.#takeLimit = -1;
  }

  /**
   * Changes the refill rate of every bucket, keeping the tokens each has earned up to now;
   * waiting callers are re-planned; reservations already given keep their instant. O(keys held).
   * @throws {TypeError|RangeError} when `refillPerSecond` is not a finite number >= 0.
   */
  setRate(refillPerSecond: number): void {
    this.#reconfigure(this.#capacity, finiteNumber('refillPerSecond', refillPerSecond, 0));
  }

  /**
   * Changes the capacity of every bucket; tokens above it are dropped, and waiting callers
   * wanting more than it are refused with a RangeError. O(keys held).
   * @throws {TypeError|RangeError} when `capacity` is not a finite number > 0.
   */
  setCapacity(capacity: number): void {
    this.#reconfigure(finiteNumber('capacity', capacity, 0, Infinity, true), this.#refillPerSecond);
  }

  /** Returns the counters since the limiter was created, with the buckets evicted. */
  stats(): KeyedLimiterStats {
    const scheduler = this.#scheduler;
    return { granted: this.#granted + scheduler.waited, denied: this.#denied, waited: scheduler.waited, waitedMsTotal: scheduler.waitedMsTotal, evicted: this.#evicted };
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

  /**
   * Takes `need` milli-tokens from `key`'s bucket at `nowMs` if they are there, nobody
   * waits on it and no pause is on. Kept small, with the rare paths in `#takeRare`: V8
   * inlines a hot path only within a budget of bytecode, and a decision whose whole path
   * fits runs about 10 ns faster.
   */
  #take(key: string, need: number, nowMs: number): boolean {
    const idle = this.#idle;
    const accrued = nowMs * this.#refillPerSecond;
    if (idle.oldestLevel() + accrued >= this.#dropAt) this.#dropFull(accrued);
    return (need <= this.#takeLimit ? idle.take(key, need, accrued, this.#full) : undefined) ?? this.#takeRare(key, need, nowMs);
  }

  /**
   * `#take` for a key that holds no bucket, or a need above the take limit (a pause, a
   * reconfiguration, a cost above the capacity).
   */
  #takeRare(key: string, need: number, nowMs: number): boolean {
    if (nowMs < this.#pausedUntilMs) return false;
    const full = (this.#takeLimit = this.#full);
    const idle = this.#idle;
    const accrued = nowMs * this.#refillPerSecond;
    const slot = idle.slot(key);
    if (slot !== undefined) {
      if (need <= full) return idle.take(key, need, accrued, full)!;
      // A cost above the capacity is refused, but the key was used.
      idle.touch(slot);
      return false;
    }
    if (need > full || (this.#waiting.size !== 0 && this.#waiting.has(key)) || !this.#makeRoom()) return false;
    idle.add(key, full - need - accrued);
    return true;
  }

  /** Counts a refusal and tells `onDeny`, if any; small, as `tryAcquire` calls it on every refusal (the telling is rare). */
  #deny(key: string, cost: number, need: number, retryAfterMs?: number): void {
    this.#denied++;
    if (this.#onDeny) this.#tellDenied(key, cost, need, retryAfterMs);
  }

  /** Tells `onDeny` of a refusal, with the wait it would take (`retryAfterMs` when the caller knows it). */
  #tellDenied(key: string, cost: number, need: number, retryAfterMs: number | undefined): void {
    this.#onDeny!({ key, cost, retryAfterMs: retryAfterMs ?? (need > this.#full ? Infinity : this.#waitMs(key, need, this.#time.now())) });
  }

  /**
   * Returns the refusal for a new key that cannot be held (every bucket held has waiters),
   * valid until the next grant, the earliest a bucket could free up; else undefined.
   */
  #refuseNewKey(key: string, nowMs: number): RateLimitError | undefined {
    if (this.#idle.slot(key) !== undefined || this.#makeRoom()) return undefined;
    return new RateLimitError(this.#scheduler.nextGrantMs(nowMs), 'Rate limit exceeded: every bucket held (maxKeys) has waiters');
  }

  /** Starts `key`'s line, moving its level (`tokens` now, at most the capacity) out of the slab. */
  #open(key: string, tokens: number, nowMs: number): Lane {
    const slot = this.#idle.slot(key);
    if (slot !== undefined) this.#idle.remove(slot);
    const lane = new Lane(key, tokens - nowMs * this.#refillPerSecond);
    this.#waiting.set(key, lane);
    return lane;
  }

  /** Adds `delta` milli-tokens (negative for a charge) to `key`'s bucket, never above the capacity. */
  #adjust(key: string, delta: number): void {
    const nowMs = this.#time.now();
    const lane = this.#waiting.get(key);
    if (lane) return this.#scheduler.adjust(lane, delta, nowMs);
    const slot = this.#idle.slot(key);
    const level = Math.min(this.#tokens(slot, nowMs) + delta, this.#full) - nowMs * this.#refillPerSecond;
    if (slot !== undefined) this.#idle.setLevel(slot, level);
    // A refund to a key not held leaves it full: nothing to hold.
    else if (delta < 0 && this.#makeRoom()) this.#idle.add(key, level);
  }

  #reconfigure(capacity: number, refillPerSecond: number): void {
    const nowMs = this.#time.now();
    const oldRate = this.#refillPerSecond;
    const oldFull = this.#full;
    const full = capacity * MILLI;
    this.#idle.rebase((level) => Math.min(oldFull, level + nowMs * oldRate, full) - nowMs * refillPerSecond);
    this.#capacity = capacity;
    this.#refillPerSecond = refillPerSecond;
    this.#full = full;
    this.#dropAt = dropAt(refillPerSecond, full);
    this.#takeLimit = -1;
    this.#scheduler.reconfigure(refillPerSecond, full, nowMs);
  }

  #refill(lane: Lane): void {
    const nowMs = this.#time.now();
    lane.level = this.#full - nowMs * this.#refillPerSecond;
    this.#scheduler.serve(lane, nowMs);
  }

  /** Milliseconds until `need` milli-tokens are there for a new caller on `key`, behind every waiter and any pause. */
  #waitMs(key: string, need: number, nowMs: number): number {
    const lane = this.#waiting.get(key);
    return this.#scheduler.waitMs(lane, lane ? 0 : this.#tokens(this.#idle.slot(key), nowMs), need, nowMs);
  }

  /** Milli-tokens in the bucket in `slot` at `nowMs` (a fresh bucket when undefined), at most the capacity. */
  #tokens(slot: number | undefined, nowMs: number): number {
    return slot === undefined ? this.#full : Math.min(this.#full, this.#idle.level(slot) + nowMs * this.#refillPerSecond);
  }

  /** Makes room for one more key under maxKeys; returns false when every bucket held has waiters. */
  #makeRoom(): boolean {
    return this.size < this.#maxKeys || this.#evictOldest();
  }

  /** Drops the least recently used bucket without waiters; returns false when there is none. */
  #evictOldest(): boolean {
    const oldest = this.#idle.oldest();
    if (oldest === 0) return false;
    this.#idle.remove(oldest);
    this.#evicted++;
    return true;
  }

  /**
   * Drops up to two buckets that have been full for at least one refill period from the
   * least recently used end, stopping at the first that has not: every later one was used
   * more recently. So each operation removes more than it can add, and a bucket outlives
   * its last use by at most about two refill periods. The period of grace keeps a key used
   * steadily below its limit from being dropped and re-created on each use (measured: it
   * doubled the cost of a decision); a fixed quota's full bucket never changes, so it goes
   * at once. `#take` calls it only when the oldest bucket is due.
   */
  #dropFull(accrued: number): void {
    for (let budget = 2; budget > 0 && this.#idle.oldestLevel() + accrued >= this.#dropAt; budget--) this.#evictOldest();
  }
}
