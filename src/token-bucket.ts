import { checkAmount, checkLimitOptions, checkOnDeny } from './check-options.js';
import type { Decision } from './decision.js';
import { ENLIST, type Part, type Party } from './enlist.js';
import type { AcquireOptions, LimiterStats, LimitOptions, Reservation } from './limit-options.js';
import { LimiterEngine } from './limiter-engine.js';
import { LimiterFace, checkPauseMs } from './limiter-face.js';
import { MILLI } from './refill.js';
import { SingleBucket } from './single-bucket.js';
import { finiteNumber } from './validate.js';

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

const OPTIONS = ['capacity', 'refillPerSecond', 'clock', 'onDeny', 'initialTokens'] as const;

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
export class TokenBucket extends LimiterFace {
  readonly #engine: LimiterEngine;

  /**
   * Creates a bucket, full unless `initialTokens` says otherwise.
   * @throws {TypeError} when an option has the wrong type, an option is unknown, or the clock lacks a method.
   * @throws {RangeError} when `capacity` is not > 0 and <= 1e12, `refillPerSecond` is not from 0 to 1e9, a number is NaN or infinite, or `initialTokens` is outside `[0, capacity]`.
   */
  constructor(options: TokenBucketOptions) {
    const [capacity, refillPerSecond] = checkLimitOptions(options, OPTIONS);
    const initialTokens = options.initialTokens === undefined ? capacity : finiteNumber('initialTokens', options.initialTokens, 0, capacity);
    const engine = new LimiterEngine((state) => new SingleBucket(state, initialTokens * MILLI), capacity, refillPerSecond, options.clock, checkOnDeny(options.onDeny), false);
    super(engine);
    this.#engine = engine;
  }

  /** Tokens a `tryAcquire` could take right now (fractional, exact); 0 while callers wait or during a pause. */
  get available(): number {
    return this.#engine.available('');
  }

  /**
   * Takes `cost` tokens if they are there and nobody is waiting; never waits.
   * @param cost - tokens to take, a finite number >= 0. @default 1
   * @returns whether the tokens were taken; false when `cost` exceeds the capacity.
   * @throws {TypeError|RangeError} when `cost` is not a finite number >= 0.
   */
  tryAcquire(cost = 1): boolean {
    return this.#engine.tryAcquire('', cost);
  }

  /**
   * Takes `cost` tokens, waiting first-in first-out behind earlier callers until they are
   * there. Resolves at once, without a timer, when tokens are there and nobody waits.
   * Never throws: every refusal is a rejected promise.
   * @param cost - tokens to take, a finite number >= 0 and <= capacity. @default 1
   * @returns a promise that resolves when the tokens are taken. It rejects with a
   * RateLimitError (and takes nothing) when the wait would exceed `maxWaitMs` or can never
   * end; with `signal.reason` when aborted (or the reason given to `abortAll`); with a
   * RangeError when `cost` exceeds the capacity; with a TypeError or RangeError on bad
   * input, an unknown option included.
   */
  acquire(cost = 1, options?: AcquireOptions): Promise<void> {
    return this.#engine.acquire('', cost, options);
  }

  /**
   * Returns the milliseconds until `tryAcquire(cost)` would succeed, behind every caller
   * already waiting and after any pause: 0 means now, Infinity means never (cost above
   * capacity, or a spent fixed quota). Exact: after waiting this long on the same clock,
   * `tryAcquire(cost)` succeeds.
   * @param cost - tokens, a finite number >= 0. @default 1
   */
  retryAfter(cost = 1): number {
    return this.#engine.retryAfter('', cost);
  }

  /**
   * Takes `cost` tokens like `tryAcquire` and reports the decision with what rate-limit
   * headers need: tokens remaining, when to retry, when the bucket is full again, all at
   * one reading of the clock.
   * @param cost - tokens to take, a finite number >= 0. @default 1
   * @throws {TypeError|RangeError} when `cost` is not a finite number >= 0.
   * @example
   * ```ts
   * const { granted, retryAfterMs } = bucket.take();
   * ```
   */
  take(cost = 1): Decision {
    return this.#engine.decide('', cost);
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
    return this.#engine.reserve('', cost);
  }

  /**
   * Gives back `amount` tokens that were taken but not used (an estimate that came out
   * high), never above the capacity. Waiting callers see them at once.
   * @throws {TypeError|RangeError} when `amount` is not a finite number from 0 to 1e12.
   * @example
   * ```ts
   * await bucket.acquire(1500); // estimated LLM tokens
   * bucket.refund(1500 - usage.totalTokens);
   * ```
   */
  refund(amount: number): void {
    this.#engine.adjust('', checkAmount('amount', amount));
  }

  /**
   * Takes `amount` more tokens, spent beyond an estimate, going into debt if there are
   * not enough: later callers wait until it is repaid. Waiting callers are re-planned at
   * once; reservations already given keep their instant.
   * @throws {TypeError|RangeError} when `amount` is not a finite number from 0 to 1e12.
   */
  charge(amount: number): void {
    this.#engine.adjust('', -checkAmount('amount', amount));
  }

  /**
   * Grants nothing for the next `ms` milliseconds, for a server that answered 429 with
   * `Retry-After`. Tokens keep refilling (up to the capacity); waiting callers keep their
   * order and are served after the pause. Reservations already given keep their instant.
   * A shorter pause than one in force does not shorten it (`resume` does).
   * @throws {TypeError|RangeError} when `ms` is not a finite number >= 0.
   */
  pauseFor(ms: number): void {
    this.#engine.pauseFor(checkPauseMs(ms), undefined);
  }

  /** Ends a pause now: waiting callers whose tokens are there are served at once. */
  resume(): void {
    this.#engine.resume(undefined);
  }

  /**
   * Returns the counters since the bucket was created. Cheap: plain counters.
   * @example
   * ```ts
   * const { granted, denied, waited, waitedMsTotal, queued } = bucket.stats();
   * ```
   */
  stats(): LimiterStats {
    return this.#engine.stats();
  }

  /** Takes a place in line for `acquireAll` from `fairbucket/outbound`; not for direct use. */
  [ENLIST](_key: string | undefined, cost: number, party: Party, reject: (reason: unknown) => void): Part {
    return this.enlistIn('', cost, party, reject);
  }
}
