import { acquireAll } from './acquire-all.js';
import { isKeyed, keyRequired } from './is-keyed.js';
import { checkLimits, limiterWith, type BucketReserver, type KeyedReserver, type Limit } from './limit.js';
import type { AcquireOptions } from './limit-options.js';
import type { BucketLimiter, KeyedAcquirer } from './throttle.js';
import { finiteNumber, invalid } from './validate.js';

/**
 * A value given as it is, or as a function of the request (fetch's arguments).
 * @example
 * ```ts
 * const host: PerRequest<string> = (input) => new URL(String(input)).host;
 * ```
 */
export type PerRequest<T> = T | ((input: RequestInfo | URL, init?: RequestInit) => T);

/**
 * A limiter `limitFetch` can pause: TokenBucket, or any with the same methods.
 * @example
 * ```ts
 * limitFetch(fetch, new TokenBucket({ capacity: 5, refillPerSecond: 1 }));
 * ```
 */
export interface PausableBucket extends BucketLimiter {
  pauseFor(ms: number): void;
}

/**
 * A keyed limiter `limitFetch` can pause, one key at a time: KeyedLimiter.
 * @example
 * ```ts
 * limitFetch(fetch, new KeyedLimiter({ capacity: 5, refillPerSecond: 1 }), { key: (input) => new URL(String(input)).host });
 * ```
 */
export interface PausableKeyed extends KeyedAcquirer {
  /** Pauses `key` only; without it, every key. */
  pauseFor(ms: number, key?: string): void;
}

/**
 * A limiter one budget of `limitFetch` can use: TokenBucket, or any with the same methods.
 * @example
 * ```ts
 * const budget: Budget = [new TokenBucket({ capacity: 90_000, refillPerSecond: 1_500 }), 1_500];
 * ```
 */
export interface BudgetBucket extends PausableBucket, BucketReserver {
  charge(amount: number): void;
}

/**
 * A keyed limiter one budget of `limitFetch` can use: KeyedLimiter.
 * @example
 * ```ts
 * const budget: Budget = [new KeyedLimiter({ capacity: 5, refillPerSecond: 1 }), (input) => new URL(String(input)).host, 1];
 * ```
 */
export interface BudgetKeyed extends PausableKeyed, KeyedReserver {
  charge(key: string, amount: number): void;
}

/**
 * One budget of `limitFetch`: an entry of `acquireAll`'s list, `[bucket, cost]` or
 * `[keyed, key, cost]`, whose key and cost may be functions of the request.
 * @example
 * ```ts
 * const budgets: Budget[] = [[requestsPerMinute, 1], [tokensPerMinute, (_input, init) => estimateTokens(init)]];
 * ```
 */
export type Budget = readonly [BudgetBucket, PerRequest<number>] | readonly [BudgetKeyed, PerRequest<string>, PerRequest<number>];

/**
 * The actual costs `settle` reports for one response: an array with one entry per budget
 * (a number, or undefined to keep that budget's estimate); a number with a single budget;
 * undefined to keep every estimate.
 * @example
 * ```ts
 * const costs: SettledCosts = [1, usage.total_tokens];
 * ```
 */
export type SettledCosts = number | undefined | readonly (number | undefined)[];

/** One budget as charged for one request. */
type Charged = { readonly limiter: BudgetBucket; readonly key: undefined; readonly cost: number } | { readonly limiter: BudgetKeyed; readonly key: string; readonly cost: number };

/** Returns the value of `value` for a request. */
function valueFor<T>(value: PerRequest<T>, input: RequestInfo | URL, init: RequestInit | undefined): T {
  return typeof value === 'function' ? (value as (input: RequestInfo | URL, init?: RequestInit) => T)(input, init) : value;
}

/** The budgets of a `limitFetch`, as checked once when it is made. */
export class FetchBudgets {
  readonly #budgets: readonly Budget[];

