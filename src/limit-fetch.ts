import { backoffMs } from './backoff.js';
import { acquireBudgets, type Budget, FetchBudgets, type PausableBucket, type PausableKeyed, pauseBudgets, type SettledCosts, settleBudgets } from './fetch-budget.js';
import { checkKnownOptions } from './known-options.js';
import { parseRetryAfter } from './retry-after.js';
import { retryableRequest } from './retryable-request.js';
import { finiteNumber, invalid } from './validate.js';

/** The longest pause a Retry-After may impose by default: 15 minutes. */
const DEFAULT_MAX_RETRY_AFTER_MS = 15 * 60_000;

/**
 * Options of `limitFetch`.
 * @example
 * ```ts
 * limitFetch(fetch, bucket, { retries: 2, cost: () => 1, maxWaitMs: 30_000 });
 * ```
 */
export interface LimitFetchOptions {
  /** With a single limiter: tokens a request costs, or a function of its input and init (with a list, each budget has its own). @default 1 */
  readonly cost?: number | ((input: RequestInfo | URL, init?: RequestInit) => number) | undefined;
  /** With a single keyed limiter (required with one): the key of a request, for example its host. */
  readonly key?: ((input: RequestInfo | URL, init?: RequestInit) => string) | undefined;
  /**
   * How many times to send a request again after a 429 or 503, once the pause is over. A
   * request whose body is a stream is never sent again: its 429 or 503 is returned.
   * @default 0
   */
  readonly retries?: number | undefined;
  /**
   * Longest wait for the budgets before each attempt, in ms; a longer one rejects with
   * RateLimitError. A refusal whose pause is longer is returned instead of being retried.
   * @default Infinity
   */
  readonly maxWaitMs?: number | undefined;
  /**
   * Longest pause a 429 or 503 may impose, in ms. A longer `Retry-After` pauses for this
   * long and its response is returned without retrying; it also caps the backoff after a
   * refusal without a readable `Retry-After`. A finite number >= 0.
   * @default 900_000 (15 minutes)
   */
  readonly maxRetryAfterMs?: number | undefined;
  /**
   * Called with a clone of each response (so reading its body leaves the caller's intact)
   * before that response is returned or retried: returns the actual cost of each budget
   * (see SettledCosts), and the difference from the estimate is refunded or charged. Its
   * error rejects the call. Needs limiters with refund() and charge().
   */
  readonly settle?: ((response: Response) => SettledCosts | Promise<SettledCosts>) | undefined;
  /** Source of randomness for the backoff's jitter, a number in [0, 1). @default Math.random */
  readonly random?: (() => number) | undefined;
  /** The wall clock, in ms since the epoch, that `Retry-After` HTTP dates are read against. @default Date.now */
  readonly nowEpochMs?: (() => number) | undefined;
}

const LIMIT_FETCH_OPTIONS = ['cost', 'key', 'retries', 'maxWaitMs', 'maxRetryAfterMs', 'settle', 'random', 'nowEpochMs'] as const;

/**
 * Cancels the body of a response nobody will read, freeing its connection. Not awaited:
 * the cancel of one branch of a cloned body settles only once the other is done.
 */
function discard(response: Response): void {
  if (!response.bodyUsed && !response.body?.locked) void response.body?.cancel();
}

/** Reports a clone of `response` to `settle` and settles the budgets; on error, discards the response and rethrows. */
async function settleResponse(charged: ReturnType<FetchBudgets['charge']>, settle: NonNullable<LimitFetchOptions['settle']>, response: Response): Promise<void> {
  const copy = response.clone();
  try {
    settleBudgets(charged, await settle(copy));
  } catch (error) {
    discard(response);
    throw error;
  } finally {
    // A copy left unread would keep a second copy of the body in memory.
    discard(copy);
  }
}

/** Returns `value` when it is a function or undefined, else throws a TypeError naming `name`. */
function optionalFunction<T>(name: string, value: T): T {
  if (value === undefined || typeof value === 'function') return value;
  throw invalid(name, 'a function', value);
}

