/*
 * Outbound helpers: wrap a function or fetch with a limiter, and acquire several limits at
 * once. A separate entry point (`fairbucket/outbound`) that works with any limiter having
 * the methods it calls, so it does not weigh on the core.
 */
import { type Clock, checkClock } from './clock.js';
import { RateLimitError } from './errors.js';
import type { AcquireOptions, Reservation } from './options.js';
import { sleep } from './sleep.js';
import { finiteNumber, invalid } from './validate.js';

/**
 * A limiter of one bucket: TokenBucket, or any with the same `acquire`.
 * @example
 * ```ts
 * const limiter: BucketLimiter = new TokenBucket({ capacity: 5, refillPerSecond: 1 });
 * ```
 */
export interface BucketLimiter {
  acquire(cost?: number, options?: AcquireOptions): Promise<void>;
}

/**
 * A keyed limiter: KeyedLimiter, or any with the same `acquire`.
 * @example
 * ```ts
 * const limiter: KeyedAcquirer = new KeyedLimiter({ capacity: 5, refillPerSecond: 1 });
 * ```
 */
export interface KeyedAcquirer {
  acquire(key: string, cost?: number, options?: AcquireOptions): Promise<void>;
}

/**
 * Options of `throttle`; `A` is the wrapped function's parameters.
 * @example
 * ```ts
 * throttle(embed, tokensPerMinute, { cost: (texts: string[]) => texts.length, maxWaitMs: 60_000 });
 * ```
 */
export interface ThrottleOptions<A extends unknown[]> {
  /** Tokens each call costs: a number, or a function of the call's arguments. @default 1 */
  readonly cost?: number | ((...args: A) => number) | undefined;
  /** The key of each call, for a keyed limiter: a function of the call's arguments. */
  readonly key?: ((...args: A) => string) | undefined;
  /** Aborts every waiting call: they reject with `signal.reason`. */
  readonly signal?: AbortSignal | undefined;
  /** Longest wait for one call, in ms; a longer one rejects with RateLimitError. @default Infinity */
  readonly maxWaitMs?: number | undefined;
}

/**
 * Returns `fn` limited by `limiter`: each call first awaits `acquire` (first-in first-out),
 * then calls `fn` with the same `this` and arguments; it resolves to `fn`'s value and
 * rejects with exactly what `fn` throws. With a keyed limiter, pass `key`.
 * @throws {TypeError} when `fn` is not a function or an option has the wrong type.
 * @example
 * ```ts
 * const complete = throttle(client.complete.bind(client), new TokenBucket({ capacity: 5, refillPerSecond: 1 }));
 * const perUser = throttle(sendMail, keyed, { key: (user) => user.id });
 * ```
 */
export function throttle<This, A extends unknown[], R>(
  fn: (this: This, ...args: A) => R,
  limiter: BucketLimiter,
  options?: ThrottleOptions<A> & { readonly key?: undefined },
): (this: This, ...args: A) => Promise<Awaited<R>>;
export function throttle<This, A extends unknown[], R>(
  fn: (this: This, ...args: A) => R,
  limiter: KeyedAcquirer,
  options: ThrottleOptions<A> & { readonly key: (...args: A) => string },
): (this: This, ...args: A) => Promise<Awaited<R>>;
export function throttle<This, A extends unknown[], R>(
  fn: (this: This, ...args: A) => R,
  limiter: BucketLimiter | KeyedAcquirer,
  options: ThrottleOptions<A> = {},
): (this: This, ...args: A) => Promise<Awaited<R>> {
  if (typeof fn !== 'function') throw invalid('fn', 'a function', fn);
  if (typeof limiter?.acquire !== 'function') throw invalid('limiter', 'a limiter with acquire()', limiter);
  const { cost = 1, key, signal, maxWaitMs } = options;
  if (typeof cost !== 'number' && typeof cost !== 'function') throw invalid('cost', 'a number or a function', cost);
  if (key !== undefined && typeof key !== 'function') throw invalid('key', 'a function', key);
  const acquireOptions = { signal, maxWaitMs };
  return async function (this: This, ...args: A): Promise<Awaited<R>> {
    const tokens = typeof cost === 'number' ? cost : cost(...args);
    await (key ? (limiter as KeyedAcquirer).acquire(key(...args), tokens, acquireOptions) : (limiter as BucketLimiter).acquire(tokens, acquireOptions));
    return await fn.apply(this, args);
  };
}