  /**
   * Takes a single limiter with the `cost` and `key` options, or a list of budgets (each
   * with its own cost and key, so those options must be left out).
   * @throws {TypeError} on a malformed list or limiter, a keyed limiter without a key,
   * or limiters without refund() and charge() when `settling`.
   */
  constructor(limits: unknown, cost: unknown, key: unknown, settling: boolean) {
    const methods = ['acquire', 'pauseFor', ...(settling ? ['refund', 'charge'] : [])];
    if (Array.isArray(limits)) {
      if (cost !== undefined) throw invalid('cost', 'left out with a list of budgets (each has its own cost)', cost);
      if (key !== undefined) throw invalid('key', 'left out with a list of budgets (each has its own key)', key);
      checkLimits('limits', limits, methods, true);
      if (limits.length === 0) throw invalid('limits', 'a list of one budget or more', limits);
      this.#budgets = limits as readonly Budget[];
      return;
    }
    if (typeof cost !== 'number' && typeof cost !== 'function') throw invalid('cost', 'a number or a function', cost);
    if (key !== undefined && typeof key !== 'function') throw invalid('key', 'a function', key);
    if (typeof limits !== 'object' || limits === null || methods.some((method) => typeof (limits as Record<string, unknown>)[method] !== 'function')) {
      throw invalid('limiter', `${limiterWith(methods)}, or a list of budgets`, limits);
    }
    if (key === undefined && isKeyed(limits as object)) throw keyRequired();
    this.#budgets = [key === undefined ? [limits, cost] : [limits, key, cost]] as readonly Budget[];
  }

  /** Returns each budget's limiter, key and cost for one request. */
  charge(input: RequestInfo | URL, init: RequestInit | undefined): readonly Charged[] {
    return this.#budgets.map((budget) =>
      budget.length === 3
        ? { limiter: budget[0], key: valueFor(budget[1], input, init), cost: valueFor(budget[2], input, init) }
        : { limiter: budget[0], key: undefined, cost: valueFor(budget[1], input, init) },
    );
  }
}

/** Waits for every budget of a request: `acquire` for one, `acquireAll` for several. */
export function acquireBudgets(charged: readonly Charged[], options: AcquireOptions): Promise<void> {
  if (charged.length > 1) return acquireAll(charged.map((one): Limit => (one.key === undefined ? [one.limiter, one.cost] : [one.limiter, one.key, one.cost])), options);
  const one = charged[0]!;
  return one.key === undefined ? one.limiter.acquire(one.cost, options) : one.limiter.acquire(one.key, one.cost, options);
}

/** Pauses every budget of a request for `ms`: a keyed one on the request's key only. */
export function pauseBudgets(charged: readonly Charged[], ms: number): void {
  for (const one of charged) {
    if (one.key === undefined) one.limiter.pauseFor(ms);
    else one.limiter.pauseFor(ms, one.key);
  }
}

/**
 * Refunds or charges each budget the difference between its estimate and the actual
 * cost `settle` reported.
 * @throws {TypeError|RangeError} when the costs are not in the form SettledCosts describes.
 */
export function settleBudgets(charged: readonly Charged[], costs: SettledCosts): void {
  if (costs === undefined) return;
  const actual = typeof costs === 'number' && charged.length === 1 ? [costs] : costs;
  if (!Array.isArray(actual) || actual.length !== charged.length) {
    throw invalid('settle()', `${charged.length === 1 ? 'a cost, ' : ''}an array of ${charged.length} costs or undefined`, costs);
  }
  charged.forEach((one, index) => {
    const value: unknown = actual[index];
    if (value === undefined) return;
    const difference = finiteNumber(`settle()[${index}]`, value, 0) - one.cost;
    if (difference < 0) one.key === undefined ? one.limiter.refund(-difference) : one.limiter.refund(one.key, -difference);
    else if (difference > 0) one.key === undefined ? one.limiter.charge(difference) : one.limiter.charge(one.key, difference);
  });
}
