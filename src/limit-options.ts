import type { Clock } from './clock.js';

/**
 * Options of `acquire`.
 * @example
 * ```ts
 * await bucket.acquire(1, { signal: AbortSignal.timeout(5_000), maxWaitMs: 2_000 });
 * ```
 */
export interface AcquireOptions {
  /** Aborts the wait: the promise rejects with `signal.reason` and the caller leaves the line. */
  readonly signal?: AbortSignal | undefined;
  /**
   * Longest wait accepted, in milliseconds, counted behind every caller already waiting;
   * a wait exactly equal to it is accepted. A longer wait rejects at once with a
   * RateLimitError and takes nothing. `0` means "only if it can be served now".
   * @default Infinity
   */
  readonly maxWaitMs?: number | undefined;
}

/**
 * Options shared by TokenBucket and KeyedLimiter.
 * @example
 * ```ts
 * const options: LimitOptions = { capacity: 10, refillPerSecond: 2.5 }; // bursts of 10, 150 per minute
 * ```
 */
export interface LimitOptions {
  /** Most tokens a bucket holds: the largest burst, and the largest cost one call may take. A finite number > 0. */
  readonly capacity: number;
  /** Tokens added per second, continuously. A finite number >= 0; `0` makes the capacity a fixed quota. */
  readonly refillPerSecond: number;
  /** Source of time and timers; inject a fake one in tests. @default defaultClock */
  readonly clock?: Clock | undefined;
  /**
   * Called, synchronously, each time a request is refused: `tryAcquire` returning false,
   * or `acquire` rejecting with a RateLimitError. Keep it cheap; it runs on the hot path.
   */
  readonly onDeny?: ((denial: Denial) => void) | undefined;
}

/**
 * What `onDeny` is told about a refused request.
 * @example
 * ```ts
 * new KeyedLimiter({ capacity: 5, refillPerSecond: 1, onDeny: ({ key, retryAfterMs }) => console.warn(`${key} limited for ${retryAfterMs} ms`) });
 * ```
 */
export interface Denial {
  /** The bucket's key; undefined for a TokenBucket. */
  readonly key: string | undefined;
  /** The tokens asked for. */
  readonly cost: number;
  /** Milliseconds until the same request could be granted; Infinity when never. */
  readonly retryAfterMs: number;
}

/**
 * Counters since a limiter was created, from `stats()`.
 * @example
 * ```ts
 * const { granted, denied, waitedMsTotal } = bucket.stats();
 * ```
 */
export interface LimiterStats {
  /** Requests granted: by tryAcquire, take, acquire (at once or after waiting) and reserve. */
  readonly granted: number;
  /** Requests refused: tryAcquire or take returning false, acquire rejecting with RateLimitError. */
  readonly denied: number;
  /** Callers of acquire served after waiting in line. */
  readonly waited: number;
  /** Callers waiting in line now, on every key (reservations are not callers). */
  readonly queued: number;
  /** Total milliseconds those callers waited. */
  readonly waitedMsTotal: number;
}

/**
 * A place taken in line by `reserve`: act after `delayMs`, or `cancel()` to give the tokens back.
 * @example
 * ```ts
 * const { delayMs, cancel } = bucket.reserve(2);
 * const timer = setTimeout(send, delayMs); // or: clearTimeout(timer); cancel();
 * ```
 */
export interface Reservation {
  /** Milliseconds to wait before acting; 0 means now. Fixed once given: later charges, pauses and reconfiguration do not move it. */
  readonly delayMs: number;
  /**
   * Gives the place and its tokens back, if called no later than the reserved instant;
   * the callers behind move up. Later, or a second time, it does nothing.
   * @returns whether the tokens were given back.
   */
  cancel(): boolean;
}