/**
 * A limiter that can reserve and refund: TokenBucket, or any with the same methods.
 * @example
 * ```ts
 * const limit: Limit = [new TokenBucket({ capacity: 60, refillPerSecond: 1 }), 1];
 * ```
 */
export interface BucketReserver {
  reserve(cost?: number): Reservation;
  refund(amount: number): void;
  /** The limiter's clock, which `acquireAll` waits on. */
  readonly clock?: Clock;
}

/**
 * A keyed limiter that can reserve and refund: KeyedLimiter, or any with the same methods.
 * @example
 * ```ts
 * const limit: Limit = [new KeyedLimiter({ capacity: 5, refillPerSecond: 1 }), userId, 1];
 * ```
 */
export interface KeyedReserver {
  reserve(key: string, cost?: number): Reservation;
  refund(key: string, amount: number): void;
  /** The limiter's clock, which `acquireAll` waits on. */
  readonly clock?: Clock;
}

/**
 * One limit of `acquireAll`: `[bucket, cost]` or `[keyed, key, cost]`.
 * @example
 * ```ts
 * await acquireAll([[globalLimit, 1], [perUser, userId, 1]]);
 * ```
 */
export type Limit = readonly [BucketReserver, number] | readonly [KeyedReserver, string, number];

/**
 * Options of `acquireAll`.
 * @example
 * ```ts
 * await acquireAll(limits, { maxWaitMs: 10_000, signal: request.signal });
 * ```
 */
export interface AcquireAllOptions extends AcquireOptions {
  /** The clock to wait on. @default the clock of the first limit's limiter (so fake time works), else defaultClock */
  readonly clock?: Clock | undefined;
}

/**
 * Takes several limits all-or-nothing and waits for the latest of them: an API's
 * requests-per-minute and tokens-per-minute together, or a per-user and a global limit.
 * Each limit takes its place in line at once; if any cannot be met within `maxWaitMs`,
 * none is charged and it rejects with a RateLimitError. An abort gives every place back
 * and rejects with `signal.reason`. Never throws synchronously.
 * @example
 * ```ts
 * await acquireAll([[requestsPerMinute, 1], [tokensPerMinute, 1_500]]);
 * ```
 */
export async function acquireAll(limits: readonly Limit[], options: AcquireAllOptions = {}): Promise<void> {
  if (!Array.isArray(limits)) throw invalid('limits', 'an array of [limiter, cost] or [limiter, key, cost]', limits);
  const { signal, maxWaitMs = Infinity, clock: givenClock } = options;
  if (maxWaitMs !== Infinity) finiteNumber('maxWaitMs', maxWaitMs, 0);
  const clock = checkClock(givenClock ?? limits[0]?.[0].clock);
  signal?.throwIfAborted();
  const reservations: Reservation[] = [];
  // Gives every place back; one whose instant has passed (it was granted at once, or
  // before the latest) is refunded, since this caller never acted on it.
  const cancelAll = () => {
    reservations.forEach((reservation, index) => {
      if (reservation.cancel()) return;
      const limit = limits[index]!;
      if (limit.length === 3) limit[0].refund(limit[1], limit[2]);
      else limit[0].refund(limit[1]);
    });
  };
  let delayMs = 0;
  try {
    for (const limit of limits) {
      const reservation = limit.length === 3 ? limit[0].reserve(limit[1], limit[2]) : limit[0].reserve(limit[1]);
      reservations.push(reservation);
      delayMs = Math.max(delayMs, reservation.delayMs);
    }
  } catch (error) {
    cancelAll();
    throw error;
  }
  if (delayMs > maxWaitMs) {
    cancelAll();
    throw new RateLimitError(delayMs);
  }
  if (delayMs === 0) return;
  try {
    // Whole milliseconds, rounded up: it must not wake before the latest reservation.
    await sleep(clock, delayMs, signal);
  } catch (error) {
    cancelAll();
    throw error;
  }
}

/**
 * A limiter `limitFetch` can pause: TokenBucket or KeyedLimiter.
 * @example
 * ```ts
 * limitFetch(fetch, new TokenBucket({ capacity: 5, refillPerSecond: 1 }));
 * ```
 */
