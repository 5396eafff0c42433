import type { Clock } from './clock.js';
import { checkCapacity, checkRefillPerSecond } from './check-options.js';
import type { Part, Party } from './enlist.js';
import type { LimiterEngine } from './limiter-engine.js';
import { finiteNumber } from './validate.js';

/** Returns `ms` when it is a finite number >= 0 (a pause's length); throws otherwise. */
export function checkPauseMs(ms: unknown): number {
  return finiteNumber('ms', ms, 0);
}

/**
 * LimiterFace is what TokenBucket and KeyedLimiter share, written once: the settings,
 * their live change, the line's size and its abort, over one LimiterEngine.
 */
export abstract class LimiterFace {
  readonly #engine: LimiterEngine;

  protected constructor(engine: LimiterEngine) {
    this.#engine = engine;
  }

  /** Most tokens a bucket holds. */
  get capacity(): number {
    return this.#engine.state.capacity;
  }

  /** Tokens added to a bucket per second. */
  get refillPerSecond(): number {
    return this.#engine.state.refillPerSecond;
  }

  /** The clock this limiter reads and arms its timer on. */
  get clock(): Clock {
    return this.#engine.clock;
  }

  /** Callers waiting in line now, on every key: callers of `acquire` and `acquireAll` (reservations are not callers). */
  get queued(): number {
    return this.#engine.queued;
  }

  /**
   * Changes the refill rate (Go's `SetLimit`) of every bucket. The tokens earned up to now
   * are kept exactly; waiting callers are re-planned (with 0, those that can never be
   * served are refused with a RateLimitError); reservations already given keep their instant.
   * O(buckets held).
   * @throws {TypeError|RangeError} when `refillPerSecond` is not a finite number from 0 to 1e9.
   */
  setRate(refillPerSecond: number): void {
    this.#engine.reconfigure(this.capacity, checkRefillPerSecond(refillPerSecond));
  }

  /**
   * Changes the capacity (Go's `SetBurst`) of every bucket. Tokens above the new capacity
   * are dropped; waiting callers wanting more than it are refused with a RangeError; the
   * others are re-planned. O(buckets held).
   * @throws {TypeError|RangeError} when `capacity` is not a finite number > 0 and <= 1e12.
   */
  setCapacity(capacity: number): void {
    this.#engine.reconfigure(checkCapacity(capacity), this.refillPerSecond);
  }

  /**
   * Rejects every caller waiting in `acquire` or `acquireAll`, on every key, with
   * `reason`, and gives their places back: the tokens they were waiting for stay for the
   * next callers. Reservations keep their places. The limiter stays usable. For shutdown.
   * @param reason - what the promises reject with. @default a DOMException named AbortError, as an aborted signal gives.
   * @example
   * ```ts
   * process.once('SIGTERM', () => limiter.abortAll());
   * ```
   */
  abortAll(reason: unknown = new DOMException('This operation was aborted', 'AbortError')): void {
    this.#engine.abortAll(reason);
  }

  /** Takes a place in line for `acquireAll` (see `LimiterEngine.enlist`); not for direct use. */
  protected enlistIn(key: string, cost: unknown, party: Party, reject: (reason: unknown) => void): Part {
    return this.#engine.enlist(key, cost, party, reject);
  }
}
