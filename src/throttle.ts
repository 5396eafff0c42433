import { isKeyed, keyRequired } from './is-keyed.js';
import { checkKnownOptions } from './known-options.js';
import type { AcquireOptions } from './limit-options.js';
import { invalid } from './validate.js';

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
  /** The key of each call, for a keyed limiter (required with one): a function of the call's arguments. */
  readonly key?: ((...args: A) => string) | undefined;
  /** Aborts every waiting call: they reject with `signal.reason`. */
  readonly signal?: AbortSignal | undefined;
  /** Longest wait for one call, in ms; a longer one rejects with RateLimitError. @default Infinity */
  readonly maxWaitMs?: number | undefined;
}

const THROTTLE_OPTIONS = ['cost', 'key', 'signal', 'maxWaitMs'] as const;

/**
 * Returns `fn` limited by `limiter`: each call first awaits `acquire` (first-in first-out),
 * then calls `fn` with the same `this` and arguments; it resolves to `fn`'s value and
 * rejects with exactly what `fn` throws. With a keyed limiter, pass `key`.
 * @throws {TypeError} when `fn` is not a function, an option has the wrong type or an
 * unknown name, or `key` is missing with a keyed limiter.
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
  if (typeof options !== 'object' || options === null) throw invalid('options', 'an object', options);
  checkKnownOptions(options, THROTTLE_OPTIONS);
  const { cost = 1, key, signal, maxWaitMs } = options;
  if (typeof cost !== 'number' && typeof cost !== 'function') throw invalid('cost', 'a number or a function', cost);
  if (key !== undefined && typeof key !== 'function') throw invalid('key', 'a function', key);
  if (key === undefined && isKeyed(limiter)) throw keyRequired();
  const acquireOptions = { signal, maxWaitMs };
  return async function (this: This, ...args: A): Promise<Awaited<R>> {
    const tokens = typeof cost === 'number' ? cost : cost(...args);
    await (key ? (limiter as KeyedAcquirer).acquire(key(...args), tokens, acquireOptions) : (limiter as BucketLimiter).acquire(tokens, acquireOptions));
    return await fn.apply(this, args);
  };
}