export interface PausableBucket extends BucketLimiter {
  pauseFor(ms: number): void;
}

/**
 * A keyed limiter `limitFetch` can pause.
 * @example
 * ```ts
 * limitFetch(fetch, new KeyedLimiter({ capacity: 5, refillPerSecond: 1 }), { key: (input) => new URL(String(input)).host });
 * ```
 */
export interface PausableKeyed extends KeyedAcquirer {
  pauseFor(ms: number): void;
}

/**
 * Options of `limitFetch`.
 * @example
 * ```ts
 * limitFetch(fetch, bucket, { retries: 2, cost: () => 1, maxWaitMs: 30_000 });
 * ```
 */
export interface LimitFetchOptions {
  /** Tokens a request costs, or a function of its input and init. @default 1 */
  readonly cost?: number | ((input: RequestInfo | URL, init?: RequestInit) => number) | undefined;
  /** The key of a request, for a keyed limiter (for example its host). */
  readonly key?: ((input: RequestInfo | URL, init?: RequestInit) => string) | undefined;
  /**
   * How many times to send a request again after a 429 or 503 with `Retry-After`, once the
   * pause is over. The request is sent again as given: a streamed body cannot be.
   * @default 0
   */
  readonly retries?: number | undefined;
  /** Longest wait for the limiter before each attempt, in ms. @default Infinity */
  readonly maxWaitMs?: number | undefined;
}

/**
 * Returns the number of milliseconds a `Retry-After` value asks to wait: delay-seconds or
 * an HTTP-date (against the wall clock); undefined when absent or unreadable.
 * @example
 * ```ts
 * parseRetryAfter('120'); // 120000
 * parseRetryAfter('Wed, 21 Oct 2026 07:28:00 GMT'); // ms until then
 * ```
 */
export function parseRetryAfter(value: string | null, nowEpochMs = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const atMs = Date.parse(text);
  return Number.isNaN(atMs) ? undefined : Math.max(0, atMs - nowEpochMs);
}

/**
 * Wraps a fetch-compatible function: each request first acquires from `limiter`; when the
 * server answers 429 or 503 with `Retry-After` (seconds or an HTTP date), the limiter is
 * paused for that long, so no request of this client reaches the server before then, and
 * the request is sent again after the pause while `retries` allows. Otherwise the
 * response is returned as it is. `init.signal` also aborts the wait.
 * @throws {TypeError|RangeError} on bad options.
 * @example
 * ```ts
 * const limitedFetch = limitFetch(fetch, new TokenBucket({ capacity: 10, refillPerSecond: 2 }), { retries: 2 });
 * const response = await limitedFetch('https://api.example.com/items');
 * ```
 */
export function limitFetch<F extends (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>>(
  fetchFn: F,
  limiter: PausableBucket | PausableKeyed,
  options: LimitFetchOptions = {},
): (input: RequestInfo | URL, init?: RequestInit) => Promise<Response> {
  if (typeof fetchFn !== 'function') throw invalid('fetch', 'a function', fetchFn);
  if (typeof limiter?.acquire !== 'function' || typeof limiter.pauseFor !== 'function') throw invalid('limiter', 'a limiter with acquire() and pauseFor()', limiter);
  const { cost = 1, key, retries = 0, maxWaitMs } = options;
  if (!(Number.isInteger(retries) && retries >= 0)) throw invalid('retries', 'a whole number >= 0', retries, true);
  return async (input, init) => {
    const tokens = typeof cost === 'number' ? cost : cost(input, init);
    const acquireOptions = { signal: init?.signal ?? undefined, maxWaitMs };
    for (let attempt = 0; ; attempt++) {
      await (key ? (limiter as PausableKeyed).acquire(key(input, init), tokens, acquireOptions) : (limiter as PausableBucket).acquire(tokens, acquireOptions));
      const response = await fetchFn(input, init);
      const pauseMs = response.status === 429 || response.status === 503 ? parseRetryAfter(response.headers.get('retry-after')) : undefined;
      if (pauseMs === undefined) return response;
      limiter.pauseFor(pauseMs);
      if (attempt >= retries) return response;
      await response.body?.cancel();
    }
  };
}
