import type { Clock } from './clock.js';
import { RateLimitError } from './errors.js';
import { MILLI } from './refill.js';
import { invalid, finiteNumber } from './validate.js';

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

/** Checks the `signal` and `maxWaitMs` of acquire options; throws on bad input. */
export function checkAcquireOptions(options: AcquireOptions | undefined): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null) throw invalid('options', 'an object', options);
  const { signal, maxWaitMs = Infinity } = options;
  if (signal !== undefined && (typeof signal !== 'object' || signal === null || typeof signal.addEventListener !== 'function')) {
    throw invalid('signal', 'an AbortSignal', signal);
  }
  if (maxWaitMs !== Infinity) finiteNumber('maxWaitMs', maxWaitMs, 0);
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

/** Returns `onDeny` when it is a function or undefined; throws a TypeError otherwise. */
export function checkOnDeny(onDeny: unknown): ((denial: Denial) => void) | undefined {
  if (onDeny === undefined || typeof onDeny === 'function') return onDeny as ((denial: Denial) => void) | undefined;
  throw invalid('onDeny', 'a function', onDeny);
}

/** Returns `amount` tokens in milli-tokens when it is a finite number >= 0; throws otherwise. */
export function checkAmount(name: string, amount: unknown): number {
  return finiteNumber(name, amount, 0) * MILLI;
}

/** Returns `cost` in milli-tokens when it is a finite number >= 0; throws a TypeError or RangeError. */
export function checkCost(cost: unknown): number {
  if (typeof cost === 'number' && cost >= 0 && cost !== Infinity) return cost * MILLI;
  return finiteNumber('cost', cost, 0);
}

/** Returns the RangeError for a `cost` above the `capacity`, which no wait can cover. */
export function aboveCapacity(cost: unknown, capacity: number): RangeError {
  return invalid('cost', `at most the capacity (${capacity}): the cost exceeds the capacity`, cost, true);
}

/** A settled promise shared by every `acquire` that needs no wait. */
export const granted: Promise<void> = /* @__PURE__ */ Promise.resolve();

/** Why an `acquire` is refused before it may wait: bad input, an aborted signal, a cost above the capacity. */
export interface Refusal {
  readonly refusal: unknown;
}

/**
 * Checks what every `acquire` checks before it may wait, and returns the milli-tokens
 * wanted, or the reason to refuse at once. Allocates nothing when the call is admitted
 * (acquire's fast path runs millions of times a second); the checked signal and
 * `maxWaitMs` are then `options?.signal` and `options?.maxWaitMs ?? Infinity`.
 */
export function admit(cost: unknown, options: AcquireOptions | undefined, capacity: number): number | Refusal {
  try {
    const need = checkCost(cost);
    if (options !== undefined) {
      checkAcquireOptions(options);
      if (options.signal?.aborted) return { refusal: options.signal.reason };
    }
    if (need > capacity * MILLI) return { refusal: aboveCapacity(cost, capacity) };
    return need;
  } catch (error) {
    return { refusal: error };
  }
}

/** Returns the refusal for a wait of `waitMs` when it is over `maxWaitMs` or endless, else undefined. */
export function tooLong(waitMs: number, maxWaitMs: number): RateLimitError | undefined {
  return waitMs > maxWaitMs || waitMs === Infinity ? new RateLimitError(waitMs) : undefined;
}

/** Returns the checked capacity and refillPerSecond of limiter options. */
export function checkLimitOptions(options: LimitOptions): [capacity: number, refillPerSecond: number] {
  if (typeof options !== 'object' || options === null) throw invalid('options', 'an object', options);
  return [
    finiteNumber('capacity', options.capacity, 0, Infinity, true),
    finiteNumber('refillPerSecond', options.refillPerSecond, 0),
  ];
}