/**
 * Wraps a fetch-compatible function: each request first waits for its budgets — a
 * single limiter, or a list of budgets taken all-or-nothing like `acquireAll`'s, whose
 * keys and costs may be functions of the request — then is sent; `settle` may then
 * report its actual costs. On a 429 or 503, every budget of the request is paused (a
 * keyed one on the request's key only), so no request of this client using them reaches
 * the server before the pause ends: for `Retry-After` (read by `parseRetryAfter`), up to
 * `maxRetryAfterMs`; without a readable one, for a backoff with full jitter from 1 s.
 * While `retries` allows, the request is then sent again after the pause — not after a
 * `Retry-After` above `maxRetryAfterMs` or a pause above `maxWaitMs`, nor with a stream
 * body: then the refusal is returned. Other responses are returned as they are.
 * `init.signal` (or the Request's signal) also aborts the wait. A fetch that rejects
 * rejects the call, its budgets staying charged.
 * @throws {TypeError|RangeError} on bad options, unknown option names, a malformed
 * budget (naming its index), or a keyed limiter without `key`.
 * @example
 * ```ts
 * const limitedFetch = limitFetch(fetch, new TokenBucket({ capacity: 10, refillPerSecond: 2 }), { retries: 2 });
 * const perHost = limitFetch(fetch, [[new KeyedLimiter({ capacity: 5, refillPerSecond: 1 }), (input) => new URL(String(input)).host, 1]]);
 * ```
 */
export function limitFetch<F extends (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>>(
  fetchFn: F,
  limiter: PausableBucket | PausableKeyed | readonly Budget[],
  options: LimitFetchOptions = {},
): (input: RequestInfo | URL, init?: RequestInit) => Promise<Response> {
  if (typeof fetchFn !== 'function') throw invalid('fetch', 'a function', fetchFn);
  if (typeof options !== 'object' || options === null) throw invalid('options', 'an object', options);
  checkKnownOptions(options, LIMIT_FETCH_OPTIONS);
  const { cost = Array.isArray(limiter) ? undefined : 1, key, retries = 0, maxWaitMs, maxRetryAfterMs = DEFAULT_MAX_RETRY_AFTER_MS } = options;
  const settle = optionalFunction('settle', options.settle);
  const random = optionalFunction('random', options.random) ?? Math.random;
  const nowEpochMs = optionalFunction('nowEpochMs', options.nowEpochMs) ?? Date.now;
  const budgets = new FetchBudgets(limiter, cost, key, settle !== undefined);
  if (!(Number.isInteger(retries) && retries >= 0)) throw invalid('retries', 'a whole number >= 0', retries, true);
  if (maxWaitMs !== undefined && maxWaitMs !== Infinity) finiteNumber('maxWaitMs', maxWaitMs, 0);
  finiteNumber('maxRetryAfterMs', maxRetryAfterMs, 0);
  return async (input, init) => {
    const charged = budgets.charge(input, init);
    const request = retryableRequest(input, init);
    const signal = init?.signal ?? (typeof Request === 'function' && input instanceof Request ? input.signal : undefined);
    for (let attempt = 0; ; attempt++) {
      await acquireBudgets(charged, { signal, maxWaitMs });
      const last = attempt >= retries || !request.retryable;
      const response = await fetchFn(...request.send(last));
      if (settle) await settleResponse(charged, settle, response);
      if (response.status !== 429 && response.status !== 503) return response;
      const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), nowEpochMs());
      const pauseMs = Math.min(retryAfterMs ?? backoffMs(attempt + 1, maxRetryAfterMs, random), maxRetryAfterMs);
      pauseBudgets(charged, pauseMs);
      // A pause longer than the caller would wait makes the next attempt a RateLimitError: the refusal says more.
      if (last || (retryAfterMs ?? 0) > maxRetryAfterMs || pauseMs > (maxWaitMs ?? Infinity)) return response;
      discard(response);
    }
  };
}
